"""Plain-language explanations of a person's own results, for their results letter only."""

from __future__ import annotations

from datetime import date
from typing import Any

from backend.surveillance.result_schemas import ClinicalRecord
from backend.surveillance.rules.audiometry import FREQUENCIES, age_on, levels_for
from backend.surveillance.rules.others import band_state
from backend.surveillance.schemas import Band, FitnessStandards

_STATE_WORDS = {
    "normal": "within the usual range",
    "retest": "a little outside the usual range",
    "refer": "outside the usual range, so a clinician will look at it",
}


def _noise(m: dict[str, Any], sex: str | None, age: int) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    audiogram = m.get("audiogram") or {}
    warning, referral = levels_for(age, sex or "male")
    for ear in ("left", "right"):
        levels = audiogram.get(ear) or {}
        values = [int(levels.get(f, 0)) for f in FREQUENCIES]
        total = sum(values)
        lines.append(
            (
                f"Hearing, {ear} ear",
                f"The quietest sounds you heard at five pitches (1 to 6 kHz) were "
                f"{', '.join(map(str, values))} dB; together {total} dB. Lower numbers mean better hearing. "
                f"For people of your age the usual total is up "
                f"to {warning} dB, and above {referral} dB we ask a doctor to look at it.",
            )
        )
    return lines


def _fitness(m: dict[str, Any], standards: FitnessStandards) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for key, label, unit, band in (
        ("pulse_bpm", "Resting pulse", "beats a minute", standards.pulse_bpm),
        ("spo2_pct", "Oxygen level (SpO2)", "%", standards.spo2_pct),
    ):
        value = m.get(key)
        if value is None:
            continue
        lines.append(
            (label, f"{value:g} {unit}: {_STATE_WORDS[band_state(float(value), Band(**band.model_dump()))]}.")
        )
    return lines


def _answers(q: dict[str, Any]) -> list[tuple[str, str]]:
    flat = q.get("symptoms", q) if isinstance(q.get("symptoms"), dict) else q
    told = sorted(k.replace("_", " ") for k, v in flat.items() if v is True)
    return [("What you told us", ", ".join(told) if told else "No symptoms or problems.")]


def explain(
    kind: str, clinical: ClinicalRecord, birth: date, on: date, sex: str | None = None
) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    if kind == "noise":
        lines += _noise(clinical.measurements, sex, age_on(birth, on))
    if kind == "fitness_for_task":
        lines += _fitness(clinical.measurements, FitnessStandards())
    lines += _answers(clinical.questionnaire)
    if clinical.clinical_category:
        lines.append(("Result group", clinical.clinical_category))
    return lines
