"""Tab-separated datasets and one-record-per-line system outputs.

ExplainaBoard-style datasets are TSV files without a header and without quoting: ``text<TAB>label``
(text classification), ``text1<TAB>text2<TAB>label`` (text pairs, aspect/sentence pairs) and
``source<TAB>reference`` (generation). Their outputs list one prediction per line, in dataset
order. Quotes are ordinary characters here (summaries contain ``"`` and `````), so no CSV
dialect is applied.

Fields past the expected ones are ignored, as ExplainaBoard's loader ignores them (its toy SNLI
file repeats the label in a fourth column). Trailing blank lines are ignored. A blank line inside a label file is an error (it would shift
every later prediction by one); inside a generation output it is an empty hypothesis and is kept.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "data.tsv").write_text("great film\\tpositive\\ndull\\tnegative\\n")
>>> read_tsv(folder / "data.tsv", ("text", "label"))["label"]
['positive', 'negative']
"""

from __future__ import annotations

from pathlib import Path

from telltale.errors import DataError

from .text_lines import Line, read_lines

__all__ = ["read_record_lines", "read_tsv"]


def _drop_trailing_blank(lines: list[Line]) -> list[Line]:
    end = len(lines)
    while end and not lines[end - 1].text.strip():
        end -= 1
    return lines[:end]


def read_tsv(
    path: str | Path, fields: tuple[str, ...], role: str = "dataset"
) -> dict[str, list[str]]:
    """The columns of a headerless TSV file whose lines have at least ``len(fields)`` fields."""
    lines = _drop_trailing_blank(read_lines(path, role))
    columns: dict[str, list[str]] = {name: [] for name in fields}
    expected = len(fields)
    layout = "<TAB>".join(fields)
    for line in lines:
        if not line.text.strip():
            raise DataError(
                f"{role} file {str(path)!r} line {line.number} is empty; every line must be "
                f"'{layout}' — remove the blank line (it would shift all later rows)"
            )
        values = line.text.split("\t")
        if len(values) < expected:
            raise DataError(
                f"{role} file {str(path)!r} line {line.number} has {len(values)} tab-separated "
                f"field{'s' if len(values) != 1 else ''} but {expected} are expected "
                f"('{layout}'); fix that line (a tab inside a text must be replaced by a space)"
            )
        for name, value in zip(fields, values[:expected], strict=True):
            columns[name].append(value.strip())
    return columns


def read_record_lines(
    path: str | Path, role: str = "system output", *, allow_empty: bool = False
) -> list[str]:
    """One record per line (a predicted label, or a generated text), surrounding spaces removed."""
    lines = _drop_trailing_blank(read_lines(path, role))
    if not allow_empty:
        for line in lines:
            if not line.text.strip():
                raise DataError(
                    f"{role} file {str(path)!r} line {line.number} is empty; write one label per "
                    "line, in dataset order, with no blank lines"
                )
    return [line.text.strip() for line in lines]
