"""The ai service's composition root: the model store and holder, the catalog view, the
training runner, its consumers and background work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from movieverse.ml.artifacts import ModelStore
from movieverse.platform.assembly import ServiceContext, add_readiness_warning
from movieverse.platform.events.consumers import subscribe_consumers
from movieverse.platform.settings import PlatformSettings
from movieverse.services.ai.consumers import AiHandlers, consumers
from movieverse.services.ai.jobs import TrainingRunner
from movieverse.services.ai.runtime import CatalogView, ModelHolder
from movieverse.services.ai.settings import AiSettings


@dataclass(frozen=True)
class AiRuntime:
    settings: AiSettings
    store: ModelStore
    models: ModelHolder
    catalog: CatalogView
    training: TrainingRunner


def model_store(platform: PlatformSettings, own: AiSettings) -> ModelStore:
    return ModelStore(own.models_dir or platform.var_dir / "models")


def _background(stack: AsyncExitStack, work: Coroutine[Any, Any, None], name: str) -> None:
    task = asyncio.create_task(work, name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


async def bootstrap(ctx: ServiceContext, own: AiSettings, stack: AsyncExitStack) -> AiRuntime:
    store = model_store(ctx.platform, own)
    holder = ModelHolder(store)
    catalog = CatalogView(ctx.db)
    runner = TrainingRunner(
        ctx.db,
        store=store,
        holder=holder,
        outbox=ctx.outbox,
        min_interactions=own.min_interactions,
        keep_versions=own.keep_versions,
    )
    stack.push_async_callback(runner.close)
    add_readiness_warning(ctx, "model", holder.warning)
    await holder.refresh()
    handlers = AiHandlers(catalog=catalog, outbox=ctx.outbox)
    subscribe_consumers(ctx.name, ctx.bus, ctx.inbox, consumers(handlers))
    runtime = AiRuntime(settings=own, store=store, models=holder, catalog=catalog, training=runner)
    # Every process serving models follows the current one; only consuming processes train.
    _background(stack, holder.watch(own.reload_seconds), "ai-model-watch")
    if ctx.shared.consume:
        await _start_training(runtime, stack)
    return runtime


async def _start_training(runtime: AiRuntime, stack: AsyncExitStack) -> None:
    own, holder, runner = runtime.settings, runtime.models, runtime.training
    await runner.resume()
    if own.train_on_start and holder.current is None:

        async def first_model() -> None:
            await asyncio.sleep(own.train_on_start_delay_seconds)
            if holder.current is None:
                await runner.train_if_due(kind=own.model_kind, trigger="start")

        _background(stack, first_model(), "ai-first-model")
    if own.train_every_seconds > 0:
        _background(
            stack,
            runner.schedule(every=own.train_every_seconds, kind=own.model_kind),
            "ai-train-schedule",
        )
