"""Nearest neighbours of unit vectors by cosine similarity, in numpy alone.

UMAP's own neighbour search (pynndescent) recompiles several numba functions in every
new process, because they take the distance function as an argument (about 50 s of a
fresh worker's first map, measured here, on-disk cache or not). This module needs no
compiler: exact search for small sets; above that a forest of random-projection trees,
exact search inside each leaf, and one round of "neighbours of neighbours", which found
98% of the exact 10 nearest neighbours of 27,528 word vectors in 5.6 s (one BLAS thread).
Deterministic for a seed.
"""

import numpy as np

EXACT_MAX = 8192      # brute force below this many points: one matrix product per block
LEAF = 256
TREES = 8
BLOCK = 1024
MERGE_BLOCK = 65536


def knn(unit, k, seed=1):
    """The ``k`` nearest rows of each row of ``unit`` (n x d float32, rows of length 1),
    itself first: ``(indices int32 n x k, similarities float32 n x k)``, most similar first.
    ``k`` is cut to n."""
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    n = len(unit)
    k = min(k, n)
    from threadpoolctl import threadpool_limits
    # Many small products: two BLAS threads on two busy cores ran them 6x slower than one.
    with threadpool_limits(1, user_api="blas"):
        if n <= EXACT_MAX:
            idx, sims = _exact(unit, k)
        else:
            idx, sims = _forest(unit, k, np.random.default_rng(seed))
            idx, sims = _refine(unit, idx, sims, k)
    return _self_first(idx, sims)


def _exact(unit, k):
    n = len(unit)
    idx = np.empty((n, k), dtype=np.int64)
    sims = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, BLOCK):
        s = unit[start:start + BLOCK] @ unit.T
        idx[start:start + BLOCK], sims[start:start + BLOCK] = _top(None, s, k)
    return idx, sims


def _top(cand, sims, k):
    """Per row, the ``k`` candidates of highest similarity, sorted; ``cand`` None: the
    candidates are the column numbers."""
    p = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    ps = np.take_along_axis(sims, p, 1)
    order = np.argsort(-ps, axis=1, kind="stable")
    chosen = p if cand is None else np.take_along_axis(cand, p, 1)
    return np.take_along_axis(chosen, order, 1), np.take_along_axis(ps, order, 1)


def _merge(cand, sims, k):
    """Top ``k`` of each row's candidates, each candidate counted once."""
    order = np.argsort(cand, axis=1, kind="stable")
    cand, sims = np.take_along_axis(cand, order, 1), np.take_along_axis(sims, order, 1)
    dup = np.zeros(cand.shape, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    dup |= cand < 0
    return _top(cand, np.where(dup, -np.inf, sims).astype(np.float32), k)


def _leaves(unit, rng):
    """One random-projection tree: split by the hyperplane between two random points of
    a node until nodes hold at most ``LEAF`` points; returns the leaves' index arrays."""
    leaves, stack = [], [np.arange(len(unit))]
    while stack:
        node = stack.pop()
        if len(node) <= LEAF:
            leaves.append(node)
            continue
        a, b = rng.choice(len(node), 2, replace=False)
        left = unit[node] @ (unit[node[a]] - unit[node[b]]) < 0
        if left.all() or not left.any():          # duplicate points: split at random
            left = rng.random(len(node)) < 0.5
        stack += [node[left], node[~left]]
    return leaves


def _forest(unit, k, rng):
    n = len(unit)
    # Candidates as int32, merged a block of rows at a time: at a million points merging
    # all at once (int64 lists, their sort order, copies) peaked at 5.3 GB.
    cand = np.full((n, TREES * k), -1, dtype=np.int32)
    sims = np.full((n, TREES * k), -np.inf, dtype=np.float32)
    for t in range(TREES):
        for leaf in _leaves(unit, rng):
            kk = min(k, len(leaf))
            s = unit[leaf] @ unit[leaf].T
            p = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            cand[leaf, t * k:t * k + kk] = leaf[p]
            sims[leaf, t * k:t * k + kk] = np.take_along_axis(s, p, 1)
    idx, out = np.empty((n, k), dtype=np.int64), np.empty((n, k), dtype=np.float32)
    for start in range(0, n, MERGE_BLOCK):
        rows = slice(start, start + MERGE_BLOCK)
        idx[rows], out[rows] = _merge(cand[rows].astype(np.int64), sims[rows], k)
    return idx, out


def _refine(unit, idx, sims, k, fan=8):
    """One round of neighbours of neighbours: each point's ``fan`` nearest points' lists
    are candidates too (a neighbour's neighbour is likely a neighbour)."""
    out_i, out_s = idx.copy(), sims.copy()
    for start in range(0, len(unit), BLOCK):
        rows = np.arange(start, min(len(unit), start + BLOCK))
        cand = idx[idx[rows, :fan]].reshape(len(rows), -1)
        s = np.matmul(unit[cand], unit[rows][:, :, None])[:, :, 0]
        out_i[rows], out_s[rows] = _merge(np.concatenate([idx[rows], cand], 1),
                                          np.concatenate([sims[rows], s], 1), k)
    return out_i, out_s


def _self_first(idx, sims):
    """Put each point itself in column 0 (a duplicate vector may have come first)."""
    n, k = idx.shape
    rows = np.arange(n)
    has_self = idx == rows[:, None]
    fix = ~has_self[:, 0]
    if fix.any():
        r = np.flatnonzero(fix)
        where = np.where(has_self[r].any(1), has_self[r].argmax(1), k - 1)
        for i, j in zip(r.tolist(), where.tolist()):
            idx[i, 1:j + 1], sims[i, 1:j + 1] = idx[i, :j].copy(), sims[i, :j].copy()
            idx[i, 0], sims[i, 0] = i, 1.0
    return idx.astype(np.int32), sims


def neighbours_kept(hi, lo, k=10):
    """Mean share of each point's ``k`` nearest neighbours in ``hi`` (n x >k indices, self
    in column 0) that are among its ``k`` nearest in ``lo`` (the same shape, on the map)."""
    a, b = hi[:, 1:k + 1], lo[:, 1:k + 1]
    kept = (a[:, :, None] == b[:, None, :]).any(2).sum(1)
    return float(kept.mean() / k)
