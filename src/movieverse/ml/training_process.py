"""Training in a child process, so that the process serving requests keeps its interpreter, its
memory and its life while a model is fitted.

A fit holds the GIL for long stretches (TF-IDF tokenising is Python, and some SciPy routines keep
it while they run), can need gigabytes for a moment, and an out-of-memory kill must take the
trainer, not the server with its acknowledged requests. The child fits and saves the artifact
under ``models_dir``; the parent gets its metadata back and loads it like any other version.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from movieverse.ml.artifacts import ArtifactMeta, ModelStore
from movieverse.ml.interactions import IntArray, RatingLog
from movieverse.ml.training import train

# A terminated child (the job was cancelled) is given this long to be reaped.
JOIN_SECONDS = 30.0


class TrainingFailed(RuntimeError):
    """The child raised, or ended without a result (killed, out of memory, crashed)."""


@dataclass(frozen=True, slots=True)
class SavedModel:
    meta: ArtifactMeta
    seconds: float
    items: int
    # Parts replaced because the catalog was too large for them, with why.
    substitutions: list[str]


@dataclass(frozen=True, slots=True)
class TrainingInput:
    """Everything a fit needs, picklable: it crosses to the child process whole."""

    log: RatingLog
    kind: str
    catalog: IntArray
    documents: Mapping[int, str]
    models_dir: Path
    # The data snapshot's description, saved in the artifact's metadata.
    data: dict[str, Any]


def train_and_save(given: TrainingInput) -> SavedModel:
    """Fit ``given.kind`` and save it as the new current version under ``given.models_dir``."""
    trained = train(given.log, kind=given.kind, catalog=given.catalog, documents=given.documents)
    meta = ModelStore(given.models_dir).save(
        trained.model,
        item_ids=trained.item_ids,
        data={**given.data, "items": len(trained.item_ids)},
        metrics={"train_seconds": round(trained.seconds, 3)},
    )
    return SavedModel(meta, trained.seconds, len(trained.item_ids), trained.substitutions)


# How much the training process yields the CPU to the server's: training is background work
# that may take a while longer, a request waiting behind it is a user waiting (nice(2) adds this
# to the child's niceness; the server's own process keeps its priority).
TRAINING_NICENESS = 10


def _child(sender: Connection, given: TrainingInput) -> None:
    with contextlib.suppress(OSError):
        os.nice(TRAINING_NICENESS)
    try:
        outcome: tuple[str, Any] = ("ok", train_and_save(given))
    except BaseException as exc:  # whatever it was, the parent records it on the job
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    sender.send(outcome)
    sender.close()


def outcome_of(receiver: Connection, child: BaseProcess) -> tuple[str, Any]:
    """What the child sent, or why it sent nothing (blocks: run it in a thread)."""
    try:
        received: tuple[str, Any] = receiver.recv()
    except EOFError:
        child.join(JOIN_SECONDS)
        return (
            "error",
            f"the training process ended without a result (exit code {child.exitcode})",
        )
    return received


async def train_and_save_in_child(given: TrainingInput) -> SavedModel:
    """:func:`train_and_save` in a fresh process. Cancelling the caller terminates the child."""
    # Spawned, not forked: the parent has threads (database drivers, the event loop's
    # executors) whose locks a fork would copy mid-use.
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(sender, given), name="movieverse-ai-training", daemon=True
    )
    child.start()
    sender.close()  # the child holds the only writing end: its exit means EOF here
    waiting = asyncio.get_running_loop().run_in_executor(None, outcome_of, receiver, child)
    try:
        status, value = await asyncio.shield(waiting)
    except asyncio.CancelledError:
        child.terminate()
        await asyncio.wait([waiting], timeout=JOIN_SECONDS)
        raise
    finally:
        if waiting.done():
            receiver.close()
        await asyncio.to_thread(child.join, JOIN_SECONDS)
    if status != "ok":
        raise TrainingFailed(str(value))
    saved: SavedModel = value
    return saved
