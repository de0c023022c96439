"""The estimator on real recordings it was developed on, and on inputs that used to fool it.

The real windows and their consensus reference come from ``real_ppg`` (a smartwatch, a fingertip
pulse sensor at two rates with integer samples, two BVP finger sensors at 250 Hz and a blood
volume pulse at 256 Hz). Only windows where two
independent references agree within 2 bpm are scored. The thresholds sit a little below what
was measured (see ``tests/bench/RESULTS.md``); the held-out recordings are not used here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import signal as sps

from sensors.ppg import estimate_heart_rate
from sensors.simulator import simulate_ppg
from tests.sensors import real_ppg


@pytest.fixture(scope="module")
def scored() -> list[tuple[float, float | None, str]]:
    """(reference, our rate, recording) for each development window the references agree on."""
    out = []
    for name in real_ppg.DEVELOPMENT:
        recording = real_ppg.load(name)
        for window in real_ppg.windows(recording):
            reference = real_ppg.consensus(window, recording.fs)
            if reference is not None:
                out.append((reference, estimate_heart_rate(window, recording.fs).bpm, name))
    return out


def test_real_windows_within_3_bpm(scored: list[tuple[float, float | None, str]]) -> None:
    # Measured: 49 of 54 windows within 3 bpm (91 %), 1 refused, none doubled or halved.
    assert len(scored) >= 50
    assert {name for _, _, name in scored} >= {"wrist", "finger62", "plux_finger", "bitalino_motion", "nova"}
    within = sum(bpm is not None and abs(bpm - ref) <= 3.0 for ref, bpm, _ in scored)
    refused = sum(bpm is None for _, bpm, _ in scored)
    assert within >= 0.88 * len(scored)
    assert refused <= 0.05 * len(scored)


def test_real_windows_never_doubled_or_halved(scored: list[tuple[float, float | None, str]]) -> None:
    ratios = [bpm / ref for ref, bpm, _ in scored if bpm is not None]
    assert not [r for r in ratios if abs(r - 2.0) < 0.3 or abs(r - 0.5) < 0.1]


def _neurokit_motion(bpm: int, fs: float, seed: int) -> np.ndarray:
    """NeuroKit2's PPG with motion noise and artefact bursts, plus two 4-s in-band motion bursts."""
    import neurokit2 as nk  # type: ignore[import-untyped, import-not-found, unused-ignore]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.asarray(
            nk.ppg_simulate(
                duration=60,
                sampling_rate=fs,
                heart_rate=bpm,
                motion_amplitude=0.3,
                burst_number=2,
                burst_amplitude=2.0,
                random_state=seed,
            )
        )
    rng = np.random.default_rng(1000 * seed + bpm)
    b, a = sps.butter(2, (0.3, 4.0), btype="bandpass", fs=fs)
    n = int(4 * fs)
    for half in range(2):
        start = int(rng.uniform(30 * half + 2, 30 * half + 24) * fs)
        burst = sps.filtfilt(b, a, rng.standard_normal(n + 200))[100:-100]
        x[start : start + n] += burst * 4 * np.std(x) / np.std(burst)
    return x


@pytest.mark.parametrize("fs", [100.0, 64.3])
def test_heavy_motion_gives_a_rate_from_the_clean_seconds(fs: float) -> None:
    errors, refused = [], 0
    for bpm in (45, 75, 105, 135, 165):
        x = _neurokit_motion(bpm, fs, seed=11)
        result = estimate_heart_rate(x, fs)
        if result.bpm is None:
            refused += 1
            continue
        errors.append(abs(result.bpm - bpm))
        used = sum(end - start for start, end in result.used_s)
        assert 20.0 <= used <= 56.0  # the two bursts are left out, most of the rest is used
        assert all(0.0 <= start < end <= 60.1 for start, end in result.used_s)
    # Measured over 54 such records: 1 refused, MAE 0.67 bpm, 53 within 5 bpm.
    assert refused <= 1
    assert max(errors) <= 5.0
    assert float(np.mean(errors)) <= 1.5


def _with_motion(clean_s: float) -> tuple[np.ndarray, float]:
    """60 s at 50 Hz, clean for the first ``clean_s`` seconds, strong in-band motion after."""
    rng = np.random.default_rng(3)
    record = simulate_ppg(70, 60.0, 50.0, seed=3, noise=0.02)
    x = record.signal.copy()
    start = int(clean_s * 50)
    b, a = sps.butter(2, (0.5, 3.0), btype="bandpass", fs=50.0)
    motion = sps.filtfilt(b, a, rng.standard_normal(len(x) - start))
    x[start:] += 20 * np.std(x) * motion / np.std(motion)
    return x, record.mean_bpm


