"""Rule sets against worked examples: HSE audiometry categories, HAVS tiers, pulse/SpO2 bands, recall."""

from __future__ import annotations

from datetime import date

import pytest

from backend.surveillance import rules
from backend.surveillance.errors import SurveillanceInvalid
from backend.surveillance.readings import merge_readings
from backend.surveillance.recall import DEFAULT_RECALL, Interval, add_months, next_due, recall_state
from backend.surveillance.result_schemas import ReadingValues
from backend.surveillance.rules import audiometry, others, questionnaires
from backend.surveillance.schemas import FitnessStandards


def ear(f1: int, f2: int, f3: int, f4: int, f6: int) -> dict[str, int]:
    return {"1000": f1, "2000": f2, "3000": f3, "4000": f4, "6000": f6}


def noise(left: dict[str, int], right: dict[str, int], nihl: str = "none") -> audiometry.NoiseMeasurements:
    return audiometry.NoiseMeasurements.model_validate(
        {"audiogram": {"left": left, "right": right}, "nihl_pattern": nihl}
    )


ON = date(2026, 11, 20)


# Worked examples of the L108 Appendix 5 method: sum 1-6 kHz per ear vs the age/sex levels.
@pytest.mark.parametrize(
    ("age", "sex", "left", "right", "category", "rule"),
    [
        # Man of 40 (warning 121, referral 183): sums 105 and 110 -> acceptable.
        (40, "male", ear(10, 15, 20, 30, 30), ear(10, 15, 25, 30, 30), 1, "audiometry.acceptable"),
        # Same man, left sum 122 just over the warning level -> mild hearing impairment.
        (40, "male", ear(15, 15, 25, 32, 35), ear(10, 15, 25, 30, 30), 2, "audiometry.warning_level"),
        # Exactly at the warning level stays acceptable ("at or below").
        (40, "male", ear(15, 15, 25, 31, 35), ear(10, 15, 25, 30, 30), 1, "audiometry.acceptable"),
        # Left sum 195 over the referral level 183 -> poor hearing.
        (40, "male", ear(25, 30, 40, 50, 50), ear(20, 25, 35, 40, 45), 3, "audiometry.referral_level"),
        # Woman of 40 (warning 80, referral 134): sum 105 is a warning; the same audiogram is
        # acceptable for a man of 40 — the levels depend on sex.
        (40, "female", ear(10, 15, 20, 30, 30), ear(10, 10, 15, 15, 20), 2, "audiometry.warning_level"),
        # Young man of 22 (warning 51, referral 95): sum 100 is above the referral level.
        (22, "male", ear(10, 15, 20, 25, 30), ear(0, 5, 5, 10, 10), 3, "audiometry.referral_level"),
        # Man of 62 (warning 217): sum 200 is acceptable at that age.
        (62, "male", ear(20, 30, 40, 50, 60), ear(20, 30, 40, 50, 60), 1, "audiometry.acceptable"),
    ],
)
def test_hse_categories_by_sum_age_and_sex(age, sex, left, right, category, rule) -> None:
    found = audiometry.categorise(noise(left, right), age=age, sex=sex, on=ON, previous=[])
    assert found.category == category
    assert rule in [r.rule for r in found.rules]


def test_unilateral_loss_is_category_3() -> None:
    # 3+4+6 kHz: left 30, right 120 -> 90 dB apart (> 45), although both sums are modest for 55.
    found = audiometry.categorise(
        noise(ear(5, 5, 10, 10, 10), ear(10, 15, 35, 40, 45)), age=55, sex="male", on=ON, previous=[]
    )
    assert found.category == 3
    assert [r.rule for r in found.rules] == ["audiometry.unilateral"]


def test_rapid_loss_within_three_years_is_category_4_and_older_tests_are_ignored() -> None:
    before = audiometry.Audiogram.model_validate(
        {"left": ear(10, 10, 10, 15, 15), "right": ear(10, 10, 10, 15, 15)}
    )
    now = noise(ear(10, 10, 20, 25, 25), ear(10, 10, 10, 15, 15))  # left 3-6 kHz sum 40 -> 70: +30 dB
    recent = [audiometry.PreviousTest(performed_on=date(2024, 11, 21), audiogram=before)]
    found = audiometry.categorise(now, age=40, sex="male", on=ON, previous=recent)
    assert found.category == 4
    assert any("worsened by 30 dB" in r.explanation for r in found.rules)
    old = [audiometry.PreviousTest(performed_on=date(2023, 11, 19), audiogram=before)]
    assert audiometry.categorise(now, age=40, sex="male", on=ON, previous=old).category == 1


def test_change_over_10_db_suggests_a_retest_in_3_months() -> None:
    before = audiometry.Audiogram.model_validate(
        {"left": ear(10, 10, 10, 10, 10), "right": ear(10, 10, 10, 10, 10)}
    )
    now = noise(ear(10, 10, 10, 25, 10), ear(10, 10, 10, 10, 10))
    proposal = rules.propose(
        "noise",
        questionnaire=questionnaires.SymptomQuestionnaire(),
        measurements=now,
        standards={},
        age=40,
        sex="male",
        on=ON,
        previous=[audiometry.PreviousTest(performed_on=date(2025, 11, 1), audiogram=before)],
    )
    assert proposal.outcome == "FIT"
    assert proposal.next_due_in_months == 3
    assert proposal.rules[-1].rule == "audiometry.retest"


def test_nihl_pattern_raises_the_category() -> None:
    base = (ear(10, 15, 20, 30, 30), ear(10, 15, 25, 30, 30))
    assert (
        audiometry.categorise(noise(*base, nihl="stable"), age=40, sex="male", on=ON, previous=[]).category
        == 2
    )
    progressive = noise(*base, nihl="new_or_progressive")
    assert audiometry.categorise(progressive, age=40, sex="male", on=ON, previous=[]).category == 3


