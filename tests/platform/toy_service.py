"""A tiny service built with the platform, for testing the platform itself."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.platform.errors import Conflict
from movieverse.platform.events.envelope import EventPayload, new_event
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata
from movieverse.platform.security import CurrentUser
from movieverse.platform.service import CtxDep, ServiceDefinition, SessionDep
from movieverse.platform.settings import ServiceSettings


class Base(DeclarativeBase):
    metadata = service_metadata()


class Note(Base):
    __tablename__ = "toy_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


outbox_table(Base.metadata, "toy")
inbox_table(Base.metadata, "toy")


class NoteWritten(EventPayload):
    event_type = "toy.note.written"

    text: str


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=200)
    count: int = Field(default=1, ge=1, le=1000)


router = APIRouter(prefix="/toy")


@router.post("/notes", status_code=201)
async def write_note(
    body: NoteCreate,
    session: SessionDep,
    ctx: CtxDep,
    fail: Annotated[str | None, Query(pattern="^(conflict|crash)$")] = None,
) -> dict[str, int]:
    note = Note(text=body.text)
    session.add(note)
    await session.flush()
    await ctx.outbox.add(session, new_event(NoteWritten(text=body.text), producer="toy", key="n"))
    if fail == "conflict":
        raise Conflict("refused after writing")
    if fail == "crash":
        raise RuntimeError("SELECT secret FROM internals -- must never reach a client")
    return {"id": note.id}


@router.get("/notes/count")
async def count_notes(session: SessionDep) -> dict[str, int]:
    total = (await session.execute(select(func.count()).select_from(Note))).scalar_one()
    return {"count": int(total)}


@router.post("/my-notes", status_code=201)
async def write_my_note(
    body: NoteCreate, principal: CurrentUser, session: SessionDep, ctx: CtxDep
) -> dict[str, int]:
    """An authenticated write that can be held between its token check and its commit: a test
    sets ``ctx.state["hold"]`` to (entered, release) events."""
    session.add(Note(text=f"{principal.username}: {body.text}"))
    await session.flush()
    hold: tuple[asyncio.Event, asyncio.Event] | None = ctx.state.get("hold")
    if hold is not None:
        entered, release = hold
        entered.set()
        await release.wait()
    return {"written": 1}


@router.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


class ToySettings(ServiceSettings):
    pass


DEFINITION = ServiceDefinition(
    name="toy",
    title="Toy",
    description="A service that exists only in the tests.",
    metadata=Base.metadata,
    settings_factory=ToySettings,
    routers=[router],
)
