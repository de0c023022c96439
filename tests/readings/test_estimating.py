"""Heart-rate estimates in worker processes (``backend.readings.estimating``): the same answers as
``sensors.ppg`` in this process, a bad signal still refused, and a worker that dies or stalls
replaced while its estimates are made here instead."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from backend.readings import estimating
from backend.readings.estimating import Estimate, Estimator, estimate_here
from sensors import ppg
from sensors.simulator import simulate_ppg


def _windows() -> list[tuple[list[float], float]]:
    """Clean, noisy, moving, no-pulse and integer-valued windows at several rates."""
    out = []
    for i, (bpm, fs) in enumerate([(48, 25.0), (72, 100.0), (130, 64.3), (95, 250.0)]):
        out.append((simulate_ppg(bpm, 10, fs, seed=i, noise=0.05).signal.tolist(), fs))
    out.append((simulate_ppg(80, 10, 50.0, seed=9, motion_fraction=0.3).signal.tolist(), 50.0))
    out.append((np.random.default_rng(3).normal(size=500).tolist(), 50.0))  # no pulse at all
    out.append((np.round(simulate_ppg(66, 10, 75.0, seed=4).signal * 40).tolist(), 75.0))
    return out


async def _ready(estimator: Estimator) -> list[int]:
    estimator.warm()
    for _ in range(600):
        if estimator.pids:
            return estimator.pids
        await asyncio.sleep(0.02)
    raise AssertionError("no estimator worker started")


async def test_a_worker_answers_as_the_estimator_does_here() -> None:
    estimator = Estimator(1)
    try:
        pids = await _ready(estimator)
        assert pids[0] != os.getpid()
        refused = 0
        for window, fs in _windows():
            here = ppg.estimate_heart_rate(window, fs)
            there = await estimator.estimate(window, fs)
            assert there == Estimate(here.bpm, here.quality, here.reason)
            refused += there.bpm is None
        assert 1 <= refused < len(_windows())  # the no-pulse window at least; not every window
        with pytest.raises(ValueError, match="fs must be between"):
            await estimator.estimate([0.0] * 100, 5.0)
        # Many at once are answered each with its own window (the answers come back in order).
        windows = _windows()
        answers = await asyncio.gather(*(estimator.estimate(w, fs) for w, fs in windows * 5))
        assert answers == [estimate_here(w, fs) for w, fs in windows * 5]
        assert estimator.pids == pids  # all from the one worker
    finally:
        await estimator.close()
    assert estimator.pids == []
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)


async def test_a_killed_worker_is_replaced_and_nothing_is_lost() -> None:
    estimator = Estimator(1)
    window, fs = _windows()[1]
    try:
        first = (await _ready(estimator))[0]
        expected = estimate_here(window, fs)
        pending = [asyncio.ensure_future(estimator.estimate(window, fs)) for _ in range(20)]
        os.kill(first, signal.SIGKILL)
        assert await asyncio.gather(*pending) == [expected] * 20  # made here where the worker died
        deadline = time.monotonic() + 20
        while not estimator.pids or estimator.pids == [first]:
            assert time.monotonic() < deadline, "no new worker"
            assert await estimator.estimate(window, fs) == expected
            await asyncio.sleep(0.05)
        assert estimator.pids[0] != first
        assert await estimator.estimate(window, fs) == expected
    finally:
        await estimator.close()


async def test_a_stalled_worker_is_stopped_and_the_estimate_made_here() -> None:
    estimator = Estimator(1, stalled_s=0.5)
    window, fs = _windows()[0]
    try:
        stuck = (await _ready(estimator))[0]
        os.kill(stuck, signal.SIGSTOP)
        started = time.monotonic()
        assert await estimator.estimate(window, fs) == estimate_here(window, fs)
        assert 0.4 < time.monotonic() - started < 5
        assert stuck not in estimator.pids
    finally:
        await estimator.close()
    with pytest.raises(ProcessLookupError):
        os.kill(stuck, 0)


async def test_no_worker_processes_estimates_in_a_thread() -> None:
    estimator = Estimator(0)
    window, fs = _windows()[2]
    assert await estimator.estimate(window, fs) == estimate_here(window, fs)
    assert estimator.pids == []
    await estimator.close()


def _estimator_children() -> list[int]:
    pid = os.getpid()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"estimator_process" in Path(f"/proc/{c}/cmdline").read_bytes()]


async def test_stopping_while_a_worker_starts_leaves_no_process_behind() -> None:
    before = _estimator_children()
    estimator = Estimator(1)
    estimator.warm()
    await asyncio.sleep(0.05)  # spawned, still loading its libraries
    assert len(_estimator_children()) == len(before) + 1
    await estimator.close()
    assert _estimator_children() == before
    assert estimator.pids == []


async def test_a_worker_that_cannot_start_leaves_estimates_here_and_is_not_retried_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(estimating, "MODULE", "backend.readings.no_such_module")
    starts = 0
    original = estimating._Worker.start

    async def counted() -> estimating._Worker:
        nonlocal starts
        starts += 1
        return await original()

    monkeypatch.setattr(estimating._Worker, "start", counted)
    estimator = Estimator(1)
    window, fs = _windows()[1]
    try:
        for _ in range(30):  # about a second of batches
            assert await estimator.estimate(window, fs) == estimate_here(window, fs)
            await asyncio.sleep(0.03)
        assert estimator.pids == []
        assert 1 <= starts <= 2  # tried, then left alone for a while
    finally:
        await estimator.close()
