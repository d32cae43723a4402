"""Data-parallel critic training: two gloo processes take the same steps as one process on their union batch."""

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan.distributed import _defaults, estimate_wasserstein_ddp, main, spawn_local
from graphwgan.estimate import _estimate


def problem():
    graph = nx.connected_watts_strogatz_graph(100, 6, 0.1, seed=0)
    rng = np.random.default_rng(0)
    mu, nu = rng.random(100), rng.random(100)
    return graph, mu / mu.sum(), nu / nu.sum()


def single_process(graph, mu, nu, shards, num_shards, **kwargs):
    options = _defaults()
    options.update(kwargs)
    return _estimate(graph, mu, nu, **options, shards=shards, num_shards=num_shards, wrap=None)


def test_two_processes_equal_one_process_on_the_same_global_batch():
    graph, mu, nu = problem()
    options = {"max_steps": 6, "eval_every": 6, "seed": 3, "lipschitz": "penalty", "batch_size": 32,
               "hidden_channels": 16, "verbose": False}
    fields, state = spawn_local(2, graph, mu, nu, timeout=120, **options)
    # one process drawing both shares of every global batch (the 2-rank batch, exactly)
    union = single_process(graph, mu, nu, (0, 1), 2, **options).critic.state_dict()
    # one process drawing a different batch of the same size
    other = single_process(graph, mu, nu, (0,), 1, **options).critic.state_dict()
    same = max(float((state[k] - union[k]).abs().max()) for k in union)
    different = max(float((other[k] - union[k]).abs().max()) for k in union)
    print(f"largest parameter difference: 2 ranks vs union batch {same:.2e}, vs another batch {different:.2e}")
    for key in union:
        torch.testing.assert_close(state[key], union[key], atol=1e-4, rtol=1e-4)
    assert different > 100 * max(same, 1e-7)
    reference = single_process(graph, mu, nu, (0, 1), 2, **options)
    assert fields["lower_bound"] == pytest.approx(reference.lower_bound, rel=1e-4)
    # the logged objective is the global batch's, averaged over the ranks
    np.testing.assert_allclose(fields["history"]["objective"], reference.history["objective"], rtol=1e-4, atol=1e-5)


def test_needs_a_process_group_and_even_shares():
    graph, mu, nu = problem()
    with pytest.raises(RuntimeError, match="initialised process group"):
        estimate_wasserstein_ddp(graph, mu, nu, batch_size=8)
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        single_process(graph, mu, nu, (0,), 3, batch_size=32, max_steps=2)
    with pytest.raises(ValueError, match="world_size must be a positive integer"):
        spawn_local(0, graph, mu, nu, batch_size=8)


def test_entry_point_runs_as_one_process(capsys):
    import json

    assert main(["--graph", "default", "--batch-size", "64", "--max-steps", "20", "--exact"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["world_size"] == 1 and report["backend"] in ("gloo", "nccl")
    assert 0 < report["lower_bound"] <= report["exact"] * (1 + 1e-9)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices for NCCL data parallelism")
def test_nccl_two_gpus():  # pragma: no cover - needs hardware
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m",
                          "graphwgan.distributed", "--graph", "default", "--batch-size", "64", "--max-steps", "50",
                          "--exact"], capture_output=True, text=True, timeout=300, check=True)
    assert '"backend": "nccl"' in out.stdout
