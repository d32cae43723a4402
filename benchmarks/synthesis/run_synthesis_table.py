"""Graph synthesis harness on Cora-ML (the CELL split) or CiteSeer: GraphSynthesizer against baselines.

Fits each generator on the training graph of a link-prediction split, samples 5 graphs per seed for
3 seeds, and reports the NetGAN/CELL statistics averaged over the samples, their mean relative error
against the training graph, the edge overlap (EO) with it, the exact W1 between degree distributions
on the training graph, link-prediction ROC-AUC / AP on the test edges and test non-edges (where the
model scores pairs), and the fit time.

* ``--graph cora_ml`` (default): the split CELL published (2,810 nodes, 6,783 training edges, 400 test
  edges and non-edges).
* ``--graph citeseer``: ``graphwgan.splits.load_split("citeseer", seed=0)``, a connected 85/10/5 split of
  the CiteSeer largest component (2,110 nodes, 3,117 training edges, 184 test edges and non-edges).

``--val-criterion`` adds link prediction with NetGAN's validation criterion: CELL and GraphSynthesizer trained
for each length in ``VAL_LADDER`` epochs, the best on validation AUC scored on the test pairs.

Otherwise CELL and GraphSynthesizer stop at EO >= 0.52. Each graph has its own section of
``benchmarks/results/synthesis.md`` (from its ``# Graph synthesis on ...`` heading to the next one); a run
replaces its own section and keeps the others.

    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_table                  # Cora-ML
    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_table --graph citeseer --val-criterion
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks.common import RESULTS, command_line, commit, git, load_average, source_digest, stamp_lines, table_head
from graphwgan import metrics, synthesis
from graphwgan.splits import load_split
from graphwgan.synthesis import GraphSynthesizer

SEEDS = (0, 1, 2)
SAMPLES = 5
EO_TARGET = 0.52
VAL_LADDER = (40, 80)  # training lengths tried by --val-criterion
STATS = ["max_degree", "assortativity", "triangle_count", "square_count", "power_law_exponent",
         "gini_coefficient", "edge_distribution_entropy", "largest_component_size", "clustering_coefficient",
         "characteristic_path_length", "spectral_gap"]
#: the files whose code is measured; their digest is taken before and after the run
SYNTHESIS_SOURCES = ("graphwgan/baselines.py", "graphwgan/synthesis", "graphwgan/splits.py")

GRAPHS = {
    "cora_ml": {
        "title": "Cora-ML (the CELL split)",
        "label": "Cora-ML",
        "blocks": 7,  # Cora-ML has 7 classes
        "protocol": "training graph and test pairs from `splits/` (2,810 nodes, 6,783 training edges, 400 test "
                    "edges, 400 non-edges)",
        # published on this split (the anchors): max degree, triangles, power-law exponent, AUC, AP
        "anchors": {
            "NetGAN (paper)": "max degree 208-214, triangles 1,290-1,552, AUC 0.926-0.951, AP 0.927-0.952, "
                              "1.5-2 h GPU",
            "CELL (paper)": "max degree 190-204, triangles 1,284-1,358, AUC 0.937-0.941, AP 0.942-0.944, ~15 s CPU",
        },
    },
    "citeseer": {
        "title": "CiteSeer (largest component, seeded 85/10/5 split)",
        "label": "CiteSeer",
        "blocks": 6,  # CiteSeer has 6 classes
        "protocol": "`graphwgan.splits.load_split(\"citeseer\", seed=0)`: the largest connected component of "
                    "`citeseer.npz` (2,110 nodes, 3,668 edges), a connected 85/10/5 edge split by "
                    "`train_test_split_edges` (3,117 training edges, 367 validation and 184 test edges, as many "
                    "non-edges); NetGAN and CELL did not publish their CiteSeer split, so the anchors come from "
                    "another draw of the same protocol",
        "anchors": {
            "NetGAN (paper)": "link prediction AUC about 0.95",
            "CELL (paper)": "link prediction AUC 0.86-0.88",
            "our target": "AUC >= 0.95",
        },
        "auc_target": 0.95,
    },
}


def models(blocks):
    return {
        "Erdos-Renyi": lambda seed: synthesis.ErdosRenyi(random_state=seed),
        "configuration model": lambda seed: synthesis.ConfigurationModel(random_state=seed),
        f"DC-SBM ({blocks} spectral blocks)": lambda seed: synthesis.DegreeCorrectedSBM(num_blocks=blocks,
                                                                                        random_state=seed),
        "CELL (ours, from the paper)": lambda seed: synthesis.CELL(eo_target=EO_TARGET, random_state=seed),
        "CELL checked every 5 epochs": lambda seed: synthesis.CELL(eo_target=EO_TARGET, eval_every=5,
                                                                   random_state=seed),
        "graphwgan GraphSynthesizer (rank 9, random start, transport weight 1)": lambda seed: GraphSynthesizer(
            rank=9, init="random", lr=0.1, transport_weight=1.0, eval_every=5, eo_target=EO_TARGET, random_state=seed),
        "graphwgan GraphSynthesizer (default: rank 32, spectral start, transport weight 0.7)": lambda seed:
            GraphSynthesizer(eo_target=EO_TARGET, random_state=seed),
    }


def run(key: str) -> tuple[list[str], dict, dict]:
    """Fit, sample and score every model; returns the summary rows, the statistics rows and the raw numbers."""
    spec = GRAPHS[key]
    split = load_split(key)
    train = split.train
    reference = metrics.graph_statistics(train)
    rows = {f"{spec['label']} training graph": {k: reference[k] for k in STATS}}
    summary, numbers = [], {}
    for name, build in models(spec["blocks"]).items():
        samples, fit_seconds, aucs, aps = [], [], [], []
        for seed in SEEDS:
            start = time.perf_counter()
            model = build(seed).fit(train)
            fit_seconds.append(time.perf_counter() - start)
            samples += [model.sample(seed=1000 * seed + k) for k in range(SAMPLES)]
            if hasattr(model, "score_pairs"):
                scores = metrics.link_prediction_scores(model.score_pairs(split.test_edges.T),
                                                        model.score_pairs(split.test_non_edges.T))
                aucs.append(scores.roc_auc)
                aps.append(scores.average_precision)
        stats = [metrics.graph_statistics(sample) for sample in samples]
        mean = {k: float(np.mean([s[k] for s in stats])) for k in STATS}
        rows[name] = mean
        eo = np.mean([metrics.edge_overlap(sample, train) for sample in samples])
        w1 = np.mean([metrics.degree_wasserstein(sample, train) for sample in samples[:SAMPLES]])
        mre = metrics.mean_relative_error(mean, reference, keys=STATS)
        lp = f"{np.mean(aucs):.3f} / {np.mean(aps):.3f}" if aucs else "—"
        if len(aucs) > 1:
            lp += f" (AUC {min(aucs):.3f}-{max(aucs):.3f})"
        summary.append(f"| {name} | {mre:.3f} | {eo:.3f} | {w1:.4f} | {lp} | {np.mean(fit_seconds):.1f} |")
        numbers[name] = {"eo": float(eo), "auc": float(np.mean(aucs)) if aucs else None}
        print(summary[-1], flush=True)
    return summary, rows, numbers


def val_criterion(key: str) -> list[str]:
    """Link prediction with NetGAN's VAL criterion: the training length picked on validation AUC.

    The estimators have no per-epoch hook, so each candidate length is a separate fit (same seed) with no EO
    stopping (``eo_target=1.0``); the candidate with the best validation AUC is scored on the test pairs.
    """
    import warnings

    split = load_split(key)
    lines, best_test, at_top = [], {}, True
    for name, cls in (("CELL", synthesis.CELL), ("GraphSynthesizer", GraphSynthesizer)):
        chosen, val_aucs, test_aucs, test_aps, overlaps = [], [], [], [], []
        for seed in SEEDS:
            best = None
            for epochs in VAL_LADDER:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # EO target 1.0 is never reached
                    model = cls(eo_target=1.0, max_epochs=epochs, eval_every=epochs, random_state=seed)
                    model.fit(split.train)
                val = metrics.link_prediction_scores(model.score_pairs(split.val_edges.T),
                                                     model.score_pairs(split.val_non_edges.T)).roc_auc
                if best is None or val > best[0]:
                    best = (val, epochs, model)
            val, epochs, model = best
            test = metrics.link_prediction_scores(model.score_pairs(split.test_edges.T),
                                                  model.score_pairs(split.test_non_edges.T))
            chosen.append(epochs)
            val_aucs.append(val)
            test_aucs.append(test.roc_auc)
            test_aps.append(test.average_precision)
            overlaps.append(metrics.edge_overlap(model.sample(seed=1000 * seed), split.train))
        lines.append(f"| {name} | {', '.join(map(str, chosen))} | {np.mean(overlaps):.3f} | {np.mean(val_aucs):.3f} "
                     f"| {np.mean(test_aucs):.3f} / {np.mean(test_aps):.3f} (AUC {min(test_aucs):.3f}-"
                     f"{max(test_aucs):.3f}) |")
        best_test[name] = float(np.mean(test_aucs))
        at_top = at_top and all(epochs == max(VAL_LADDER) for epochs in chosen)
        print(lines[-1], flush=True)
    if at_top:
        lines += ["", f"Every model and seed chose the longest length, {max(VAL_LADDER)} epochs: longer training "
                  "may score higher."]
    target = GRAPHS[key].get("auc_target")
    if target is not None:
        name = max(best_test, key=best_test.get)
        reached = "reached" if best_test[name] >= target else f"NOT reached ({target - best_test[name]:.3f} behind)"
        lines += ["", f"Target test AUC >= {target} with this criterion: {reached}; best {name} {best_test[name]:.3f}."]
    return [
        "## Link prediction with NetGAN's VAL criterion",
        "",
        "NetGAN's link-prediction numbers stop training on validation AUC/AP, not at EO 0.52 (CELL's paper compares "
        f"both at EO 0.52). Here each seed fits every length in {list(VAL_LADDER)} epochs (a separate fit per "
        "length, same seed, no EO stopping), keeps the one with the best validation AUC, and scores it on the test "
        "pairs; EO is that of one sample of the chosen model.",
        "",
        *table_head(["model", "epochs chosen (per seed)", "EO", "validation AUC", "test AUC / AP"]),
        *lines,
        "",
    ]


def verdict(key: str, numbers: dict) -> list[str]:
    """Plain sentences: where the scored models stand against the AUC target and the EO target."""
    lines = []
    target = GRAPHS[key].get("auc_target")
    scored = {name: v for name, v in numbers.items() if v["auc"] is not None}
    if target is not None and scored:
        best = max(scored, key=lambda name: scored[name]["auc"])
        if scored[best]["auc"] >= target:
            lines.append(f"- Target test AUC >= {target}: reached by {best} ({scored[best]['auc']:.3f}).")
        else:
            lines.append(f"- Target test AUC >= {target}: NOT reached; the best model here, {best}, has "
                         f"{scored[best]['auc']:.3f}, {target - scored[best]['auc']:.3f} behind the target.")
    over = {name: v["eo"] for name, v in scored.items() if v["eo"] > EO_TARGET + 0.05}
    if over:
        lines.append(f"- EO overshoot: {', '.join(f'{name} {eo:.3f}' for name, eo in over.items())} against the "
                     f"target {EO_TARGET}: training stops at the first evaluation whose sample reaches the target, and "
                     "on this graph EO rises by more than 0.05 between two evaluations, so these rows compare at a "
                     "higher overlap than the target.")
    return lines


def section(key: str, summary: list[str], rows: dict, notes: list[str], revision: str, verdicts: list[str],
            extra: list[str]) -> str:
    spec = GRAPHS[key]
    argv = ([] if key == "cora_ml" else ["--graph", key]) + (["--val-criterion"] if extra else [])
    lines = [
        f"# Graph synthesis on {spec['title']}",
        "",
        *stamp_lines(command_line(__file__, argv), revision),
        f"- protocol: {spec['protocol']}; {len(SEEDS)} seeds x {SAMPLES} samples per model; EO against the "
        f"training graph; CELL and GraphSynthesizer stop at EO >= {EO_TARGET}.",
        "- `GraphSynthesizer` is CELL's low-rank random walk plus the shortest-path transport term "
        "(`graphwgan/synthesis/`); 'CELL checked every 5 epochs' stops at the same granularity, for a fair EO.",
        *notes,
        "",
        "## Summary",
        "",
        *table_head(["model", "mean relative error of the statistics", "EO", "W1 of degree distributions",
                     "test AUC / AP", "fit seconds"]),
        *summary,
        "",
        "Published anchors: " + "; ".join(f"{k}: {v}" for k, v in spec["anchors"].items()) + ".",
        "",
        *verdicts,
        *([""] if verdicts else []),
        *extra,
        "## Statistics (mean over samples)",
        "",
        metrics.statistics_table(rows),
        "",
    ]
    return "\n".join(lines)


def replace_section(text: str, heading: str, body: str) -> str:
    """Put ``body`` in place of the section that starts with ``heading`` (or append it)."""
    marker = "# Graph synthesis on "
    starts = [i for i in range(len(text)) if text.startswith(marker, i) and (i == 0 or text[i - 1] == "\n")]
    for k, start in enumerate(starts):
        if text.startswith(heading, start):
            end = starts[k + 1] if k + 1 < len(starts) else len(text)
            return text[:start] + body + ("\n" if end < len(text) else "") + text[end:]
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + body


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graph", choices=sorted(GRAPHS), default="cora_ml", help="which split (default cora_ml)")
    parser.add_argument("--val-criterion", action="store_true",
                        help="also score CELL and GraphSynthesizer with the training length chosen on validation AUC")
    args = parser.parse_args(argv)

    # the modules imported above are the code that runs: record its state now, before the run
    revision, digest = commit(), source_digest(SYNTHESIS_SOURCES)
    load_before, wall = load_average(first_only=True), time.perf_counter()
    dirty = git("status", "--porcelain", "--", *SYNTHESIS_SOURCES)
    summary, rows, numbers = run(args.graph)
    extra = val_criterion(args.graph) if args.val_criterion else []
    wall = time.perf_counter() - wall
    notes = [f"- run: {wall / 60:.1f} min wall; 1-minute load average {load_before} at the start and "
             f"{load_average(first_only=True)} at the end (the 2 cores were shared with parallel work, so the seconds "
             "are loaded timings)."]
    files = ", ".join(SYNTHESIS_SOURCES)
    if dirty:
        notes.append(f"- the measured synthesis files had uncommitted changes at the start (sha256 of {files}: "
                     f"{digest}).")
    if source_digest(SYNTHESIS_SOURCES) != digest:
        notes.append(f"- {files} changed on disk during the run; the run used the modules as imported at its start "
                     f"(sha256 {digest}).")
    out = RESULTS / "synthesis.md"
    text = out.read_text() if out.is_file() else ""
    body = section(args.graph, summary, rows, notes, revision, verdict(args.graph, numbers), extra)
    out.write_text(replace_section(text, f"# Graph synthesis on {GRAPHS[args.graph]['title'].split(' (')[0]}", body))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
