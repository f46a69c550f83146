"""The evaluation as a table (models as columns, so runs line up across changes) and as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from movieverse.ml.evaluate import Evaluation
from movieverse.ml.published import MSR_ML100K

MSR_ROWS = ("MAP", "nDCG@k", "Precision@k", "Recall@k")
SHORT = {"Precision@k": "P@k", "Recall@k": "R@k"}
LOO_ROWS = ("HR@k", "nDCG@k")


def _label(metric: str, k: int) -> str:
    return SHORT.get(metric, metric).replace("@k", f"@{k}")


def evaluation_table(evaluation: Evaluation) -> Table:
    published = evaluation.protocol == "msr" and evaluation.dataset == "ml-100k"
    table = Table(
        title=f"{evaluation.dataset}, protocol {evaluation.protocol}, top-{evaluation.k}: "
        f"{evaluation.train_ratings} train / {evaluation.test_ratings} test ratings"
        + (f", split seed {evaluation.seed}" if evaluation.protocol == "msr" else "")
    )
    table.add_column("")
    names = list(evaluation.results)
    for name in names:
        table.add_column(name, justify="right")
    if published:
        for name in MSR_ML100K:
            table.add_column(name.replace(" (published)", " pub."), justify="right", style="dim")
    rows = MSR_ROWS if evaluation.protocol == "msr" else LOO_ROWS
    for metric in rows:
        cells = []
        for name in names:
            scores = evaluation.results[name].scores
            cells.append(f"{scores.as_dict()[metric]:.3f}" if scores else "—")
        if published:
            cells += [f"{figures[metric]:.3f}" for figures in MSR_ML100K.values()]
        table.add_row(_label(metric, evaluation.k), *cells)
    extra = ["—"] * len(MSR_ML100K) if published else []
    table.add_row(
        "valid. nDCG", *(f"{evaluation.results[n].validation_ndcg:.3f}" for n in names), *extra
    )
    table.add_row("train s", *(f"{evaluation.results[n].train_seconds:.2f}" for n in names), *extra)
    table.add_row(
        "rec. all s", *(f"{evaluation.results[n].recommend_seconds:.2f}" for n in names), *extra
    )
    if published:
        table.add_row(
            "hardware",
            *(["2-core CPU"] * len(names)),
            *(str(figures["hardware"]) for figures in MSR_ML100K.values()),
        )
        table.caption = "published: Microsoft Recommenders' MovieLens benchmark, their hardware"
    return table


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    document = evaluation.as_dict()
    if evaluation.protocol == "msr" and evaluation.dataset == "ml-100k":
        document["published"] = MSR_ML100K
    return document


def write_json(evaluation: Evaluation, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(evaluation_json(evaluation), indent=2, sort_keys=True) + "\n")
