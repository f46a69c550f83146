"""Pagination (DESIGN rule 7): page/per_page pages for browsing, opaque cursors for feeds."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from movieverse.platform.errors import BadRequest

MAX_PER_PAGE = 100
# Deep offsets are costly and never useful to a person; beyond this, refine the query instead.
MAX_PAGE = 500


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page")] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(page_params)]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    page: int
    per_page: int
    total_results: int
    total_pages: int
    results: list[T]

    @classmethod
    def build(cls, params: PageParams, *, total: int, results: list[T]) -> Page[T]:
        return cls(
            page=params.page,
            per_page=params.per_page,
            total_results=total,
            total_pages=math.ceil(total / params.per_page) if total else 0,
            results=results,
        )


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is malformed; use one returned by this endpoint") from exc
    if not isinstance(value, dict):
        raise BadRequest("The cursor is malformed; use one returned by this endpoint")
    return value
