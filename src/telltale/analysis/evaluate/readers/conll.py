"""CoNLL files: one token per line with its tag in the last column, a blank line between sentences.

This is the format of CoNLL-2000 chunking and CoNLL-2003 NER data and of most sequence-labelling
system outputs. Columns are separated by tabs (or, when a line has no tab, by spaces); the first
column is the token and the last the tag, so 2-column ``token tag`` and 4-column CoNLL-2003
``token pos chunk tag`` files both read. ``-DOCSTART-`` lines separate documents and are
skipped. Each sentence remembers the line it starts on, so alignment and tag errors can say
where to look.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "gold.conll"
>>> _ = path.write_text("EU\\tB-ORG\\nrejects\\tO\\n\\nPeter\\tB-PER\\n")
>>> doc = read_conll(path)
>>> [s.tokens for s in doc.sentences], doc.sentences[1].tags, doc.sentences[1].first_line
([['EU', 'rejects'], ['Peter']], ['B-PER'], 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from telltale.errors import DataError

from .text_lines import read_lines

__all__ = ["ConllDocument", "ConllSentence", "read_conll"]


@dataclass(frozen=True)
class ConllSentence:
    """The tokens and tags of one sentence; ``first_line`` is its first line in the file."""

    tokens: list[str]
    tags: list[str]
    first_line: int

    def line_of(self, token: int) -> int:
        """The file line of token number ``token`` (0-based)."""
        return self.first_line + token


@dataclass(frozen=True)
class ConllDocument:
    """A CoNLL file read into sentences."""

    path: str
    sentences: list[ConllSentence]
    n_docstart: int = 0


def read_conll(path: str | Path, role: str = "CoNLL") -> ConllDocument:
    """Read a CoNLL file; :class:`DataError` names the file and line of anything malformed."""
    lines = read_lines(path, role)
    sentences: list[ConllSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    first = 0
    docstarts = 0

    def close() -> None:
        nonlocal tokens, tags
        if tokens:
            sentences.append(ConllSentence(tokens, tags, first))
            tokens, tags = [], []

    for line in lines:
        text = line.text
        if not text.strip():
            close()
            continue
        columns = text.split("\t") if "\t" in text else text.split()
        columns = [c.strip() for c in columns]
        if columns[0] == "-DOCSTART-":
            close()
            docstarts += 1
            continue
        if len(columns) < 2 or not columns[-1]:
            raise DataError(
                f"{role} file {str(path)!r} line {line.number}: expected a token and a tag "
                f"separated by a tab, found {text!r}; write one 'token<TAB>tag' per line and a "
                "blank line between sentences"
            )
        if not tokens:
            first = line.number
        tokens.append(columns[0])
        tags.append(columns[-1])
    close()
    if not sentences:
        raise DataError(f"{role} file {str(path)!r} holds no sentences (only -DOCSTART- lines)")
    return ConllDocument(str(path), sentences, docstarts)
