"""The signal-quality word: a rate is never shown beside "Poor", and "Poor" always means no rate."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sensors.ppg import MIN_QUALITY, estimate_heart_rate
from sensors.signal_quality import FAIR_QUALITY, GOOD_QUALITY, quality_word
from sensors.simulator import simulate_ppg


def test_thresholds_and_words() -> None:
    assert FAIR_QUALITY == MIN_QUALITY < GOOD_QUALITY
    assert quality_word(None) == "Not known yet"
    assert quality_word(0.0) == "Poor"
    assert quality_word(MIN_QUALITY - 1e-9) == "Poor"
    assert quality_word(MIN_QUALITY) == "Fair"
    assert quality_word(GOOD_QUALITY) == "Good"
    assert quality_word(1.0) == "Good"


@pytest.mark.parametrize("noise", [0.02, 0.3, 0.6, 1.0, 2.0])
@pytest.mark.parametrize("seed", range(3))
def test_the_word_says_whether_a_rate_is_given(noise: float, seed: int) -> None:
    record = simulate_ppg(75, 20.0, 50.0, seed=seed, noise=noise)
    estimate = estimate_heart_rate(record.signal, 50.0)
    assert (estimate.bpm is None) == (quality_word(estimate.quality) == "Poor"), estimate


def test_noise_is_poor() -> None:
    noise = np.random.default_rng(1).standard_normal(1500)
    assert quality_word(estimate_heart_rate(noise, 50.0).quality) == "Poor"


def test_the_pages_meter_bands_are_the_thresholds() -> None:
    # Both pages show the server's word; their meter's colour bands must sit on the same values.
    source = (Path(__file__).parents[2] / "clinic_ui" / "js" / "signal-quality.js").read_text()
    found = re.search(r"QUALITY_BANDS = \{ low: ([0-9.]+), high: ([0-9.]+) \}", source)
    assert found is not None
    assert (float(found[1]), float(found[2])) == (FAIR_QUALITY, GOOD_QUALITY)
    for page in ("pages/measure.js", "pulse-live.js"):
        text = (Path(__file__).parents[2] / "clinic_ui" / "js" / page).read_text()
        assert "qualityMeter()" in text
        assert "0.45" not in text, page
        assert "0.7" not in text, page
