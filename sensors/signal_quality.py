"""The one definition of the signal-quality word that the person measuring and the clinician see.

The phone's page and the clinician's live panel both show the word the server sends with each
estimate (``quality_word`` in the batch receipt, the live event and the stream summary); neither
page has thresholds of its own. "Fair" starts where the heart-rate estimator starts reporting a
rate (``sensors.ppg.MIN_QUALITY``), so a rate is never shown beside "Poor".
"""

from __future__ import annotations

from typing import Literal

from sensors.ppg import MIN_QUALITY

QualityWord = Literal["Good", "Fair", "Poor", "Not known yet"]
GOOD_QUALITY = 0.7
FAIR_QUALITY = MIN_QUALITY


def quality_word(quality: float | None) -> QualityWord:
    """The word for a signal quality 0..1 (None: no estimate yet)."""
    if quality is None:
        return "Not known yet"
    if quality >= GOOD_QUALITY:
        return "Good"
    return "Fair" if quality >= FAIR_QUALITY else "Poor"
