"""Tokenization: lemmas, stop words, junk, long inputs, both cores giving the same result."""

import json

import pytest

from textlatent.errors import InvalidInput
from textlatent.ingest.tokenize import Tokenizer, TokenizerSettings, preclean, strip_email, tokenize_stream

from .conftest import shared


@pytest.fixture(scope="module")
def tok():
    return Tokenizer(TokenizerSettings())


def test_lemmas_stop_words_and_junk(tok):
    out = tok(["The astronauts were running experiments at https://nasa.gov and mailed bob@nasa.gov "
               "about 42 rockets; x ... " + "M" + "A" * 60 + " done"])[0]
    assert out == ["astronaut", "run", "experiment", "mail", "rocket"]


def test_lookup_lemmas_that_change_the_word_are_overridden(tok):
    # spaCy's English table: ground -> grind, numbers -> numb, bits -> bite, data -> datum.
    out = tok(["The ground numbers showed bits of data; the rockets won"])[0]
    assert out == ["ground", "number", "bit", "data", "rocket", "win"]   # "show" is a stop word


ISSUE_SENTENCE = "Taxes rose in Wales. The data show better politics, and the crises deepened."


def test_lemmas_keep_names_and_the_reviewed_exceptions(tok):
    # The lookup table, after lower-casing, gave taxis, wale, datum, politic.
    out = tok([ISSUE_SENTENCE])[0]
    assert {"tax", "wales", "data", "politics", "crisis"} <= set(out)
    assert not {"taxis", "wale", "datum", "politic", "crise"} & set(out)


def test_capitalised_words_inside_a_sentence_keep_their_form(tok):
    out = tok(["Officials in the United States said so. Americans agreed.\n\nProfits matter"])[0]
    # inside a sentence: as written ("States", not "state"; the table knows "Americans");
    # after a full stop or a blank line (a headline has none): looked up lower-case too.
    assert out == ["official", "united", "states", "american", "agree", "profit", "matter"]


def test_abbreviations_lose_their_period_and_initials_go(tok):
    # spaCy keeps "Mr." and "J." whole; "U.S." keeps its inner periods.
    out = tok(["Mr. J. Smith of Acme Inc. met Mr Jones in the U.S. yesterday"])[0]
    assert out == ["mr", "smith", "acme", "inc", "meet", "mr", "jones", "u.s.", "yesterday"]


def test_extra_stop_words_and_no_lemmas():
    t = Tokenizer(TokenizerSettings(stop_words=["rocket"], lemmas=False))
    assert t(["Rockets and rocket launches"])[0] == ["rockets", "launches"]


def test_email_headers_quotes_and_signatures_are_stripped():
    post = ("From: someone@example.com\nSubject: Re: orbit\nOrganization: Lab\n\n"
            "In article <1@x> bob@y writes:\n> quoted hockey text\nThe shuttle orbit decays.\n"
            "In a previous article, ann@z (Ann Lee) says:\n\nAnn's claim that the orbit decays is wrong.\n"
            "amy@w writes in message <2@x>:\n"
            "-- \nBob's signature line\n")
    text = strip_email(post)
    assert "Subject" not in text and "hockey" not in text and "signature" not in text
    assert "previous" not in text and "message" not in text and "Ann Lee" not in text
    assert "shuttle orbit" in text and "orbit decays is wrong" in text
    # A sign-off without a "-- " line: its short closing lines go, the text's last sentence stays.
    post = "Subject: orbit\n\nThe orbit decays in a year or two.\n\nThanks,\n  Steve\n-- Ames\n\n"
    assert strip_email(post).strip() == "The orbit decays in a year or two."
    assert strip_email("Subject: orbit\n\nYes, it decays.\nBob\n").split() == ["Yes,", "it", "decays.", "Bob"]


def test_long_symbol_runs_and_huge_texts_do_not_reach_spacy_whole(tok):
    assert preclean("(" * 10_000 + " ok", TokenizerSettings()).strip() == "ok"
    big = "galaxy " * 300_000      # 2.1 M characters: more than spaCy accepts in one text
    assert len(tok([big])[0]) == 300_000


@pytest.mark.slow
def test_two_processes_match_one(tmp_path, monkeypatch):
    from textlatent.ingest import tokenize
    src = shared("20newsgroups", "20news-bydate.jsonl")
    texts = [json.loads(line)["text"] for _, line in zip(range(700), open(src, encoding="utf-8"))]
    one = list(tokenize_stream(texts, TokenizerSettings(), workers=1, chunk_size=100))
    two = list(tokenize_stream(iter(texts), TokenizerSettings(), workers=2, chunk_size=100))
    assert one == two and len(one) == 700 and sum(map(len, one)) > 50_000
    # Workers that renew their spaCy pipeline every other chunk (to bound its string store)
    # give the same tokens.
    monkeypatch.setattr(tokenize, "REFRESH_CHUNKS", 2)
    renewed = list(tokenize_stream(iter(texts), TokenizerSettings(), workers=2, chunk_size=50))
    assert renewed == one


def test_bad_settings():
    with pytest.raises(InvalidInput, match="no language"):
        Tokenizer(TokenizerSettings(language="xx-not"))
    with pytest.raises(InvalidInput, match="not installed"):
        Tokenizer(TokenizerSettings(pipeline="en_no_such_pipeline"))
    with pytest.raises(InvalidInput, match="trained pipeline"):
        TokenizerSettings(pos=["NOUN"])


def test_header_names_with_dots_are_headers_too():
    # 847 of the 20 Newsgroups posts carry "Article-I.D.:"; their whole header block leaked.
    post = ("From: stank@cbnewsl.cb.att.com (Stan Krieger)\nSubject: Re: scouts\n"
            "Article-I.D.: cbnewsl.1993Apr6.041343.24997\nOrganization: Summit NJ\nLines: 39\n\n"
            "The troop meets on Tuesdays.\n")
    text = strip_email(post)
    assert "Organization" not in text and "Article" not in text and "troop meets" in text


def test_a_trained_pipeline_from_disk_with_pos_filtering(tmp_path):
    """--pipeline takes any pipeline spacy.load reads (a name or a folder); here a small one
    whose attribute ruler tags a few words, saved to disk as a trained pipeline would be."""
    import spacy
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    for word, pos, lemma in (("rockets", "NOUN", "rocket"), ("orbit", "NOUN", "orbit"),
                             ("quickly", "ADV", "quickly"), ("launched", "VERB", "launch")):
        ruler.add([[{"LOWER": word}]], {"POS": pos, "LEMMA": lemma})
    nlp.to_disk(tmp_path / "pipe")
    tok = Tokenizer(TokenizerSettings(pipeline=str(tmp_path / "pipe"), pos=["NOUN", "VERB"]))
    (out,) = tok(["Rockets quickly launched into orbit"])
    assert out == ["rocket", "launch", "orbit"]
    (out,) = Tokenizer(TokenizerSettings(pipeline=str(tmp_path / "pipe"), pos=["NOUN"]))(["Rockets launched"])
    assert out == ["rocket"]
