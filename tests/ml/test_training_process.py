"""Training in a child process: the artifact it saves, its errors, its death and its cancelling."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from movieverse.ml.artifacts import ModelStore
from movieverse.ml.datasets import synthetic_log
from movieverse.ml.training_process import (
    TrainingFailed,
    TrainingInput,
    outcome_of,
    train_and_save_in_child,
)

CHILD_NAME = "movieverse-ai-training"


def _children() -> list[str]:
    return [p.name for p in multiprocessing.active_children() if p.name == CHILD_NAME]


async def test_the_child_saves_the_new_current_version(tmp_path: Path) -> None:
    data = synthetic_log(users=60, items=40, ratings=900, seed=5)
    catalog = np.unique(data.log.items)
    given = TrainingInput(data.log, "ease", catalog, data.documents, tmp_path, {"source": "test"})
    saved = await train_and_save_in_child(given)
    store = ModelStore(tmp_path)
    assert store.current_version() == saved.meta.version
    loaded = store.load()
    assert loaded.meta.kind == "ease"
    assert loaded.meta.data["items"] == saved.items == len(loaded.item_ids) == 40
    assert loaded.meta.data["source"] == "test"
    assert saved.seconds > 0
    assert not _children()


async def test_an_error_in_the_child_is_raised_with_its_message(tmp_path: Path) -> None:
    data = synthetic_log(users=20, items=10, ratings=100, seed=5)
    with pytest.raises(TrainingFailed, match="no-such-model"):
        await train_and_save_in_child(
            TrainingInput(data.log, "no-such-model", np.unique(data.log.items), {}, tmp_path, {})
        )
    assert ModelStore(tmp_path).current_version() is None


def test_a_child_that_dies_without_a_result_is_reported_with_its_exit_code() -> None:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=os._exit, args=(3,))  # dies as an out-of-memory kill would
    child.start()
    sender.close()
    status, message = outcome_of(receiver, child)
    assert status == "error"
    assert "exit code 3" in message


async def test_cancelling_the_job_terminates_the_child(tmp_path: Path) -> None:
    data = synthetic_log(users=3000, items=2000, ratings=150_000, seed=5)
    given = TrainingInput(data.log, "als", np.unique(data.log.items), {}, tmp_path, {})
    job = asyncio.create_task(train_and_save_in_child(given))
    for _ in range(200):  # until the child is running
        if _children():
            break
        await asyncio.sleep(0.01)
    assert _children()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert not _children()
