"""Samples of what the process uses: CPU, memory, GPU, and asyncio event-loop lag.

Taken on the background thread every ``resource_interval`` seconds (10 by default) and sent with
the next batch as ``resources`` (docs/protocol.md):

- ``cpu_percent``: CPU time of the process over wall time since the previous sample (100 = one
  core busy), from psutil when installed, else :func:`os.times`;
- ``rss_mb``: resident memory, from psutil, else ``/proc/self/statm``, else the peak from
  :mod:`resource`;
- ``gpu_percent`` / ``gpu_memory_mb``: through NVML (``pynvml``) when importable and a GPU is seen:
  mean utilisation of the devices, and the GPU memory this process holds;
- ``loop_lag_ms``: for each event loop that runs tracked async functions, a callback is scheduled
  on the loop from this thread; the delay until it runs is the loop's lag (how long a ready task
  waits). The largest lag over the loops is reported; a probe still waiting at the next sample
  counts with its age. None when no async function is tracked.

>>> sampler = ResourceSampler(instance="host-1")
>>> sample = sampler.sample(ts="2026-11-22T14:02:00Z")
>>> sorted(sample)
['cpu_percent', 'gpu_memory_mb', 'gpu_percent', 'instance', 'loop_lag_ms', 'rss_mb', 'ts']
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

__all__ = ["ResourceSampler"]


def _psutil_process() -> Any:
    try:
        import psutil
    except Exception:
        return None
    try:
        return psutil.Process()
    except Exception:
        return None


def _rss_mb_stdlib() -> float | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1048576.0
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except Exception:
        return None
    # Linux reports KiB, macOS bytes.
    return peak / 1048576.0 if os.uname().sysname == "Darwin" else peak / 1024.0


class _Nvml:
    """GPU utilisation and this process's GPU memory, or Nones."""

    def __init__(self) -> None:
        self.module: Any = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self.module = pynvml
            self.handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
        except Exception:
            self.module = None
            self.handles = []

    def sample(self) -> tuple[float | None, float | None]:
        if self.module is None or not self.handles:
            return None, None
        nvml = self.module
        try:
            utilisation = [nvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self.handles]
            pid = os.getpid()
            used = 0
            for handle in self.handles:
                for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    if process.pid == pid and process.usedGpuMemory:
                        used += process.usedGpuMemory
        except Exception:
            return None, None
        return float(sum(utilisation)) / len(utilisation), used / 1048576.0


class _LoopProbe:
    """Measures how late a callback scheduled from another thread runs on an event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, float] = {}
        self._lags: list[float] = []

    def _landed(self, key: int, sent: float) -> None:
        lag = time.perf_counter() - sent
        with self._lock:
            if self._waiting.get(key) == sent:
                del self._waiting[key]
            self._lags.append(lag)

    def measure(self, loops: Iterable[asyncio.AbstractEventLoop]) -> float | None:
        """The largest lag (ms) seen since the last call, then send new probes."""
        now = time.perf_counter()
        with self._lock:
            lags = self._lags + [now - sent for sent in self._waiting.values()]
            self._lags = []
        for loop in list(loops):
            key = id(loop)
            try:
                if loop.is_closed() or not loop.is_running():
                    continue
                with self._lock:
                    if key in self._waiting:
                        continue  # still stuck: its age is counted above
                    sent = time.perf_counter()
                    self._waiting[key] = sent
                loop.call_soon_threadsafe(self._landed, key, sent)
            except Exception:
                with self._lock:
                    self._waiting.pop(key, None)
        return max(lags) * 1000.0 if lags else None


class ResourceSampler:
    """Takes samples of the process's resources; one per monitor, on its background thread."""

    def __init__(
        self,
        *,
        instance: str,
        loops: weakref.WeakSet[asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        self.instance = instance
        self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = (
            loops if loops is not None else weakref.WeakSet()
        )
        self._process = _psutil_process()
        self._nvml: _Nvml | None = None
        self._probe = _LoopProbe()
        self._last_cpu: tuple[float, float] | None = None
        if self._process is not None:
            try:
                self._process.cpu_percent(None)  # the first call only sets psutil's baseline
            except Exception:
                self._process = None
        self._cpu_baseline()

    def _cpu_baseline(self) -> None:
        times = os.times()
        self._last_cpu = (times.user + times.system, time.monotonic())

    def _cpu_percent(self) -> float | None:
        if self._process is not None:
            try:
                return float(self._process.cpu_percent(None))
            except Exception:
                pass
        times = os.times()
        used, now = times.user + times.system, time.monotonic()
        previous = self._last_cpu
        self._last_cpu = (used, now)
        if previous is None or now <= previous[1]:
            return None
        return 100.0 * (used - previous[0]) / (now - previous[1])

    def _rss_mb(self) -> float | None:
        if self._process is not None:
            try:
                return float(self._process.memory_info().rss) / 1048576.0
            except Exception:
                pass
        return _rss_mb_stdlib()

    def sample(self, *, ts: str) -> dict[str, Any]:
        """One sample, in the protocol's ``resources`` form."""
        if self._nvml is None:
            self._nvml = _Nvml()
        gpu_percent, gpu_memory_mb = self._nvml.sample()
        return {
            "ts": ts,
            "instance": self.instance,
            "cpu_percent": self._cpu_percent(),
            "rss_mb": self._rss_mb(),
            "gpu_percent": gpu_percent,
            "gpu_memory_mb": gpu_memory_mb,
            "loop_lag_ms": self._probe.measure(self.loops),
        }

    def after_fork_in_child(self, instance: str) -> None:
        self.instance = instance
        self._process = _psutil_process()
        if self._process is not None:
            try:
                self._process.cpu_percent(None)
            except Exception:
                self._process = None
        self._probe = _LoopProbe()
        self._nvml = None
        self.loops.clear()
        self._cpu_baseline()
