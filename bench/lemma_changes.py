"""How spaCy's lookup lemmas change the most frequent words, and which changes to review.

    python -m bench.lemma_changes [--top 10000] [--sample 100]

For 20 Newsgroups and BBC news: the 10,000 most frequent words (lower case, after the
tokenizer's filters and stop words), how many of them the lookup table changes when
looked up after lower-casing (what textlatent did before) and with the reviewed
exceptions, and how often a word is capitalised inside a sentence (kept as written now).

A second opinion flags the changes to read: spaCy's rule lemmatizer tables (suffix rules,
irregular forms and the known lemmas of nouns, verbs, adjectives and adverbs, also in
``spacy-lookups-data``) give each word its candidate lemmas without a part of speech; a
lookup lemma that is none of them, or a word that is a known noun itself, is flagged.
Flagged words go to ``bench/results/lemma_changes.json`` with their counts, and a random
sample of the unflagged changes is printed to be read too.
"""

import argparse
import collections
import gzip
import json
import os
import random

from bench.common import NEWS, SHARED, save
from textlatent.ingest.lemmas import exceptions, lemma_table, lookup
from textlatent.ingest.tokenize import Tokenizer, TokenizerSettings, _chunks, _starts_sentence, preclean

POS = ("noun", "verb", "adj", "adv")


def _data(name):
    import spacy_lookups_data
    path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", f"en_{name}.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def texts(corpus):
    if corpus == "20newsgroups":
        with open(NEWS, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)["text"]
    else:
        root = SHARED / "bbc_news"
        for cls in sorted(p.name for p in root.iterdir() if p.is_dir()):
            for f in sorted((root / cls).glob("*.txt")):
                yield f.read_bytes().decode("utf-8", errors="replace")


def count_words(corpus):
    """Counter of lower-case words, and of their capitalised occurrences inside a sentence."""
    tok = Tokenizer(TokenizerSettings(lemmas=False))
    words, inside = collections.Counter(), collections.Counter()
    for text in texts(corpus):
        for piece in _chunks(preclean(text, tok.settings)):
            start = True
            for t in tok.nlp.tokenizer(piece):
                term = tok._term(t)
                if term:
                    words[term] += 1
                    if not start and t.text[:1].isupper():
                        inside[term] += 1
                start = _starts_sentence(t.text, start)
    return words, inside


def candidates(word, rules, exc, index):
    """The lemmas spaCy's rule lemmatizer could give ``word`` under any part of speech."""
    out = set()
    for pos in POS:
        out.update(exc.get(pos, {}).get(word, ()))
        if word in index[pos]:
            out.add(word)
        for old, new in rules.get(pos, ()):
            if word.endswith(old):
                form = word[: len(word) - len(old)] + new
                if form in index[pos]:
                    out.add(form)
    return out


def _flag(word, lemma, rules, exc, index):
    """A change to read: the lemma is none of the rule lemmatizer's candidates, or the word
    is a noun itself and not the -ing/-ed form of its lemma (``matter`` -> ``matt``,
    ``politics`` -> ``politic``; ``building`` -> ``build`` is the table's usual choice)."""
    if lemma not in candidates(word, rules, exc, index):
        return True
    return word in index["noun"] and not (word.endswith(("ing", "ed")) and lemma[:3] == word[:3])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=100)
    args = ap.parse_args(argv)
    raw = _data("lemma_lookup")
    lower_table = {k.lower(): v for k, v in raw.items()}      # the lookup after lower-casing
    table = lemma_table("en")
    rules, exc = _data("lemma_rules"), _data("lemma_exc")
    index = {pos: set(v) for pos, v in _data("lemma_index").items() if pos in POS}
    result, flagged_all, unflagged_all = {}, {}, {}
    for corpus in ("20newsgroups", "bbc_news"):
        words, inside = count_words(corpus)
        top = [w for w, _ in words.most_common(args.top)]
        changed = [w for w in top if lower_table.get(w, w).lower() != w]
        changed_now = [w for w in top if lookup(table, w, w, False) != w]
        flagged = []
        for w in changed:
            lemma = lower_table[w].lower()
            if _flag(w, lemma, rules, exc, index):
                flagged.append(w)
                flagged_all[w] = {"lookup": lemma, "now": lookup(table, w, w, False)}
            else:
                unflagged_all[w] = lemma
        total = sum(words[w] for w in top)
        result[corpus] = {
            "top_words": len(top), "changed_by_lookup": len(changed), "changed_now": len(changed_now),
            "changed_by_exceptions": sum(1 for w in top if lower_table.get(w, w).lower()
                                         != lookup(table, w, w, False)),
            "flagged": len(flagged),
            "occurrences_capitalised_inside": round(sum(inside[w] for w in top) / total, 4),
            "capitalised_inside_changed_before": sum(1 for w in changed if inside[w] > words[w] / 2),
        }
        print(corpus, result[corpus])
    rng = random.Random(1)
    sample = sorted(rng.sample(sorted(unflagged_all), min(args.sample, len(unflagged_all))))
    print("\nflagged (word: lookup -> now):")
    for w, v in sorted(flagged_all.items()):
        print(f"  {w}: {v['lookup']} -> {v['now']}")
    print("\nsample of unflagged changes:")
    print("  " + ", ".join(f"{w}->{unflagged_all[w]}" for w in sample))
    save("lemma_changes", {"conditions": f"top {args.top} words of each corpus (lower case, after the "
                                         "tokenizer's filters and stop words)",
                           "figures": result, "flagged": flagged_all,
                           "sample": {w: unflagged_all[w] for w in sample}})


if __name__ == "__main__":
    main()
