"""Label-free scoring rules that were tried against the default anomaly score and dropped.

Each rule scores every node without labels; the labels only evaluate it afterwards, on the six design
sets together (as in ``run_profile_study``). Rules:

* ``learned affinity``: a two-layer message-passing encoder on the whitened features (32 principal
  coordinates), trained for 100 Adam steps to raise the cosine similarity of neighbours against
  random pairs (the local-affinity idea of TAM, Qiao & Pang, NeurIPS 2023); a node scores one minus
  its mean cosine similarity to its neighbours in the embedding. ``pruned``: the 10 % least similar
  edges (in the whitened features) are left out of training. Seeds 0-2.
* ``rarity + learned affinity``: the learned affinity, rank-normalised, as a fifth column of the
  default profile, scored by the default kNN rarity (``k = ceil(sqrt(|V|))``).
* ``low-rank residual``: squared residual of a PCA reconstruction of the standardised features, at
  the rank that explains 50, 70 or 90 % of the variance.
* ``small mixture component``: a Gaussian mixture (2, 4, 8 components) on the default profile; a
  node scores ``-sum_c r_ic log pi_c`` (it belongs to a component of small weight), and ``mixture
  density`` its negative log-density.
* ``conditioned on degree``: each of clustering, affinity and Mahalanobis norm ranked among the
  ``2 ceil(sqrt(|V|))`` nodes nearest in degree, and the squared norm of their normal scores.
* ``self-training``: the default score (``random_state=0``) names pseudo-labels, its top 20 % anomalous
  and its bottom half normal; a logistic regression on the profile columns, the critic term and
  their squares (or gradient-boosted trees on the columns and critic) learns them, out of fold for
  the pseudo-labelled nodes, and its probability becomes the next score; three rounds.

scikit-learn is needed (the mixture, the self-training), as for the IsolationForest baseline of ``run_organic_table``.

Usage: ``OMP_NUM_THREADS=1 python -m benchmarks.anomaly.run_rule_study``
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import RESULTS, command_line, load_average, stamp_lines

SETS = ["reddit", "disney", "books", "enron", "tolokers", "inj_cora"]
SEEDS = (0, 1, 2)


def _whitened(x: np.ndarray, dims: int = 32) -> np.ndarray:
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    keep = min(dims, int((s > 1e-8 * s[0]).sum()))
    return u[:, :keep] * np.sqrt(len(x))


def learned_affinity_scores(x: np.ndarray, edge_index: np.ndarray, seed: int, *, pruned: bool = False,
                            epochs: int = 100, hidden: int = 64) -> np.ndarray:
    """One minus each node's mean neighbour cosine similarity in an embedding trained for local affinity."""
    import torch

    from graphwgan.anomaly.functional import local_affinity

    generator = torch.Generator().manual_seed(seed)
    features = torch.tensor(_whitened(x), dtype=torch.float32)
    all_edges = torch.as_tensor(edge_index)
    edges = all_edges
    if pruned:
        unit = torch.nn.functional.normalize(features, dim=1)
        similarity = (unit[all_edges[0]] * unit[all_edges[1]]).sum(dim=1)
        edges = all_edges[:, similarity > torch.quantile(similarity, 0.1)]
    n = features.shape[0]
    degree = torch.zeros(n).index_add_(0, edges[1], torch.ones(edges.shape[1])).clamp(min=1)
    first = torch.nn.Linear(features.shape[1], hidden)
    second = torch.nn.Linear(hidden, hidden)
    with torch.no_grad():  # initialise from the seed's own generator, not the global one
        for layer in (first, second):
            bound = 1 / np.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)
    optimiser = torch.optim.Adam([*first.parameters(), *second.parameters()], lr=5e-3)

    def embed():
        h = torch.relu(first(features))
        return second(h + torch.zeros_like(h).index_add_(0, edges[1], h[edges[0]]) / degree[:, None])

    for _ in range(epochs):
        h = embed()
        others = torch.randint(0, n, (n,), generator=generator)
        unit = torch.nn.functional.normalize(h, dim=1)
        loss = local_affinity(h, edges).mean() + (unit * unit[others]).sum(dim=1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():  # embedded as trained, judged against every neighbour
        return local_affinity(embed(), all_edges).numpy().astype(np.float64)


def low_rank_residuals(x: np.ndarray, fractions=(0.5, 0.7, 0.9)) -> dict[float, np.ndarray]:
    """Squared PCA reconstruction residual of the standardised features, per explained-variance fraction."""
    standard = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-12)
    u, s, vt = np.linalg.svd(standard, full_matrices=False)
    explained = np.cumsum(s ** 2) / np.sum(s ** 2)
    out = {}
    for fraction in fractions:
        rank = int(np.searchsorted(explained, fraction)) + 1
        residual = standard - (u[:, :rank] * s[:rank]) @ vt[:rank]
        out[fraction] = (residual ** 2).sum(axis=1)
    return out


def mixture_scores(points: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray]:
    """``(small-component score, negative log-density)`` of a Gaussian mixture fitted to ``points``."""
    from sklearn.mixture import GaussianMixture

    mixture = GaussianMixture(components, covariance_type="full", reg_covar=1e-3, random_state=0).fit(points)
    small = -(mixture.predict_proba(points) @ np.log(mixture.weights_))
    return small, -mixture.score_samples(points)


