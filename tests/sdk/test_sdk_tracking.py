"""`@monitor.track` and `monitor.observe`: what is recorded for each kind of call."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from typing import Any

import pytest

from telltale.errors import ConfigError
from telltale.sdk import MemorySink, Monitor, checks

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def events_of(monitor: Monitor) -> list[dict[str, Any]]:
    assert monitor.flush(timeout=10)
    sink = monitor.sink
    assert isinstance(sink, MemorySink)
    return sink.events


def test_a_sync_call_is_recorded_with_every_field(make_monitor: Any) -> None:
    monitor = make_monitor(segment={"region": "eu"})

    @monitor.track(validate=[checks.finite(), checks.in_range(0, 1)])
    def predict(features: dict[str, Any]) -> float:
        return 0.93

    assert predict({"amount": 12.5, "country": "FR", "n_items": 3}) == 0.93
    event_id = monitor.last_event_id()
    (event,) = events_of(monitor)
    assert event["event_id"] == event_id
    assert UUID_RE.match(event["event_id"])
    assert uuid.UUID(event["event_id"]).version == 8
    # the call's start on the monitor's (manual) wall clock: a moment before the flush
    started = datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()
    assert event["ts"].endswith("Z") and 1_800_000_000.0 - 10 < started <= 1_800_000_000.0
    assert event["model"] == "fraud" and event["version"] == "1.4.0"
    assert event["inputs"] == {"amount": 12.5, "country": "FR", "n_items": 3}
    assert event["outputs"] == {"prediction": 0.93}
    assert event["status"] == "ok"
    assert event["error"] is None
    assert event["validation"] == []
    assert event["segment"] == {"region": "eu"}
    assert event["batch_size"] == 1
    assert event["trace_id"] is None and event["span_id"] is None
    assert 0 <= event["latency_ms"] < 1000
    assert len(event["environment_id"]) == 16
    stats = monitor.stats()
    assert (stats.captured, stats.sent, stats.pending, stats.dropped) == (1, 1, 0, 0)


def test_parameters_become_features_and_self_is_left_out(make_monitor: Any) -> None:
    monitor = make_monitor()

    class Model:
        @monitor.track
        def predict(self, amount: float, country: str = "FR", *extra: Any, **options: Any) -> int:
            return 1

        @monitor.track
        @staticmethod
        def score(amount: float) -> float:
            return amount / 100

        @monitor.track
        @classmethod
        def build(cls, size: int) -> str:
            return cls.__name__

    model = Model()
    assert model.predict(3.0) == 1
    assert model.predict(4.0, "DE", 7, debug=True) == 1
    assert Model.score(50.0) == 0.5
    assert Model.build(2) == "Model"
    inputs = [event["inputs"] for event in events_of(monitor)]
    assert inputs == [
        {"amount": 3.0, "country": "FR"},
        {"amount": 4.0, "country": "DE", "extra_0": 7, "debug": True},
        {"amount": 50.0},
        {"size": 2},
    ]


def test_feature_names_and_custom_inputs_outputs(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track(feature_names=["age", "income"])
    def vector(x: list[float]) -> list[float]:
        return [0.2, 0.8]

    @monitor.track(
        inputs=lambda text, lang: {"length": len(text), "lang": lang},
        outputs=lambda y: {"label": y[0], "score": y[1]},
    )
    def classify(text: str, lang: str) -> tuple[str, float]:
        return ("spam", 0.75)

    vector([41, 52000.0])
    classify("hello there", lang="en")
    first, second = events_of(monitor)
    assert first["inputs"] == {"age": 41, "income": 52000.0}
    assert first["outputs"] == {"prediction": 1, "score": 0.8, "probabilities": "[0.2, 0.8]"}
    assert second["inputs"] == {"length": 11, "lang": "en"}
    assert second["outputs"] == {"label": "spam", "score": 0.75}


def test_invalid_outputs_are_recorded_with_reasons_and_returned_unchanged(
    make_monitor: Any,
) -> None:
    monitor = make_monitor()

    def raises(output: Any) -> None:
        raise KeyError("boom")

    @monitor.track(validate=[checks.not_none(), checks.finite(), checks.in_range(0, 1), raises])
    def predict(x: float) -> Any:
        return x

    returned = [predict(0.5), predict(float("nan")), predict(1.5), predict(None)]
    assert returned[0] == 0.5 and returned[2] == 1.5 and returned[3] is None
    events = events_of(monitor)
    assert [event["status"] for event in events] == ["invalid"] * 4  # `raises` always fails
    assert events[0]["validation"] == [
        "check test_invalid_outputs_are_recorded_with_reasons_and_returned_unchanged.<locals>.raises raised KeyError: 'boom'"
    ]
    assert events[1]["validation"][:2] == [
        "finite(): nan",
        "in_range(0, 1): nan is not a number in range",
    ]
    assert events[2]["validation"][0] == "in_range(0, 1): 1.5 is above 1"
    assert events[3]["validation"][0] == "not_none(): the output is None"
    assert events[3]["outputs"] == {"prediction": None}


def test_errors_are_recorded_and_reraised_as_the_same_object(make_monitor: Any) -> None:
    monitor = make_monitor()
    failure = ValueError("bad row 3")

    @monitor.track
    def predict(x: int) -> int:
        raise failure

    with pytest.raises(ValueError) as caught:
        predict(3)
    assert caught.value is failure
    assert caught.traceback[-1].name == "predict"
    (event,) = events_of(monitor)
    assert event["status"] == "error"
    assert event["error"] == "ValueError: bad row 3"
    assert event["outputs"] == {} and event["inputs"] == {"x": 3}


def test_async_functions_are_tracked_per_task(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track(validate=[checks.min_confidence(0.6)])
    async def predict(features: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"label": features["name"], "score": features["score"]}

    async def one(name: str, score: float) -> tuple[dict[str, Any], str | None]:
        result = await predict({"name": name, "score": score})
        return result, monitor.last_event_id()

    async def main() -> list[tuple[dict[str, Any], str | None]]:
        return list(await asyncio.gather(one("a", 0.9), one("b", 0.4)))

    (first, first_id), (second, second_id) = asyncio.run(main())
    assert first == {"label": "a", "score": 0.9} and second["label"] == "b"
    assert monitor.last_event_id() is None  # the tasks' ids stay in their tasks
    events = {event["event_id"]: event for event in events_of(monitor)}
    assert events[first_id]["status"] == "ok"
    assert events[second_id]["status"] == "invalid"
    assert events[second_id]["validation"] == ["min_confidence(0.6): score 0.4 is below 0.6"]


def test_async_errors_pass_through(make_monitor: Any) -> None:
    monitor = make_monitor()
    failure = RuntimeError("model down")

    @monitor.track
    async def predict(x: int) -> int:
        raise failure

    with pytest.raises(RuntimeError) as caught:
        asyncio.run(predict(1))
    assert caught.value is failure
    (event,) = events_of(monitor)
    assert (event["status"], event["error"]) == ("error", "RuntimeError: model down")


def test_observe_records_a_block(make_monitor: Any) -> None:
    monitor = make_monitor()
    with monitor.observe({"amount": 3.0}, validate=[checks.of_type(int)]) as obs:
        obs.set_output(0.7)
    seen_id = obs.event_id
    with pytest.raises(KeyError), monitor.observe([1, 2], feature_names=["a", "b"]) as failing:
        raise KeyError("missing")
    with monitor.observe("q") as fallback:
        fallback.set_fallback("default", "upstream returned 503")
    first, second, third = events_of(monitor)
    assert first["event_id"] == seen_id
    assert first["status"] == "invalid"
    assert first["validation"] == ["of_type(int): got float"]
    assert (second["status"], second["error"]) == ("error", "KeyError: 'missing'")
    assert second["inputs"] == {"a": 1, "b": 2} and failing.event_id == second["event_id"]
    assert (third["status"], third["error"]) == ("fallback", "upstream returned 503")
    assert third["inputs"] == {"inputs": "q"} and third["outputs"] == {"prediction": "default"}


@pytest.mark.parametrize(
    "make_rows",
    [
        lambda: [{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}, {"a": 3.0, "b": "z"}],
        lambda: {"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]},
        lambda: __import__("pandas").DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}),
        lambda: __import__("polars").DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}),
        lambda: __import__("pyarrow").table({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}),
    ],
    ids=["list-of-dicts", "dict-of-columns", "pandas", "polars", "pyarrow"],
)
def test_batch_calls_become_one_event_per_row(make_monitor: Any, make_rows: Any) -> None:
    monitor = make_monitor()

    @monitor.track(batch=True, validate=[checks.in_range(0, 1)])
    def predict(rows: Any) -> list[float]:
        return [0.1, 0.5, 1.5]

    assert predict(make_rows()) == [0.1, 0.5, 1.5]
    ids = monitor.last_event_ids()
    events = events_of(monitor)
    assert [event["event_id"] for event in events] == ids
    assert len(set(ids)) == 3 and monitor.last_event_id() == ids[0]
    assert [event["inputs"] for event in events] == [
        {"a": 1.0, "b": "x"},
        {"a": 2.0, "b": "y"},
        {"a": 3.0, "b": "z"},
    ]
    assert [event["outputs"]["prediction"] for event in events] == [0.1, 0.5, 1.5]
    assert [event["status"] for event in events] == ["ok", "ok", "invalid"]
    assert {event["batch_size"] for event in events} == {3}
    assert len({event["latency_ms"] for event in events}) == 1


def test_batch_of_a_2d_array_with_feature_names(make_monitor: Any) -> None:
    numpy = pytest.importorskip("numpy")
    monitor = make_monitor()

    @monitor.track(batch=True, feature_names=["age", "income"])
    def predict(matrix: Any) -> Any:
        return numpy.array([[0.9, 0.1], [0.3, 0.7]])

    predict(numpy.array([[30.0, 1.0], [40.0, 2.0]]))
    events = events_of(monitor)
    assert [event["inputs"] for event in events] == [
        {"age": 30.0, "income": 1.0},
        {"age": 40.0, "income": 2.0},
    ]
    assert [event["outputs"] for event in events] == [
        {"prediction": 0, "score": 0.9, "probabilities": "[0.9, 0.1]"},
        {"prediction": 1, "score": 0.7, "probabilities": "[0.3, 0.7]"},
    ]


def test_a_batch_answering_the_wrong_number_of_rows_is_invalid(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track(batch=True)
    def predict(rows: list[dict[str, Any]]) -> list[int]:
        return [1]

    predict([{"a": 1}, {"a": 2}])
    (event,) = events_of(monitor)
    assert event["status"] == "invalid"
    assert event["validation"] == ["batch call returned 1 outputs for 2 input rows"]


def test_a_failing_batch_call_records_each_row_as_an_error(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track(batch=True)
    def predict(rows: list[dict[str, Any]]) -> list[int]:
        raise MemoryError("out of GPU memory")

    with pytest.raises(MemoryError):
        predict([{"a": 1}, {"a": 2}])
    events = events_of(monitor)
    assert [event["status"] for event in events] == ["error", "error"]
    assert [event["inputs"] for event in events] == [{"a": 1}, {"a": 2}]
    assert len({event["event_id"] for event in events}) == 2


def test_labels_and_feedback_are_sent_by_event_id(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track
    def predict(x: int) -> int:
        return x

    predict(1)
    event_id = monitor.last_event_id()
    assert event_id is not None
    monitor.log_label(event_id, "fraud")
    monitor.log_feedback(event_id, True)
    events_of(monitor)
    sink = monitor.sink
    assert sink.labels == [
        {"event_id": event_id, "label": "fraud", "ts": "2027-01-15T08:00:00.000000Z"}
    ]
    assert sink.feedback == [
        {"event_id": event_id, "score": 1.0, "ts": "2027-01-15T08:00:00.000000Z"}
    ]
    assert monitor.stats().labels_sent == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.log_label(None, 1), "event_id=None is not an event id"),
        (lambda m: m.log_label("e", [1]), "label=[1] must be a number or a string"),
        (lambda m: m.log_label("e", float("nan")), "label=nan is not finite"),
        (lambda m: m.log_feedback("e", "good"), "score='good' must be a finite number"),
    ],
)
def test_bad_labels_are_refused_with_the_fix(make_monitor: Any, call: Any, message: str) -> None:
    monitor = make_monitor()
    with pytest.raises(ConfigError, match=re.escape(message)):
        call(monitor)


def test_a_full_buffer_drops_new_calls_and_counts_them(
    make_monitor: Any, receiver: Any, tmp_path: Any
) -> None:
    monitor = make_monitor(
        endpoint=receiver.url,
        api_key="tt_test",
        spool_dir=tmp_path,
        capacity=2,
        batch_size=100,
        flush_interval=3600,
    )

    @monitor.track
    def predict(x: int) -> int:
        return x

    assert [predict(i) for i in range(5)] == [0, 1, 2, 3, 4]
    assert monitor.stats().dropped == 3
    assert monitor.flush(timeout=10)
    assert [
        event["inputs"]["x"] if "inputs" in event else event["input.x"]
        for event in receiver.events()
    ] == [0, 1]
    assert receiver.received[0].metadata["telltale.client"]["dropped"] == 3
    stats = monitor.stats()
    assert (stats.captured, stats.sent, stats.dropped) == (2, 2, 3)


def test_calls_after_close_are_not_recorded(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track
    def predict(x: int) -> int:
        return x

    predict(1)
    monitor.close()
    assert predict(2) == 2
    assert [event["inputs"] for event in monitor.sink.events] == [{"x": 1}]
    assert monitor.stats().pending == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": ""}, "model='' must be a non-empty name"),
        ({"capacity": 0}, "capacity=0 must be a positive number"),
        ({"flush_interval": float("inf")}, "flush_interval=inf must be a positive number"),
        ({"segment": {"tier": 1}}, "segment={'tier': 1} must map tag names to strings"),
        ({"redact": {"email": "encrypt"}}, "redact['email']='encrypt' is not a rule"),
        ({"sink": 3}, "sink=3 is neither a telltale.sdk.Sink nor a function"),
    ],
)
def test_bad_configuration_is_refused_at_construction(
    options: dict[str, Any], message: str
) -> None:
    options = {"model": "fraud", "sink": MemorySink(), **options}
    with pytest.raises(ConfigError, match=re.escape(message)):
        Monitor(**options)


def test_exactly_one_destination(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="exactly one destination, got none"):
        Monitor(model="fraud")
    with pytest.raises(ConfigError, match="got endpoint and directory"):
        Monitor(model="fraud", endpoint="http://127.0.0.1:1", api_key="k", directory=tmp_path)


def test_bad_track_options_are_refused_at_decoration(make_monitor: Any) -> None:
    monitor = make_monitor()
    with pytest.raises(ConfigError, match="validate= takes callables, got 3"):
        monitor.track(validate=[3])(lambda x: x)
    with pytest.raises(ConfigError, match=r"timeout=-1 must be a positive number"):
        monitor.track(timeout=-1)
    with pytest.raises(ConfigError, match="is a generator function"):

        @monitor.track
        def stream(x: int) -> Any:
            yield x


def test_async_batch_calls(make_monitor: Any) -> None:
    monitor = make_monitor()

    @monitor.track(batch=True)
    async def predict(rows: list[dict[str, Any]]) -> list[str]:
        return ["cat", "dog"]

    async def main() -> list[str]:
        await predict([{"a": 1}, {"a": 2}])
        return monitor.last_event_ids()

    ids = asyncio.run(main())
    events = events_of(monitor)
    assert [e["event_id"] for e in events] == ids
    assert [e["outputs"] for e in events] == [{"prediction": "cat"}, {"prediction": "dog"}]
    assert {e["batch_size"] for e in events} == {2}
