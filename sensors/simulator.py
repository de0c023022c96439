"""Deterministic, realistic synthetic phone streams with a known heart rate and known beats.

Everything is drawn from ``numpy.random.default_rng(seed)``: the same arguments give the same
stream, byte for byte. Nothing here touches the network; the ``simulate-phone`` sender builds on
``reading_batches``.

* ``simulate_ppg``: finger PPG (systolic peak, dicrotic notch, diastolic wave; heart-rate
  variability; respiratory modulation; optional noise and in-band motion bursts);
* ``heart_rate_notifications`` / ``plx_notifications``: BLE 0x2A37 / 0x2A5F payloads;
* ``camera_stream``: per-frame mean colours of a lit fingertip with jittered, dropped frames;
* ``reading_batches``: ``ReadingBatch`` objects, one per second, for a device kind.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from sensors._waveform import SyntheticPPG, beat_onsets, simulate_ppg
from sensors.ble_encode import encode_heart_rate_measurement, encode_plx_continuous
from sensors.camera import frames_to_ppg
from sensors.protocol import DeviceKind, ReadingBatch

__all__ = [
    "BleNotification",
    "CameraStream",
    "SyntheticPPG",
    "camera_stream",
    "heart_rate_notifications",
    "plx_notifications",
    "reading_batches",
    "simulate_ppg",
]

DEFAULT_START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
_MODELS: dict[str, str] = {
    "ble-hr": "Simulated chest strap",
    "ble-plx": "Simulated pulse oximeter",
    "camera": "Simulated phone camera",
    "manual": "Manual entry",
}


@dataclass(frozen=True, slots=True)
class BleNotification:
    t_offset_s: float  # seconds after the stream started
    characteristic: str  # "2a37" or "2a5f"
    payload: bytes


def _beats(bpm: float, seconds: float, seed: int) -> NDArray[np.float64]:
    onsets = beat_onsets(bpm, seconds, np.random.default_rng(seed), hrv=0.04)
    return onsets[onsets >= 0]


def heart_rate_notifications(
    bpm: float, seconds: float, *, seed: int = 0, contact: bool = True
) -> list[BleNotification]:
    """One Heart Rate Measurement per second, as chest straps send them.

    Each carries the RR intervals of the beats that ended during that second and the rate
    averaged over the last few beats, rounded to whole beats per minute.
    """
    beats = _beats(bpm, seconds, seed)
    rr = np.diff(beats)
    ends = beats[1:]
    out: list[BleNotification] = []
    for second in range(1, int(seconds) + 1):
        mine = rr[(ends > second - 1) & (ends <= second)]
        recent = rr[ends <= second][-4:]
        rate = round(60.0 / float(np.mean(recent))) if len(recent) else round(bpm)
        payload = encode_heart_rate_measurement(
            rate, rr_intervals_s=tuple(float(v) for v in mine), sensor_contact=contact
        )
        out.append(BleNotification(float(second), "2a37", payload))
    return out


def plx_notifications(
    bpm: float, seconds: float, *, seed: int = 0, spo2_pct: float = 97.0
) -> list[BleNotification]:
    """One PLX Continuous Measurement per second: SpO2 wandering around ``spo2_pct``, pulse rate."""
    rng = np.random.default_rng(seed + 1)
    beats = _beats(bpm, seconds, seed)
    rr, ends = np.diff(beats), beats[1:]
    level = spo2_pct
    out: list[BleNotification] = []
    for second in range(1, int(seconds) + 1):
        level = float(np.clip(level + rng.normal(0, 0.3) + 0.1 * (spo2_pct - level), 70, 100))
        recent = rr[ends <= second][-5:]
        rate = 60.0 / float(np.mean(recent)) if len(recent) else bpm
        payload = encode_plx_continuous(round(level), round(rate, 1))
        out.append(BleNotification(float(second), "2a5f", payload))
    return out


@dataclass(frozen=True, slots=True)
class CameraStream:
    means: NDArray[np.float64]  # N x 3 per-frame mean red, green, blue on the 0-255 scale
    timestamps_s: NDArray[np.float64]  # capture times: jittered, with dropped frames
    truth: SyntheticPPG  # the pulse behind it, sampled at 500 Hz


def camera_stream(
    bpm: float,
    seconds: float,
    *,
    seed: int = 0,
    fps: float = 30.0,
    jitter_s: float = 0.003,
    drop_rate: float = 0.02,
    noise: float = 0.02,
) -> CameraStream:
    """Mean colours of a torch-lit fingertip: bright red, little green and blue, each dimming
    slightly with every pulse, sampled at irregular frame times."""
    rng = np.random.default_rng(seed + 2)
    truth = simulate_ppg(bpm, seconds + 1.0, 500.0, seed=seed, noise=0.0)
    nominal = (np.arange(int(seconds * fps)) + 0.5) / fps
    times = nominal + np.clip(rng.normal(0, jitter_s, len(nominal)), -0.3 / fps, 0.3 / fps)
    times = times[rng.random(len(times)) >= drop_rate]
    pulse = np.interp(times, np.arange(len(truth.signal)) / truth.fs, truth.signal)
    pulse = (pulse - pulse.mean()) / (np.ptp(pulse) or 1.0)
    dc = np.array([205.0, 45.0, 18.0])
    depth = np.array([0.012, 0.02, 0.01])  # relative dimming per pulse
    means = dc[None, :] * (1.0 - depth[None, :] * pulse[:, None])
    means += rng.normal(0, noise * dc[0] * depth[0], means.shape)
    return CameraStream(np.clip(means, 0, 255), np.asarray(times, dtype=np.float64), truth)


def _batch(
    kind: DeviceKind, stream_id: uuid.UUID, seq: int, start: datetime, **payload: object
) -> ReadingBatch:
    return ReadingBatch.model_validate(
        {
            "version": 1,
            "stream_id": stream_id,
            "seq": seq,
            "device": {"kind": kind, "model": _MODELS[kind], "firmware": "sim-1"},
            "started_at": start,
            "sent_at": start + timedelta(seconds=seq + 1),
            **payload,
        }
    )


def _ppg_batches(
    bpm: float, seconds: int, seed: int, stream_id: uuid.UUID, start: datetime
) -> Iterator[ReadingBatch]:
    cam = camera_stream(bpm, seconds, seed=seed)
    ppg = frames_to_ppg(cam.means, cam.timestamps_s, target_fs=30.0)
    t0 = float(cam.timestamps_s[0])
    per = round(ppg.fs)
    for seq in range(-(-len(ppg.signal) // per)):
        chunk = ppg.signal[seq * per : (seq + 1) * per]
        run = {"t_offset_s": t0 + seq, "fs": ppg.fs, "samples": [round(float(v), 6) for v in chunk]}
        yield _batch("camera", stream_id, seq, start, sample_rate_hz=ppg.fs, ppg=run)


def reading_batches(
    kind: DeviceKind,
    *,
    bpm: float = 72.0,
    seconds: int = 60,
    seed: int = 0,
    stream_id: uuid.UUID | None = None,
    started_at: datetime = DEFAULT_START,
) -> Iterator[ReadingBatch]:
    """One ``ReadingBatch`` per second of a simulated stream from a device of ``kind``."""
    sid = stream_id or uuid.UUID(bytes=np.random.default_rng(seed).bytes(16), version=4)
    if kind == "camera":
        yield from _ppg_batches(bpm, seconds, seed, sid, started_at)
        return
    if kind == "manual":
        for seq in range(seconds):
            value = {"t_offset_s": float(seq + 1), "heart_rate_bpm": float(round(bpm))}
            yield _batch(kind, sid, seq, started_at, values=[value])
        return
    notes = (heart_rate_notifications if kind == "ble-hr" else plx_notifications)(bpm, seconds, seed=seed)
    for seq, note in enumerate(notes):
        item = {
            "t_offset_s": note.t_offset_s,
            "characteristic": note.characteristic,
            "data_b64": base64.b64encode(note.payload).decode("ascii"),
        }
        yield _batch(kind, sid, seq, started_at, ble_payloads=[item])
