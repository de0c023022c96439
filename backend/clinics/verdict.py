"""Plain-language verdicts on a connection, and the live wait estimate. Pure functions.

Thresholds follow common video-call guidance: a video stream needs about 350 kbit/s each way
(the pre-call floor is lower: see VIDEO_KBPS);
loss up to about 2 % and round trips up to about 300 ms are comfortable; beyond 5 % loss or
600 ms a video call struggles and audio only is the better choice.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from backend.clinics.schemas import Level

GOOD = {"rtt_ms": 300.0, "loss_pct": 2.0, "jitter_ms": 30.0}
FAIR = {"rtt_ms": 600.0, "loss_pct": 5.0, "jitter_ms": 60.0}
# A pre-call test lasts seconds, while a browser's sender ramps its video up from about 300 kbit/s;
# the floors are set for what such a short test can show (good, fair).
VIDEO_KBPS = (250.0, 120.0)
HEADLINES: dict[tuple[Level, bool], str] = {
    ("good", False): "Your connection is good for a video call.",
    ("good", True): "Your connection is good for a call by sound.",
    ("fair", False): "Your connection should work, but the picture may not be sharp.",
    ("fair", True): "Your connection should work, but the sound may break up now and then.",
    ("poor", False): "Your connection is weak. The call may work better by sound only.",
    ("poor", True): "Your connection is weak: you may hear gaps. The nurse can phone you instead if needed.",
}


def _worse(a: Level, b: Level) -> Level:
    order: list[Level] = ["good", "fair", "poor", "failed"]
    return a if order.index(a) >= order.index(b) else b


def _grade(value: float | None, good: float, fair: float) -> Level:
    if value is None or value <= good:
        return "good"
    return "fair" if value <= fair else "poor"


def _grade_floor(value: float | None, good: float, fair: float) -> Level:
    if value is None or value >= good:
        return "good"
    return "fair" if value >= fair else "poor"


def precall_verdict(measures: dict[str, Any], *, audio_only: bool, media_arrived: bool) -> dict[str, Any]:
    """Combine the browser's and the server's measurements into a level, a headline and advice."""
    advice: list[str] = []
    if not media_arrived:
        return {
            "level": "failed",
            "headline": "We could not receive your " + ("sound" if audio_only else "picture and sound") + ".",
            "advice": [
                "Check that your browser may use your microphone"
                + ("" if audio_only else " and camera")
                + ", then try the test again.",
                "If it still fails, you can join by audio only or ask us to phone you.",
            ],
            "measures": measures,
            "audio_only": audio_only,
        }
    level: Level = "good"
    for name in ("rtt_ms", "loss_pct", "jitter_ms"):
        level = _worse(level, _grade(measures.get(name), GOOD[name], FAIR[name]))
    if not audio_only:  # speech with silence suppression sends almost nothing: no floor for sound
        level = _worse(level, _grade_floor(measures.get("bitrate_kbps"), *VIDEO_KBPS))
    if (measures.get("loss_pct") or 0) > GOOD["loss_pct"] or (measures.get("rtt_ms") or 0) > GOOD["rtt_ms"]:
        advice.append("Move closer to your Wi-Fi router, or use a wired connection if you can.")
    if not audio_only and (measures.get("bitrate_kbps") or math.inf) < VIDEO_KBPS[0]:
        advice.append("Close other apps or videos that use the internet during the call.")
    if measures.get("candidate_type") == "relay":
        advice.append(
            "Your network blocks direct calls; the call will go through our relay, which works but "
            "may be slower."
        )
    if level == "poor" and not audio_only:
        advice.append("If the picture freezes, the call will switch to sound only so you can still talk.")
    headline = HEADLINES[(level, audio_only)]
    return {
        "level": level,
        "headline": headline,
        "advice": advice,
        "measures": measures,
        "audio_only": audio_only,
    }


def estimate_wait(
    *,
    position: int,
    pace_seconds: float,
    busy_for_seconds: float | None,
    slot_starts_at: datetime,
    now: datetime,
) -> timedelta:
    """How long until this person is seen.

    ``position`` is 1 for the next person. ``pace_seconds`` is the mean length of today's finished
    consultations (or the slot length before any); ``busy_for_seconds`` is how long the current
    call has lasted (``None`` when the clinician is free). Nobody is expected before their slot.
    """
    ahead = max(position - 1, 0) * pace_seconds
    if busy_for_seconds is not None:
        # The current call ends at the mean pace; one running over is expected to end soon.
        ahead += max(pace_seconds - busy_for_seconds, min(pace_seconds, 120.0) / 2)
    by_queue = now + timedelta(seconds=ahead)
    return max(by_queue, slot_starts_at) - now


def rounded_minutes(wait: timedelta) -> int:
    return max(0, math.ceil(wait.total_seconds() / 60))


def summarise_quality(summary: dict[str, Any], sample: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Fold one call-quality sample into a participant's summary; True when the level or mode changed."""
    before = (summary.get("last_level"), summary.get("audio_only"))
    merged = dict(summary)
    merged["samples"] = int(summary.get("samples", 0)) + 1
    merged["last_level"] = sample["level"]
    merged["audio_only"] = bool(sample.get("audio_only"))
    merged["worst_level"] = _worse(summary.get("worst_level", "good"), sample["level"])
    merged["audio_only_fallback"] = bool(summary.get("audio_only_fallback")) or merged["audio_only"]
    for name, keep in (
        ("rtt_ms", max),
        ("loss_pct", max),
        ("jitter_ms", max),
        ("fps", min),
        ("bitrate_kbps", min),
    ):
        value = sample.get(name)
        if value is not None:
            previous = summary.get(f"{name}_{keep.__name__}")
            merged[f"{name}_{keep.__name__}"] = round(value if previous is None else keep(previous, value), 1)
    return merged, before != (merged["last_level"], merged["audio_only"])
