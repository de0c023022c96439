"""Symptom questionnaires by programme kind: known questions, yes/no answers, one bounded note.

Every questionnaire is a closed model (unknown fields are refused with a 422 naming them) at most
two levels deep, so nothing unbounded reaches the clinical record. The symptom lists match the
clinician's form (``clinic_ui/js/hs-forms.js``). The HAVS and fitness-for-task questionnaires live
with their rule sets in ``others``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

NOTE_MAX = 500


class Symptoms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def positive(self) -> list[str]:
        return sorted(name for name, value in self.model_dump().items() if value is True)


class NoiseSymptoms(Symptoms):
    tinnitus: bool = False
    ear_infection: bool = False
    difficulty_hearing_speech: bool = False


class RespiratorySymptoms(Symptoms):
    cough: bool = False
    wheeze: bool = False
    breathlessness: bool = False


class SkinSymptoms(Symptoms):
    redness: bool = False
    itching: bool = False
    cracking: bool = False


class NightSymptoms(Symptoms):
    sleep_problems: bool = False
    digestive_problems: bool = False
    fatigue: bool = False


class SymptomQuestionnaire(BaseModel):
    """Symptoms reported (``symptoms``) and an optional short note of anything else reported."""

    model_config = ConfigDict(extra="forbid")

    symptoms: Symptoms = Field(default_factory=Symptoms)
    other_symptoms: str | None = Field(default=None, max_length=NOTE_MAX)

    @model_validator(mode="before")
    @classmethod
    def _flat_answers(cls, value: Any) -> Any:
        """Answers given at the top level (``{"tinnitus": false}``, the older shape) are symptoms."""
        if not isinstance(value, dict):
            return value
        known = cls.model_fields["symptoms"].annotation
        names = set(known.model_fields) if isinstance(known, type) and issubclass(known, Symptoms) else set()
        flat = {k: v for k, v in value.items() if k in names}
        if not flat:
            return value
        rest = {k: v for k, v in value.items() if k not in names}
        nested = rest.get("symptoms", {})
        if not isinstance(nested, dict):
            return value  # refused as it stands, naming each field
        return {**rest, "symptoms": {**flat, **nested}}

    def positive(self) -> list[str]:
        return self.symptoms.positive()


class NoiseQuestionnaire(SymptomQuestionnaire):
    symptoms: NoiseSymptoms = Field(default_factory=NoiseSymptoms)


class RespiratoryQuestionnaire(SymptomQuestionnaire):
    symptoms: RespiratorySymptoms = Field(default_factory=RespiratorySymptoms)


class SkinQuestionnaire(SymptomQuestionnaire):
    symptoms: SkinSymptoms = Field(default_factory=SkinSymptoms)


class NightQuestionnaire(SymptomQuestionnaire):
    symptoms: NightSymptoms = Field(default_factory=NightSymptoms)


BY_KIND: dict[str, type[SymptomQuestionnaire]] = {
    "noise": NoiseQuestionnaire,
    "respiratory": RespiratoryQuestionnaire,
    "skin": SkinQuestionnaire,
    "night": NightQuestionnaire,
}
