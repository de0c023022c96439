"""Parse an enrolment CSV into checked rows (pure, no I/O).

A file that cannot be read as a whole (not UTF-8, a missing or unknown column, too many rows)
is refused and nothing is imported. Otherwise each row is checked on its own: valid rows go on
to be imported, invalid rows are reported with their line number and the fields at fault.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError

from backend.surveillance.errors import SurveillanceInvalid
from backend.surveillance.schemas import EnrolmentCreate

REQUIRED = ("email", "full_name", "employee_number", "date_of_birth", "sex")
OPTIONAL = ("department", "job_title", "exposure", "start_date")
MAX_ROWS = 5000
PERSON_FIELDS = frozenset((*REQUIRED, "department", "job_title"))


@dataclass
class ParsedRow:
    line: int
    enrolment: EnrolmentCreate | None
    errors: list[dict[str, str]] = field(default_factory=list)


def _file_error(message: str) -> SurveillanceInvalid:
    return SurveillanceInvalid(message, errors=[{"field": "file", "message": message, "type": "csv_invalid"}])


def _reader(data: bytes) -> csv.DictReader[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("The file is not UTF-8 text; save it as 'CSV UTF-8'.") from None
    if "\x00" in text:
        raise _file_error("The file contains NUL characters; it is not a CSV file.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        detail = "; ".join(
            part
            for part in (
                f"missing column(s): {', '.join(missing)}" if missing else "",
                f"unknown column(s): {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        raise _file_error(f"The header line is wrong: {detail}. Columns: {', '.join(REQUIRED + OPTIONAL)}.")
    reader.fieldnames = columns
    return reader


def _row(line: int, raw: dict[str | None, str | list[str] | None]) -> ParsedRow:
    if None in raw:
        return ParsedRow(
            line, None, [{"field": "row", "message": "more values than columns", "type": "csv_row"}]
        )
    values = {
        k: (v or "").strip() for k, v in raw.items() if isinstance(k, str) and isinstance(v, str | None)
    }
    person = {k: v for k, v in values.items() if k in PERSON_FIELDS and (v or k in REQUIRED)}
    body: dict[str, object] = {"person": person}
    if values.get("exposure"):
        body["exposure"] = values["exposure"]
    if values.get("start_date"):
        body["start_date"] = values["start_date"]
    try:
        return ParsedRow(line, EnrolmentCreate.model_validate(body))
    except ValidationError as exc:
        errors = [
            {"field": str(e["loc"][-1]) if e["loc"] else "row", "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return ParsedRow(line, None, errors)


def parse(data: bytes) -> list[ParsedRow]:
    reader = _reader(data)
    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # blank lines are ignored
        if len(rows) >= MAX_ROWS:
            raise _file_error(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
        row = _row(line, raw)
        if row.enrolment is not None:
            for key in (row.enrolment.person.email, "#" + row.enrolment.person.employee_number.lower()):
                if key in seen:
                    row = ParsedRow(
                        line,
                        None,
                        [
                            {
                                "field": "email" if "@" in key else "employee_number",
                                "message": f"repeats line {seen[key]} of this file",
                                "type": "duplicate",
                            }
                        ],
                    )
                    break
                seen[key] = line
        rows.append(row)
    if not rows:
        raise _file_error("The file has a header line but no rows.")
    return rows
