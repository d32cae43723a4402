"""Find banned crowd workers in the Tolokers graph with graphwgan's AnomalyDetector, without labels.

What it shows:

1. ``tolokers`` (Platonov et al., ICLR 2023): 11,758 Toloka workers, an edge when two worked on the
   same task, 10 profile features; 2,566 workers were banned, anomalies labelled in the world rather
   than injected (used here for evaluation only, never for fitting);
2. the detector at its defaults (``AnomalyDetector(random_state=0)``), the signals its score is
   built from (``component_scores``), and label-free baselines beside it: degree, minus degree and
   z(degree) + z(||x||);
3. the workers it flags (``predict``, the top ``contamination`` share of the scores) and how many of
   them were banned.

Run ``python examples/detect_anomalies_tolokers.py`` (about a minute on 2 cores), or with
``--quick`` (an induced subgraph of 1,500 workers and a few training epochs: seconds).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from graphwgan import datasets, metrics

# the data folder: GRAPHWGAN_DATA, else the shared folder next to this repository (set explicitly)
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get(datasets.DATA_ENV) and _SHARED.is_dir():
    os.environ[datasets.DATA_ENV] = str(_SHARED)


def load_workers(quick: bool):
    """The graph and its 0/1 labels; with ``quick``, the subgraph induced by 1,500 random workers."""
    import torch
    from torch_geometric.data import Data
    from torch_geometric.utils import subgraph

    data = datasets.load("tolokers")
    if not quick:
        return data, data.y.numpy()
    keep = torch.from_numpy(np.sort(np.random.default_rng(0).choice(data.num_nodes, 1500, replace=False)))
    edge_index, _ = subgraph(keep, data.edge_index, relabel_nodes=True, num_nodes=data.num_nodes)
    small = Data(x=data.x[keep], edge_index=edge_index, num_nodes=keep.numel())
    return small, data.y[keep].numpy()


def main(argv=None) -> None:
    from graphwgan.anomaly import AnomalyDetector, DegreeFeatureZScore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,500-worker subgraph, a few epochs (for CI)")
    args = parser.parse_args(argv)

    data, banned = load_workers(args.quick)
    print(f"tolokers{' (quick subgraph)' if args.quick else ''}: {data.num_nodes} workers, "
          f"{data.num_edges // 2} edges, {int(banned.sum())} banned")

    # -- the detector at its defaults, fitted without labels ------------------------------------------
    detector = AnomalyDetector(random_state=0, **({"epochs": 3} if args.quick else {}))
    start = time.perf_counter()
    detector.fit(data)
    seconds = time.perf_counter() - start
    signals = detector.component_scores(data)
    degree = np.bincount(data.edge_index[0].numpy(), minlength=data.num_nodes).astype(float)
    rows = [("graphwgan AnomalyDetector", detector.decision_scores_, seconds)]
    rows += [(f"  signal: {name}", values, None) for name, values in signals.items()]
    zscore = DegreeFeatureZScore().fit(data)
    rows += [("degree", degree, None), ("-degree", -degree, None),
             ("z(degree) + z(‖x‖)", zscore.decision_scores_, zscore.fit_seconds_)]

    print()
    print("| scores | ROC-AUC | AP | seconds |")
    print("|---|---:|---:|---:|")
    for name, scores, secs in rows:
        auc, ap = metrics.roc_auc(banned, scores), metrics.average_precision(banned, scores)
        print(f"| {name} | {auc:.3f} | {ap:.3f} | {'' if secs is None else f'{secs:.1f}'} |")
    print(f"\ncritic weight (its real-versus-shuffled separation, no labels): {detector.critic_weight_:.2f}")

    flagged = detector.predict(data).astype(bool)
    print(f"flagged {int(flagged.sum())} workers (contamination {detector.contamination}); "
          f"{int(banned[flagged].sum())} of them were banned (base rate {banned.mean():.1%})")


if __name__ == "__main__":
    main()
