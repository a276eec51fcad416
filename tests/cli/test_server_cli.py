"""`telltale keys`, `telltale audit` and `telltale import`: clear output, clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from telltale.cli.main import main
from telltale.sdk import Monitor
from telltale.store.audit import AuditLog
from telltale.store.events import EventStore


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_keys_create_list_revoke(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "t.duckdb")
    code, out, err = run(
        capsys, "keys", "create", "--db", db, "--project", "fraud", "--scope", "read"
    )
    assert code == 0
    secret = out.strip()
    assert secret.startswith("tt_") and "not shown again" in err
    key_id = secret.split("_")[1]
    code, out, _ = run(capsys, "keys", "list", "--db", db)
    assert code == 0 and key_id in out and "active" in out and secret not in out
    code, out, _ = run(capsys, "keys", "revoke", "--db", db, key_id)
    assert code == 0 and f"revoked {key_id}" in out
    code, out, _ = run(capsys, "keys", "list", "--db", db, "--json")
    assert '"revoked": "20' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--project", "a b", "--scope", "read"], "not a valid name"),
        (["keys", "create", "--project", "p", "--scope", "root"], "'root' is not one of"),
        (["keys", "revoke", "000000000000"], "no API key"),
        (["audit", "--project", "p", "--limit", "0"], "0 is not in the range"),
    ],
)
def test_bad_admin_input_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    db = str(tmp_path / "t.duckdb")
    duckdb.connect(db).close()
    code, _, err = (
        run(capsys, *args[:2], "--db", db, *args[2:])
        if args[0] == "keys"
        else run(capsys, *args, "--db", db)
    )
    assert code != 0
    assert message in err
    assert "Traceback" not in err


def test_admin_commands_on_a_missing_file_name_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "keys", "list", "--db", str(tmp_path / "none.duckdb"))
    assert code == 1 and "telltale serve --db" in err


def test_a_file_held_by_a_server_gives_the_alternatives(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys,time; c=duckdb.connect({str(db)!r}); print('x', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"x"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "telltale.cli.main",
                "keys",
                "create",
                "--db",
                str(db),
                "--project",
                "p",
                "--scope",
                "read",
            ],
            capture_output=True,
            text=True,
        )
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert out.returncode == 1
    assert "held by a running telltale server" in out.stderr and "POST /v1/keys" in out.stderr


def test_audit_lists_reads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "t.duckdb")
    connection = duckdb.connect(db)
    AuditLog(connection).record(project="fraud", key_id="abc", action="GET /v1/models", status=200)
    connection.close()
    code, out, _ = run(capsys, "audit", "--db", db, "--project", "fraud")
    assert code == 0 and "GET /v1/models" in out and "abc" in out
    code, out, _ = run(capsys, "audit", "--db", db, "--project", "fraud", "--json")
    assert '"key_id": "abc"' in out


def test_import_stores_the_directory_sink_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "events"
    monitor = Monitor(model="fraud", version="1", directory=str(folder))

    @monitor.track
    def predict(features: dict[str, float]) -> float:
        return features["x"] * 2

    for i in range(250):
        predict({"x": float(i), "country": "FR"})
    event_id = monitor.last_event_id()
    assert event_id is not None
    monitor.log_label(event_id, 1.0)
    monitor.close()
    db = str(tmp_path / "t.duckdb")
    code, out, _ = run(capsys, "import", str(folder), "--db", db, "--project", "fraud")
    assert code == 0, out
    assert "imported 250 events (0 already stored), 1 labels" in out
    code, out, _ = run(capsys, "import", str(folder), "--db", db, "--project", "fraud")
    assert "imported 0 events (250 already stored)" in out
    store = EventStore(db, read_only=True)
    try:
        (model,) = store.models("fraud")
    finally:
        store.close()
    assert model["events"] == 250 and set(model["features"]) == {"x", "country"}


def test_import_errors_name_the_directory_or_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "t.duckdb")
    code, _, err = run(capsys, "import", str(tmp_path), "--db", db, "--project", "p")
    assert code == 1 and "no events-*.parquet" in err
    (tmp_path / "events-1.parquet").write_bytes(b"PAR1 not really")
    code, _, err = run(capsys, "import", str(tmp_path), "--db", db, "--project", "p")
    assert code == 1 and "events-1.parquet" in err and "Traceback" not in err
