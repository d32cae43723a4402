"""How the profile of graphwgan's anomaly score was chosen: each signal alone, and the rarity of profile variants.

Everything here is label-free scoring evaluated against the labels afterwards, without the critic
(``AnomalyDetector(critic_weight=0)``: deterministic given the data, no networks trained). For each
design set it prints and writes to ``benchmarks/results/anomaly_profile_study.md``:

* the ROC-AUC of every profile column alone (a column scores its raw value; the direction that helps
  flips between data sets, which is what a rank-normalised rarity avoids), plus ``affinity_raw``,
  local affinity measured on the centred, scaled features instead of whitened principal coordinates;
* the ROC-AUC of the kNN rarity for profile variants and neighbour counts ``k`` in 10, 30 and
  ``ceil(sqrt(|V|))`` ("auto", the default).

Usage: ``OMP_NUM_THREADS=1 python -m benchmarks.anomaly.run_profile_study``
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import RESULTS, command_line, load_average, stamp_lines

SETS = ["reddit", "disney", "books", "enron", "tolokers", "inj_cora"]
VARIANTS = {
    "default (degree, clustering, affinity, mahalanobis)": ("degree", "clustering", "affinity", "mahalanobis"),
    "+ neighbour": ("degree", "clustering", "affinity", "mahalanobis", "neighbour"),
    "+ triangles": ("degree", "clustering", "affinity", "mahalanobis", "triangles"),
    "structure only (degree, clustering)": ("degree", "clustering"),
    "features only (affinity, mahalanobis)": ("affinity", "mahalanobis"),
}


def _raw_affinity_scores(data) -> np.ndarray:
    """Local affinity on centred features scaled as the detector scales them (no whitening), rank-normalised."""
    import torch

    from graphwgan.anomaly.functional import local_affinity, normal_scores

    x = data.x.double()
    std = x.std(dim=0, unbiased=False)
    scaled = (x - x.mean(dim=0)) / torch.clamp(std, min=max(float(std.mean()), 1e-6))
    value = local_affinity(scaled, data.edge_index).numpy()[:, None]
    return normal_scores(value, np.sort(value, axis=0))[:, 0]


def main() -> None:
    import torch

    from graphwgan.anomaly import AnomalyDetector
    from graphwgan.anomaly.detector import PROFILE_COLUMNS
    from graphwgan.anomaly.functional import knn_rarity
    from graphwgan.datasets import load
    from graphwgan.metrics import roc_auc

    torch.set_num_threads(1)
    single, rarity = {}, {}
    for name in SETS:
        data = load(name)
        labels = (data.y.numpy() > 0).astype(np.int64)
        n = int(data.num_nodes)
        full = AnomalyDetector(critic_weight=0, profile=PROFILE_COLUMNS, random_state=0).fit(data)
        columns = full.component_scores(data)
        single[name] = {c: roc_auc(labels, columns[c]) for c in PROFILE_COLUMNS}
        raw = _raw_affinity_scores(data)
        single[name]["affinity_raw"] = roc_auc(labels, raw)
        auto = int(np.ceil(np.sqrt(n)))
        for label, profile in VARIANTS.items():
            points = np.stack([columns[c] for c in profile], axis=1)
            for k in (10, 30, auto):
                key = (label, "auto" if k == auto else k)
                rarity.setdefault(key, {})[name] = roc_auc(labels, knn_rarity(points, points, k))
        points = np.stack([columns["degree"], columns["clustering"], raw, columns["mahalanobis"]], axis=1)
        for k in (10, 30, auto):
            key = ("default with affinity_raw", "auto" if k == auto else k)
            rarity.setdefault(key, {})[name] = roc_auc(labels, knn_rarity(points, points, k))
        print(name, "done", flush=True)

    lines = ["# Choosing the profile of the anomaly score (no critic)", ""]
    lines += stamp_lines(command_line(__file__, [])) + [f"- load average at the end: {load_average()}", ""]
    lines += ["ROC-AUC (%) of each column alone, scored by its raw value (higher value = more anomalous):", "",
              "| column | " + " | ".join(SETS) + " |", "|---|" + "---:|" * len(SETS)]
    for column in [*PROFILE_COLUMNS, "affinity_raw"]:
        lines.append(f"| {column} | " + " | ".join(f"{100 * single[s][column]:.1f}" for s in SETS) + " |")
    lines += ["", "ROC-AUC (%) of the kNN rarity of the rank-normalised profile (k = auto is ceil(sqrt(|V|))):", "",
              "| profile | k | " + " | ".join(SETS) + " | mean |", "|---|---|" + "---:|" * (len(SETS) + 1)]
    for (label, k), values in rarity.items():
        row = [100 * values[s] for s in SETS]
        lines.append(f"| {label} | {k} | " + " | ".join(f"{v:.1f}" for v in row) + f" | {np.mean(row):.1f} |")
    out = RESULTS / "anomaly_profile_study.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
