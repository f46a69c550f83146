"""Training at scale: a synthetic log of 20M ratings by 200k users of 50k movies.

The log (``movieverse.ml.datasets.synthetic_log``: Zipf-like popularity, heavy-tailed user
activity, clustered taste) is generated once and saved; then each model trains in its own
subprocess, which reports train seconds and its peak resident memory. The baseline measured in
the same run is building the user x item matrix itself (what every model starts from): each
model's train time is also given as a multiple of it.

EASE needs a dense 50k x 50k matrix (20 GB in float64) and its inverse: it refuses
(ModelTooLarge) and says so, and the service trains the hybrid with sparse item-kNN in its
place. Item-kNN (sparse, 100 neighbours), SAR-style Jaccard item-kNN and ALS train.

    .venv/bin/python bench/ai_scale.py [--users 200000 --items 50000 --ratings 20000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import machine_info, print_table, write_results

MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "matrix (baseline)": ("", {}),
    "popularity": ("popularity", {}),
    "itemknn": ("itemknn", {"similarity": "cosine", "neighbours": 100, "shrink": 10.0}),
    "sar (jaccard, 100 nn)": (
        "itemknn",
        {"similarity": "jaccard", "neighbours": 100, "shrink": 0.0},
    ),
    "als": ("als", {"factors": 64, "regularization": 0.1, "alpha": 2.0, "iterations": 15}),
    "ease": ("ease", {"l2": 1000.0}),
}
SAMPLE_USERS = 10_000


def child(log_file: Path, name: str) -> dict[str, Any]:
    from movieverse.ml.evaluate import recommend_all
    from movieverse.ml.interactions import Matrix, RatingLog
    from movieverse.ml.models.base import ModelTooLarge
    from movieverse.ml.models.registry import build_model

    with np.load(log_file) as saved:
        log = RatingLog(
            users=saved["users"],
            items=saved["items"],
            ratings=saved["ratings"],
            timestamps=saved["timestamps"],
        )
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    matrix = Matrix.from_log(log)
    matrix_seconds = time.perf_counter() - started
    result: dict[str, Any] = {"model": name, "matrix_seconds": round(matrix_seconds, 2)}
    kind, params = MODELS[name]
    if kind:
        model = build_model(kind, params)
        started = time.perf_counter()
        try:
            model.fit(matrix)
        except ModelTooLarge as exc:
            result["skipped"] = str(exc)
            return result
        result["train_seconds"] = round(time.perf_counter() - started, 2)
        users = np.random.default_rng(1).choice(matrix.shape[0], size=SAMPLE_USERS, replace=False)
        started = time.perf_counter()
        recommend_all(model, matrix, k=10, users=users.tolist())
        result["users_per_second"] = round(SAMPLE_USERS / (time.perf_counter() - started), 1)
        result["model_mib"] = round(sum(a.nbytes for a in model.state().values()) / 2**20, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_rss_mib"] = round(peak / 1024, 1)
    result["rss_growth_mib"] = round((peak - base_rss) / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--ratings", type=int, default=20_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1])))
        return
    from movieverse.ml.datasets import synthetic_log

    with tempfile.TemporaryDirectory(prefix="mv-ai-scale-") as tmp:
        started = time.perf_counter()
        data = synthetic_log(users=args.users, items=args.items, ratings=args.ratings)
        generate_seconds = time.perf_counter() - started
        log_file = Path(tmp) / "log.npz"
        log = data.log
        np.savez(
            log_file,
            users=log.users,
            items=log.items,
            ratings=log.ratings,
            timestamps=log.timestamps,
        )
        print(f"generated {len(log)} ratings in {generate_seconds:.1f} s")
        rows: list[dict[str, Any]] = []
        for name in MODELS:
            done = subprocess.run(  # noqa: S603 -- this script, fixed arguments
                [sys.executable, __file__, "--child", str(log_file), name],
                capture_output=True,
                text=True,
                check=False,
                timeout=3600,
            )
            if done.returncode != 0:
                rows.append({"model": name, "error": done.stderr.strip()[-400:]})
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  {name}: {rows[-1]}")
    baseline = float(rows[0]["matrix_seconds"])
    table = []
    for row in rows:
        train: float | None = row.get("train_seconds")
        table.append(
            [
                row["model"],
                f"{train:.1f}"
                if train is not None
                else ("—" if "skipped" not in row else "refused"),
                f"{train / baseline:.1f}" if train is not None else "",
                f"{row.get('peak_rss_mib', 0):.0f}",
                f"{row.get('model_mib', '')}",
                f"{row.get('users_per_second', '')}",
            ]
        )
    print_table(
        f"{len(log)} ratings, {args.users} users, {args.items} movies; matrix build "
        f"{baseline:.1f} s (the baseline)",
        ["model", "train s", "x matrix build", "peak RSS MiB", "model MiB", "users/s (top-10)"],
        table,
    )
    for row in rows:
        if "skipped" in row:
            print(f"{row['model']}: {row['skipped']}")
        if "error" in row:
            print(f"{row['model']} failed: {row['error']}")
    path = write_results(
        "ai_scale",
        {
            "machine": machine_info(),
            "users": args.users,
            "items": args.items,
            "ratings": len(log),
            "generate_seconds": round(generate_seconds, 1),
            "results": rows,
        },
    )
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
