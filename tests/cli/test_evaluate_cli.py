"""`telltale evaluate`: the issue's command on the shared CoNLL-2003 pair, help, bad input.

The issue's exact command runs once, as a real subprocess in a folder holding the shared files
under the names it uses; the other cases call the command in-process (same code path, no
interpreter start-up) and check the exit status and the one-line message on stderr.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from telltale.cli.main import main

CONLL = "conll2003"
ISSUE_COMMAND = (
    "telltale evaluate --task ner --data gold.conll --system elmo=elmo.conll "
    "--system flair=flair.conll --out eval.html --json eval.json"
)


def _explainaboard() -> Path:
    """The shared fixtures, found as tests/analysis/evaluate/conftest.py finds them."""
    candidates = (
        [Path(os.environ["TELLTALE_SHARED_DATASETS"])]
        if ("TELLTALE_SHARED_DATASETS" in os.environ)
        else []
    )
    candidates += [Path(__file__).resolve().parents[3] / "shared" / "datasets"]
    candidates += [Path("/work/shared/datasets")]
    found = next((c for c in candidates if (c / "explainaboard").is_dir()), candidates[0])
    return found / "explainaboard"


@pytest.fixture(scope="module")
def outputs() -> Path:
    path = _explainaboard() / "data" / "system_outputs"
    assert path.is_dir(), f"shared fixtures missing at {path}"
    return path


@pytest.fixture(scope="module")
def artifacts() -> Path:
    path = _explainaboard() / "integration_tests" / "artifacts"
    assert path.is_dir(), f"shared fixtures missing at {path}"
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def issue_run(outputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder where the issue's command ran, with gold/elmo/flair and its two outputs."""
    folder = tmp_path_factory.mktemp("evaluate-cli")
    for name, source in (
        ("gold.conll", "conll2003-dataset.conll"),
        ("elmo.conll", "conll2003-elmo-output.conll"),
        ("flair.conll", "conll2003-flair-output.conll"),
    ):
        shutil.copyfile(outputs / CONLL / source, folder / name)
    command = shlex.split(ISSUE_COMMAND)
    done = subprocess.run(
        [sys.executable, "-c", "from telltale.cli.main import main; main()", *command[1:]],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (folder / "stdout.txt").write_text(done.stdout, encoding="utf-8")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("flair is better than elmo overall (F1 +0.81 points")
    assert lines[-2:] == [
        f"wrote {(folder / 'eval.json').resolve()}",
        f"wrote {(folder / 'eval.html').resolve()}",
    ]
    return folder


def test_issue_command_writes_the_json_contract(issue_run: Path) -> None:
    data = json.loads((issue_run / "eval.json").read_text(encoding="utf-8"))
    assert set(data) >= {"systems", "comparisons", "findings", "slices"}
    assert set(data["systems"]) == {"elmo", "flair"}
    for system in data["systems"].values():
        for entry in system["overall"].values():
            assert set(entry) == {"value", "ci"} and len(entry["ci"]) == 2
        assert set(system["buckets"]) >= {"span_length", "span_label", "sentence_length"}
        for rows in system["buckets"].values():
            for row in rows:
                assert isinstance(row["bucket"], str) and isinstance(row["n"], int)
                assert "f1" in row
    # the published F1 of the two systems (ExplainaBoard), to four decimals
    assert round(data["systems"]["elmo"]["overall"]["f1"]["value"], 4) == 0.9222
    assert round(data["systems"]["flair"]["overall"]["f1"]["value"], 4) == 0.9303
    assert data["settings"]["n_bootstrap"] == 1000
    (comparison,) = data["comparisons"]
    assert (comparison["baseline"], comparison["system"], comparison["better"]) == (
        "elmo",
        "flair",
        "flair",
    )
    assert all(isinstance(f, str) for f in data["findings"])
    assert data["findings"][0].startswith("flair is better than elmo overall")
    assert {s["system"] for s in data["slices"]} == {"elmo", "flair"}


def test_issue_command_writes_a_self_contained_report(issue_run: Path) -> None:
    html = (issue_run / "eval.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "http://" not in html and "https://" not in html
    assert "flair is better than elmo overall" in html
    assert "<svg" in html


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "evaluate", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for text in (
        "telltale evaluate --task ner --data gold.conll",
        "--system elmo=elmo.conll --system flair=flair.conll",
        "--out eval.html --json eval.json",
        "Tasks: ner",
        "tabular-regression",
        "edges:E0,E1",
        "Benjamini-Hochberg",
        "--unknown-labels",
        "--lenient",
    ):
        assert text in flat, text
    code, out, _ = run(capsys, "--help")
    assert "evaluate" in out


def _write(path: Path, text: str, newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    _write(tmp_path / "gold.conll", "Paris\tB-LOC\nis\tO\nbig\tO\n\nBob\tB-PER\nsmiles\tO\n")
    _write(tmp_path / "sys.conll", "Paris\tB-LOC\nis\tO\nbig\tO\n\nBob\tB-LOC\nsmiles\tO\n")
    return tmp_path


def _one_line_error(code: int, err: str) -> str:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    return lines[0]


def test_missing_file_is_named(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    missing = small / "nope.conll"
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={missing}", "--json", str(small / "x.json"),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert str(missing) in line and "does not exist" in line and "system 'a'" in line
    assert not (small / "x.json").exists()


def test_misaligned_chunking_pair_names_the_sentence_and_lines(
    capsys: pytest.CaptureFixture[str], outputs: Path, tmp_path: Path
) -> None:
    folder = outputs / "chunking"
    code, _, err = run(
        capsys, "evaluate", "--task", "chunking",
        "--data", str(folder / "dataset-test-conll00.tsv"),
        "--system", f"tagger={folder / 'test-conll00-predictions.tsv'}",
        "--json", str(tmp_path / "x.json"), "--bootstrap", "0",
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "test-conll00-predictions.tsv" in line and "does not line up" in line
    assert "sentence 1882 (gold line 46213, system line 46213)" in line
    assert "gold '#'" in line


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("a", "--system 'a' is not NAME=VALUE; write e.g. --system elmo=elmo.conll"),
        ("=sys.conll", "--system '=sys.conll' is not NAME=VALUE"),
        ("a=", "--system 'a=' is not NAME=VALUE"),
    ],
)
def test_bad_system_syntax(
    capsys: pytest.CaptureFixture[str], small: Path, system: str, expected: str
) -> None:
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", system, "--json", str(small / "x.json"),
    )  # fmt: skip
    assert expected in _one_line_error(code, err)


def test_same_system_twice(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    path = str(small / "sys.conll")
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={path}", "--system", f"a={path}", "--json", str(small / "x.json"),
    )  # fmt: skip
    assert "names 'a' twice" in _one_line_error(code, err)


def test_unknown_task_lists_the_tasks(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    code, _, err = run(
        capsys, "evaluate", "--task", "nerr", "--data", str(small / "gold.conll"),
        "--system", f"a={small / 'sys.conll'}", "--json", str(small / "x.json"),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "'nerr' is not a known task" in line and "'ner'" in line


def test_nothing_to_write(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={small / 'sys.conll'}",
    )  # fmt: skip
    assert "give --out eval.html and/or --json eval.json" in _one_line_error(code, err)


def test_empty_file_is_named(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    empty = _write(small / "empty.conll", "")
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={empty}", "--json", str(small / "x.json"),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "empty.conll" in line and "is empty" in line


def test_crlf_gold_scores_like_lf(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    text = (small / "gold.conll").read_text(encoding="utf-8")
    crlf = _write(small / "gold-crlf.conll", text, newline="\r\n")
    results = []
    for gold in (small / "gold.conll", crlf):
        out = small / f"{gold.stem}.json"
        code, _, err = run(
            capsys, "evaluate", "--task", "ner", "--data", str(gold),
            "--system", f"a={small / 'sys.conll'}", "--json", str(out), "--bootstrap", "50", "-q",
        )  # fmt: skip
        assert (code, err) == (0, "")
        results.append(json.loads(out.read_text(encoding="utf-8"))["systems"])
    assert results[0] == results[1]
    assert results[0]["a"]["overall"]["f1"]["value"] == 0.5


def test_unicode_tokens_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gold = _write(tmp_path / "gold.conll", "Zürich\tB-LOC\nist\tO\n\nJosé\tB-PER\nlächelt\tO\n")
    system = _write(tmp_path / "sys.conll", "Zürich\tB-LOC\nist\tO\n\nJosé\tB-LOC\nlächelt\tO\n")
    out = tmp_path / "eval.json"
    html = tmp_path / "eval.html"
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(gold), "--system", f"ü={system}",
        "--json", str(out), "--out", str(html), "--bootstrap", "20", "-q",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "ü" in json.loads(out.read_text(encoding="utf-8"))["systems"]
    page = html.read_text(encoding="utf-8")
    assert "José" in page and "ü" in page
    bad = _write(tmp_path / "bad.conll", "Zürich\tI-LOC\nist\tO\n\nJosé\tB-PER\nlächelt\tO\n")
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(gold), "--system", f"a={bad}",
        "--json", str(out),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "bad.conll' sentence 1, line 1, token 1 'Zürich'" in line and "--lenient" in line


def test_lenient_and_unknown_labels_options(
    capsys: pytest.CaptureFixture[str], artifacts: Path, tmp_path: Path
) -> None:
    # the shared toy pair: CRLF output with the unknown type B-LOG
    folder = artifacts / "ner"
    args = [
        "evaluate", "--task", "ner", "--data", str(folder / "dataset.tsv"),
        "--system", f"toy={folder / 'output.tsv'}", "--json", str(tmp_path / "x.json"), "-q",
        "--bootstrap", "0",
    ]  # fmt: skip
    code, _, err = run(capsys, *args)
    line = _one_line_error(code, err)
    assert "output.tsv' sentence 1, line 8, token 8 'CHINA'" in line
    assert "--unknown-labels keep" in line
    code, _, err = run(capsys, *args, "--unknown-labels", "keep", "--lenient")
    assert (code, err) == (0, "")
    assert json.loads((tmp_path / "x.json").read_text())["systems"]["toy"]["overall"]["f1"]


def test_bad_bucket_spec(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    base = [
        "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={small / 'sys.conll'}", "--json", str(small / "x.json"),
    ]  # fmt: skip
    code, _, err = run(capsys, *base, "--bucket", "span_length")
    assert "--bucket 'span_length' is not NAME=VALUE" in _one_line_error(code, err)
    code, _, err = run(capsys, *base, "--bucket", "colour=quantile:3")
    assert "unknown feature(s) ['colour']" in _one_line_error(code, err)


DOC = Path(__file__).resolve().parents[2] / "docs" / "evaluate.md"


def _blocks(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_every_option_is_documented() -> None:
    from telltale.cli.main import cli

    command = cli.commands["evaluate"]
    text = DOC.read_text(encoding="utf-8")
    for param in command.params:
        for option in param.opts + param.secondary_opts:
            if option.startswith("--") and option != "--help":
                assert f"| `{option}` |" in text, f"{option} is missing from docs/evaluate.md"


def test_documented_command_and_its_output(issue_run: Path) -> None:
    command = " ".join(_blocks("bash")[0].replace("\\\n", " ").split())
    assert command == ISSUE_COMMAND
    printed = (issue_run / "stdout.txt").read_text(encoding="utf-8").splitlines()
    documented = _blocks("text")[0].splitlines()
    assert documented[:5] == printed[:5]


def test_documented_python_example_runs(outputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(outputs / CONLL)  # the example names the shared files
    namespace: dict[str, object] = {}
    exec(compile(_blocks("python")[0], str(DOC), "exec"), namespace)
    data = namespace["data"]
    assert isinstance(data, dict)
    assert round(data["systems"]["elmo"]["overall"]["f1"]["value"], 4) == 0.9222
    assert [round(v, 4) for v in data["systems"]["elmo"]["overall"]["f1"]["ci"]] == [
        0.9146,
        0.9298,
    ]
    assert data["systems"]["elmo"]["buckets"]["span_length"][0]["bucket"] == "[1, 1]"
    assert data["systems"]["elmo"]["buckets"]["span_length"][0]["n"] == 3679
    assert str(namespace["html"]).startswith("<!DOCTYPE html>")


def test_truncated_output_names_where_the_files_part(
    capsys: pytest.CaptureFixture[str], small: Path
) -> None:
    short = _write(small / "short.conll", "Paris\tB-LOC\nis\tO\nbig\tO\n")
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={short}", "--json", str(small / "x.json"),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "short.conll' has 1 sentence but the gold file" in line
    assert "the gold file goes on at line 5 ('Bob', sentence 2)" in line


def test_non_utf8_file_names_the_line(capsys: pytest.CaptureFixture[str], small: Path) -> None:
    latin1 = small / "latin1.conll"
    latin1.write_bytes(
        "Paris\tB-LOC\nis\tO\nbig\tO\n\nZ\u00fcrich\tB-PER\nsmiles\tO\n".encode("latin-1")
    )
    code, _, err = run(
        capsys, "evaluate", "--task", "ner", "--data", str(small / "gold.conll"),
        "--system", f"a={latin1}", "--json", str(small / "x.json"),
    )  # fmt: skip
    line = _one_line_error(code, err)
    assert "latin1.conll' is not UTF-8: byte 0xfc on line 5" in line
