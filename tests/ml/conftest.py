"""The real datasets, where ../shared/data (or MOVIEVERSE_DATASETS_DIR) has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.datasets.conftest import require_dataset


@pytest.fixture(scope="session")
def ml_100k_dir() -> Path:
    return require_dataset("ml-100k", "u.item")
