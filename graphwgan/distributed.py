r"""Data-parallel critic training with ``torch.distributed`` (gloo on CPU, NCCL on GPU).

Every process holds the whole graph and a replica of the critic, and draws its own share of each
global mini-batch (:func:`graphwgan.estimate_wasserstein` with ``batch_size``) from its own seeded
generator. ``DistributedDataParallel`` averages the gradients across processes, so with ``P``
processes and a global batch of ``B`` nodes, each step is the step of one process on the union of
the ``P`` shares of ``B / P`` nodes:

.. math:: \nabla \hat J = \frac{1}{P} \sum_{p=1}^{P} \nabla \hat J_p, \qquad
    \hat J_p = \frac{\|\rho\|_1}{B / P} \sum_{i \in \text{share } p} \operatorname{sign}(\rho(v_i)) f(v_i) + C.

Certification (a full-graph inference pass and the c-transforms) is deterministic and runs on every
process, which all hold the same parameters, so every process returns the same bound.

Run on one machine with 4 GPUs, or on 2 machines with 8 GPUs each::

    torchrun --nproc-per-node 4 -m graphwgan.distributed --graph cora_ml --batch-size 1024
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \
        -m graphwgan.distributed --graph cora_ml --batch-size 4096

(see ``docs/scaling.md``). :func:`spawn_local` starts ``P`` CPU processes with gloo from Python.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from typing import Any

import numpy as np

__all__ = ["estimate_wasserstein_ddp", "main", "spawn_local"]


def _defaults() -> dict:
    from graphwgan.estimate import estimate_wasserstein

    return {name: p.default for name, p in inspect.signature(estimate_wasserstein).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def estimate_wasserstein_ddp(graph: Any, mu: Any, nu: Any, *, batch_size: int, device: str | None = None,
                             **kwargs: Any):
    r"""Data-parallel :func:`graphwgan.estimate_wasserstein` in an initialised process group.

    Call it in every process of the group (``torch.distributed.init_process_group`` done, as
    ``torchrun`` and :func:`spawn_local` arrange). The global mini-batch ``batch_size`` (and
    ``penalty_edges``) is split evenly over the processes.

    Parameters
    ----------
    graph, mu, nu
        As for :func:`graphwgan.estimate_wasserstein`; every process passes the same.
    batch_size : int
        Global mini-batch size; divisible by the number of processes.
    device : str, optional
        Default ``cuda:LOCAL_RANK`` when CUDA is available, else ``"cpu"``.
    **kwargs
        Any other keyword of :func:`graphwgan.estimate_wasserstein`. Pass the same ``seed`` to
        every process: each draws its share of the batch from a generator derived from it and its rank.

    Returns
    -------
    WassersteinEstimate
        The same on every process.

    Raises
    ------
    RuntimeError
        If no process group is initialised.
    """
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from graphwgan.estimate import _estimate

    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError("estimate_wasserstein_ddp needs an initialised process group: run it under torchrun "
                           "(or spawn_local), after torch.distributed.init_process_group")
    options = _defaults()
    unknown = set(kwargs) - set(options)
    if unknown:
        raise TypeError(f"unknown keyword arguments {sorted(unknown)}; expected keywords of estimate_wasserstein")
    if device is None:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
    options.update(kwargs, batch_size=batch_size, device=device)
    dev = torch.device(device)

    def wrap(module):
        return DistributedDataParallel(module, device_ids=[dev.index] if dev.type == "cuda" else None)

    return _estimate(graph, mu, nu, **options, shards=(dist.get_rank(),), num_shards=dist.get_world_size(),
                     wrap=wrap)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker(rank, world_size, store, graph, mu, nu, kwargs, path):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    # a file store in the caller's temporary folder: no TCP port to pick, so nothing else can take it first
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world_size)
    try:
        result = estimate_wasserstein_ddp(graph, mu, nu, device="cpu", **kwargs)
        if rank == 0:
            state = {k: v.detach().cpu().clone() for k, v in result.critic.state_dict().items()}
            fields = {k: getattr(result, k) for k in ("estimate", "lower_bound", "lipschitz", "potential",
                                                        "certification", "history", "seconds")}
            torch.save((fields, state), path)
        # every rank waits here until rank 0 has saved: a rank that tears its process group down while
        # another still talks to it can abort inside gloo
        dist.barrier()
    finally:
        dist.destroy_process_group()


def spawn_local(world_size: int, graph: Any, mu: Any, nu: Any, *, batch_size: int, timeout: float = 300.0,
                **kwargs: Any) -> tuple[dict, dict]:
    """Run :func:`estimate_wasserstein_ddp` in ``world_size`` CPU processes on this machine (gloo).

    Returns rank 0's result fields (``estimate``, ``lower_bound``, ``lipschitz``, ``potential``,
    ``certification``, ``history``, ``seconds``) and its critic's ``state_dict``. Meant for tests and
    for trying data parallelism without ``torchrun``; each process uses one torch thread.
    """
    import torch.multiprocessing as mp

    if not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
    import tempfile

    import torch

    context = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "rank0.pt")
        store = os.path.join(folder, "store")
        processes = [context.Process(target=_worker, args=(rank, world_size, store, graph, mu, nu,
                                                           dict(kwargs, batch_size=batch_size), path))
                     for rank in range(world_size)]
        for process in processes:
            process.start()
        try:
            for process in processes:
                process.join(timeout)
            failed = [(rank, p.exitcode) for rank, p in enumerate(processes) if p.exitcode != 0]
            if failed:
                raise RuntimeError(f"data-parallel processes failed or timed out after {timeout} s: {failed} "
                                   "(rank, exit code)")
            return torch.load(path, weights_only=False)
        finally:
            for process in processes:
                if process.is_alive():
                    process.kill()
                    process.join()


def _pair(n: int, seed: int):
    """Two seeded 50-node point clouds (the critic benchmarks' pairs)."""
    rng = np.random.default_rng(seed)
    mu, nu = np.zeros(n), np.zeros(n)
    size = min(50, n)
    mu[rng.choice(n, size, replace=False)] = rng.random(size)
    nu[rng.choice(n, size, replace=False)] = rng.random(size)
    return mu / mu.sum(), nu / nu.sum()


def main(argv: list[str] | None = None) -> int:
    """``python -m graphwgan.distributed``: data-parallel critic estimate, one process per ``torchrun`` rank."""
    import torch
    import torch.distributed as dist

    from graphwgan.datasets import resolve_graph
    from graphwgan.io import read_masses

    parser = argparse.ArgumentParser(prog="python -m graphwgan.distributed",
                                     description="Data-parallel certified W1 estimate (run under torchrun).")
    parser.add_argument("--graph", default="cora_ml",
                        help="a dataset name, a graph file, or 'default' (the embedded graph)")
    parser.add_argument("--mu", help="masses, .npy or text as for `graphwgan w1` (default: a seeded 50-node cloud)")
    parser.add_argument("--nu", help="masses, .npy or text as for `graphwgan w1` (default: a seeded 50-node cloud)")
    parser.add_argument("--batch-size", type=int, default=1024, help="global mini-batch size")
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--lipschitz", default="ctransform")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default=None, help="gloo or nccl (default: nccl with CUDA, else gloo)")
    parser.add_argument("--exact", action="store_true", help="rank 0 also solves the exact W1")
    args = parser.parse_args(argv)
    if (args.mu is None) != (args.nu is None):
        parser.error("give both --mu and --nu, or neither")

    backend = args.backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if "RANK" not in os.environ:
        os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=str(_free_port()))
    if backend == "nccl" and torch.cuda.is_available():
        # NCCL binds each process to one GPU: the rank's own, before any collective runs
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend)
    try:
        data, _ = resolve_graph(None if args.graph == "default" else args.graph, largest_component=True)
        n = int(data.num_nodes)
        if args.mu is None:
            mu, nu = _pair(n, args.seed)
        else:
            names = getattr(data, "node_names", None)
            mu, nu = read_masses(args.mu, n, names), read_masses(args.nu, n, names)
        result = estimate_wasserstein_ddp(data, mu, nu, batch_size=args.batch_size, max_steps=args.max_steps,
                                          lipschitz=args.lipschitz, lr=args.lr, seed=args.seed, verbose=False)
        if dist.get_rank() == 0:
            report = {"world_size": dist.get_world_size(), "backend": backend, "nodes": n,
                      "estimate": result.estimate, "lower_bound": result.lower_bound,
                      "certification": result.certification, "seconds": result.seconds}
            if args.exact:
                import graphwgan

                report["exact"] = float(graphwgan.wasserstein(data, mu, nu).distance)
            json.dump(report, sys.stdout)
            sys.stdout.write("\n")
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
