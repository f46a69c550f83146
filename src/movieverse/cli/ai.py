"""``movieverse ai ...``: offline evaluation and training from the command line."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from movieverse.ml.evaluate import MODELS, PROTOCOLS, Protocol, evaluate
from movieverse.ml.report import evaluation_table, write_json

ai_app = typer.Typer(help="MovieVerse-AI: evaluate and train recommenders.", no_args_is_help=True)
# Wide enough for seven models beside three published columns, also when piped to a file.
console = Console(width=max(shutil.get_terminal_size().columns, 140))


def dataset_folder(path_or_name: str, *, download: bool) -> Path:
    """A directory, or a dataset name under MOVIEVERSE_DATASETS_DIR (downloaded and checksum-
    verified from GroupLens when absent and ``download`` is set)."""
    from movieverse.datasets import DatasetError, ensure_dataset
    from movieverse.ingest.demo import datasets_root
    from movieverse.platform.settings import PlatformSettings

    candidate = Path(path_or_name)
    if candidate.exists():
        return candidate
    try:
        return ensure_dataset(path_or_name, datasets_root(PlatformSettings()), download=download)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@ai_app.command("evaluate")
def evaluate_command(
    *,
    dataset: Annotated[
        str, typer.Option(help="A MovieLens directory, or a name: ml-100k, ml-latest-small, ...")
    ] = "ml-100k",
    protocol: Annotated[str, typer.Option(help="msr (Microsoft Recommenders) or loo")] = "msr",
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Repeatable; every model when omitted")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=100)] = 10,
    seed: Annotated[
        int,
        typer.Option(
            min=0,
            help="The test split's seed. msr's own is 42; another seed draws a fresh test split, "
            "with tuning redone on validation carved from its training part",
        ),
    ] = 42,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Where to write the results as JSON")
    ] = None,
    download: Annotated[bool, typer.Option(help="Fetch a named dataset when absent")] = True,
) -> None:
    """Tune each model on validation data, train it on the training split, measure it once on
    the test split, and print the models side by side (with the published figures for msr)."""
    from movieverse.ml.datasets import load_movielens

    if protocol not in PROTOCOLS:
        console.print(f"[red]Unknown protocol {protocol!r}.[/red] Known: {', '.join(PROTOCOLS)}")
        raise typer.Exit(2)
    unknown = sorted(set(model or ()) - set(MODELS))
    if unknown:
        console.print(f"[red]Unknown model {', '.join(unknown)}.[/red] Known: {', '.join(MODELS)}")
        raise typer.Exit(2)
    folder = dataset_folder(dataset, download=download)
    started = time.perf_counter()
    data = load_movielens(folder)
    chosen: Protocol = "msr" if protocol == "msr" else "loo"
    result = evaluate(
        data,
        protocol=chosen,
        models=model or MODELS,
        k=k,
        seed=seed,
        say=lambda line: console.print(f"[dim]{line}[/dim]"),
    )
    console.print(evaluation_table(result))
    best = result.best()
    if best is not None and best.scores is not None:
        console.print(f"best: [bold]{best.name}[/bold], nDCG@{k} {best.scores.ndcg:.3f}")
    for name, outcome in result.results.items():
        if outcome.skipped:
            console.print(f"[yellow]{name} skipped:[/yellow] {outcome.skipped}")
    console.print(f"[dim]{time.perf_counter() - started:.1f} s in all[/dim]")
    if json_path is not None:
        write_json(result, json_path)
        console.print(f"results written to {json_path}")


@ai_app.command("train")
def train_command(
    *,
    kind: Annotated[
        str | None, typer.Option(help="popularity, itemknn, ease, als, content or hybrid")
    ] = None,
) -> None:
    """Train a model on the ai service's interactions (ratings made in MovieVerse, and those
    `movieverse import` brought in) and make it current. A running server swaps to it within
    MOVIEVERSE_AI_RELOAD_SECONDS."""
    import asyncio

    from movieverse.ml.models.registry import KINDS
    from movieverse.platform.assembly import SharedRuntime, runtime_of, service_runtime
    from movieverse.platform.errors import Conflict
    from movieverse.platform.settings import PlatformSettings
    from movieverse.services.ai import jobs
    from movieverse.services.ai.app import DEFINITION
    from movieverse.services.ai.bootstrap import AiRuntime
    from movieverse.services.ai.runtime import ModelHolder

    if kind is not None and kind not in KINDS:
        console.print(f"[red]Unknown kind {kind!r}.[/red] Known: {', '.join(KINDS)}")
        raise typer.Exit(2)
    settings = PlatformSettings()

    async def run() -> dict[str, object]:
        runtime = SharedRuntime(settings, consume=False)
        async with service_runtime(DEFINITION, settings, runtime, start_relay=False) as ctx:
            own = runtime_of(ctx, AiRuntime).settings
            store = runtime_of(ctx, AiRuntime).store
            job = await jobs.request_training(
                ctx.db, kind=kind or own.model_kind, trigger="cli", requested_by=None
            )
            await jobs.run_training(
                ctx.db,
                job_id=job.id,
                store=store,
                holder=ModelHolder(store),
                outbox=ctx.outbox,
                min_interactions=own.min_interactions,
                keep_versions=own.keep_versions,
            )
            return await jobs.get_job(ctx.db, job_id=job.id)

    try:
        job = asyncio.run(run())
    except Conflict as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if job["status"] != "succeeded":
        console.print(f"[red]failed[/red]: {job['error']}")
        raise typer.Exit(1)
    details = job["details"]
    assert isinstance(details, dict)
    console.print(
        f"[green]trained[/green] {job['kind']} version {job['version']} on "
        f"{job['interactions']} interactions, {details.get('items')} movies, in "
        f"{details.get('train_seconds')} s"
    )
    for note in details.get("substitutions") or []:
        console.print(f"[yellow]{note}[/yellow]")
