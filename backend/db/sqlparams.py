"""A parameter-only builder for dynamic WHERE and ORDER BY clauses.

Values only ever travel as ``$n`` parameters; SQL text comes only from constants written in a
``queries.py`` (clause templates with ``{}`` or ``{0}`` where values go) and from allow-lists
of sort expressions keyed by the API's sort names.

    sql = SqlParams(kind, org_id)              # $1, $2 are fixed by the statement's own text
    where = sql.where(VISIBLE)
    where.add(FILTER_STATUS, ["RELEASED"])     # "r.status = ANY({}::text[])" → "... ANY($3::text[])"
    statement = f"{SELECT} WHERE {where} {order_by(...)} LIMIT {sql.add(20)} OFFSET {sql.add(0)}"
    rows = await conn.fetch(statement, *sql.values)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class SqlParams:
    """The values of one statement, in order; ``add`` returns the placeholder for a value."""

    def __init__(self, *initial: object) -> None:
        self.values: list[object] = list(initial)

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def where(self, *fixed: str) -> Where:
        return Where(self, list(fixed))


class Where:
    """Clauses joined with AND; each template's ``{}`` / ``{0}`` become the values' placeholders."""

    def __init__(self, params: SqlParams, clauses: list[str]) -> None:
        self._params = params
        self._clauses = clauses

    def add(self, template: str, *values: object) -> None:
        self._clauses.append(template.format(*(self._params.add(v) for v in values)))

    def __str__(self) -> str:
        return " AND ".join(f"({c})" for c in self._clauses) or "TRUE"


def order_by(key: str, *, descending: bool, columns: Mapping[str, Sequence[str]], tiebreak: str) -> str:
    """ORDER BY the allow-listed expressions for ``key`` (KeyError otherwise), then ``tiebreak``."""
    direction = "DESC" if descending else "ASC"
    exprs = [f"{expr} {direction} NULLS LAST" for expr in columns[key]]
    return "ORDER BY " + ", ".join([*exprs, tiebreak])


def like_pattern(text: str) -> str:
    r"""``text`` anywhere, for ``ILIKE ... ESCAPE '\'``: its own % _ and \ match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
