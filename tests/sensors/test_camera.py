"""Fingertip-camera frames to PPG: resampling irregular frame times, coverage checks, validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sensors.camera import frames_to_ppg
from sensors.ppg import estimate_heart_rate
from sensors.simulator import camera_stream


@pytest.mark.parametrize(("bpm", "seed"), [(48, 1), (72, 2), (110, 3), (160, 4)])
def test_camera_means_give_the_heart_rate(bpm: int, seed: int) -> None:
    cam = camera_stream(bpm, 30.0, seed=seed)
    ppg = frames_to_ppg(cam.means, cam.timestamps_s)
    assert ppg.fs == 30.0
    assert ppg.finger_covering
    assert ppg.problem is None
    assert ppg.channel == "red"
    assert ppg.covered_fraction == 1.0
    assert len(ppg.signal) == pytest.approx((cam.timestamps_s[-1] - cam.timestamps_s[0]) * 30.0, abs=1.0)
    result = estimate_heart_rate(ppg.signal, ppg.fs)
    assert result.bpm == pytest.approx(cam.truth.mean_bpm, abs=2.0)
    assert not result.inverted  # systolic peaks already point up


def test_output_follows_the_pulse_upright() -> None:
    cam = camera_stream(70, 20.0, seed=5, noise=0.0)
    ppg = frames_to_ppg(cam.means, cam.timestamps_s, target_fs=50.0)
    grid = cam.timestamps_s[0] + np.arange(len(ppg.signal)) / ppg.fs
    truth = np.interp(grid, np.arange(len(cam.truth.signal)) / cam.truth.fs, cam.truth.signal)
    truth -= np.convolve(truth, np.ones(100) / 100, mode="same")  # drop the slow baseline
    inner = slice(60, -60)
    assert np.corrcoef(ppg.signal[inner], truth[inner])[0, 1] > 0.8


def test_two_channel_means_and_fractional_rate() -> None:
    cam = camera_stream(85, 25.0, seed=6)
    ppg = frames_to_ppg(cam.means[:, :2], cam.timestamps_s, target_fs=29.97)
    assert ppg.fs == 29.97
    assert len(ppg.mean_rgb) == 2
    assert estimate_heart_rate(ppg.signal, ppg.fs).bpm == pytest.approx(cam.truth.mean_bpm, abs=2.0)


def test_raw_frames_use_the_central_region() -> None:
    cam = camera_stream(75, 20.0, seed=7)
    n = len(cam.means)
    frames = np.zeros((n, 16, 12, 3), dtype=np.uint8)  # a black border around the fingertip
    rng = np.random.default_rng(0)
    centre = np.clip(cam.means[:, None, None, :] + rng.normal(0, 1.0, (n, 8, 6, 3)), 0, 255)
    frames[:, 4:12, 3:9, :] = np.round(centre).astype(np.uint8)
    ppg = frames_to_ppg(frames, cam.timestamps_s)
    assert ppg.mean_rgb[0] == pytest.approx(205.0, abs=3.0)
    assert ppg.finger_covering
    assert estimate_heart_rate(ppg.signal, ppg.fs).bpm == pytest.approx(cam.truth.mean_bpm, abs=2.0)


def test_jitter_and_dropped_frames() -> None:
    cam = camera_stream(66, 30.0, seed=8, jitter_s=0.008, drop_rate=0.15)
    ppg = frames_to_ppg(cam.means, cam.timestamps_s)
    assert ppg.longest_gap_s > 1.5 / 30.0
    assert estimate_heart_rate(ppg.signal, ppg.fs).bpm == pytest.approx(cam.truth.mean_bpm, abs=2.0)


def test_finger_lifted_for_part_of_the_recording() -> None:
    cam = camera_stream(72, 20.0, seed=9)
    means = cam.means.copy()
    means[: len(means) // 4] = (90.0, 85.0, 80.0)  # the first quarter: room light, no finger
    ppg = frames_to_ppg(means, cam.timestamps_s)
    assert ppg.finger_covering  # judged on the typical frame
    assert ppg.covered_fraction == pytest.approx(0.75, abs=0.01)


def test_timestamps_in_milliseconds_are_refused() -> None:
    with pytest.raises(ValueError, match="are they in seconds"):
        frames_to_ppg(np.full((200, 3), 100.0), np.arange(200) * 33.3)


def _steady(rgb: tuple[float, ...], n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(np.array(rgb, dtype=float), (n, 1)), np.arange(n) / 30.0


@pytest.mark.parametrize(
    ("rgb", "problem", "channel"),
    [
        ((5.0, 3.0, 2.0), "too dark", "red"),
        ((255.0, 255.0, 255.0), "too bright", "red"),
        ((120.0, 115.0, 110.0), "not red enough", "red"),
        ((255.0, 40.0, 10.0), None, "green"),  # red saturated: the pulse is read from green
        ((255.0, 8.0, 3.0), "red channel saturated", "red"),
        ((200.0, 45.0, 18.0), None, "red"),
    ],
)
def test_finger_coverage(rgb: tuple[float, ...], problem: str | None, channel: str) -> None:
    ppg = frames_to_ppg(*_steady(rgb))
    assert ppg.finger_covering == (problem is None)
    assert ppg.channel == channel
    if problem is None:
        assert ppg.problem is None
    else:
        assert ppg.problem is not None
        assert problem in ppg.problem


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([0.0, 0.033, 0.033, 0.1], "duplicate at frame 2"),
        ([0.0, 0.033, 0.02, 0.1], "goes backwards at frame 2"),
        ([0.0, 0.033, np.nan, 0.1], "non-finite"),
        ([0.0, 0.033, 0.066], "one value per frame"),
        ([[0.0, 0.033, 0.066, 0.1]], "one-dimensional"),
        (["a", "b", "c", "d"], "must be numbers"),
    ],
)
def test_bad_timestamps(times: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        frames_to_ppg(np.full((4, 3), 100.0), times)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((4, 4)), "expected per-frame means"),
        (np.zeros(4), "expected per-frame means"),
        (np.zeros((4, 8, 8, 4), dtype=np.uint8), "expected per-frame means"),
        (np.zeros((4, 8, 8, 3), dtype=np.float32), "must be uint8"),
        (np.zeros((4, 0, 8, 3), dtype=np.uint8), "empty"),
        (np.full((4, 3), 300.0), "0-255"),
        (np.full((4, 3), -1.0), "0-255"),
        (np.array([[1.0, np.nan, 1.0]] * 4), "non-finite"),
        (np.array([["r", "g", "b"]] * 4), "must be numbers"),
        (np.full((1, 3), 100.0), "at least two frames"),
    ],
)
def test_bad_frames(frames: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        frames_to_ppg(frames, np.arange(len(frames)) / 30.0)


@pytest.mark.parametrize("fs", [10.0, 600.0, float("nan"), True])
def test_bad_target_rate(fs: float) -> None:
    with pytest.raises(ValueError, match="target_fs"):
        frames_to_ppg(np.full((4, 3), 100.0), [0.0, 0.1, 0.2, 0.3], target_fs=fs)
