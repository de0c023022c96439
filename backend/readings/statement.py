"""The consent statement (domain C6) the employee reads before measuring; ``version`` names the
exact wording and its SHA-256 is stored with every consent. Change the version with the words."""

from __future__ import annotations

import hashlib
import json

from backend.readings.schemas import ConsentStatement

STATEMENT = ConsentStatement(
    version="c6-2026-1",
    title="Measuring your pulse with your phone",
    points=[
        "While you measure, we collect your pulse (heart rate) and, with a finger pulse oximeter, "
        "your blood oxygen level (SpO2). They are used only for your occupational health assessment.",
        "Only you and the occupational health clinicians looking after you can see the readings. "
        "Your employer and your manager never see them.",
        "The readings are kept in your confidential occupational health record for as long as your "
        "occupational health provider keeps that record.",
        "Readings from a phone camera or a home sensor can be inaccurate, for example when you move, "
        "have cold hands, or with some skin tones. A clinician looks at them with everything else you "
        "tell them; they never decide on their own whether you are fit for work.",
        "You can stop at any time: stop measuring, or withdraw your consent on this page. "
        "Readings already sent stay in your record.",
    ],
)
STATEMENT_SHA256 = hashlib.sha256(json.dumps(STATEMENT.model_dump(), sort_keys=True).encode()).digest()
