"""Demo data for a first run: when the catalog is empty, fill it from the first source that works.

1. MovieLens from ``MOVIEVERSE_MOVIELENS_DIR``, when set;
2. the official ml-latest-small archive, downloaded and checksum-verified (when online);
3. a deterministic synthetic catalog (:mod:`movieverse.datasets.synthetic`), so the app is
   useful offline: movies with overviews and scores, people, credits, and ratings on disk.

A catalog that already has movies is left alone, so running it on every ``make run`` is cheap
and safe. In production it runs only with ``MOVIEVERSE_ALLOW_SEEDING=true`` (whose token the
production checks insist on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from movieverse.datasets import DatasetError, ensure_dataset
from movieverse.datasets.synthetic import write_synthetic_catalog
from movieverse.datasets.tmdb import TMDB_FILE_NAME
from movieverse.datasets.tmdb_credits import TMDB_CREDITS_FILE_NAME
from movieverse.ingest.runner import CatalogImport, ImportReport, Progress
from movieverse.platform.settings import PlatformSettings

SYNTHETIC_DIR = "movieverse-synthetic"
DEMO_DATASET = "ml-latest-small"


@dataclass
class DemoOutcome:
    # "existing", "movielens-dir", "download", "synthetic", or "skipped"
    source: str
    detail: str
    report: ImportReport | None = None
    # Why earlier sources were passed over, in order.
    fallbacks: list[str] = field(default_factory=list)


def datasets_root(settings: PlatformSettings) -> Path:
    return settings.datasets_dir or settings.var_dir / "datasets"


async def seed_demo_catalog(
    settings: PlatformSettings,
    *,
    progress: Progress | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> DemoOutcome:
    if settings.is_production and not settings.allow_seeding:
        return DemoOutcome("skipped", "production without MOVIEVERSE_ALLOW_SEEDING=true")
    if not settings.demo_data:
        return DemoOutcome("skipped", "MOVIEVERSE_DEMO_DATA=false")
    async with CatalogImport(settings, progress=progress) as catalog:
        size = await catalog.catalog_size()
        if size:
            return DemoOutcome("existing", f"the catalog already has {size} movies")
        fallbacks: list[str] = []
        if settings.movielens_dir is not None:
            folder = settings.movielens_dir
            say(f"demo data: MovieLens from MOVIEVERSE_MOVIELENS_DIR ({folder})")
            try:
                await catalog.movielens(folder)
            except DatasetError as exc:
                fallbacks.append(f"MOVIEVERSE_MOVIELENS_DIR: {exc}")
            else:
                return DemoOutcome("movielens-dir", str(folder), catalog.report, fallbacks)
        if settings.demo_download:
            say(f"demo data: fetching {DEMO_DATASET} from GroupLens (checksum-verified)")
            try:
                folder = ensure_dataset(
                    DEMO_DATASET,
                    datasets_root(settings),
                    download=True,
                    url=settings.demo_download_url,
                )
            except DatasetError as exc:
                fallbacks.append(f"download: {exc}")
            else:
                await catalog.movielens(folder)
                return DemoOutcome("download", str(folder), catalog.report, fallbacks)
        else:
            fallbacks.append("download: off (MOVIEVERSE_DEMO_DOWNLOAD=false)")
        for reason in fallbacks:
            say(f"demo data: passed over {reason}")
        root = datasets_root(settings) / SYNTHETIC_DIR
        say(f"demo data: writing a synthetic catalog to {root}")
        synthetic = write_synthetic_catalog(root)
        await catalog.tmdb_movies(synthetic.tmdb_dir / TMDB_FILE_NAME)
        await catalog.tmdb_credits(synthetic.tmdb_dir / TMDB_CREDITS_FILE_NAME)
        await catalog.movielens(synthetic.movielens_dir)
        detail = (
            f"{synthetic.movies} movies, {synthetic.people} people, {synthetic.ratings} ratings "
            f"(in {synthetic.movielens_dir / 'ratings.csv'}), {synthetic.tags} tags"
        )
        return DemoOutcome("synthetic", detail, catalog.report, fallbacks)
