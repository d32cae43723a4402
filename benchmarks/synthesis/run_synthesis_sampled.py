"""The sampled softmax (``num_negatives``) against the exact passes: Cora-ML, and PubMed to the stopping rule.

``--graph cora_ml``: on the CELL split, GraphSynthesizer and CELL trained with the exact passes
(``num_negatives=None``) and with ``num_negatives=1024`` (seeds 0-2, 3 samples each, ``eo_target=0.52``):
epochs, fit seconds, EO, the mean relative error of the statistics of ``run_synthesis_table``, triangles,
test AUC. For the sampled models it also reports how far their approximations are from the exact
quantities of the same factors: the L1 distance between the approximate and the exact stationary law,
the largest error of the estimated log-normalisers, and the statistics of a graph drawn with the exact
sampler from those factors (so the training's share of the gap is separated from the sampler's).

``--graph pubmed``: GraphSynthesizer with the default ``num_negatives="auto"`` (sampled past 10,000 nodes) on
the PubMed largest component, ``eo_target=0.52``, evaluated every 10 epochs, up to ``--max-epochs``: the epochs
and seconds it takes, peak RSS, and a sample's statistics against the real graph.

Prints one JSON line per row; ``--out FILE`` appends them to a JSON-lines file, and ``--report FILE`` writes
``results/synthesis_sampled.md`` from such a file.

    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_sampled --graph cora_ml \
        --out benchmarks/results/sampled_rows.jsonl
    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_sampled --graph cora_ml --negatives 4096 \
        --models GraphSynthesizer --out benchmarks/results/sampled_rows.jsonl
    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_sampled --graph pubmed \
        --out benchmarks/results/sampled_rows.jsonl
    python -m benchmarks.synthesis.run_synthesis_sampled --report benchmarks/results/sampled_rows.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    RESULTS,
    commit,
    emit,
    fit_and_sample,
    load_graph,
    machine_line,
    max_rss_bytes,
    table_head,
    today,
)
from benchmarks.synthesis.run_synthesis_table import STATS

SEEDS = (0, 1, 2)
SAMPLES = 3


def _emit(row, out):
    row["commit"] = commit()
    emit(row, out)


def cora_ml(out, negatives_list=(None, 1024), models=("GraphSynthesizer", "CELL")):
    import torch

    from graphwgan import metrics
    from graphwgan.splits import load_split
    from graphwgan.synthesis import CELL, GraphSynthesizer
    from graphwgan.synthesis.exact_walk import cell_sample_keys, score_rows
    from graphwgan.synthesis.generator import keys_to_data
    from graphwgan.synthesis.stationary import stationary_law

    split = load_split("cora_ml")
    train = split.train
    reference = metrics.graph_statistics(train)
    classes = {"GraphSynthesizer": GraphSynthesizer, "CELL": CELL}
    for name in models:
        model_class = classes[name]
        for negatives in negatives_list:
            for seed in SEEDS:
                start = time.perf_counter()
                model = model_class(eo_target=0.52, num_negatives=negatives, random_state=seed).fit(train)
                fit_seconds = time.perf_counter() - start
                samples = [model.sample(seed=1000 * seed + k) for k in range(SAMPLES)]
                stats = [metrics.graph_statistics(sample) for sample in samples]
                mean = {k: float(np.mean([s[k] for s in stats])) for k in STATS}
                lp = metrics.link_prediction_scores(model.score_pairs(split.test_edges.T),
                                                    model.score_pairs(split.test_non_edges.T))
                row = {"graph": "cora_ml", "model": name, "num_negatives": negatives, "seed": seed,
                       "epochs": model.n_epochs_, "fit_seconds": fit_seconds,
                       "eo": float(np.mean([metrics.edge_overlap(s, train) for s in samples])),
                       "mre": metrics.mean_relative_error(mean, reference, keys=STATS),
                       "triangles": mean["triangle_count"], "max_degree": mean["max_degree"], "auc": lp.roc_auc}
                if negatives is not None:
                    source, target = model.source_factors_, model.target_factors_
                    start = torch.as_tensor(model.stationary_, dtype=torch.float32)
                    pi, lse, _ = stationary_law(source, target, start)
                    row["pi_l1"] = float(np.abs(pi.double().numpy() - model.stationary_).sum())
                    row["lse_max_error"] = float((lse - model.log_normalizers_).abs().max())
                    row["lse_mean_error"] = float((lse - model.log_normalizers_).abs().mean())
                    keys = cell_sample_keys(score_rows(source, target, lse, pi), model.num_nodes_, model.num_edges_,
                                            torch.Generator().manual_seed(seed))
                    exact = metrics.graph_statistics(keys_to_data(keys.numpy(), model.num_nodes_, {}))
                    row["exact_sampler_mre"] = metrics.mean_relative_error({k: exact[k] for k in STATS}, reference,
                                                                           keys=STATS)
                _emit(row, out)


def pubmed(out, max_epochs):
    from graphwgan import metrics
    from graphwgan.synthesis import GraphSynthesizer

    graph = load_graph("pubmed")
    model = GraphSynthesizer(eo_target=0.52, eval_every=10, max_epochs=max_epochs, random_state=0)
    run = fit_and_sample(model, graph, STATS)  # the row records whether the target was reached
    _emit({"graph": "pubmed", "model": "GraphSynthesizer", "num_negatives": "auto", "nodes": int(graph.num_nodes),
           "edges": int(graph.num_edges // 2), "epochs": model.n_epochs_, "converged": model.converged_,
           "fit_seconds": run["fit_seconds"], "sample_seconds": run["sample_seconds"], "eval_eo": model.edge_overlap_,
           "sample_eo": metrics.edge_overlap(run["sample"], graph), "eo_history": model.history_.edge_overlap,
           "seconds_history": model.history_.seconds, "real": run["real"], "sample": run["sample_stats"],
           "mre": metrics.mean_relative_error(run["sample_stats"], run["real"], keys=STATS),
           "peak_rss_gb": max_rss_bytes() / 1e9}, out)


def report(path):
    """``results/synthesis_sampled.md`` from the JSON lines in ``path`` (the last row per key wins)."""
    rows = {}
    for line in Path(path).read_text().splitlines():
        row = json.loads(line)
        rows[(row["graph"], row["model"], str(row["num_negatives"]), row.get("seed"))] = row
    lines = [
        "# The sampled softmax against the exact passes",
        "",
        "- command: `OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_sampled --graph cora_ml` and"
        " `--graph pubmed`"
        " (rows in `results/sampled_rows.jsonl`), then `--report results/sampled_rows.jsonl`",
        f"- commit: {commit()} when this was written; rows measured at commits "
        f"{sorted({r.get('commit', '160bfe0') for r in rows.values()})} (rows without a stamp: 160bfe0, whose"
        " sampled-walk code is the one measured); date: " + today(),
        machine_line() + "; one torch thread; measured while other jobs shared the 2 cores (load average about 3), so"
        " seconds are inflated",
        "",
        "## Cora-ML (CELL split): same models, exact passes against `num_negatives=1024`",
        "",
        f"Seeds {SEEDS[0]}-{SEEDS[-1]}, {SAMPLES} samples per seed, `eo_target=0.52`. `π L1` = L1 distance between"
        " the sampled form's stationary law and the exact one of the same factors; `ℓ error` = mean / largest"
        " absolute error of its log-normalisers; `exact-sampler MRE` = mean relative error of a graph drawn from"
        " the same factors with the exact sampler (so the training's share of the gap shows apart from the"
        " sampler's).",
        "",
        *table_head(["model", "negatives", "epochs", "fit s", "EO", "MRE", "triangles", "max degree", "test AUC",
                     "π L1", "ℓ error", "exact-sampler MRE"]),
    ]
    for model in ("GraphSynthesizer", "CELL"):
        for negatives in sorted({k[2] for k in rows if k[0] == "cora_ml" and k[1] == model},
                                key=lambda value: -1 if value == "None" else int(value)):
            group = [r for k, r in rows.items() if k[0] == "cora_ml" and k[1] == model and k[2] == negatives]
            if not group:
                continue

            def mean(key, group=group):
                values = [r[key] for r in group if key in r]
                return float(np.mean(values)) if values else float("nan")

            sampled = negatives != "None"
            lines.append(
                f"| {model} | {negatives if sampled else 'exact'} | {mean('epochs'):.0f} | {mean('fit_seconds'):.1f} "
                f"| {mean('eo'):.3f} | {mean('mre'):.3f} | {mean('triangles'):.0f} | {mean('max_degree'):.0f} "
                f"| {mean('auc'):.3f} | " + (f"{mean('pi_l1'):.3f} | {mean('lse_mean_error'):.3f} / "
                                            f"{max(r['lse_max_error'] for r in group):.2f} | "
                                            f"{mean('exact_sampler_mre'):.3f} |" if sampled else "— | — | — |"))
    lines += ["", "Real Cora-ML training graph: 2,802 triangles, max degree 238.", ""]
    for row in (r for k, r in rows.items() if k[0] == "pubmed"):
        lines += [
            f"## PubMed ({row['nodes']:,} nodes, {row['edges']:,} edges): `GraphSynthesizer()` with"
            " `num_negatives=\"auto\"` to `eo_target=0.52`",
            "",
            f"- epochs: {row['epochs']} (evaluated every 10), converged: {row['converged']};"
            f" fit {row['fit_seconds']:.0f} s, sample {row['sample_seconds']:.0f} s,"
            f" peak RSS {row['peak_rss_gb']:.2f} GB",
            f"- edge overlap at the last evaluation {row['eval_eo']:.3f}, of the reported sample"
            f" {row['sample_eo']:.3f}; overlap per evaluation: {', '.join(f'{v:.3f}' for v in row['eo_history'])}",
            f"- mean relative error of the sample's statistics: {row['mre']:.3f}",
            "",
            *table_head(["statistic", "real", "sample"]),
            *[f"| {k} | {row['real'][k]:.4g} | {row['sample'][k]:.4g} |" for k in row["real"]],
            "",
        ]
    out = RESULTS / "synthesis_sampled.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", choices=["cora_ml", "pubmed"], default="cora_ml")
    parser.add_argument("--max-epochs", type=int, default=400)
    parser.add_argument("--out", default=None)
    parser.add_argument("--report", default=None, metavar="ROWS.jsonl")
    parser.add_argument("--negatives", default="exact,1024", help="Cora-ML: comma-separated num_negatives, 'exact' "
                        "for the exact passes")
    parser.add_argument("--models", default="GraphSynthesizer,CELL", help="Cora-ML: comma-separated models")
    args = parser.parse_args(argv)
    if args.report:
        report(args.report)
    elif args.graph == "cora_ml":
        negatives = [None if value == "exact" else int(value) for value in args.negatives.split(",")]
        cora_ml(args.out, negatives, args.models.split(","))
    else:
        pubmed(args.out, args.max_epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
