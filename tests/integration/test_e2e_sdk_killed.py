"""kill -9 the model service while it is spooling, then again while it is delivering its spool:
each next incarnation (same spool directory) adopts what its predecessor left and delivers it,
none twice; only what was still in memory (the last moments of calls) can be gone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from _collector import free_port, make_keys
from _e2e import serving, stored_ids, wait_for

CHILD = Path(__file__).resolve().parent / "_sdk_child.py"


def _ids(path: Path) -> list[str]:
    """The complete lines of an ids file (the last one may be cut by the kill)."""
    text = path.read_text() if path.exists() else ""
    return [line for line in text.split("\n")[:-1] if len(line) == 36]


def _spooled(spool: Path) -> list[str]:
    """Event ids in the spool's finished batch files, oldest file first."""
    ids: list[str] = []
    for path in sorted(spool.glob("[0-9]*-events-*.arrows")):
        table = pa.ipc.open_stream(path.read_bytes()).read_all()
        ids += table.column("event_id").to_pylist()
    return ids


def _rows_in_spool(spool: Path) -> int:
    """Events held in the spool, from the file names (``...-events-<rows>.arrows``)."""
    return sum(int(p.name.split("-")[-1].split(".")[0]) for p in spool.glob("[0-9]*.arrows"))


def test_a_killed_service_delivers_its_spool_after_restart(
    tmp_path: Path, children: list[subprocess.Popen[bytes]]
) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    port = free_port()  # nothing listens there yet: every batch is spooled
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"

    def child(mode: str, name: str) -> subprocess.Popen[bytes]:
        ids = tmp_path / f"{name}.ids"
        args = [sys.executable, str(CHILD), mode, url, keys["fraud:ingest"], str(spool), str(ids)]
        out_path, err_path = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(args, stdout=out, stderr=err)
        children.append(process)
        return process

    def kill(process: subprocess.Popen[bytes], name: str) -> None:
        assert process.poll() is None, (tmp_path / f"{name}.err").read_text()[-2000:]
        process.kill()  # SIGKILL, in the middle of whatever it was doing
        process.wait(30)

    # 1. Killed while logging and spooling (the server is down).
    first = child("log", "first")
    wait_for(
        lambda: len(list(spool.glob("*-events-*.arrows"))) >= 6 or first.poll() is not None,
        60,
        "the first service to spool six batches",
    )
    kill(first, "first")
    logged_first = _ids(tmp_path / "first.ids")
    spooled_first = _spooled(spool)
    assert len(spooled_first) >= 6
    # The spool holds the oldest calls in order; only the last ones, still in memory, are lost.
    assert spooled_first == logged_first[: len(spooled_first)], "the spool is not in call order"
    assert len(logged_first) - len(spooled_first) < 1000, (len(logged_first), len(spooled_first))

    # 2. The next incarnation adopts that spool, logs 500 calls (spooled too), then the server
    #    comes up and it is killed while delivering the spool, batch by batch.
    second = child("log500", "second")
    wait_for(
        lambda: _rows_in_spool(spool) == len(spooled_first) + 500 or second.poll() is not None,
        60,
        "the second service to spool its 500 calls",
    )
    files = len(list(spool.glob("*.arrows")))
    with serving(db, port, keys):
        wait_for(
            lambda: len(list(spool.glob("*.arrows"))) < files or second.poll() is not None,
            30,
            "the delivery to start",
            poll=0.002,
        )
        kill(second, "second")
        remaining = _rows_in_spool(spool)
        assert 0 < remaining < len(spooled_first) + 500, "not killed in the middle of delivery"
        logged_second = _ids(tmp_path / "second.ids")
        assert len(logged_second) == 500

        # 3. The third incarnation delivers what is left, and its own calls.
        third = child("deliver", "third")
        assert third.wait(120) == 0, (tmp_path / "third.err").read_text()[-2000:]
    stats = json.loads((tmp_path / "third.out").read_text().strip().splitlines()[-1])
    logged_third = _ids(tmp_path / "third.ids")
    assert len(logged_third) == 20
    assert stats["sent"] == 20 + remaining, stats
    assert (stats["spooled"], stats["failed"], stats["spool_dropped"]) == (0, 0, 0), stats
    assert list(spool.glob("*.arrows")) == []

    ids = stored_ids(db)
    assert len(ids) == len(set(ids)), "an event was stored twice"
    assert set(ids) == set(spooled_first) | set(logged_second) | set(logged_third)
