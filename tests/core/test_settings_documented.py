"""Every setting is documented in deploy/env.example and in README's configuration table."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

from pydantic import AliasChoices

from backend.core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
_TABLE_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)


def variable_names() -> set[str]:
    """The environment variable each Settings field is read from (its first alias, if any)."""
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            first = alias.choices[0]
            assert isinstance(first, str)
            names.add(first)
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"OHCONNECT_{field_name.upper()}")
    return names


def readme_configuration_section() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index("## Configuration")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    documented = set(_ENV_LINE.findall((ROOT / "deploy" / "env.example").read_text("utf-8")))
    assert sorted(variable_names() - documented) == [], "missing from deploy/env.example"
    assert sorted(documented - variable_names()) == [], "in deploy/env.example but not a setting"


def test_readme_table_lists_every_setting_and_nothing_else() -> None:
    documented = set(_TABLE_ROW.findall(readme_configuration_section()))
    assert sorted(variable_names() - documented) == [], "missing from README's configuration table"
    assert sorted(documented - variable_names()) == [], "in README's table but not a setting"


def test_every_env_example_variable_has_a_comment_line_above() -> None:
    lines = ["", *(ROOT / "deploy" / "env.example").read_text("utf-8").splitlines()]
    for previous, line in pairwise(lines):
        match = _ENV_LINE.match(line)
        if match:
            described = previous.startswith("#") and not _ENV_LINE.match(previous)
            assert described, f"{match.group(1)} needs a one-line comment above it"
