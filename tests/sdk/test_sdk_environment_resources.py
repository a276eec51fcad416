"""Environment fingerprint and resource samples (CPU, memory, GPU through NVML, loop lag)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import re
import sys
import threading
import time
import types
from typing import Any

import pytest

from telltale.sdk.environment import EnvironmentTracker, gpu_description, loaded_packages
from telltale.sdk.resources import ResourceSampler


def test_the_fingerprint_is_hashed_and_names_loaded_libraries() -> None:
    import pyarrow

    fingerprint = EnvironmentTracker().current()
    body = {key: value for key, value in fingerprint.items() if key != "environment_id"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    assert fingerprint["environment_id"] == digest
    assert fingerprint["python"] == platform.python_version()
    assert fingerprint["platform"] == platform.platform()
    assert fingerprint["cpu"].endswith(f"({os.cpu_count()} cores)")
    assert fingerprint["packages"]["pyarrow"] == pyarrow.__version__
    assert "json" not in fingerprint["packages"]  # the standard library is not a package


def test_loaded_packages_maps_modules_to_distributions() -> None:
    modules = {"pyarrow": object(), "pyarrow.lib": object(), "not_installed": object()}
    distributions = {"pyarrow": ["pyarrow"], "not_installed": ["no-such-dist-xyz"]}
    import pyarrow

    assert loaded_packages(modules, distributions) == {"pyarrow": pyarrow.__version__}


def test_gpu_is_described_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    # No GPU on this machine: a stand-in module with NVML's function names shows the wiring.
    class Utilization:
        gpu = 40

    class Process:
        def __init__(self, pid: int) -> None:
            self.pid, self.usedGpuMemory = pid, 512 * 1048576

    nvml = types.ModuleType("pynvml")
    nvml.nvmlInit = lambda: None  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: 2  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetName = lambda h: b"NVIDIA A100"  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUtilizationRates = lambda h: Utilization()  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetComputeRunningProcesses = (  # type: ignore[attr-defined]
        lambda h: [Process(os.getpid())] if h == 0 else []
    )
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    assert gpu_description() == "NVIDIA A100 x2"
    sample = ResourceSampler(instance="host-1").sample(ts="t")
    assert (sample["gpu_percent"], sample["gpu_memory_mb"]) == (40.0, 512.0)


def test_without_nvml_gpu_fields_are_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails
    assert gpu_description() == ""
    sample = ResourceSampler(instance="host-1").sample(ts="t")
    assert (sample["gpu_percent"], sample["gpu_memory_mb"]) == (None, None)


def test_cpu_and_memory_are_sampled() -> None:
    sampler = ResourceSampler(instance="host-1")
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:  # burn some CPU between two samples
        pass
    sample = sampler.sample(ts="2026-11-22T14:02:00Z")
    assert (sample["ts"], sample["instance"]) == ("2026-11-22T14:02:00Z", "host-1")
    assert sample["cpu_percent"] is not None and sample["cpu_percent"] > 0
    assert sample["rss_mb"] is not None and 1 < sample["rss_mb"] < 100_000
    assert sample["loop_lag_ms"] is None


def test_event_loop_lag_is_measured_on_the_loop() -> None:
    sampler = ResourceSampler(instance="host-1")
    loop = asyncio.new_event_loop()
    sampler.loops.add(loop)
    started = threading.Event()

    async def busy() -> None:
        started.set()
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # blocks the loop: the probe waits
        await asyncio.sleep(0.05)

    thread = threading.Thread(target=loop.run_until_complete, args=(busy(),))
    thread.start()
    started.wait(5)
    time.sleep(0.06)  # the loop is now inside time.sleep(0.2)
    sampler.sample(ts="t")  # sends the probe
    thread.join(5)
    lag = sampler.sample(ts="t")["loop_lag_ms"]
    loop.close()
    assert lag is not None and 50 < lag < 5000


def test_resource_samples_travel_with_events(make_monitor: Any, clock: Any) -> None:
    monitor = make_monitor(resource_interval=10.0)

    @monitor.track
    def predict(x: int) -> int:
        return x

    predict(1)
    assert monitor.flush(timeout=10)
    clock.advance(10.0)
    assert monitor.flush(timeout=10)  # no calls, but a sample is due: sent on its own
    batches = monitor.sink.batches
    assert [len(b.rows) for b in batches] == [1, 0]
    assert batches[0].resources == []
    (sample,) = batches[1].resources
    assert sample["ts"] == "2027-01-15T08:00:10.000000Z"
    assert sample["instance"].endswith(f"-{os.getpid()}")


def test_labels_are_part_of_the_fingerprint_and_its_hash() -> None:
    plain = EnvironmentTracker().current()
    named = EnvironmentTracker(labels={"region": "eu", "name": "gpu-b"}).current()
    assert "labels" not in plain  # without labels the fingerprint is what it always was
    assert named["labels"] == {"name": "gpu-b", "region": "eu"}
    assert list(named["labels"]) == ["name", "region"]  # sorted: one id whatever the order
    body = {key: value for key, value in named.items() if key != "environment_id"}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    assert named["environment_id"] == digest != plain["environment_id"]
    again = EnvironmentTracker(labels={"name": "gpu-b", "region": "eu"}).current()
    assert again["environment_id"] == named["environment_id"]


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ("gpu-b", "must map label names to strings"),
        (["name", "gpu-b"], "must map label names to strings"),
        ({"name": 3}, "environment label 'name' = 3 must be a string"),
        ({"name": None}, "must be a string of at most 1,000"),
        ({"": "x"}, "label name '' must be a string of 1-200"),
        ({1: "x"}, "label name 1 must be a string"),
        ({"name": "x" * 1_001}, "must be a string of at most 1,000 characters"),
        ({f"k{i}": "v" for i in range(21)}, "has 21 labels, at most 20"),
    ],
)
def test_bad_environment_labels_are_refused_naming_the_fix(
    environment: Any, message: str, tmp_path: Any
) -> None:
    from telltale.errors import ConfigError
    from telltale.sdk import Monitor

    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        Monitor("m", directory=tmp_path, environment=environment)
    assert "environment=" in str(raised.value)


def test_unicode_labels_are_kept(tmp_path: Any) -> None:
    from telltale.sdk import Monitor

    monitor = Monitor("m", directory=tmp_path, environment={"name": "東京-1 ☃"})
    try:
        assert monitor._flusher.environment.current()["labels"] == {"name": "東京-1 ☃"}
    finally:
        monitor.close()
