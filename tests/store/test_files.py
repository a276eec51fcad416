"""Opening user data: every format, and clear errors for bad files."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from telltale.errors import DataError
from telltale.store.engine import connect
from telltale.store.files import open_table

TABLE = pa.table({"x": [1.5, 2.5, None], "name ü": ["a", "b", "c"]})


@pytest.fixture(scope="module")
def con():
    return connect()


def _rows(table) -> list[dict]:
    return table.to_pyarrow().to_pylist()


def test_every_file_format_reads_the_same_rows(con, tmp_path) -> None:
    pq.write_table(TABLE, tmp_path / "t.parquet")
    TABLE.to_pandas().to_csv(tmp_path / "t.csv", index=False)
    TABLE.to_pandas().to_csv(tmp_path / "t.tsv", index=False, sep="\t")
    TABLE.to_pandas().to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    feather.write_feather(TABLE, tmp_path / "t.arrow")
    (tmp_path / "lake").mkdir()
    pq.write_table(TABLE.slice(0, 2), tmp_path / "lake" / "a.parquet")
    pq.write_table(TABLE.slice(2), tmp_path / "lake" / "b.parquet")
    expected = TABLE.to_pylist()
    for name in ("t.parquet", "t.csv", "t.tsv", "t.jsonl", "t.arrow"):
        assert _rows(open_table(con, tmp_path / name)) == expected, name
    assert sorted(_rows(open_table(con, tmp_path / "lake")), key=lambda r: r["name ü"]) == expected


def test_in_memory_tables(con) -> None:
    expected = TABLE.to_pylist()
    assert _rows(open_table(con, TABLE)) == expected
    assert _rows(open_table(con, pl.from_arrow(TABLE))) == expected
    frame = TABLE.to_pandas()
    rows = _rows(open_table(con, frame))
    assert rows[0] == expected[0] and rows[2]["x"] is None


def test_pandas_mixed_type_column_becomes_strings(con) -> None:
    frame = pd.DataFrame({"mixed": [1, "two", 3.5, None], "ok": [1, 2, 3, 4]})
    rows = _rows(open_table(con, frame))
    assert [r["mixed"] for r in rows] == ["1", "two", "3.5", None]
    assert [r["ok"] for r in rows] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "missing.parquet", "does not exist"),
        (b"", "empty.parquet", "is empty"),
        (b"PAR1 this is not parquet", "corrupt.parquet", "cannot read parquet file"),
        (b"a,b\n1,2\n", "data.xlsx", "cannot tell the format"),
        (b'a,b\n1,2\n3,"4\n', "bad.csv", "cannot read csv file"),
    ],
)
def test_bad_files_name_the_file_and_the_fix(con, tmp_path, content, name, message) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        open_table(con, path)
    assert name in str(info.value)


def test_truncated_parquet(con, tmp_path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="re-export"):
        open_table(con, path)


def test_wrong_object_type(con) -> None:
    with pytest.raises(DataError, match="expected a file path"):
        open_table(con, 42)


def test_directory_without_parquet(con, tmp_path) -> None:
    with pytest.raises(DataError, match=r"no \.parquet files"):
        open_table(con, tmp_path)
