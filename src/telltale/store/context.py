"""What travels with events: environment fingerprints, resource samples, client counters.

A client sends its environment once per fingerprint, a few resource samples a minute and its
dropped-events total with every batch. Written one statement per request, this was most of the
statements of a small request; here a whole write transaction's context is collapsed first:
fingerprints already stored are skipped (known ones are kept in memory), resource samples of
all requests go in one insert, and each client's counter is written once per transaction, and
only when it changed (so ``tt_clients.updated`` is when the counter last changed).

>>> ctx = Context()
>>> ctx.known_environments, ctx.known_clients
(set(), {})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from telltale.schema.wire import EventBatch

__all__ = ["CONTEXT_DDL", "Context", "environment_name"]


def environment_name(labels: Any) -> str | None:
    """What to call an environment: its ``name`` label, else its labels as ``k=v, ...``, else
    None (only the hash is known).

    >>> environment_name({"name": "gpu-b", "region": "eu"}), environment_name({"region": "eu"})
    ('gpu-b', 'region=eu')
    >>> environment_name({}) is None
    True
    """
    if not labels:
        return None
    labels = dict(labels)
    if labels.get("name"):
        return str(labels["name"])
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


CONTEXT_DDL = (
    """CREATE TABLE IF NOT EXISTS tt_environments (
        project VARCHAR NOT NULL,
        environment_id VARCHAR NOT NULL,
        python VARCHAR, platform VARCHAR, cpu VARCHAR, gpu VARCHAR,
        packages MAP(VARCHAR, VARCHAR),
        first_seen TIMESTAMPTZ NOT NULL,
        labels MAP(VARCHAR, VARCHAR),
        PRIMARY KEY (project, environment_id)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_resources (
        project VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        instance VARCHAR NOT NULL,
        cpu_percent DOUBLE, rss_mb DOUBLE, gpu_percent DOUBLE, gpu_memory_mb DOUBLE,
        loop_lag_ms DOUBLE,
        model VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS tt_clients (
        project VARCHAR NOT NULL,
        instance VARCHAR NOT NULL,
        sdk VARCHAR,
        dropped BIGINT NOT NULL,
        updated TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (project, instance)
    )""",
)

_RESOURCE_NUMBERS = ("cpu_percent", "rss_mb", "gpu_percent", "gpu_memory_mb", "loop_lag_ms")
_UTC = pa.timestamp("us", tz="UTC")


def _now() -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(
        microseconds=time.time_ns() // 1000
    )


def _only_model(batch: EventBatch) -> str | None:
    """The model whose process sampled a batch's resources: the one model of its events (an SDK
    monitor sends one model's events), None when the batch has none or several."""
    if "model" not in batch.events.column_names or batch.events.num_rows == 0:
        return None
    models = pc.unique(batch.events.column("model")).to_pylist()
    return models[0] if len(models) == 1 and isinstance(models[0], str) else None


class Context:
    """Writes the context of a transaction's batches; remembers what is already stored."""

    def __init__(self) -> None:
        self.known_environments: set[tuple[str, str]] = set()
        self.known_clients: dict[tuple[str, str], tuple[Any, int]] = {}

    def load(self, con: Any) -> None:
        self.known_environments = {
            (p, e)
            for p, e in con.execute(
                "SELECT project, environment_id FROM tt_environments"
            ).fetchall()
        }
        self.known_clients = {
            (p, i): (sdk, int(d))
            for p, i, sdk, d in con.execute(
                "SELECT project, instance, sdk, dropped FROM tt_clients"
            ).fetchall()
        }

    def write(self, con: Any, batches: Sequence[tuple[str, EventBatch]]) -> Callable[[], None]:
        """Store the context of ``batches`` (inside the caller's transaction); returns what to
        run once it committed."""
        now = _now()
        environments: dict[tuple[str, str], dict[str, Any]] = {}
        resources: list[tuple[str, dict[str, Any], str | None]] = []
        clients: dict[tuple[str, str], tuple[Any, int]] = {}
        for project, batch in batches:
            for env in batch.environments:
                key = (project, env["environment_id"])
                if key not in self.known_environments:
                    environments.setdefault(key, env)
            if batch.resources:
                model = _only_model(batch)
                resources += [(project, r, model) for r in batch.resources]
            client = batch.client
            if "instance" in client and "dropped" in client:
                key = (project, client["instance"])
                clients[key] = (client.get("sdk"), int(client["dropped"]))
        changed = {k: v for k, v in clients.items() if self.known_clients.get(k) != v}
        for (project, environment_id), env in environments.items():
            con.execute(
                "INSERT OR IGNORE INTO tt_environments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    project,
                    environment_id,
                    env.get("python"),
                    env.get("platform"),
                    env.get("cpu"),
                    env.get("gpu"),
                    env.get("packages") or {},
                    now,
                    env.get("labels") or {},
                ],
            )
        if resources:
            table = pa.table(
                {
                    "project": [p for p, _, _ in resources],
                    "ts": pa.array([r["ts"] for _, r, _ in resources], pa.int64()).cast(_UTC),
                    "instance": [r["instance"] for _, r, _ in resources],
                    **{
                        name: pa.array([r.get(name) for _, r, _ in resources], pa.float64())
                        for name in _RESOURCE_NUMBERS
                    },
                    "model": pa.array([m for _, _, m in resources], pa.string()),
                }
            )
            con.register("tt_resources_new", table)
            try:
                con.execute("INSERT INTO tt_resources SELECT * FROM tt_resources_new")
            finally:
                con.unregister("tt_resources_new")
        if changed:
            con.executemany(
                """INSERT INTO tt_clients VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (project, instance) DO UPDATE SET
                    dropped = excluded.dropped, sdk = excluded.sdk, updated = excluded.updated""",
                [[p, i, sdk, dropped, now] for (p, i), (sdk, dropped) in changed.items()],
            )

        def publish() -> None:
            self.known_environments.update(environments)
            self.known_clients.update(changed)

        return publish

    def environments(self, cursor: Any, project: str) -> list[dict[str, Any]]:
        """The fingerprints seen, with their ``labels`` (``{}`` when none were given, and in a
        store of schema 3 or older opened read-only, which has no labels column)."""
        has_labels = cursor.execute(
            """SELECT count(*) FROM information_schema.columns
            WHERE table_name = 'tt_environments' AND column_name = 'labels'"""
        ).fetchone()[0]
        labels = "labels" if has_labels else "NULL AS labels"
        rows = cursor.execute(
            f"""SELECT environment_id, python, platform, cpu, gpu, packages, {labels}
            FROM tt_environments WHERE project = ? ORDER BY environment_id""",
            [project],
        ).fetchall()
        keys = ("environment_id", "python", "platform", "cpu", "gpu", "packages", "labels")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for env in out:
            env["labels"] = dict(env["labels"] or {})
            env["name"] = environment_name(env["labels"])
        return out

    def clients(self, cursor: Any, project: str) -> dict[str, int]:
        """The latest dropped-events total reported by each client instance."""
        rows = cursor.execute(
            "SELECT instance, dropped FROM tt_clients WHERE project = ? ORDER BY instance",
            [project],
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}
