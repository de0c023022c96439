"""Rule sets by programme kind: check the recorded inputs, then propose a category and outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from backend.surveillance.errors import SurveillanceInvalid
from backend.surveillance.result_schemas import FiredRule, Proposal
from backend.surveillance.rules import audiometry, others, questionnaires
from backend.surveillance.schemas import FitnessStandards

PROCEDURE: dict[str, str] = {
    "noise": "Audiometry and hearing questionnaire",
    "havs": "HAVS questionnaire and assessment",
    "respiratory": "Respiratory questionnaire and spirometry",
    "skin": "Skin questionnaire and inspection",
    "night": "Night worker health questionnaire",
    "fitness_for_task": "Fitness-for-task medical (questionnaire, pulse, SpO2)",
}

_NOISE_OUTCOME: dict[int, dict[str, Any]] = {
    1: {"outcome": "FIT"},
    2: {
        "outcome": "FIT",
        "next_due_in_months": 12,
        "employer_actions": ["Check the fit and condition of hearing protection and retrain on its use"],
    },
    3: {
        "outcome": "FURTHER_ASSESSMENT",
        "refer_to": "OHP",
        "employer_actions": ["Review noise exposure and controls"],
    },
    4: {
        "outcome": "FURTHER_ASSESSMENT",
        "refer_to": "OHP",
        "employer_actions": ["Review noise exposure and controls now"],
    },
}
_NOISE_NAME = {
    1: "acceptable hearing",
    2: "mild hearing impairment",
    3: "poor hearing",
    4: "rapid hearing loss",
}


def _models(kind: str) -> tuple[type[BaseModel], type[BaseModel]]:
    """The closed questionnaire and measurement models of a programme kind (unknown kinds: none)."""
    if kind == "noise":
        return questionnaires.NoiseQuestionnaire, audiometry.NoiseMeasurements
    if kind == "havs":
        return others.HavsQuestionnaire, others.Spirometry
    if kind == "fitness_for_task":
        return others.FitnessQuestionnaire, others.FitnessMeasurements
    if kind in questionnaires.BY_KIND:
        return questionnaires.BY_KIND[kind], others.Spirometry
    raise ValueError(f"no questionnaire for programme kind {kind}")


def _validate(model: type[BaseModel], value: dict[str, Any], where: str) -> BaseModel:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [
            {"field": ".".join([where, *(str(p) for p in e["loc"])]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        raise SurveillanceInvalid(
            f"Please check: {', '.join(e['field'] for e in errors)}", errors=errors
        ) from None


def check_inputs(
    kind: str, questionnaire: dict[str, Any], measurements: dict[str, Any]
) -> tuple[BaseModel, BaseModel]:
    """The questionnaire and measurements as the programme kind defines them (422 naming each field)."""
    q_model, m_model = _models(kind)
    return _validate(q_model, questionnaire, "questionnaire"), _validate(
        m_model, measurements, "measurements"
    )


def propose(
    kind: str,
    *,
    questionnaire: BaseModel,
    measurements: BaseModel,
    standards: dict[str, Any],
    age: int,
    sex: str,
    on: date,
    previous: list[audiometry.PreviousTest],
) -> Proposal:
    if isinstance(measurements, audiometry.NoiseMeasurements):
        return _noise(measurements, age=age, sex=sex, on=on, previous=previous)
    if isinstance(questionnaire, others.HavsQuestionnaire):
        return others.havs(questionnaire)
    if isinstance(questionnaire, others.FitnessQuestionnaire) and isinstance(
        measurements, others.FitnessMeasurements
    ):
        return others.fitness(questionnaire, measurements, FitnessStandards.model_validate(standards or {}))
    if isinstance(questionnaire, questionnaires.SymptomQuestionnaire) and isinstance(
        measurements, others.Spirometry
    ):
        return others.symptoms(kind, questionnaire, measurements)
    raise ValueError(f"no rule set for {kind}")


def _noise(
    m: audiometry.NoiseMeasurements, *, age: int, sex: str, on: date, previous: list[audiometry.PreviousTest]
) -> Proposal:
    found = audiometry.categorise(m, age=age, sex=sex, on=on, previous=previous)
    shape: dict[str, Any] = dict(_NOISE_OUTCOME[found.category])
    rules = list(found.rules)
    if found.retest_suggested:
        shape["next_due_in_months"] = 3
        rules.append(
            FiredRule(
                rule="audiometry.retest",
                explanation="a change of more than 10 dB at a frequency: repeat the test in about 3 months",
            )
        )
    category = f"HSE category {found.category} ({_NOISE_NAME[found.category]})"
    return Proposal(clinical_category=category, rules=rules, **shape)
