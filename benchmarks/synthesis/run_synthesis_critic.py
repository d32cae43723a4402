"""GraphSynthesizer against its edge critic: quality with and without it, W1 vs quality, mode coverage.

Three measurements, written to ``benchmarks/results/synthesis_critic.md``:

1. **Cora-ML (the CELL split)**: the critic-free synthesizer (``critic_weight=None``), the critic
   trained beside it without moving it (``critic_weight=0``) and the critic in the loss at the
   weights of ``WEIGHTS``; 3 seeds x 5 samples, stopping at EO >= 0.52: test AUC, triangles against
   the training graph, mean relative error (MRE) of the NetGAN/CELL statistics, EO, fit + sample seconds.
2. **Does the critic's W1 track quality?** One default fit on Cora-ML cut at every evaluation
   (refits with ``max_epochs = k`` for ``k`` in ``LADDER``: a fit with a given seed is the same up to
   epoch ``k`` whatever ``max_epochs``, which the run checks on the logged W1 values); at each ``k``
   the logged W1 estimate and the MRE of one sample; Spearman's rank correlation across ``k``.
3. **Mode coverage**: a planted-partition graph with communities of ``SIZES`` nodes; the same walk
   generator trained with the Wasserstein critic and with a cross-entropy (JS) discriminator, with
   and without the walk's own loss (``adversarial_only``); every community's share of the sampled
   edges (and the share between communities) against the real graph's.

    OMP_NUM_THREADS=1 python -m benchmarks.synthesis.run_synthesis_critic
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import networkx as nx
import numpy as np

from benchmarks.common import RESULTS, command_line, load_average, stamp_lines, table_head
from graphwgan import metrics
from graphwgan.splits import load_split
from graphwgan.synthesis import GraphSynthesizer

SEEDS = (0, 1, 2)
SAMPLES = 5
EO_TARGET = 0.52
WEIGHTS = (1.0,)
LADDER = tuple(range(5, 65, 5))
SIZES = (120, 50, 20)
MODE_SEEDS = (0, 1)
# the games of the mode-coverage comparison: the critic's weight in the loss, generator lr, critic lr and steps
MODE_GAME = {"critic_weight": 50.0, "lr": 0.1, "critic_lr": 0.05, "n_critic": 5, "critic_dim": 32,
             "max_epochs": 300, "eval_every": 20, "transport_weight": 0.0, "eo_target": 1.0}
MODE_EO = 0.7  # the default synthesizer's stopping overlap in the comparison with the walk loss
STATS = ["max_degree", "assortativity", "triangle_count", "square_count", "power_law_exponent",
         "gini_coefficient", "edge_distribution_entropy", "largest_component_size", "clustering_coefficient",
         "characteristic_path_length", "spectral_gap"]


def _quiet_fit(model, graph):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an unreached target is part of what is measured
        return model.fit(graph)


def cora_rows() -> list[str]:
    split = load_split("cora_ml")
    train = split.train
    reference = metrics.graph_statistics(train)
    variants = {"critic-free (`critic_weight=None`)": None, "critic trained, weight 0": 0.0}
    variants.update({f"critic weight {w}" + (" (default)" if w == GraphSynthesizer().critic_weight else ""): w
                     for w in WEIGHTS})
    rows = []
    for name, weight in variants.items():
        aucs, seconds, stats, eos = [], [], [], []
        for seed in SEEDS:
            start = time.perf_counter()
            model = _quiet_fit(GraphSynthesizer(eo_target=EO_TARGET, critic_weight=weight, random_state=seed), train)
            samples = [model.sample(seed=1000 * seed + k) for k in range(SAMPLES)]
            seconds.append(time.perf_counter() - start)
            scores = metrics.link_prediction_scores(model.score_pairs(split.test_edges.T),
                                                    model.score_pairs(split.test_non_edges.T))
            aucs.append(scores.roc_auc)
            stats += [metrics.graph_statistics(sample) for sample in samples]
            eos += [metrics.edge_overlap(sample, train) for sample in samples]
        mean = {k: float(np.mean([s[k] for s in stats])) for k in STATS}
        mre = metrics.mean_relative_error(mean, reference, keys=STATS)
        triangles = mean["triangle_count"] / reference["triangle_count"]
        rows.append(f"| {name} | {np.mean(aucs):.3f} ({min(aucs):.3f}-{max(aucs):.3f}) | {triangles:.3f} | "
                    f"{mre:.3f} | {np.mean(eos):.3f} | {np.mean(seconds):.1f} |")
        print(rows[-1], flush=True)
    return rows


def spearman_rows() -> tuple[list[str], float]:
    from scipy.stats import spearmanr

    train = load_split("cora_ml").train
    reference = metrics.graph_statistics(train)
    rows, w1, errors = [], [], []
    longest = None
    for k in LADDER:
        model = _quiet_fit(GraphSynthesizer(eo_target=1.0, max_epochs=k, random_state=0), train)
        stats = metrics.graph_statistics(model.sample(seed=0))
        w1.append(model.history_.w1[-1])
        errors.append(metrics.mean_relative_error(stats, reference, keys=STATS))
        rows.append(f"| {k} | {model.edge_overlap_:.3f} | {w1[-1]:.4f} | {errors[-1]:.3f} |")
        print(rows[-1], flush=True)
        longest = model
    logged = dict(zip(longest.history_.eval_epochs, longest.history_.w1, strict=True))
    if [logged[k] for k in LADDER] != w1:
        raise RuntimeError("a fit cut at max_epochs=k did not log the W1 values of the longer fit")
    # the default fit stops at the first evaluation whose sample reaches EO_TARGET
    stop = next((k for k, row in zip(LADDER, rows, strict=True) if float(row.split("|")[2]) >= EO_TARGET), LADDER[-1])
    inside = [i for i, k in enumerate(LADDER) if k <= stop]
    rho = (float(spearmanr([w1[i] for i in inside], [errors[i] for i in inside]).statistic),
           float(spearmanr(w1, errors).statistic), stop)
    return rows, rho


def _community_shares(graph, labels, blocks):
    edges = np.array(list(graph.edges()))
    same = labels[edges[:, 0]] == labels[edges[:, 1]]
    return np.array([np.mean(same & (labels[edges[:, 0]] == c)) for c in range(blocks)] + [np.mean(~same)])


def mode_rows() -> tuple[list[str], list[str]]:
    graph = nx.random_partition_graph(list(SIZES), 0.12, 0.004, seed=0)
    labels = np.repeat(np.arange(len(SIZES)), SIZES)
    real = _community_shares(graph, labels, len(SIZES))
    header = (["game", "generator loss"] + [f"community {c} ({s} nodes)" for c, s in enumerate(SIZES)]
              + ["between communities", "worst community error", "EO"])
    rows = ["| real graph | — | " + " | ".join(f"{x:.4f}" for x in real) + " | — | — |"]
    for critic_loss, game in (("wasserstein", "WGAN (edge critic)"), ("cross_entropy", "JS (cross-entropy)")):
        for alone in (True, False):
            params = MODE_GAME if alone else {"eo_target": MODE_EO}
            shares, eos = [], []
            for seed in MODE_SEEDS:
                model = _quiet_fit(GraphSynthesizer(critic_loss=critic_loss, adversarial_only=alone, random_state=seed,
                                                    **params), graph)
                shares += [_community_shares(model.to_networkx(seed=k), labels, len(SIZES)) for k in range(3)]
                eos.append(model.edge_overlap_)
            share = np.mean(shares, axis=0)
            error = np.abs(share - real) / real
            cells = [f"{share[c]:.4f} ({100 * (share[c] / real[c] - 1):+.0f} %)" for c in range(len(real))]
            loss = "critic alone" if alone else f"default (walk loss + critic), EO target {MODE_EO}"
            rows.append(f"| {game} | {loss} | " + " | ".join(cells) + f" | {100 * error[:-1].max():.0f} % | "
                        f"{np.mean(eos):.3f} |")
            print(rows[-1], flush=True)
    return header, rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip", nargs="*", default=[], choices=["cora", "spearman", "modes"],
                        help="parts not to run")
    args = parser.parse_args(argv)
    load_before, wall = load_average(first_only=True), time.perf_counter()
    head = ["# GraphSynthesizer and its edge critic", "", *stamp_lines(command_line(__file__, argv))]
    body = []
    out = RESULTS / "synthesis_critic.md"

    def write(done):
        # after each part, so that a part that fails later keeps the earlier ones
        minutes = (time.perf_counter() - wall) / 60
        run = (f"- run: {minutes:.1f} min wall{'' if done else ' so far (still running)'}; 1-minute load average "
               f"{load_before} at the start and {load_average(first_only=True)} at the last write (the 2 cores were "
               "shared with parallel work, so the seconds are loaded timings).")
        out.write_text("\n".join([*head, run, *body]) + "\n")

    if "spearman" not in args.skip:
        rows, rho = spearman_rows()
        body += ["", "## The critic's W1 estimate against the statistics error across one Cora-ML fit", "",
                 "Default GraphSynthesizer, seed 0, cut after k epochs (a cut fit logs the same W1 values as the "
                 "longest one up to its last epoch: checked); one sample at each cut.", "",
                 *table_head(["epochs", "EO", "logged W1 estimate", "MRE of the statistics"]), *rows, "",
                 f"Spearman rank correlation between the W1 estimate and the MRE (target >= 0.8): **{rho[0]:.3f}** "
                 f"over the default fit (cuts up to epoch {rho[2]}, where a sample first reaches EO {EO_TARGET} and "
                 f"the default fit stops); **{rho[1]:.3f}** over all {len(rows)} cuts, trained on to epoch "
                 f"{LADDER[-1]}."]
        write(False)
    if "modes" not in args.skip:
        header, rows = mode_rows()
        game = ", ".join(f"{k}={v}" for k, v in MODE_GAME.items() if k != "eo_target")
        body += ["", "## Mode coverage: communities of unequal size", "",
                 f"Planted partition of {'/'.join(map(str, SIZES))} nodes (p_in 0.12, p_out 0.004, networkx seed 0); "
                 f"each community's share of the edges (relative error to the real share); {len(MODE_SEEDS)} seeds "
                 f"x 3 samples. 'critic alone' is GraphSynthesizer(adversarial_only=True, {game}); 'default' is "
                 "GraphSynthesizer with its defaults but for the game and the EO target.", "",
                 *table_head(header), *rows]
        write(False)
    if "cora" not in args.skip:
        body += ["", "## Cora-ML (CELL split), with and without the critic", "",
                 f"{len(SEEDS)} seeds x {SAMPLES} samples, each fit stopping at EO >= {EO_TARGET} (checked every 5 "
                 "epochs); triangles as a multiple of the training graph's; seconds: fit + 5 samples.", "",
                 *table_head(["model", "test AUC (range)", "triangles / real", "MRE of the statistics", "EO",
                              "fit + sample s"]),
                 *cora_rows()]
    write(True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
