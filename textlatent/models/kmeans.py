"""A starting point for LDA: spherical k-means over TF-IDF document vectors.

gensim starts LDA's topics as random, nearly uniform word distributions, and online
variational Bayes then settles in whichever local optimum the first chunks lead to;
topics seeded from k-means clusters (a second of work) agree far better with a corpus's
labels (the measurements: BENCHMARKS.md, "lda_tuning"). Clustering runs on a sample of at
most ``SAMPLE`` documents, so its memory does not grow with the corpus.

By default (``weight="tokens"``) each document counts in the clustering by its number of
tokens, as it does in LDA, which explains tokens. Counted once each, many short documents
of one kind outweigh fewer long ones: on Reuters' single-topic stories (48% of them short
earnings reports) the clusters split the earnings reports five ways and merged crude
oil, trade and shipping into one, and LDA kept that start. Lengths count up to the
``LENGTH_CAP`` quantile of the documents' lengths: uncapped, a few posts of thousands of
words drew centres of their own on 20 Newsgroups (its six groups' NMI fell from 0.41 to
0.37); capped at the 75th percentile, Reuters gained less (0.50 against 0.53) and the six
groups lost (0.40). BENCHMARKS.md, "start_weight".
"""

import numpy as np
import scipy.sparse as sp

SAMPLE = 20_000
LENGTH_CAP = 0.9
WEIGHTS = ("tokens", "documents")


def initial_topics(matrix, num_terms, num_topics, seed, iterations=50, sample=SAMPLE, restarts=4,
                   weight="tokens"):
    """Topic-word counts (``num_topics`` × ``num_terms``) for gensim's ``LdaState.sstats``:
    the summed counts of each k-means cluster, scaled to the whole corpus; None when
    there are fewer non-empty documents than topics. ``weight``: how a document counts
    in the clustering, ``"tokens"`` (its length, up to the LENGTH_CAP quantile) or
    ``"documents"`` (once).

    Of ``restarts`` clusterings the tightest is kept: single clusterings vary with the seed,
    and their objective ranks them as their agreement with labels does (BENCHMARKS.md,
    "lda_tuning")."""
    rng = np.random.RandomState(seed)
    n = len(matrix)
    rows = np.sort(rng.choice(n, sample, replace=False)) if n > sample else np.arange(n)
    counts = matrix.csr(rows, num_terms)
    counts = counts[counts.getnnz(axis=1) > 0]
    if counts.shape[0] < num_topics:
        return None
    X = _tfidf(counts)
    weights = None
    if weight == "tokens":
        lengths = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        weights = np.minimum(lengths, np.quantile(lengths, LENGTH_CAP))
        weights /= weights.mean()
    _, assign = max((spherical_kmeans(X, num_topics, rng, iterations, weights) for _ in range(restarts)),
                    key=lambda result: result[0])
    members = sp.csr_matrix((np.ones(len(assign)), (assign, np.arange(len(assign)))),
                            shape=(num_topics, len(assign)))
    return (members @ counts).toarray() * (n / len(rows))


def spherical_kmeans(X, k, rng, iterations, weights=None):
    """Cluster the unit-length rows of ``X`` (n × terms) by cosine similarity, row i
    counting ``weights[i]`` times (shape (n,); default 1 each): ``(objective,
    assignment)``, the objective being the weighted sum of the rows' similarity to their
    centres (higher is tighter) and the assignment an int array of shape (n,). Seeding is
    greedy k-means++: of a few candidates drawn for each centre, the one that leaves the
    rows closest. Plain k-means++ favours outliers; on the sample corpus (seed 1) one
    became a topic of stray words (january, february, transition, conclusion…)."""
    n = X.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    trials = 2 + int(np.log(k))
    centres = [rng.randint(n) if weights is None else rng.choice(n, p=w / w.sum())]
    distance = np.clip(1.0 - (X @ X[centres[0]].T).toarray().ravel(), 0.0, None)
    for _ in range(k - 1):
        mass = w * distance ** 2
        total = mass.sum()
        candidates = rng.choice(n, trials, p=mass / total) if total > 0 else rng.randint(n, size=trials)
        sims = (X @ X[candidates].T).toarray()                          # n x trials
        options = np.minimum(distance[:, None], np.clip(1.0 - sims, 0.0, None))
        best = int(np.argmin((w[:, None] * options ** 2).sum(axis=0)))
        centres.append(candidates[best])
        distance = options[:, best]
    C = X[centres].toarray()
    assign = None
    for _ in range(iterations):
        new = np.asarray(X @ C.T).argmax(axis=1)
        if assign is not None and np.array_equal(new, assign):
            break
        assign = new
        C = (sp.csr_matrix((w, (assign, np.arange(n))), shape=(k, n)) @ X).toarray()
        norms = np.linalg.norm(C, axis=1, keepdims=True)
        C /= np.where(norms > 0, norms, 1.0)
    sims = np.asarray(X @ C.T)
    return float((w * sims[np.arange(n), assign]).sum()), assign


def _tfidf(counts):
    """Sublinear term frequency times inverse document frequency, rows of unit length."""
    X = counts.copy()
    df = np.bincount(X.indices, minlength=X.shape[1])
    X.data = (1.0 + np.log(X.data)) * np.log(X.shape[0] / np.maximum(df, 1))[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    return (sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X).tocsr()
