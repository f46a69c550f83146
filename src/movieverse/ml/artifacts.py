"""Versioned model artifacts under ``var/models``.

Each version is a directory holding ``model.npz`` (the learned arrays and the item axis) and
``meta.json`` (kind, parameters, the data snapshot it was trained on, metrics, and the SHA-256 of
``model.npz``). A version is written beside the others under a temporary name and renamed into
place only when complete; ``CURRENT`` then names it, replaced atomically. A reader therefore
sees the old model or the new one, never half of either, and a truncated or altered file fails
its checksum instead of loading as a different model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from movieverse.ml.interactions import IntArray
from movieverse.ml.models.base import Recommender
from movieverse.ml.models.registry import build_model

CURRENT = "CURRENT"
MODEL_FILE = "model.npz"
META_FILE = "meta.json"
ITEM_AXIS = "__item_ids__"


class ArtifactError(Exception):
    """A model version is missing, incomplete or corrupt."""


@dataclass(frozen=True, slots=True)
class ArtifactMeta:
    version: str
    kind: str
    params: dict[str, Any]
    created_at: str
    # What it learned from: counts, the newest interaction, where the data came from.
    data: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LoadedArtifact:
    meta: ArtifactMeta
    model: Recommender
    item_ids: IntArray


def new_version(now: datetime | None = None) -> str:
    """Sortable by time (to the microsecond), unique across processes:
    20261201T203000123456Z-1a2b3c."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{moment}-{uuid.uuid4().hex[:6]}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(
        self,
        model: Recommender,
        *,
        item_ids: IntArray,
        data: dict[str, Any],
        metrics: dict[str, Any] | None = None,
        make_current: bool = True,
    ) -> ArtifactMeta:
        self.root.mkdir(parents=True, exist_ok=True)
        version = new_version()
        staging = self.root / f".staging-{version}"
        staging.mkdir()
        try:
            arrays = dict(model.state())
            arrays[ITEM_AXIS] = np.asarray(item_ids, dtype=np.int64)
            with (staging / MODEL_FILE).open("wb") as file:
                np.savez(file, **arrays)  # type: ignore[arg-type]
            _fsync(staging / MODEL_FILE)
            meta = ArtifactMeta(
                version=version,
                kind=model.kind,
                params=model.params(),
                created_at=datetime.now(UTC).isoformat(),
                data=data,
                metrics=metrics or {},
                sha256=_sha256(staging / MODEL_FILE),
            )
            (staging / META_FILE).write_text(json.dumps(meta.as_dict(), indent=2, sort_keys=True))
            _fsync(staging / META_FILE)
            staging.rename(self.root / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if make_current:
            self.make_current(version)
        return meta

    def make_current(self, version: str) -> None:
        if not (self.root / version / META_FILE).is_file():
            raise ArtifactError(f"model version {version} does not exist")
        pointer = self.root / f".{CURRENT}-{uuid.uuid4().hex}"
        pointer.write_text(json.dumps({"version": version}))
        _fsync(pointer)
        os.replace(pointer, self.root / CURRENT)

    def current_version(self) -> str | None:
        try:
            document = json.loads((self.root / CURRENT).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{self.root / CURRENT} is unreadable: {exc}") from exc
        version = document.get("version") if isinstance(document, dict) else None
        if not isinstance(version, str) or "/" in version or version.startswith("."):
            raise ArtifactError(f"{self.root / CURRENT} names no valid version")
        return version

    def meta(self, version: str) -> ArtifactMeta:
        try:
            document = json.loads((self.root / version / META_FILE).read_text())
            return ArtifactMeta(**document)
        except FileNotFoundError as exc:
            raise ArtifactError(f"model version {version} has no {META_FILE}") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise ArtifactError(f"model version {version}: unreadable {META_FILE}: {exc}") from exc

    def versions(self) -> list[ArtifactMeta]:
        """Every complete version, newest first (a corrupt one is left out)."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir(), reverse=True):
            if entry.is_dir() and not entry.name.startswith("."):
                try:
                    found.append(self.meta(entry.name))
                except ArtifactError:
                    continue
        return found

    def load(self, version: str | None = None) -> LoadedArtifact:
        """The given version, or the current one. Raises :class:`ArtifactError` when there is
        none, or when its file is missing, altered or unreadable."""
        chosen = version or self.current_version()
        if chosen is None:
            raise ArtifactError(f"no current model under {self.root}")
        meta = self.meta(chosen)
        path = self.root / chosen / MODEL_FILE
        try:
            if _sha256(path) != meta.sha256:
                raise ArtifactError(f"model version {chosen}: {MODEL_FILE} fails its checksum")
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            item_ids = arrays.pop(ITEM_AXIS)
            model = build_model(meta.kind, meta.params)
            model.load_state(arrays)
        except ArtifactError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"model version {chosen} cannot be loaded: {exc}") from exc
        return LoadedArtifact(meta=meta, model=model, item_ids=np.asarray(item_ids, np.int64))

    def prune(self, *, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions (never the current one)."""
        current = self.current_version()
        removed = []
        for meta in self.versions()[keep:]:
            if meta.version != current:
                shutil.rmtree(self.root / meta.version, ignore_errors=True)
                removed.append(meta.version)
        return removed
