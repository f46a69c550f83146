"""The recommendations service's response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Reason(BaseModel):
    kind: Literal["rated", "similar", "popular_in_genre", "popular"]
    text: str
    movie_id: int | None = None
    genre_id: int | None = None


class RecommendedMovie(BaseModel):
    id: int
    title: str
    score: float
    reason: Reason


class ModelRef(BaseModel):
    version: str
    kind: str
    trained_at: str


class RecommendationPage(BaseModel):
    page: int
    per_page: int
    total_results: int
    total_pages: int
    # "model": personal, from the current model; "fallback": popular in the user's genres
    # (no model yet, or nothing the model knows about this user).
    source: Literal["model", "fallback"]
    model: ModelRef | None
    genres: list[int]
    # True: the user's previous page, answered while their new one (after a rating, a list
    # or preference change, or a new model) is computed; movies they rated or listed since
    # are already left out. Asking again shortly gets the new page.
    stale: bool = False
    results: list[RecommendedMovie]
