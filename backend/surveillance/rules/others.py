"""Rule sets for HAVS tier routing, fitness-for-task pulse/SpO2 bands and symptom questionnaires.

Each returns a Proposal whose ``rules`` say what fired. Nothing here decides fitness: the
clinician confirms or overrides (domain.md §11: never auto-derive a fitness outcome from readings).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.surveillance.result_schemas import FiredRule, Proposal
from backend.surveillance.rules.questionnaires import SymptomQuestionnaire
from backend.surveillance.schemas import Band, FitnessStandards

# ---- HAVS: T1 initial / T2 annual questionnaire -> T3 nurse assessment -> T4 doctor (HSE L140) ----


class HavsQuestionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: Literal["T1", "T2", "T3", "T4"]
    tingling_or_numbness: bool = False
    finger_blanching: bool = False
    pain_or_stiffness: bool = False
    grip_or_dexterity_loss: bool = False
    consistent_with_havs: bool | None = Field(default=None, description="T3: the assessor's finding")
    stockholm_vascular: int | None = Field(default=None, ge=0, le=4, description="T4: vascular stage")
    stockholm_sensorineural: int | None = Field(
        default=None, ge=0, le=3, description="T4: sensorineural stage"
    )


_SYMPTOMS = ("tingling_or_numbness", "finger_blanching", "pain_or_stiffness", "grip_or_dexterity_loss")


def havs(q: HavsQuestionnaire) -> Proposal:
    positive = [name.replace("_", " ") for name in _SYMPTOMS if getattr(q, name)]
    if q.tier in ("T1", "T2"):
        if positive:
            return Proposal(
                clinical_category=f"HAVS {q.tier} positive",
                outcome="FURTHER_ASSESSMENT",
                refer_to="HAVS_T3",
                rules=[
                    FiredRule(
                        rule="havs.questionnaire_positive",
                        explanation=(
                            f"{q.tier} questionnaire positive ({', '.join(positive)}): refer to tier 3"
                        ),
                    )
                ],
            )
        return Proposal(
            clinical_category=f"HAVS {q.tier} negative",
            outcome="FIT",
            next_due_in_months=12,
            rules=[
                FiredRule(
                    rule="havs.questionnaire_negative",
                    explanation=f"{q.tier} questionnaire negative: annual tier 2 recall",
                )
            ],
        )
    if q.tier == "T3":
        if q.consistent_with_havs:
            return Proposal(
                clinical_category="HAVS T3: consistent with HAVS",
                outcome="FURTHER_ASSESSMENT",
                refer_to="HAVS_T4",
                employer_actions=["Review vibration exposure and controls"],
                rules=[
                    FiredRule(
                        rule="havs.t3_positive",
                        explanation="tier 3 findings consistent with HAVS: refer to tier 4",
                    )
                ],
            )
        return Proposal(
            clinical_category="HAVS T3: not consistent with HAVS",
            outcome="FIT",
            next_due_in_months=12,
            rules=[
                FiredRule(rule="havs.t3_negative", explanation="tier 3 findings not consistent with HAVS")
            ],
        )
    return _havs_t4(q)


def _havs_t4(q: HavsQuestionnaire) -> Proposal:
    vascular, sensory = q.stockholm_vascular or 0, q.stockholm_sensorineural or 0
    category = f"Stockholm {vascular}V/{sensory}SN"
    if vascular >= 2 or sensory >= 2:
        return Proposal(
            clinical_category=category,
            outcome="FIT_WITH_RESTRICTIONS",
            employer_actions=["Reduce exposure to vibration", "Review the vibration risk assessment"],
            next_due_in_months=12,
            rules=[
                FiredRule(
                    rule="havs.t4_stage2",
                    explanation=(f"tier 4 staging {category}: stage 2 or more, restrict vibration exposure"),
                )
            ],
        )
    return Proposal(
        clinical_category=category,
        outcome="FIT",
        next_due_in_months=12,
        rules=[FiredRule(rule="havs.t4_low_stage", explanation=f"tier 4 staging {category}: below stage 2")],
    )


# ---- Fitness for task: questionnaire plus pulse and SpO2 against provider standards ----


class FitnessQuestionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blackouts_or_seizures: bool = False
    heart_condition: bool = False
    breathing_problems: bool = False
    claustrophobia_or_panic: bool = False
    mobility_problems: bool = False


class FitnessMeasurements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pulse_bpm: float | None = Field(default=None, ge=20, le=250)
    spo2_pct: float | None = Field(default=None, ge=50, le=100)
    systolic_mmhg: int | None = Field(default=None, ge=60, le=260)
    diastolic_mmhg: int | None = Field(default=None, ge=30, le=160)
    source: Literal["manual", "readings_stream", "device"] = "manual"


def band_state(value: float, band: Band) -> Literal["normal", "retest", "refer"]:
    if (band.refer_below is not None and value < band.refer_below) or (
        band.refer_above is not None and value > band.refer_above
    ):
        return "refer"
    if (band.normal_min is not None and value < band.normal_min) or (
        band.normal_max is not None and value > band.normal_max
    ):
        return "retest"
    return "normal"


def fitness(q: FitnessQuestionnaire, m: FitnessMeasurements, standards: FitnessStandards) -> Proposal:
    fired: list[FiredRule] = []
    worst = "normal"
    for name, label, value, band in (
        ("pulse", "resting pulse", m.pulse_bpm, standards.pulse_bpm),
        ("spo2", "SpO2", m.spo2_pct, standards.spo2_pct),
    ):
        if value is None:
            continue
        state = band_state(value, band)
        fired.append(
            FiredRule(
                rule=f"fitness.{name}_{state}",
                explanation=f"{label} {value:g} is {state} against the provider standard",
            )
        )
        worst = max(worst, state, key=("normal", "retest", "refer").index)
    declared = [k.replace("_", " ") for k, v in q.model_dump().items() if v]
    if declared:
        worst = "refer"
        fired.append(
            FiredRule(
                rule="fitness.declared_condition",
                explanation=f"declared: {', '.join(declared)}: needs a clinician's assessment",
            )
        )
    if worst == "normal":
        return Proposal(
            clinical_category="Within provider standards",
            outcome="FIT",
            rules=fired or [FiredRule(rule="fitness.no_findings", explanation="no findings")],
        )
    refer: Literal["retest", "OHP"] = "retest" if worst == "retest" else "OHP"
    return Proposal(
        clinical_category="Outside provider standards",
        outcome="FURTHER_ASSESSMENT",
        refer_to=refer,
        rules=fired,
    )


# ---- Respiratory, skin and night work: symptom questionnaires (± spirometry for respiratory) ----


class Spirometry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fev1_l: float | None = Field(default=None, gt=0, le=10)
    fvc_l: float | None = Field(default=None, gt=0, le=12)
    skin_inspection_abnormal: bool | None = None


REFER_FOR = {"respiratory": "OHA", "skin": "OHA", "night": "OHA"}


def symptoms(kind: str, q: SymptomQuestionnaire, m: Spirometry) -> Proposal:
    fired: list[FiredRule] = []
    positive = [name.replace("_", " ") for name in q.positive()]
    if positive:
        fired.append(
            FiredRule(rule=f"{kind}.symptoms", explanation=f"symptoms reported: {', '.join(positive)}")
        )
    if m.fev1_l is not None and m.fvc_l is not None and m.fev1_l / m.fvc_l < 0.7:
        fired.append(
            FiredRule(
                rule="respiratory.obstruction",
                explanation=f"FEV1/FVC ratio {m.fev1_l / m.fvc_l:.2f} is below 0.70",
            )
        )
    if m.skin_inspection_abnormal:
        fired.append(FiredRule(rule="skin.inspection", explanation="skin inspection found changes"))
    if fired:
        return Proposal(
            clinical_category="Symptoms or findings",
            outcome="FURTHER_ASSESSMENT",
            refer_to="OHA",
            rules=fired,
        )
    return Proposal(
        clinical_category="No symptoms or findings",
        outcome="FIT",
        rules=[FiredRule(rule=f"{kind}.no_findings", explanation="no symptoms reported and no findings")],
    )
