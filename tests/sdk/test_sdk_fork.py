"""Fork safety: the child gets a fresh buffer, thread, spool and id prefix; nothing is sent twice."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")


def test_parent_and_child_each_send_only_their_own_events(
    make_monitor: Any, receiver: Any, tmp_path: Path
) -> None:
    monitor = make_monitor(
        endpoint=receiver.url, api_key="tt_secret", spool_dir=tmp_path, flush_interval=3600
    )

    @monitor.track
    def predict(x: int) -> int:
        return x

    for x in (1, 2, 3):
        predict(x)  # still in the buffer at the fork
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            predict(10)
            predict(11)
            stats = monitor.stats()
            flushed = monitor.flush(timeout=10)
            code = 0 if flushed and stats.pending == 2 and stats.captured == 0 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert monitor.flush(timeout=10)
    events = receiver.events()
    assert sorted(e["input.x"] for e in events) == [1, 2, 3, 10, 11]
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == 5
    by_x = {e["input.x"]: e["event_id"] for e in events}
    assert by_x[1][:18] != by_x[10][:18]  # the child drew its own id prefix
    instances = {item.metadata["telltale.client"]["instance"] for item in receiver.received}
    assert len(instances) == 2  # host-<pid> of each
    assert monitor.stats().sent == 3
