"""How far the detector's signals could go with labels: a cross-validated, supervised ceiling.

The default :class:`~graphwgan.anomaly.AnomalyDetector` combines its signals without labels. This
study asks the opposite question for each design set: if the labels *were* used to weigh the same
signals, what ROC-AUC would a held-out fold reach? A label-free rule over those signals cannot beat
that ceiling except by chance, so where the ceiling sits below an issue target the target is out of
reach for any reweighting of these signals, and only a new signal could close the gap.

For every set, one default fit (``random_state=0``) gives the score, its rarity and critic terms, and
a critic-free fit with every column of :data:`~graphwgan.anomaly.detector.PROFILE_COLUMNS` gives the
normalised profile. Three inputs are compared:

* ``signals``: the six profile columns, rarity, critic and the default score;
* ``signals, two-sided``: the same plus their squares (a signal may matter at both ends);
* ``signals + features``: the two-sided signals plus the node features, each column mapped through
  its rank to a standard normal (at most 32 principal coordinates when there are more than 64).

Each input is scored by 5-fold stratified cross-validation (labels only in the training folds) with
a logistic regression, and the first and last also with gradient-boosted trees; the split is
reshuffled for five seeds (mean ± population std). scikit-learn is needed, as for the
IsolationForest baseline of ``run_organic_table``.

Usage: ``OMP_NUM_THREADS=1 python -m benchmarks.anomaly.run_signal_ceiling [--seeds 5]``
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.anomaly.run_organic_table import TARGETS
from benchmarks.common import RESULTS, command_line, load_average, mean_std, stamp_lines

SETS = ["reddit", "disney", "books", "enron", "tolokers", "inj_cora"]
MAX_FEATURE_COLUMNS, FEATURE_COMPONENTS = 64, 32


def _feature_block(x: np.ndarray) -> np.ndarray:
    """Each feature through its rank to a standard normal; principal coordinates when there are many."""
    from graphwgan.anomaly.functional import normal_scores

    z = normal_scores(x, np.sort(x, axis=0))
    if z.shape[1] <= MAX_FEATURE_COLUMNS:
        return z
    z = z - z.mean(axis=0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    return u[:, :FEATURE_COMPONENTS] * s[:FEATURE_COMPONENTS]


def _signal_block(data) -> np.ndarray:
    import torch

    from graphwgan.anomaly import AnomalyDetector
    from graphwgan.anomaly.detector import PROFILE_COLUMNS

    torch.set_num_threads(1)
    default = AnomalyDetector(random_state=0).fit(data)
    terms = default.component_scores(data)
    profile = AnomalyDetector(critic_weight=0, profile=PROFILE_COLUMNS, random_state=0).fit(data)
    columns = profile.component_scores(data)
    return np.column_stack([columns[c] for c in PROFILE_COLUMNS]
                           + [terms["rarity"], terms["critic"], default.decision_scores_])


def _models():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic": lambda seed: LogisticRegression(C=1.0, max_iter=5000),
        "boosted trees": lambda seed: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                                                     random_state=seed),
    }


def ceiling(inputs: np.ndarray, labels: np.ndarray, make_model, seeds: int) -> list[float]:
    """Out-of-fold ROC-AUC of a supervised model on ``inputs``, one value per reshuffled 5-fold split."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from graphwgan.metrics import roc_auc

    values = []
    for seed in range(seeds):
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        scores = cross_val_predict(make_model(seed), inputs, labels, cv=folds, method="predict_proba")[:, 1]
        values.append(roc_auc(labels, scores))
    return values


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="reshuffled 5-fold splits per cell (default 5)")
    args = parser.parse_args(argv)

    from graphwgan.datasets import load
    from graphwgan.metrics import roc_auc

    models = _models()
    rows: dict[str, dict[str, str]] = {}
    default_auc = {}
    for name in SETS:
        data = load(name)
        labels = (data.y.numpy() > 0).astype(np.int64)
        signals = _signal_block(data)
        default_auc[name] = 100 * roc_auc(labels, signals[:, -1])
        two_sided = np.column_stack([signals, signals ** 2])
        with_features = np.column_stack([two_sided, _feature_block(data.x.double().numpy())])
        cells = {
            ("logistic", "signals"): signals,
            ("logistic", "signals, two-sided"): two_sided,
            ("logistic", "signals + features"): with_features,
            ("boosted trees", "signals"): signals,
            ("boosted trees", "signals + features"): with_features,
        }
        for (model, label), inputs in cells.items():
            values = ceiling(inputs, labels, models[model], args.seeds)
            rows.setdefault(f"{model}: {label}", {})[name] = mean_std(values)
        print(name, "done", flush=True)

    lines = ["# A supervised ceiling for the anomaly detector's signals", ""]
    lines += stamp_lines(command_line(__file__, argv))
    lines += [f"- load average at the end: {load_average()}",
              f"- ROC-AUC (%) out of fold, 5-fold stratified cross-validation, mean ± std over {args.seeds} "
              "reshuffled splits; the labels train each model on four folds and score the fifth",
              "- this is not a detector: it bounds what any weighting of the same inputs could reach, and "
              "a label-free rule over them should not be expected to exceed it", ""]
    lines += ["| input | " + " | ".join(SETS) + " |", "|---|" + "---:|" * len(SETS)]
    lines.append("| issue target | " + " | ".join(f"{TARGETS[s]:.1f}" for s in SETS) + " |")
    lines.append("| graphwgan default, seed 0 (no labels) | "
                 + " | ".join(f"{default_auc[s]:.1f}" for s in SETS) + " |")
    for label, values in rows.items():
        lines.append(f"| {label} | " + " | ".join(values[s] for s in SETS) + " |")
    out = RESULTS / "anomaly_signal_ceiling.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
