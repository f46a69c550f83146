"""Recommender training time, memory and recommend-all throughput on the real MovieLens data.

For ml-100k and ml-latest-small (read in place from ../shared/data, or MOVIEVERSE_DATASETS_DIR),
each model the service can train, with the service's default parameters, on the whole log:

* train seconds, and the peak resident memory of a process that loads the data and trains
  (each model in a fresh subprocess, so one model's memory does not hide another's);
* the loaded model's size: the bytes of its arrays (what a serving process holds) and its
  artifact on disk (``model.npz``);
* recommend-all: the top 10 unseen movies for every user, in users/s, beside the SAR-style
  item-kNN measured in the same run (the ratio) and beside SAR's published 0.09 s for all
  ml-100k users (Microsoft Recommenders' benchmark; their hardware, not ours).

    .venv/bin/python bench/ai_models.py [--dataset ml-100k --dataset ml-latest-small]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import REPO_ROOT, machine_info, print_table, write_results

KINDS = ("popularity", "sar", "itemknn", "ease", "session_ease", "als", "content", "hybrid")
SAR_PUBLISHED_SECONDS = 0.09


def datasets_root() -> Path:
    configured = os.environ.get("MOVIEVERSE_DATASETS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


def measure(dataset: Path, kind: str) -> dict[str, Any]:
    """Runs in the child: load, train, save, reload, recommend for everyone."""
    from movieverse.ml.artifacts import ModelStore
    from movieverse.ml.datasets import load_movielens
    from movieverse.ml.evaluate import recommend_all
    from movieverse.ml.interactions import Matrix
    from movieverse.ml.models.registry import build_model
    from movieverse.ml.training import DEFAULT_PARAMS

    data = load_movielens(dataset)
    matrix = Matrix.from_log(data.log)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "sar":
        model_kind, params = (
            "itemknn",
            {"similarity": "jaccard", "shrink": 0.0, "neighbours": 100_000},
        )
    else:
        model_kind, params = kind, DEFAULT_PARAMS[kind]
    model = build_model(model_kind, params, documents=data.documents)
    started = time.perf_counter()
    model.fit(matrix)
    train_seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    state_bytes = sum(array.nbytes for array in model.state().values())
    with tempfile.TemporaryDirectory() as tmp:
        store = ModelStore(Path(tmp))
        meta = store.save(model, item_ids=matrix.item_ids, data={"bench": True})
        artifact_bytes = (Path(tmp) / meta.version / "model.npz").stat().st_size
        loaded = store.load().model
    started = time.perf_counter()
    recommend_all(loaded, matrix, k=10)
    recommend_seconds = time.perf_counter() - started
    return {
        "dataset": dataset.name,
        "model": kind,
        "ratings": len(data.log),
        "users": matrix.shape[0],
        "items": matrix.shape[1],
        "train_seconds": round(train_seconds, 3),
        "peak_rss_mib": round(peak_rss / 1024, 1),
        "train_rss_growth_mib": round((peak_rss - base_rss) / 1024, 1),
        "model_array_mib": round(state_bytes / 2**20, 2),
        "artifact_mib": round(artifact_bytes / 2**20, 2),
        "recommend_all_seconds": round(recommend_seconds, 3),
        "users_per_second": round(matrix.shape[0] / recommend_seconds, 1),
    }


def run_child(dataset: Path, kind: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 -- this script, fixed arguments
        [sys.executable, __file__, "--child", str(dataset), kind],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        return {"dataset": dataset.name, "model": kind, "error": done.stderr.strip()[-500:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", action="append", default=None)
    parser.add_argument("--child", nargs=2, metavar=("DATASET", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), args.child[1])))
        return
    results: list[dict[str, Any]] = []
    for name in args.dataset or ["ml-100k", "ml-latest-small"]:
        folder = datasets_root() / name
        if not folder.is_dir():
            print(f"{folder} is absent: skipped")
            continue
        rows = [run_child(folder, kind) for kind in KINDS]
        sar = next((r for r in rows if r["model"] == "sar" and "error" not in r), None)
        table = []
        for row in rows:
            if "error" in row:
                table.append([row["model"], "error", row["error"][:60], "", "", "", "", ""])
                continue
            if sar is not None:
                row["recommend_all_vs_our_sar"] = round(
                    row["recommend_all_seconds"] / sar["recommend_all_seconds"], 2
                )
            if name == "ml-100k":
                row["recommend_all_vs_published_sar"] = round(
                    row["recommend_all_seconds"] / SAR_PUBLISHED_SECONDS, 2
                )
            table.append(
                [
                    row["model"],
                    f"{row['train_seconds']:.2f}",
                    f"{row['peak_rss_mib']:.0f}",
                    f"{row['model_array_mib']:.1f}",
                    f"{row['artifact_mib']:.1f}",
                    f"{row['recommend_all_seconds']:.3f}",
                    f"{row['users_per_second']:.0f}",
                    f"{row.get('recommend_all_vs_our_sar', '')}",
                ]
            )
        first = rows[0]
        print_table(
            f"{name}: {first.get('ratings')} ratings, {first.get('users')} users, "
            f"{first.get('items')} movies (each model in its own process)",
            [
                "model",
                "train s",
                "peak RSS MiB",
                "model MiB",
                "artifact MiB",
                "rec-all s",
                "users/s",
                "rec-all / our SAR",
            ],
            table,
        )
        if name == "ml-100k":
            print(
                f"SAR published: {SAR_PUBLISHED_SECONDS} s to recommend for all ml-100k users "
                "(Microsoft Recommenders' benchmark; different hardware, so compare with care)"
            )
        results += rows
    path = write_results("ai_models", {"machine": machine_info(), "results": results})
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
