"""The in-memory id index against a dict: membership and the newest time of each hash."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from telltale.store.ids import IdIndex

# small hash values so runs collide often (resends, labels sent again)
_runs = st.lists(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 10**6)), min_size=0, max_size=40),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(runs=_runs, probes=st.lists(st.integers(0, 70), max_size=50))
def test_lookup_equals_a_dict_of_the_newest_time(
    runs: list[list[tuple[int, int]]], probes: list[int]
) -> None:
    index = IdIndex()
    reference: dict[int, int] = {}
    for run in runs:
        hashes = np.array([h for h, _ in run], dtype=np.uint64)
        times = np.array([t for _, t in run], dtype=np.int64)
        index.add(hashes, times)
        for h, t in run:  # within a run, the later copy is the newer one
            reference[h] = t
    found, times = index.lookup(np.array(probes, dtype=np.uint64))
    assert found.tolist() == [p in reference for p in probes]
    assert times.tolist() == [reference.get(p, 0) for p in probes]
    assert len(index) == sum(len(run) for run in runs)
