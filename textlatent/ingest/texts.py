"""Plain text files as documents: a file whole (titled by its headline or its name, dated by
its name) or its paragraphs."""

import os
import re

from . import dates

_PARAGRAPH = re.compile(r"\n\s*\n")


def split_paragraphs(text):
    """Paragraphs: blocks between blank lines; in a block whose lines are paragraph-long
    (one paragraph a line, as in the State of the Union files), each line."""
    for block in _PARAGRAPH.split(text):
        lines = [line.strip() for line in block.split("\n")]
        if max((len(line) for line in lines), default=0) > 300:
            yield from (line for line in lines if line)
        elif block.strip():
            yield block.strip()


def headline(text, longest=150):
    """The first line of ``text`` when it looks like a headline: at most ``longest``
    characters, more text after it, and not ending as a sentence or a salutation does
    ("Fellow-Citizens of the Senate:")."""
    head, _, rest = text.lstrip().partition("\n")
    head = head.strip()
    if not head or len(head) > longest or not rest.strip() or head[-1] in ".,;:" and not head.endswith("..."):
        return None
    return head


def text_documents(name, text, split, label, first_line=False):
    """The records of the text file ``name`` (its ``text`` cleaned): one, titled by its
    headline when ``first_line`` and it has one, else by its file name; or, with ``split``
    ``"paragraphs"``, one per paragraph titled ``FILE ¶N``. A file name that starts with a
    date (``1945-Truman.txt``) dates them."""
    file_name = os.path.basename(name.removesuffix(".gz"))
    base_title = os.path.splitext(file_name)[0]
    record = {"doc_key": name, "source": name, "title": base_title, "label": label,
              "date": dates.from_file_name(file_name), "meta": None, "text": text, "line": None}
    if split == "paragraphs":
        for i, para in enumerate(split_paragraphs(text)):
            yield record | {"doc_key": f"{name}#p{i + 1}", "text": para, "title": f"{base_title} ¶{i + 1}"}
    else:
        yield record | {"title": (first_line and headline(text)) or base_title}