def rank_given_degree(values: np.ndarray, degree: np.ndarray, window: int) -> np.ndarray:
    """Each value's mid-rank fraction among the ``window`` nodes nearest in degree (ties broken by index)."""
    order = np.argsort(degree, kind="stable")
    ordered = values[order]
    n = len(values)
    window = min(window, n)
    out = np.empty(n)
    for position in range(n):
        start = max(0, min(position - window // 2, n - window))
        block = ordered[start:start + window]
        out[order[position]] = ((block < ordered[position]).sum() + 0.5 * (block == ordered[position]).sum()) / window
    return out


def self_trained_scores(signals: np.ndarray, start: np.ndarray, make_model, *, top: float = 0.2,
                        rounds: int = 3) -> np.ndarray:
    """Scores after ``rounds`` of learning pseudo-labels from the previous score (top ``top`` vs bottom half)."""
    from scipy.stats import rankdata
    from sklearn.model_selection import KFold, cross_val_predict

    score = start
    for _ in range(rounds):
        quantile = rankdata(score) / len(score)
        positive, negative = quantile > 1 - top, quantile < 0.5
        labelled = positive | negative
        targets = positive[labelled].astype(np.int64)
        folds = KFold(5, shuffle=True, random_state=0)
        score = np.zeros(len(score))
        score[labelled] = cross_val_predict(make_model(), signals[labelled], targets, cv=folds,
                                            method="predict_proba")[:, 1]
        score[~labelled] = make_model().fit(signals[labelled], targets).predict_proba(signals[~labelled])[:, 1]
    return score


def main() -> None:
    import torch
    from scipy.special import ndtri
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    from graphwgan.anomaly import AnomalyDetector
    from graphwgan.anomaly.functional import knn_rarity, normal_scores
    from graphwgan.datasets import load
    from graphwgan.metrics import roc_auc

    torch.set_num_threads(1)
    table: dict[str, dict[str, list[float]]] = {}

    def record(rule: str, name: str, value: float) -> None:
        table.setdefault(rule, {}).setdefault(name, []).append(100 * value)

    for name in SETS:
        data = load(name)
        labels = (data.y.numpy() > 0).astype(np.int64)
        x = data.x.double().numpy()
        edge_index = data.edge_index.numpy()
        n = int(data.num_nodes)
        k = int(np.ceil(np.sqrt(n)))
        # the profile columns do not depend on the critic: the default fit gives them and the critic term
        default = AnomalyDetector(random_state=0).fit(data)
        columns = default.component_scores(data)
        profile = np.stack([columns[c] for c in ("degree", "clustering", "affinity", "mahalanobis")], axis=1)
        record("default rarity (no critic)", name, roc_auc(labels, knn_rarity(profile, profile, k)))
        record("whitened-feature affinity alone", name, roc_auc(labels, columns["affinity"]))
        for pruned in (False, True):
            suffix = ", pruned" if pruned else ""
            for seed in SEEDS:
                learned = learned_affinity_scores(x, edge_index, seed, pruned=pruned)
                record(f"learned affinity{suffix}", name, roc_auc(labels, learned))
                column = normal_scores(learned[:, None], np.sort(learned)[:, None])
                extended = np.column_stack([profile, column])
                record(f"rarity + learned affinity{suffix}", name, roc_auc(labels, knn_rarity(extended, extended, k)))
        for fraction, residual in low_rank_residuals(x).items():
            record(f"low-rank residual, {fraction:.0%} of the variance", name, roc_auc(labels, residual))
        for components in (2, 4, 8):
            small, density = mixture_scores(profile, components)
            record(f"small mixture component, {components} components", name, roc_auc(labels, small))
            record(f"mixture density, {components} components", name, roc_auc(labels, density))
        signals = np.column_stack([profile, columns["critic"]])
        record("self-training, logistic with squares", name, roc_auc(labels, self_trained_scores(
            np.column_stack([signals, signals ** 2]), default.decision_scores_,
            lambda: LogisticRegression(max_iter=5000))))
        record("self-training, boosted trees", name, roc_auc(labels, self_trained_scores(
            signals, default.decision_scores_,
            lambda: HistGradientBoostingClassifier(max_iter=100, learning_rate=0.05, random_state=0))))
        record("default score (for the self-training's start)", name, roc_auc(labels, default.decision_scores_))
        window = 2 * k
        conditioned = {c: rank_given_degree(columns[c], columns["degree"], window)
                       for c in ("clustering", "affinity", "mahalanobis")}
        for c, ranks in conditioned.items():
            record(f"{c} given degree", name, roc_auc(labels, ranks))
        normal = ndtri(np.clip(np.column_stack(list(conditioned.values())), 1e-4, 1 - 1e-4))
        record("given degree, two-sided norm", name, roc_auc(labels, (normal ** 2).sum(axis=1)))
        print(name, "done", flush=True)

    lines = ["# Label-free rules tried against the default anomaly score", ""]
    lines += stamp_lines(command_line(__file__, [])) + [f"- load average at the end: {load_average()}"]
    lines += ["- ROC-AUC (%), higher score = more anomalous; rules with a seed show mean ± std over seeds "
              f"{', '.join(map(str, SEEDS))} (population std); the mean column averages the six sets", "",
              "| rule | " + " | ".join(SETS) + " | mean |", "|---|" + "---:|" * (len(SETS) + 1)]
    for rule, values in table.items():
        cells = []
        for name in SETS:
            v = np.asarray(values[name])
            cells.append(f"{v.mean():.1f}" if v.size == 1 else f"{v.mean():.1f} ± {v.std():.1f}")
        mean = np.mean([np.mean(values[name]) for name in SETS])
        lines.append(f"| {rule} | " + " | ".join(cells) + f" | {mean:.1f} |")
    out = RESULTS / "anomaly_rule_study.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
