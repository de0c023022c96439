"""One list kit: the paging, sorting and search parameters every list endpoint takes, and one page.

An endpoint declares its sort keys once and takes the parameters as one ``Annotated`` dependency::

    ThingList = Annotated[ListParams, Depends(listing.query(sorts=("name", "updated"), default="-updated"))]

    @router.get("/things", response_model=Page[Thing])
    async def things(page: ThingList, ...) -> Page[Thing]:
        rows, total = await service.things(conn, user, page=page)
        return Page.of(rows, total, page)

Query parameters: ``limit`` (1..max), ``offset`` (0..1,000,000), ``sort`` (a key, ``-`` prefix for
descending; anything else is 422 naming ``sort``) and, when ``search=True``, ``q`` (1..100
characters). SQL for the sort comes from an allow-list (``backend.db.sqlparams.order_by``).
"""

# No "from __future__ import annotations": FastAPI reads the closures' annotations, which name locals.
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")
MAX_OFFSET = 1_000_000


class ListParams(BaseModel):
    """Validated list parameters: ``sort`` is an allowed key (without the ``-``)."""

    model_config = ConfigDict(frozen=True)

    limit: int
    offset: int
    sort: str
    descending: bool
    q: str | None = None

    @property
    def sort_param(self) -> str:
        """The sort as given in the query string (``-submitted``)."""
        return f"-{self.sort}" if self.descending else self.sort


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and how this page was cut."""

    items: list[T]
    total: int
    limit: int
    offset: int
    sort: str

    @classmethod
    def of(cls, items: list[T], total: int, params: ListParams) -> "Page[T]":
        return cls(items=items, total=total, limit=params.limit, offset=params.offset, sort=params.sort_param)


def parse_sort(value: str, sorts: Sequence[str]) -> tuple[str, bool]:
    """``-key`` → (key, True); the key must be allowed (the query pattern has checked this)."""
    key = value.removeprefix("-")
    if key not in sorts:
        raise ValueError(f"unknown sort key {key!r}")
    return key, value.startswith("-")


def query(
    *,
    sorts: Sequence[str],
    default: str,
    default_limit: int = 50,
    max_limit: int = 200,
    search: bool = True,
) -> Callable[..., ListParams]:
    """The dependency for one list endpoint: use as ``Annotated[ListParams, Depends(query(...))]``."""
    parse_sort(default, sorts)  # a wrong default is a programming error, found at import
    pattern = "^-?(" + "|".join(re.escape(s) for s in sorts) + ")$"
    sort_doc = f"One of {', '.join(sorts)}; prefix with - for descending (default {default})."

    def with_search(
        limit: Annotated[int, Query(ge=1, le=max_limit, description="Items per page.")] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
        sort: Annotated[str, Query(pattern=pattern, max_length=40, description=sort_doc)] = default,
        q: Annotated[str | None, Query(min_length=1, max_length=100, description="Search text.")] = None,
    ) -> ListParams:
        key, descending = parse_sort(sort, sorts)
        text = q.strip() if q else None
        return ListParams(limit=limit, offset=offset, sort=key, descending=descending, q=text or None)

    def without_search(
        limit: Annotated[int, Query(ge=1, le=max_limit, description="Items per page.")] = default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")] = 0,
        sort: Annotated[str, Query(pattern=pattern, max_length=40, description=sort_doc)] = default,
    ) -> ListParams:
        key, descending = parse_sort(sort, sorts)
        return ListParams(limit=limit, offset=offset, sort=key, descending=descending)

    return with_search if search else without_search
