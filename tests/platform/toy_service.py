"""A tiny service built with the platform, for testing the platform itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from movieverse.contracts.envelope import EventPayload, new_event
from movieverse.platform.assembly import (
    CtxDep,
    ServiceContext,
    ServiceDefinition,
    SessionDep,
    bootstrapped,
    build_service_app,
    runtime_of,
)
from movieverse.platform.errors import Conflict
from movieverse.platform.events.inbox import inbox_table
from movieverse.platform.events.outbox import outbox_table
from movieverse.platform.models import service_metadata
from movieverse.platform.security import CurrentUser
from movieverse.platform.settings import PlatformSettings, ServiceSettings


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
    sets the runtime's ``hold`` to (entered, release) events."""
    session.add(Note(text=f"{principal.username}: {body.text}"))
    await session.flush()
    hold = runtime_of(ctx, ToyRuntime).hold
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


@dataclass
class ToyRuntime:
    """Mutable, unlike a real service's: tests hold a write in flight through it."""

    hold: tuple[asyncio.Event, asyncio.Event] | None = None


async def bootstrap(ctx: ServiceContext, own: ToySettings, stack: AsyncExitStack) -> ToyRuntime:
    return ToyRuntime()


DEFINITION = ServiceDefinition(
    name="toy",
    title="Toy",
    description="A service that exists only in the tests.",
    metadata=Base.metadata,
    settings_factory=ToySettings,
    routers=[router],
    setup=bootstrapped(ToySettings, bootstrap),
)


def toy_settings(var_dir: Path, **values: object) -> PlatformSettings:
    """Platform settings for the toy on SQLite under ``var_dir``; ``values`` override."""
    base: dict[str, object] = {
        "environment": "test",
        "var_dir": var_dir,
        "auto_migrate": False,
        "max_body_bytes": 2048,
        "outbox_poll_seconds": 0.05,
        "database_url": None,
        "redis_url": None,
    }
    base.update(values)
    return PlatformSettings.model_validate(base)


@asynccontextmanager
async def toy_client(
    settings: PlatformSettings, *, raise_app_exceptions: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """The toy as its own process's app (started, its tables made), and a client for it."""
    engine = create_engine(f"sqlite:///{settings.var_dir / 'toy.db'}")
    Base.metadata.create_all(engine)
    engine.dispose()
    app = build_service_app(DEFINITION, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
            yield client


class HeldBody:
    """A request body the app waits for: the request stays inside the app until it is sent."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def chunks(self) -> AsyncIterator[bytes]:
        self.asked.set()
        await self.release.wait()
        yield self.payload