def test_half_a_minute_of_motion_leaves_a_rate_from_the_rest() -> None:
    x, truth = _with_motion(32.0)
    result = estimate_heart_rate(x, 50.0)
    assert result.bpm == pytest.approx(truth, abs=3.0)
    assert result.used_s[0][0] < 1.0
    assert 25.0 <= sum(end - start for start, end in result.used_s) <= 34.0


def test_too_little_clean_signal_is_refused_with_the_reason() -> None:
    x, _ = _with_motion(12.0)
    result = estimate_heart_rate(x, 50.0)
    assert result.bpm is None
    assert result.reason in {"low signal quality", "no regular pulse found"} or (
        result.reason or ""
    ).startswith("too much motion")


@pytest.mark.parametrize("fs", [20.0, 64.3, 123.7, 500.0])
def test_integer_inverted_and_odd_rates(fs: float) -> None:
    record = simulate_ppg(84, 40.0, fs, seed=5, noise=0.05, dicrotic=0.6)
    counts = np.rint(512 - 40 * record.signal / np.ptp(record.signal))  # a light-intensity ADC
    result = estimate_heart_rate(counts.astype(np.int64), fs)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=2.0)
    assert result.inverted


def test_baseline_wander_is_ignored() -> None:
    fs = 64.3
    record = simulate_ppg(62, 60.0, fs, seed=8, noise=0.05)
    t = np.arange(len(record.signal)) / fs
    wander = 3 * np.ptp(record.signal) * np.sin(2 * np.pi * 0.08 * t) + 0.02 * t
    result = estimate_heart_rate(record.signal + wander, fs)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=2.0)


@pytest.mark.parametrize("bpm", [48, 60, 75])
def test_a_strong_diastolic_wave_is_not_counted(bpm: int) -> None:
    # A diastolic wave nearly as tall as the systolic peak: the spectrum has strong power at twice
    # the rate, and half-period beats alternate tall-short.
    record = simulate_ppg(bpm, 30.0, 64.3, seed=bpm, noise=0.03, dicrotic=0.9)
    result = estimate_heart_rate(record.signal, 64.3)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=2.0)


@pytest.mark.parametrize("bpm", [150, 175])
def test_a_fast_rate_is_not_halved(bpm: int) -> None:
    record = simulate_ppg(bpm, 30.0, 100.0, seed=bpm, noise=0.05)
    result = estimate_heart_rate(record.signal, 100.0)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=3.0)


@pytest.mark.parametrize("fs", [25.0, 64.3, 100.0])
def test_no_pulse_gives_no_rate(fs: float) -> None:
    rng = np.random.default_rng(int(fs))
    n = int(60 * fs)
    b, a = sps.butter(2, (0.5, 4.0), btype="bandpass", fs=fs)
    inputs = {
        "white noise": rng.standard_normal(n),
        "band-limited noise": sps.filtfilt(b, a, rng.standard_normal(n)),
        "flat": np.full(n, 700.0),
        "clipped": np.clip(rng.standard_normal(n), -0.2, 0.2),
        "quantised noise": np.rint(rng.standard_normal(n) * 2),
    }
    for kind, x in inputs.items():
        result = estimate_heart_rate(x, fs)
        assert result.bpm is None, kind
        assert result.reason, kind


@pytest.mark.parametrize("fs", [64.3, 117.0])
@pytest.mark.parametrize("bpm", [48, 55, 62, 70, 80])
def test_an_ac_coupled_sensor_is_neither_halved_nor_refused(bpm: int, fs: float) -> None:
    # Some finger sensors high-pass their own output: the pulse becomes a spike that falls about
    # as fast as it rises, so its shape no longer says which way up it is. Its rhythm at the full
    # rate must still win over the same beats taken two at a time.
    record = simulate_ppg(bpm, 20.0, fs, seed=bpm, noise=0.02, dicrotic=0.5)
    b, a = sps.butter(1, 1.5, btype="highpass", fs=fs)
    x = sps.lfilter(b, a, record.signal)
    counts = np.rint(512 + 300 * x / np.ptp(x)).astype(np.int64)
    result = estimate_heart_rate(counts, fs)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=1.0)


def test_a_sensor_held_at_its_rail_for_a_while_gives_a_rate_from_the_rest() -> None:
    record = simulate_ppg(66, 40.0, 100.0, seed=3, noise=0.03)
    counts = np.rint(512 + 200 * record.signal / np.ptp(record.signal))
    counts[:1200], counts[1200:1500] = 1023, 0  # pressed too hard, then lifted: 15 s at the rails
    result = estimate_heart_rate(counts, 100.0)
    assert result.bpm == pytest.approx(record.mean_bpm, abs=1.0)
    assert result.used_s[0][0] >= 15.0
    counts[:3000] = 1023  # 30 of 40 s at the rail: too little left
    assert estimate_heart_rate(counts, 100.0).reason == "clipped or saturated signal"
