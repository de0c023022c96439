"""HSE audiometry categorisation (L108, Appendix 5), as summarised in domain.md §5.1.

Method: for each ear, add the hearing levels (dB HL) at 1, 2, 3, 4 and 6 kHz and compare the sum
with the warning and referral levels for the person's age and sex:

* Category 1, acceptable hearing: the sum is at or below the warning level in both ears.
* Category 2, mild hearing impairment (warning): a sum above the warning level; also stable
  noise-induced hearing loss (NIHL) seen by the clinician.
* Category 3, poor hearing (referral): a sum above the referral level; or unilateral loss (the
  3, 4 and 6 kHz sums of the two ears differ by more than 45 dB); or new/progressive NIHL.
* Category 4, rapid hearing loss: the 3, 4 and 6 kHz sum of an ear has worsened by 30 dB or more
  since a test within the last 3 years.

The table below is transcribed from L108 Appendix 5 (the warning level is the 80th and the
referral level the 95th percentile of hearing levels for a non-noise-exposed population by age
and sex, from ISO 7029). domain.md §13 item 2 lists the exact table and the rapid-loss definition
as "verify against L108": the clinical lead must confirm these figures before production use.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from backend.surveillance.recall import add_months
from backend.surveillance.result_schemas import FiredRule

FREQUENCIES = ("1000", "2000", "3000", "4000", "6000")
HIGH = ("3000", "4000", "6000")
UNILATERAL_DIFFERENCE_DB = 45
RAPID_LOSS_DB = 30
RAPID_LOSS_YEARS = 3
RETEST_CHANGE_DB = 10

# (lowest age of the band, warning level, referral level) for sums over 1, 2, 3, 4, 6 kHz.
LEVELS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "male": (
        (18, 51, 95),
        (25, 67, 113),
        (30, 82, 132),
        (35, 100, 154),
        (40, 121, 183),
        (45, 142, 211),
        (50, 165, 240),
        (55, 190, 269),
        (60, 217, 296),
        (65, 235, 311),
    ),
    "female": (
        (18, 46, 78),
        (25, 55, 91),
        (30, 63, 105),
        (35, 71, 119),
        (40, 80, 134),
        (45, 93, 153),
        (50, 111, 176),
        (55, 131, 204),
        (60, 157, 235),
        (65, 175, 255),
    ),
}

Threshold = int


class Ear(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    f1000: Threshold = Field(alias="1000", ge=-10, le=120)
    f2000: Threshold = Field(alias="2000", ge=-10, le=120)
    f3000: Threshold = Field(alias="3000", ge=-10, le=120)
    f4000: Threshold = Field(alias="4000", ge=-10, le=120)
    f6000: Threshold = Field(alias="6000", ge=-10, le=120)

    def level(self, frequency: str) -> int:
        value: int = getattr(self, f"f{frequency}")
        return value

    def total(self) -> int:
        return sum(self.level(f) for f in FREQUENCIES)

    def high(self) -> int:
        return sum(self.level(f) for f in HIGH)


class Audiogram(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left: Ear
    right: Ear


class NoiseMeasurements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audiogram: Audiogram
    nihl_pattern: str = Field(default="none", pattern="^(none|stable|new_or_progressive)$")


class PreviousTest(BaseModel):
    performed_on: date
    audiogram: Audiogram


class Categorised(BaseModel):
    category: int
    rules: list[FiredRule]
    retest_suggested: bool = False


def levels_for(age: int, sex: str) -> tuple[int, int]:
    """(warning, referral) levels; under-18s use the youngest band, over-65s the oldest."""
    chosen = LEVELS[sex][0]
    for band in LEVELS[sex]:
        if age >= band[0]:
            chosen = band
    return chosen[1], chosen[2]


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _ear_categories(audiogram: Audiogram, warning: int, referral: int) -> tuple[int, list[FiredRule]]:
    worst, fired = 1, []
    for name, ear in (("left", audiogram.left), ("right", audiogram.right)):
        total = ear.total()
        if total > referral:
            worst = max(worst, 3)
            fired.append(
                FiredRule(
                    rule="audiometry.referral_level",
                    explanation=(
                        f"{name} ear: sum at 1-6 kHz is {total} dB, above the referral level of {referral} dB"
                    ),
                )
            )
        elif total > warning:
            worst = max(worst, 2)
            fired.append(
                FiredRule(
                    rule="audiometry.warning_level",
                    explanation=(
                        f"{name} ear: sum at 1-6 kHz is {total} dB, above the warning level of {warning} dB"
                    ),
                )
            )
    return worst, fired


def _unilateral(audiogram: Audiogram) -> FiredRule | None:
    difference = abs(audiogram.left.high() - audiogram.right.high())
    if difference > UNILATERAL_DIFFERENCE_DB:
        return FiredRule(
            rule="audiometry.unilateral",
            explanation=(
                f"the 3, 4 and 6 kHz sums of the two ears differ by {difference} dB "
                f"(more than {UNILATERAL_DIFFERENCE_DB} dB): unilateral hearing loss"
            ),
        )
    return None


def _rapid_loss(current: Audiogram, on: date, previous: list[PreviousTest]) -> tuple[list[FiredRule], bool]:
    fired: list[FiredRule] = []
    retest = False
    for earlier in previous:
        if earlier.performed_on < add_months(on, -12 * RAPID_LOSS_YEARS) or earlier.performed_on >= on:
            continue
        for name in ("left", "right"):
            now_ear, then_ear = getattr(current, name), getattr(earlier.audiogram, name)
            change = now_ear.high() - then_ear.high()
            if change >= RAPID_LOSS_DB:
                fired.append(
                    FiredRule(
                        rule="audiometry.rapid_loss",
                        explanation=(
                            f"{name} ear: the 3, 4 and 6 kHz sum worsened by {change} dB since the test on "
                            f"{earlier.performed_on.isoformat()} (30 dB or more within 3 years)"
                        ),
                    )
                )
            if any(now_ear.level(f) - then_ear.level(f) > RETEST_CHANGE_DB for f in FREQUENCIES):
                retest = True
    return fired, retest


def categorise(
    measurements: NoiseMeasurements, *, age: int, sex: str, on: date, previous: list[PreviousTest]
) -> Categorised:
    """The HSE category of one audiogram, with every rule that fired."""
    warning, referral = levels_for(age, sex)
    category, fired = _ear_categories(measurements.audiogram, warning, referral)
    unilateral = _unilateral(measurements.audiogram)
    if unilateral:
        category = max(category, 3)
        fired.append(unilateral)
    if measurements.nihl_pattern == "new_or_progressive":
        category = max(category, 3)
        fired.append(
            FiredRule(
                rule="audiometry.nihl_progressive",
                explanation="clinician noted a new or progressive noise-induced hearing loss pattern",
            )
        )
    elif measurements.nihl_pattern == "stable":
        category = max(category, 2)
        fired.append(
            FiredRule(
                rule="audiometry.nihl_stable",
                explanation="clinician noted a stable noise-induced hearing loss pattern",
            )
        )
    rapid, retest = _rapid_loss(measurements.audiogram, on, previous)
    if rapid:
        category = 4
        fired.extend(rapid)
    if not fired:
        fired.append(
            FiredRule(
                rule="audiometry.acceptable",
                explanation=(
                    f"both ears at or below the warning level of {warning} dB for age {age} ({sex})"
                ),
            )
        )
    return Categorised(category=category, rules=fired, retest_suggested=retest and category < 4)
