"""The environment a model runs in, as a hashed fingerprint.

Two replicas of one model can behave differently because one runs NumPy 2 on a newer CPU. The
fingerprint records Python, OS and platform, the CPU model and core count, the GPUs NVML can see
(``pynvml``, when importable), and the versions of the libraries the process has actually loaded:
the top-level modules in ``sys.modules`` that belong to an installed distribution. Its hash (16
hex) is each event's ``environment_id``; the fingerprint itself is sent once, in the first batch
that uses it. Libraries loaded later (a model that imports torch lazily) make a new fingerprint.

All of it is computed on the background thread; the distribution lookup is done once.

>>> tracker = EnvironmentTracker()
>>> fingerprint = tracker.current()
>>> len(fingerprint["environment_id"]), fingerprint["python"] == platform.python_version()
(16, True)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["EnvironmentTracker", "cpu_description", "gpu_description", "loaded_packages"]


def cpu_description() -> str:
    """``"<model> (<n> cores)"``: the model from /proc/cpuinfo, else what ``platform`` says."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    return f"{model} ({os.cpu_count() or 1} cores)"


def gpu_description() -> str:
    """The GPUs NVML sees (``"NVIDIA A100-SXM4-40GB x2"``), or ``""`` without pynvml or GPUs."""
    try:
        import pynvml
    except Exception:
        return ""
    try:
        pynvml.nvmlInit()
        names: list[str] = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            name = pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(index))
            names.append(name.decode() if isinstance(name, bytes) else str(name))
    except Exception:
        return ""
    if not names:
        return ""
    counted = {name: names.count(name) for name in dict.fromkeys(names)}
    return ", ".join(name if count == 1 else f"{name} x{count}" for name, count in counted.items())


def loaded_packages(
    modules: Mapping[str, Any], distributions: Mapping[str, list[str]]
) -> dict[str, str]:
    """``{distribution: version}`` for the top-level modules loaded that map to a distribution."""
    packages: dict[str, str] = {}
    for name in [name for name in list(modules) if "." not in name and not name.startswith("_")]:
        for distribution in distributions.get(name, ()):
            if distribution in packages:
                continue
            try:
                packages[distribution] = importlib.metadata.version(distribution)
            except Exception:
                continue
    return dict(sorted(packages.items()))


class EnvironmentTracker:
    """Keeps the current fingerprint, recomputing it when new top-level modules are loaded.

    ``labels`` (``Monitor(environment={"name": "gpu-b", "region": "eu"})``) are what the process
    cannot find out about itself: the name of the host or deployment. They are part of the
    fingerprint and so of its hash: two replicas with the same libraries on the same kind of
    machine are told apart by their labels. Without labels the fingerprint has no ``labels``
    key, and its hash is what it was before labels existed.

    >>> named = EnvironmentTracker(labels={"name": "replica-b"}).current()
    >>> named["labels"], named["environment_id"] != EnvironmentTracker().current()["environment_id"]
    ({'name': 'replica-b'}, True)
    """

    def __init__(self, labels: Mapping[str, str] | None = None) -> None:
        self._labels = dict(sorted((labels or {}).items()))
        self._distributions: Mapping[str, list[str]] | None = None
        self._module_count = -1
        self._top_level: frozenset[str] = frozenset()
        self._current: dict[str, Any] | None = None
        self._static: dict[str, str] | None = None

    def _static_part(self) -> dict[str, str]:
        if self._static is None:
            self._static = {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpu": cpu_description(),
                "gpu": gpu_description(),
            }
        return self._static

    def current(self) -> dict[str, Any]:
        """The fingerprint now: ``environment_id``, python, platform, cpu, gpu, packages and
        the ``labels`` given, if any."""
        modules = sys.modules
        if self._current is not None and len(modules) == self._module_count:
            return self._current
        self._module_count = len(modules)
        top_level = frozenset(name for name in list(modules) if "." not in name)
        if self._current is not None and top_level == self._top_level:
            return self._current
        self._top_level = top_level
        if self._distributions is None:
            try:
                self._distributions = importlib.metadata.packages_distributions()
            except Exception:
                self._distributions = {}
        fingerprint: dict[str, Any] = {
            **self._static_part(),
            "packages": loaded_packages(modules, self._distributions),
        }
        if self._labels:
            fingerprint["labels"] = self._labels
        digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()
        self._current = {"environment_id": digest[:16], **fingerprint}
        return self._current