def test_age_bands_clamp_at_both_ends() -> None:
    assert audiometry.levels_for(16, "male") == (51, 95)
    assert audiometry.levels_for(70, "female") == (175, 255)
    assert audiometry.age_on(date(1986, 11, 21), ON) == 39
    assert audiometry.age_on(date(1986, 11, 20), ON) == 40


def test_noise_categories_map_to_outcomes() -> None:
    poor = noise(ear(25, 30, 40, 50, 50), ear(25, 30, 45, 50, 50))
    proposal = rules.propose(
        "noise",
        questionnaire=questionnaires.SymptomQuestionnaire(),
        measurements=poor,
        standards={},
        age=40,
        sex="male",
        on=ON,
        previous=[],
    )
    assert proposal.outcome == "FURTHER_ASSESSMENT"
    assert proposal.refer_to == "OHP"
    assert proposal.clinical_category == "HSE category 3 (poor hearing)"


def test_havs_tier_routing() -> None:
    t2 = others.HavsQuestionnaire(tier="T2", finger_blanching=True)
    assert (others.havs(t2).outcome, others.havs(t2).refer_to) == ("FURTHER_ASSESSMENT", "HAVS_T3")
    assert others.havs(others.HavsQuestionnaire(tier="T1")).outcome == "FIT"
    t3 = others.havs(others.HavsQuestionnaire(tier="T3", consistent_with_havs=True))
    assert t3.refer_to == "HAVS_T4"
    t4 = others.havs(others.HavsQuestionnaire(tier="T4", stockholm_vascular=1, stockholm_sensorineural=2))
    assert t4.outcome == "FIT_WITH_RESTRICTIONS"
    assert t4.clinical_category == "Stockholm 1V/2SN"


@pytest.mark.parametrize(
    ("pulse", "spo2", "outcome", "refer"),
    [
        (72, 98, "FIT", None),
        (104, 98, "FURTHER_ASSESSMENT", "retest"),
        (130, 98, "FURTHER_ASSESSMENT", "OHP"),
        (72, 93, "FURTHER_ASSESSMENT", "retest"),
        (72, 90, "FURTHER_ASSESSMENT", "OHP"),
        (50, 95, "FIT", None),
    ],
)
def test_pulse_and_spo2_bands(pulse, spo2, outcome, refer) -> None:
    proposal = others.fitness(
        others.FitnessQuestionnaire(),
        others.FitnessMeasurements(pulse_bpm=pulse, spo2_pct=spo2),
        FitnessStandards(),
    )
    assert (proposal.outcome, proposal.refer_to) == (outcome, refer)
    assert {r.rule.split("_")[0] for r in proposal.rules} == {"fitness.pulse", "fitness.spo2"}


def test_declared_condition_needs_a_clinician_whatever_the_readings() -> None:
    proposal = others.fitness(
        others.FitnessQuestionnaire(blackouts_or_seizures=True),
        others.FitnessMeasurements(pulse_bpm=70, spo2_pct=99),
        FitnessStandards(),
    )
    assert proposal.refer_to == "OHP"


def test_readings_fill_in_missing_values_only_with_a_good_signal() -> None:
    readings = ReadingValues(pulse_bpm=71.26, spo2_pct=97, quality=0.9)
    assert merge_readings({}, readings) == {"pulse_bpm": 71.3, "spo2_pct": 97, "source": "readings_stream"}
    assert merge_readings({"pulse_bpm": 80}, readings)["pulse_bpm"] == 80
    assert merge_readings({}, ReadingValues(pulse_bpm=71, quality=0.2)) == {}


def test_symptom_questionnaires_and_spirometry() -> None:
    q = questionnaires.RespiratoryQuestionnaire.model_validate({"symptoms": {"wheeze": True}})
    assert others.symptoms("respiratory", q, others.Spirometry()).outcome == "FURTHER_ASSESSMENT"
    low_ratio = others.Spirometry(fev1_l=2.0, fvc_l=3.5)
    assert others.symptoms("respiratory", questionnaires.SymptomQuestionnaire(), low_ratio).rules[0].rule == (
        "respiratory.obstruction"
    )
    assert (
        others.symptoms("skin", questionnaires.SymptomQuestionnaire(), others.Spirometry()).outcome == "FIT"
    )


def test_noise_recall_is_baseline_then_annual_twice_then_three_yearly() -> None:
    schedule = DEFAULT_RECALL["noise"]
    start = date(2026, 1, 31)
    assert next_due(schedule, 1, start) == date(2027, 1, 31)
    assert next_due(schedule, 2, date(2027, 1, 31)) == date(2028, 1, 31)
    assert next_due(schedule, 3, date(2028, 1, 31)) == date(2031, 1, 31)
    assert next_due(schedule, 7, date(2031, 1, 31)) == date(2034, 1, 31)


def test_recall_arithmetic() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), -36) == date(2023, 3, 15)
    assert Interval(weeks=6).after(date(2026, 1, 1)) == date(2026, 2, 12)
    assert recall_state(date(2026, 11, 19), ON) == "overdue"
    assert recall_state(date(2026, 12, 20), ON) == "due"
    assert recall_state(date(2026, 12, 21), ON) == "current"
    with pytest.raises(ValueError, match="needs months or weeks"):
        Interval()


def test_inputs_are_checked_per_kind() -> None:
    with pytest.raises(SurveillanceInvalid, match=r"measurements\.audiogram") as caught:
        rules.check_inputs("noise", {}, {"audiogram": {"left": ear(1, 2, 3, 4, 5)}})
    assert caught.value.errors is not None
    assert caught.value.errors[0]["field"] == "measurements.audiogram.right"
