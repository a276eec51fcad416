"""The `telltale` command: help that teaches, files written, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from telltale.cli.main import EXIT_DRIFT, main


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    for name, shift in (("ref", 0.0), ("cur", 2.0)):
        pq.write_table(
            pa.table({"a": rng.normal(shift, 1, 3_000), "b": rng.normal(shift, 1, 3_000)}),
            directory / f"{name}.parquet",
        )
    return directory / "ref.parquet", directory / "cur.parquet"


def test_help_teaches(capsys) -> None:
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0
    for text in ("--reference-profile", "Examples:", "wasserstein", "jensenshannon", "rows"):
        assert text in out
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "telltale profile train.parquet" in out


def test_report_writes_files_and_fails_on_drift(capsys, data, tmp_path) -> None:
    ref, cur = data
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    code, out, _ = run(
        capsys,
        "report",
        "--reference",
        str(ref),
        "--current",
        str(cur),
        "--out",
        str(html),
        "--json",
        str(js),
        "--fail-on-drift",
    )
    assert code == EXIT_DRIFT
    assert "2 of 2 columns drifted" in out
    assert json.loads(js.read_text())["summary"]["dataset_drift"] is True
    assert html.read_text().startswith("<!DOCTYPE html>") or "<html" in html.read_text()[:200]


def test_profile_then_report(capsys, data, tmp_path) -> None:
    ref, cur = data
    profile = tmp_path / "ref.ttp"
    code, out, _ = run(capsys, "profile", str(ref), "--out", str(profile))
    assert code == 0 and "3000 rows" in out
    code, out, _ = run(
        capsys,
        "report",
        "--reference-profile",
        str(profile),
        "--current",
        str(cur),
        "--json",
        str(tmp_path / "r.json"),
    )
    assert code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "--reference", "REF", "--current", "CUR"], 2, "nothing to write"),
        (
            ["report", "--reference", "REF", "--current", "nope.parquet", "--json", "x.json"],
            1,
            "does not exist",
        ),
        (
            [
                "report",
                "--reference",
                "REF",
                "--current",
                "CUR",
                "--json",
                "x.json",
                "--threshold",
                "a",
            ],
            2,
            "COLUMN=VALUE",
        ),
        (
            [
                "report",
                "--reference",
                "REF",
                "--current",
                "CUR",
                "--json",
                "x.json",
                "--threshold",
                "a=high",
            ],
            2,
            "must be a number",
        ),
        (
            [
                "report",
                "--reference",
                "REF",
                "--current",
                "CUR",
                "--json",
                "x.json",
                "--target",
                "nope",
                "--prediction",
                "a",
            ],
            1,
            "not in the current data",
        ),
        (
            [
                "report",
                "--reference",
                "REF",
                "--current",
                "CUR",
                "--json",
                "x.json",
                "--method",
                "magic",
            ],
            1,
            "magic",
        ),
        (
            ["report", "--reference-profile", "CUR", "--current", "CUR", "--json", "x.json"],
            1,
            "cannot read profile",
        ),
        (["report", "--current", "CUR", "--json", "x.json"], 1, "reference is required"),
        (
            [
                "report",
                "--reference",
                "REF",
                "--current",
                "CUR",
                "--json",
                "x.json",
                "--bootstrap",
                "-1",
            ],
            2,
            "-1",
        ),
    ],
)
def test_bad_input_gives_one_clear_line(capsys, data, tmp_path, args, code, message) -> None:
    ref, cur = data
    args = [str(ref) if a == "REF" else str(cur) if a == "CUR" else a for a in args]
    args = [str(tmp_path / a) if a == "x.json" else a for a in args]
    got, _out, err = run(capsys, *args)
    assert got == code
    assert message in err
    assert "Traceback" not in err


def test_console_script_runs(data, tmp_path) -> None:
    """The installed entry point, as a user runs it."""
    ref, cur = data
    exe = Path(sys.executable).parent / "telltale"
    done = subprocess.run(
        [
            str(exe),
            "report",
            "--reference",
            str(ref),
            "--current",
            str(cur),
            "--json",
            str(tmp_path / "r.json"),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["drift"]["n_drifted"] == 2


def test_unicode_names_and_bad_threshold_values(capsys, tmp_path) -> None:
    rng = np.random.default_rng(1)
    for name, shift in (("référence ü.parquet", 0.0), ("courant 😀.parquet", 1.0)):
        pq.write_table(
            pa.table({"größe ü": rng.normal(shift, 1, 500), "b": rng.normal(0, 1, 500)}),
            tmp_path / name,
        )
    ref, cur = tmp_path / "référence ü.parquet", tmp_path / "courant 😀.parquet"
    out_json = tmp_path / "r.json"
    base = ["report", "--reference", str(ref), "--current", str(cur), "--json", str(out_json), "-q"]
    code, _, err = run(capsys, *base, "--column", "größe ü", "--threshold", "größe ü=0.5")
    assert code == 0, err
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert list(data["drift"]["columns"]) == ["größe ü"]
    assert data["drift"]["columns"]["größe ü"]["threshold"] == 0.5
    for bad in ("nan", "inf", "-1"):
        code, _, err = run(capsys, *base, "--threshold", f"größe ü={bad}")
        assert code == 1 and "größe ü" in err and "Traceback" not in err, (bad, err)
