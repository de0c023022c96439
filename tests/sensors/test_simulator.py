"""The simulator: deterministic, realistic, and consistent with the decoders and the wire format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.signal import find_peaks

from sensors.ble import decode_heart_rate_measurement, decode_plx_continuous
from sensors.camera import frames_to_ppg
from sensors.ppg import estimate_heart_rate
from sensors.protocol import ReadingBatch
from sensors.simulator import (
    camera_stream,
    heart_rate_notifications,
    plx_notifications,
    reading_batches,
    simulate_ppg,
)


def test_ppg_is_deterministic() -> None:
    a = simulate_ppg(72, 10.0, 50.0, seed=3, noise=0.1, motion_fraction=0.2)
    b = simulate_ppg(72, 10.0, 50.0, seed=3, noise=0.1, motion_fraction=0.2)
    c = simulate_ppg(72, 10.0, 50.0, seed=4, noise=0.1, motion_fraction=0.2)
    assert np.array_equal(a.signal, b.signal)
    assert np.array_equal(a.peak_times_s, b.peak_times_s)
    assert not np.array_equal(a.signal, c.signal)


@pytest.mark.parametrize(("bpm", "fs"), [(40, 25.0), (72, 29.97), (120, 100.0), (180, 500.0)])
def test_ppg_has_the_requested_rate(bpm: int, fs: float) -> None:
    record = simulate_ppg(bpm, 30.0, fs, seed=bpm)
    assert len(record.signal) == round(30.0 * fs)
    assert record.duration_s == pytest.approx(30.0, abs=1 / fs)
    assert record.mean_bpm == pytest.approx(bpm, rel=0.06)
    assert record.peak_times_s[0] >= 0
    assert record.peak_times_s[-1] < 30.0
    assert np.all(np.diff(record.onset_times_s) > 0)
    intervals = np.diff(record.peak_times_s)
    assert 0.005 < np.std(intervals) / np.mean(intervals) < 0.1  # heart-rate variability


def test_each_beat_has_a_dicrotic_notch() -> None:
    record = simulate_ppg(60, 20.0, 200.0, seed=1)
    peaks, _ = find_peaks(record.signal)
    for a, b in zip(record.peak_times_s[:-1], record.peak_times_s[1:], strict=True):
        inside = peaks[(peaks / 200.0 > a + 0.05) & (peaks / 200.0 < b - 0.05)]
        assert len(inside) >= 1  # the diastolic wave after the notch


def test_systolic_peaks_are_maxima_of_the_clean_signal() -> None:
    record = simulate_ppg(80, 20.0, 100.0, seed=2)
    idx = np.round(record.peak_times_s * 100.0).astype(int)
    for i in idx[(idx > 10) & (idx < len(record.signal) - 10)]:
        assert np.argmax(record.signal[i - 8 : i + 9]) in range(6, 11)


def test_motion_covers_about_the_requested_share() -> None:
    shares = [simulate_ppg(70, 60.0, 50.0, seed=s, motion_fraction=0.3).motion_mask.mean() for s in range(5)]
    assert 0.2 < np.mean(shares) < 0.4
    assert not simulate_ppg(70, 60.0, 50.0, seed=1).motion_mask.any()


def test_noise_level() -> None:
    clean = simulate_ppg(70, 20.0, 100.0, seed=1)
    noisy = simulate_ppg(70, 20.0, 100.0, seed=1, noise=0.5)
    assert np.std(noisy.signal - clean.signal) == pytest.approx(0.5, rel=0.1)


def test_heart_rate_notifications() -> None:
    notes = heart_rate_notifications(75, 30.0, seed=1)
    assert len(notes) == 30
    assert notes == heart_rate_notifications(75, 30.0, seed=1)
    decoded = [decode_heart_rate_measurement(n.payload) for n in notes]
    assert all(d.sensor_contact for d in decoded)
    assert np.mean([d.heart_rate_bpm for d in decoded]) == pytest.approx(75, abs=4)
    rr = [r for d in decoded for r in d.rr_intervals_s]
    assert len(rr) == pytest.approx(75 * 30 / 60, abs=3)
    assert sum(rr) == pytest.approx(30.0, abs=1.5)
    assert [n.t_offset_s for n in notes] == [float(s) for s in range(1, 31)]


def test_plx_notifications() -> None:
    decoded = [decode_plx_continuous(n.payload) for n in plx_notifications(64, 20.0, seed=2, spo2_pct=95)]
    assert len(decoded) == 20
    assert all(90 <= d.spo2_pct <= 100 for d in decoded)
    assert np.mean([d.pulse_rate_bpm for d in decoded]) == pytest.approx(64, abs=4)


def test_camera_stream() -> None:
    cam = camera_stream(70, 20.0, seed=3, drop_rate=0.1)
    assert cam.means.shape[1] == 3
    assert len(cam.means) == len(cam.timestamps_s)
    assert 0.85 * 600 < len(cam.timestamps_s) < 0.95 * 600
    assert np.all(np.diff(cam.timestamps_s) > 0)
    assert np.all(cam.means[:, 0] > 3 * cam.means[:, 1])  # a lit fingertip is red
    assert np.array_equal(cam.means, camera_stream(70, 20.0, seed=3, drop_rate=0.1).means)


@pytest.mark.parametrize(("kind", "count"), [("ble-hr", 20), ("ble-plx", 20), ("camera", 20), ("manual", 20)])
def test_reading_batches(kind: str, count: int) -> None:
    batches = list(reading_batches(kind, bpm=70, seconds=20, seed=5))  # type: ignore[arg-type]
    assert len(batches) == count
    assert [b.seq for b in batches] == list(range(count))
    assert len({b.stream_id for b in batches}) == 1
    assert all(b.device.kind == kind for b in batches)
    assert all(b.sent_at == b.started_at + timedelta(seconds=b.seq + 1) for b in batches)
    for b in batches:
        assert ReadingBatch.model_validate_json(b.model_dump_json(exclude_none=True)) == b
    again = list(reading_batches(kind, bpm=70, seconds=20, seed=5))  # type: ignore[arg-type]
    assert again == batches


def test_batches_carry_the_heart_rate() -> None:
    hr = [
        p.decoded()
        for b in reading_batches("ble-hr", bpm=88, seconds=20, seed=1)
        for p in b.ble_payloads or []
    ]
    assert np.mean([d.heart_rate_bpm for d in hr]) == pytest.approx(88, abs=4)  # type: ignore[union-attr]
    runs = [b.ppg for b in reading_batches("camera", bpm=88, seconds=30, seed=1)]
    samples = np.concatenate([r.samples for r in runs if r is not None])
    assert all(r is not None and r.t_offset_s >= 0 for r in runs)
    assert estimate_heart_rate(samples, 30.0).bpm == pytest.approx(88, abs=5)


def test_batches_take_a_stream_id_and_start() -> None:
    sid = uuid.uuid4()
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    batch = next(reading_batches("manual", seconds=3, stream_id=sid, started_at=start))
    assert (batch.stream_id, batch.started_at) == (sid, start)
    assert batch.values is not None
    assert batch.values[0].heart_rate_bpm == 72.0


def test_camera_ppg_matches_frames_to_ppg() -> None:
    cam = camera_stream(70, 10.0, seed=0)
    direct = frames_to_ppg(cam.means, cam.timestamps_s)
    sent = np.concatenate(
        [b.ppg.samples for b in reading_batches("camera", bpm=70, seconds=10, seed=0) if b.ppg]
    )
    np.testing.assert_allclose(sent, direct.signal, atol=1e-6)
