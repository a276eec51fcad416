"""Checks, output mapping, value coercion, redaction, event ids: the pieces, exactly."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from telltale.errors import ConfigError
from telltale.sdk import checks
from telltale.sdk.checks import run_checks
from telltale.sdk.event_ids import EventIds
from telltale.sdk.outputs import map_output
from telltale.sdk.redaction import Redactor
from telltale.sdk.values import wire_value


@pytest.mark.parametrize(
    ("check", "output", "reason"),
    [
        (checks.not_none(), None, "not_none(): the output is None"),
        (checks.not_none(), {"score": None}, "not_none(): score is None"),
        (checks.not_none(), 0, None),
        (checks.finite(), [1.0, float("inf")], "finite(): [1] = inf"),
        (checks.finite(), {"p": [0.1, float("nan")]}, "finite(): ['p'][1] = nan"),
        (checks.finite(), "text", None),
        (checks.in_range(0, 1), 1.0, None),
        (checks.in_range(0, 1), -0.5, "in_range(0, 1): -0.5 is below 0"),
        (checks.in_range(0, 1), {"score": 2}, "in_range(0, 1): ['score'] = 2 is above 1"),
        (checks.of_type(int, str), 1.5, "of_type(int, str): got float"),
        (checks.of_type(int, str), "a", None),
        (checks.shape(2, None), [[1, 2, 3], [4, 5, 6]], None),
        (checks.shape(3), [1, 2], "shape(3): got shape (2,)"),
        (checks.shape(3), 5, "shape(3): the output (int) has no shape"),
        (checks.length(2), [1, 2], None),
        (checks.length(2), [1], "length(2): got length 1"),
        (checks.length(2), 3, "length(2): the output (int) has no length"),
        (
            checks.min_confidence(0.6),
            {"score": 0.59},
            "min_confidence(0.6): score 0.59 is below 0.6",
        ),
        (checks.min_confidence(0.6), [0.3, 0.7], None),
        (checks.min_confidence(0.6), 0.2, "min_confidence(0.6): score 0.2 is below 0.6"),
        (
            checks.min_confidence(0.6, key="p"),
            {"score": 1},
            "min_confidence(0.6, 'p'): the output has no 'p'; pass key= naming the confidence",
        ),
    ],
)
def test_builtin_checks(check: Any, output: Any, reason: str | None) -> None:
    assert check(output) == reason


def test_numpy_outputs_are_checked() -> None:
    numpy = pytest.importorskip("numpy")
    assert checks.shape(2, 3)(numpy.zeros((2, 3))) is None
    assert checks.finite()(numpy.array([1.0, numpy.nan])) == "finite(): [1] = nan"
    assert checks.in_range(0, 1)(numpy.float64(3.0)) == "in_range(0, 1): 3.0 is above 1"


def test_custom_checks_and_their_verdicts() -> None:
    def positive(y: float) -> bool:
        return y > 0

    def explain(y: float) -> str | None:
        return None if y > 0 else f"{y} is not positive"

    def odd(y: float) -> int:
        return 3

    def boom(y: float) -> None:
        raise ValueError("cannot judge")

    assert run_checks([positive, explain, odd, boom], -1) == [
        "check test_custom_checks_and_their_verdicts.<locals>.positive failed",
        "-1 is not positive",
        "check test_custom_checks_and_their_verdicts.<locals>.odd returned 3; "
        "return None or True (fine), or a reason",
        "check test_custom_checks_and_their_verdicts.<locals>.boom raised ValueError: cannot judge",
    ]
    assert run_checks([positive, explain], 2) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: checks.in_range(1, 0), "in_range(1, 0) is empty; pass the lower bound first"),
        (lambda: checks.in_range("a", 1), "in_range low='a' is not a finite number"),
        (lambda: checks.of_type(), "of_type() needs one or more classes"),
        (lambda: checks.shape(-1), "shape(-1,): -1 is not a size"),
        (lambda: checks.length(1.5), "length(1.5) needs a whole number"),
        (lambda: checks.min_confidence(float("nan")), "min_confidence floor=nan is not a finite"),
    ],
)
def test_bad_check_arguments_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        make()


@pytest.mark.parametrize(
    ("output", "mapped"),
    [
        (0.93, {"prediction": 0.93}),
        ("cat", {"prediction": "cat"}),
        (None, {"prediction": None}),
        ({"label": "cat", "top": [1, 2]}, {"label": "cat", "top": "[1, 2]"}),
        ([0.1, 0.7, 0.2], {"prediction": 1, "score": 0.7, "probabilities": "[0.1, 0.7, 0.2]"}),
        ((3, 9), {"prediction": 1, "score": 9.0, "probabilities": "[3, 9]"}),
        (["a", "b"], {"prediction": '["a", "b"]'}),
        ([], {"prediction": "[]"}),
        ([True, False], {"prediction": "[true, false]"}),
    ],
)
def test_outputs_mapping(output: Any, mapped: dict[str, Any]) -> None:
    assert map_output(output) == mapped


def test_numpy_outputs_are_mapped() -> None:
    numpy = pytest.importorskip("numpy")
    assert map_output(numpy.float32(0.5)) == {"prediction": 0.5}
    assert map_output(numpy.array([0.2, 0.8])) == {
        "prediction": 1,
        "score": 0.8,
        "probabilities": "[0.2, 0.8]",
    }


@pytest.mark.parametrize(
    ("value", "wired"),
    [
        (3, 3),
        (True, True),
        ("x", "x"),
        (None, None),
        ([1, "a"], '[1, "a"]'),
        ((1, 2), "[1, 2]"),
        (frozenset({2, 1}), "[1, 2]"),
        (bytearray(b"abc"), "<3 bytes>"),
        (__import__("decimal").Decimal("1.5"), 1.5),
        (__import__("datetime").date(2026, 11, 22), "2026-11-22"),
    ],
)
def test_wire_values(value: Any, wired: Any) -> None:
    assert wire_value(value) == wired


def test_redaction_rules() -> None:
    redactor = Redactor(
        {
            "email": "hash",
            "ssn": "drop",
            "name": "mask",
            "age": lambda a: a // 10 * 10,
            "bad": lambda v: 1 / 0,
        },
        salt="s3cret",
    )
    out = redactor.apply(
        {"email": "a@b.c", "ssn": "123", "name": "Ann", "age": 41, "bad": 1, "other": 2}
    )
    assert out == {
        "email": "e737654a0412c00a",
        "name": "***",
        "age": 40,
        "bad": "<redaction failed: ZeroDivisionError>",
        "other": 2,
    }
    assert Redactor({"email": "hash"}, salt="other").apply({"email": "a@b.c"}) != {
        "email": "e737654a0412c00a"
    }


def test_hashing_needs_a_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELLTALE_REDACT_SALT", raising=False)
    with pytest.raises(ConfigError, match="redact= hashes email but no salt is set"):
        Redactor({"email": "hash"})
    monkeypatch.setenv("TELLTALE_REDACT_SALT", "s3cret")
    assert Redactor({"email": "hash"}).apply({"email": "a@b.c"}) == {"email": "e737654a0412c00a"}


def test_redaction_happens_before_events_leave(make_monitor: Any) -> None:
    monitor = make_monitor(redact={"email": "hash", "ssn": "drop"}, redact_salt="s3cret")

    @monitor.track
    def predict(features: dict[str, Any]) -> int:
        return 1

    predict({"email": "a@b.c", "ssn": "123-45-6789", "amount": 3})
    assert monitor.flush(timeout=10)
    (event,) = monitor.sink.events
    assert event["inputs"] == {"email": "e737654a0412c00a", "amount": 3}


def test_event_ids_are_unique_version_8_uuids() -> None:
    ids = EventIds()
    made = [ids.format(next(ids.sequence)) for _ in range(10_000)]
    made += ids.format_block(ids.reserve_block(1000), 1000)
    assert len(set(made)) == 11_000
    parsed = [uuid.UUID(value) for value in made[:5] + made[-5:]]
    assert {(u.version, u.variant) for u in parsed} == {(8, uuid.RFC_4122)}
    prefix = made[0][:18]
    ids.redraw()
    assert ids.format(0)[:18] != prefix
