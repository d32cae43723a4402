"""GPU check: time graphwgan's CUDA paths against the CPU on seeded random graphs, within a time budget.

Every part runs on ``cuda`` and on ``cpu`` on the same machine, on the seeded random graphs of
``run_scaling.py`` (``|E|`` undirected edges on ``|E| / 4`` nodes, mean degree 8; sizes 1e4, 1e5,
1e6 by default) and, for the correctness checks, the embedded default graph (no data files). Parts:

- ``parity`` (CUDA only): small-graph agreement of CUDA and CPU results (estimate_wasserstein full
  and mini-batch, AnomalyDetector, DOMINANT, GAAN, CELL, GraphSynthesizer), certified bounds below
  the exact W1, and the caller's CUDA random state left untouched by every fit;
- ``critic_step``: one full-batch critic step (as ``run_scaling.py``: SAGE, 2 layers, 64 channels,
  edge penalty on every edge, Adam), median of 3 after a warm-up step;
- ``minibatch_step``: one mini-batch critic step (256 importance-sampled nodes, 256 penalty edges,
  exact 2-hop subgraph), median of 5 after a warm-up step;
- ``estimate``: ``estimate_wasserstein(max_steps=10)`` end to end (setup, 10 c-transform steps with
  their CPU Dijkstra, one certification);
- ``anomaly_fit``, ``dominant_fit``, ``gaan_fit``: ``AnomalyDetector`` / ``DOMINANT`` / ``GAAN``
  ``(epochs=1).fit`` (setup, one epoch, scoring), 16 random features;
- ``generator_epoch``: ``GraphSynthesizer(max_epochs=1).fit`` (with ``num_negatives=512`` when the
  installed version has that option);
- ``ddp``: ``torchrun --standalone --nproc-per-node 1 -m graphwgan.distributed`` with NCCL on the
  GPU and gloo on the CPU (``CUDA_VISIBLE_DEVICES=`` hides the GPU), the embedded graph with
  ``--exact`` first, then the random graphs (written as ``.npz``).

Each device runs in a child process (one for CUDA, then one for the CPU) that goes through the
parts in order and prints one JSON line per measurement. Every part has a time budget on each
device (its share of ``--budget``; the CPU also gets what CUDA left of the part): a size whose
predicted time (the last size's, grown by the part's exponent) exceeds what is left is skipped, and
a part still running at its deadline is killed (the child restarts for the next part). The GPU
peak is ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats`` for each measurement.

    python -m benchmarks.scale.run_gpu_check                          # -> $OUT (default ./gpu_out)
    python -m benchmarks.scale.run_gpu_check --quick --threads 1      # sizes 1e3, 3e3, 120 s budget
    python -m benchmarks.scale.run_gpu_check --report gpu_out/gpu_check.json   # -> results/scaling_gpu.md

It writes ``gpu_check.json`` (every row), ``gpu_check.md`` (the report) and ``gpu_check.log`` into
the output folder. Without CUDA every CUDA row reads "no CUDA" and the CPU rows still run.
``--fake-cuda`` (hidden) runs the CUDA pass on the CPU, labelled as CUDA, to try the bookkeeping
(budgets, kills, the report) on a machine without a GPU. ``benchmarks/scale/run_gpu_check.sh`` sets up
the environment on a fresh GPU machine, runs the CUDA tests and then this script.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import (
    REPO,
    RESULTS,
    command_line,
    commit,
    cpu_model,
    emit,
    max_rss_bytes,
    median_time,
    run_module,
    source_digest,
    table_head,
    total_ram_gib,
    versions,
)
from benchmarks.scale.run_scaling import clouds, critic_step, minibatch_step, random_graph

#: part -> (label, share of the budget, growth exponent of time in |E| used to predict the next size)
PARTS = {
    "parity": ("CUDA vs CPU agreement, default graph", 0.08, 1.0),
    "critic_step": ("critic step, full batch", 0.10, 1.2),
    "minibatch_step": ("critic step, mini-batch (B=256)", 0.08, 0.6),
    "estimate": ("estimate_wasserstein, 10 steps (c-transform, embedding features)", 0.12, 1.3),
    "anomaly_fit": ("AnomalyDetector fit, 1 epoch", 0.13, 1.3),
    "dominant_fit": ("DOMINANT fit, 1 epoch", 0.08, 2.0),
    "gaan_fit": ("GAAN fit, 1 epoch", 0.08, 1.3),
    "generator_epoch": ("GraphSynthesizer fit, 1 epoch", 0.16, 2.0),  # 1.3 with num_negatives
    "ddp": ("torchrun DDP, 1 process, 20 steps (B=256)", 0.17, 1.3),
}
#: fraction of a part's budget held by CUDA (the CPU gets the rest plus what CUDA did not use); DDP
#: holds more, as every launch pays for torchrun's start
CUDA_SHARE = 0.4
DDP_CUDA_SHARE = 0.55
DEFAULT_SIZES = "1e4,1e5,1e6"
QUICK_SIZES = "1e3,3e3"
NEGATIVES = 512
DDP_STEPS = 20
GRACE_S = 5.0
#: the distributed CLI builds structural encodings (features="auto"), whose shift-invert Laplacian
#: eigensolver took 4 s at 1e4 and 71 s at 3e4 edges of a random graph (one core): DDP stops here
DDP_MAX_EDGES = 1_000_000


# ----------------------------------------------------------------------------------------------
# measurements (run in the child)
# ----------------------------------------------------------------------------------------------


def _sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _with_features(data, dims: int = 16, seed: int = 0):
    import torch

    graph = data.clone()
    rng = np.random.default_rng(seed)
    graph.x = torch.as_tensor(rng.normal(size=(int(data.num_nodes), dims)), dtype=torch.float32)
    return graph


def synthesizer_options() -> dict:
    """``num_negatives=512`` when the installed GraphSynthesizer takes that option, else nothing."""
    from graphwgan.synthesis import GraphSynthesizer

    return {"num_negatives": NEGATIVES} if "num_negatives" in inspect.signature(GraphSynthesizer).parameters else {}


def run_part(part: str, data, dev) -> dict:
    """Run ``part`` on ``data`` on device ``dev``; seconds and a value to compare across devices."""

    n = int(data.num_nodes)
    if part == "critic_step":
        step, _ = critic_step(data, dev)
        seconds, value = median_time(step, 3)
        return {"seconds": seconds, "check": value}
    if part == "minibatch_step":
        step, nodes_seen = minibatch_step(data, dev)
        seconds, value = median_time(step, 5)
        return {"seconds": seconds, "check": value, "subgraph_nodes": float(np.mean(nodes_seen))}
    if part == "estimate":
        from graphwgan import estimate_wasserstein

        mu, nu = clouds(n)
        start = time.perf_counter()
        # learned embeddings: the structural encodings are a CPU eigensolver, the same whatever the device
        result = estimate_wasserstein(data, mu, nu, features="embedding", max_steps=10, eval_every=10, seed=0,
                                      device=str(dev), verbose=False)
        return {"seconds": time.perf_counter() - start, "check": float(result.lower_bound)}
    if part in ("anomaly_fit", "dominant_fit", "gaan_fit"):
        from graphwgan.anomaly import DOMINANT, GAAN, AnomalyDetector

        model = {"anomaly_fit": AnomalyDetector, "dominant_fit": DOMINANT, "gaan_fit": GAAN}[part]
        graph = _with_features(data)
        start = time.perf_counter()
        fitted = model(epochs=1, random_state=0, device=str(dev)).fit(graph)
        _sync(dev)
        return {"seconds": time.perf_counter() - start, "check": float(np.mean(np.abs(fitted.decision_scores_)))}
    if part == "generator_epoch":
        from graphwgan.synthesis import GraphSynthesizer

        options = synthesizer_options()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # one epoch does not reach eo_target
            model = GraphSynthesizer(max_epochs=1, random_state=0, device=str(dev), **options).fit(data)
        _sync(dev)
        return {"seconds": time.perf_counter() - start, "check": float(model.history_.loss[0]),
                "options": options}
    raise ValueError(f"part must be one of {list(PARTS)}, got {part!r}")


def _growth(part: str) -> float:
    """Exponent of time in |E| for predicting the next size (the sampled softmax makes the generator ~linear)."""
    if part == "generator_epoch" and synthesizer_options():
        return 1.3
    return PARTS[part][2]


def _close(a, b) -> dict:
    """Largest absolute and relative difference and the correlation of two arrays."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    corr = float(np.corrcoef(a, b)[0, 1]) if a.size > 1 and np.std(a) > 0 and np.std(b) > 0 else float("nan")
    return {"max_abs_diff": diff, "max_rel_diff": diff / scale if scale > 0 else diff, "corr": corr}


def parity(dev):
    """CUDA against CPU on the embedded default graph: yields ``(item, result)``, each caught on its own."""
    import torch

    import graphwgan
    from graphwgan.anomaly import DOMINANT, GAAN, AnomalyDetector
    from graphwgan.datasets import default_graph
    from graphwgan.synthesis import CELL, GraphSynthesizer

    data = default_graph()
    n = int(data.num_nodes)
    graph = _with_features(data)
    mu, nu = clouds(n)
    exact = float(graphwgan.wasserstein(data, mu, nu).distance)

    def rng_state():
        return torch.cuda.get_rng_state(dev) if dev.type == "cuda" else torch.get_rng_state()

    def run(name, fit):
        state = rng_state()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out = fit()
            out["cuda_rng_untouched"] = bool(torch.equal(state, rng_state()))
        except Exception as error:  # noqa: BLE001 - every failure is reported, none stops the others
            out = {"error": f"{type(error).__name__}: {error}"[:300], "where": _where(error)}
        return name, out

    def estimate(batch_size):
        def fit():
            results = [graphwgan.estimate_wasserstein(data, mu, nu, max_steps=100, seed=0, device=d,
                                                      batch_size=batch_size, verbose=False) for d in ("cpu", str(dev))]
            cpu, gpu = (r.lower_bound for r in results)
            return {"exact": exact, "cpu_lower_bound": cpu, "cuda_lower_bound": gpu,
                    "certified": bool(gpu <= exact * (1 + 1e-9) and cpu <= exact * (1 + 1e-9)),
                    "cuda_over_cpu": gpu / cpu if cpu else float("nan")}
        return fit

    def detector(model, **options):
        def fit():
            cpu, gpu = (model(random_state=0, device=d, **options).fit(graph).decision_scores_
                        for d in ("cpu", str(dev)))
            return _close(gpu, cpu)
        return fit

    def generator(model, **options):
        def fit():
            cpu, gpu = (model(random_state=0, device=d, **options).fit(data) for d in ("cpu", str(dev)))
            out = _close(gpu.source_factors_, cpu.source_factors_)
            out["on_cpu_after_fit"] = gpu.source_factors_.device.type == "cpu"
            out["cpu_epochs"], out["cuda_epochs"] = cpu.n_epochs_, gpu.n_epochs_
            return out
        return fit

    yield run("estimate_full", estimate(None))
    yield run("estimate_minibatch", estimate(64))
    yield run("AnomalyDetector", detector(AnomalyDetector, epochs=20))
    yield run("AnomalyDetector_svd_sketch", detector(AnomalyDetector, epochs=20, dims=8))
    yield run("DOMINANT", detector(DOMINANT, epochs=20))
    yield run("GAAN", detector(GAAN, epochs=20))
    yield run("CELL", generator(CELL, max_epochs=20, eo_target=0.99))
    yield run("GraphSynthesizer", generator(GraphSynthesizer, max_epochs=20, eo_target=0.99))
    negatives = synthesizer_options()
    if negatives:
        yield run("GraphSynthesizer_negatives",
                  generator(GraphSynthesizer, max_epochs=20, eo_target=0.99, **negatives))


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if "graphwgan" in f.filename] or frames
    last = inside[-1] if inside else None
    return f"{Path(last.filename).name}:{last.lineno}" if last else ""


def _gpu_memory(dev) -> dict:
    import torch

    if dev.type != "cuda":
        return {}
    return {"gpu_peak_mib": torch.cuda.max_memory_allocated(dev) / 2**20,
            "gpu_reserved_mib": torch.cuda.max_memory_reserved(dev) / 2**20}


def child(device: str, plan: list[dict], threads: int) -> None:
    """Go through ``plan`` (parts with sizes and budgets) on ``device``, one JSON line per event."""
    import torch

    torch.set_num_threads(threads)
    dev = torch.device(device)
    info = {"event": "info", "device": device, "threads": torch.get_num_threads(), "torch": torch.__version__}
    if dev.type == "cuda":
        torch.zeros(1, device=dev)  # the context, before anything is timed
        props = torch.cuda.get_device_properties(dev)
        info.update(gpu=props.name, gpu_memory_gib=props.total_memory / 2**30, cuda=torch.version.cuda,
                    capability=f"{props.major}.{props.minor}")
    emit(info)
    graphs: dict[int, object] = {}
    tiny = random_graph(400, seed=1)
    for item in plan:
        part, budget = item["part"], float(item["budget"])
        start = time.monotonic()
        emit({"event": "start", "part": part})
        if part == "parity":
            try:
                began = time.monotonic()
                for name, check in parity(dev):
                    emit({"event": "row", "part": part, "device": device, "size": name, "check": check,
                           "wall": time.monotonic() - began})
                    began = time.monotonic()
            except Exception as error:  # noqa: BLE001
                emit({"event": "row", "part": part, "device": device, "size": None,
                       "error": f"{type(error).__name__}: {error}", "where": _where(error)})
            continue
        try:  # lazy imports, kernels, allocator: once on a tiny graph, not timed
            run_part(part, tiny, dev)
        except Exception as error:  # noqa: BLE001
            message = f"{type(error).__name__}: {error}"[:300]
            for size in item["sizes"]:
                emit({"event": "row", "part": part, "device": device, "size": size, "error": message,
                       "where": _where(error)})
            continue
        previous = None
        for size in item["sizes"]:
            left = budget - (time.monotonic() - start)
            if previous is not None:
                wall, last = previous
                predicted = wall * (size / last) ** _growth(part)
                if math.isinf(predicted):
                    emit({"event": "row", "part": part, "device": device, "size": size,
                           "skipped": "not run: the smaller graph failed"})
                    continue
                if predicted > left:
                    emit({"event": "row", "part": part, "device": device, "size": size,
                           "skipped": f"predicted {predicted:.0f} s > {max(left, 0):.0f} s left of the part budget"})
                    previous = (predicted, size)
                    continue
            if size not in graphs:
                graphs[size] = random_graph(size)
            data = graphs[size]
            emit({"event": "size", "part": part, "size": size})
            if dev.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(dev)
            began = time.monotonic()
            row = {"event": "row", "part": part, "device": device, "size": size, "nodes": int(data.num_nodes),
                   "edges": int(data.edge_index.shape[1]) // 2}
            try:
                row.update(run_part(part, data, dev))
                _sync(dev)
            except Exception as error:  # noqa: BLE001
                oom = isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error)
                row["error"] = ("CUDA out of memory: " if oom else "") + f"{type(error).__name__}: {error}"[:300]
                row["where"] = _where(error)
            row["wall"] = time.monotonic() - began
            row.update(_gpu_memory(dev))
            row["rss_peak_mib"] = max_rss_bytes() / 2**20
            emit(row)
            previous = (row["wall"], size)
            if "error" in row:
                previous = (math.inf, size)  # larger graphs would fail the same way


# ----------------------------------------------------------------------------------------------
# the parent: children per device, budgets, hard deadlines
# ----------------------------------------------------------------------------------------------


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def run_device(device: str, plan: list[dict], threads: int, deadline: float, log, *, actual: str | None = None
               ) -> list[dict]:
    """Run ``plan`` on ``device`` in children; kill a part at its budget and go on with a fresh child.

    ``actual`` runs the children on another device while labelling the rows ``device`` (``--fake-cuda``:
    the CUDA pass on the CPU, to try this script's bookkeeping on a machine without a GPU).
    """
    rows: list[dict] = []
    pending = [dict(item) for item in plan]
    info = {}
    while pending:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
        proc = run_module("benchmarks.scale.run_gpu_check", "--child", actual or device, json.dumps(pending),
                          "--threads", str(threads), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env)
        lines: queue.Queue = queue.Queue()
        errors: queue.Queue = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
        threading.Thread(target=_reader, args=(proc.stderr, errors), daemon=True).start()
        current, part_deadline, size = None, deadline, None
        done_parts: set[str] = set()
        killed = None
        while True:
            now = time.monotonic()
            limit = min(part_deadline, deadline)
            try:
                line = lines.get(timeout=max(0.05, min(1.0, limit - now)))
            except queue.Empty:
                if time.monotonic() > limit:
                    killed = "global budget" if time.monotonic() >= deadline else "part budget"
                    proc.kill()
                    break
                continue
            if line is None:
                break
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            event = record.pop("event")
            if event == "info":
                info = dict(record, device=device)
                log(f"[{device}] {record}")
            elif event == "start":
                if current is not None:
                    done_parts.add(current)
                current, size = record["part"], None
                budget = next(item["budget"] for item in pending if item["part"] == current)
                part_deadline = time.monotonic() + budget + GRACE_S
                log(f"[{device}] {current}: budget {budget:.0f} s")
            elif event == "size":
                size = record["size"]
            elif event == "row":
                record["device"] = device
                rows.append(record)
                shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in record.items()}
                log(f"[{device}] {shown}")
        proc.wait()
        stderr_tail = []
        while not errors.empty():
            item = errors.get()
            if item:
                stderr_tail.append(item.rstrip())
        if current is not None and killed is None:
            done_parts.add(current)
        if killed and current is None:  # stuck before its first part: give up on this device
            for item in pending:
                for s in item.get("sizes") or [None]:
                    rows.append({"part": item["part"], "device": device, "size": s,
                                 "skipped": f"not run: the child was killed at the {killed} before any part"})
            break
        seen = {(r["part"], r.get("size")) for r in rows if r.get("device") == device}
        if killed:
            item = next(i for i in pending if i["part"] == current)
            for s in item.get("sizes") or [None]:
                if (current, s) not in seen:
                    limit = f" ({item['budget']:.0f} s)" if killed == "part budget" else ""
                    reason = (f"killed at the {killed}{limit}" if s == size or s is None
                              else f"not run: part stopped at the {killed}")
                    rows.append({"part": current, "device": device, "size": s, "skipped": reason})
            done_parts.add(current)
            log(f"[{device}] {current}: killed ({killed}) while at size {size}")
        elif proc.returncode != 0:
            message = (stderr_tail or ["no output"])[-1][:300]
            log(f"[{device}] child exited with {proc.returncode}: {message}")
            if current is not None:
                item = next(i for i in pending if i["part"] == current)
                for s in item.get("sizes") or [None]:
                    if (current, s) not in seen:
                        rows.append({"part": current, "device": device, "size": s,
                                     "error": f"child exited with {proc.returncode}: {message}"})
                done_parts.add(current)
            else:  # the child died before any part: nothing will work on this device
                for item in pending:
                    for s in item.get("sizes") or [None]:
                        rows.append({"part": item["part"], "device": device, "size": s,
                                     "error": f"child exited with {proc.returncode}: {message}"})
                pending = []
        if not done_parts and pending:  # no progress (should not happen): do not loop
            for item in pending:
                rows.append({"part": item["part"], "device": device, "size": None,
                             "error": "the child finished without running this part"})
            break
        pending = [item for item in pending if item["part"] not in done_parts]
        if time.monotonic() > deadline:
            for item in pending:
                for s in item.get("sizes") or [None]:
                    rows.append({"part": item["part"], "device": device, "size": s,
                                 "skipped": "not run: global budget spent"})
            pending = []
    if info:
        rows.append({"part": "_info", "device": device, **info})
    return rows


def _write_npz(data, path: Path) -> None:
    import scipy.sparse as sp

    row, col = data.edge_index.numpy()
    n = int(data.num_nodes)
    sp.save_npz(path, sp.csr_array((np.ones(row.size), (row, col)), shape=(n, n)))


def run_ddp(device: str, sizes: list[int], budget: float, deadline: float, folder: Path, threads: int,
            log, *, fake: bool = False) -> list[dict]:
    """``torchrun --nproc-per-node 1 -m graphwgan.distributed`` with NCCL (cuda) or gloo (cpu).

    The embedded graph (with ``--exact``) first, then the random graphs up to ``DDP_MAX_EDGES``. The
    next size is predicted from the last run: its start-up (wall minus the estimate's own seconds)
    plus its seconds grown by the part's exponent.
    """
    rows = []
    start = time.monotonic()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    backend = "nccl" if device == "cuda" and not fake else "gloo"
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    previous = None  # (start-up seconds, estimate seconds, edges) of the last run
    for spec in ["default", *sizes]:
        row = {"part": "ddp", "device": device, "size": spec, "backend": backend}
        if spec != "default" and spec > DDP_MAX_EDGES:
            row["skipped"] = f"not run: above DDP_MAX_EDGES = {DDP_MAX_EDGES} edges"
            rows.append(row)
            continue
        left = min(budget - (time.monotonic() - start), deadline - time.monotonic())
        if previous is not None:
            overhead, seconds, edges = previous
            predicted = overhead + seconds * (spec / edges) ** PARTS["ddp"][2]
            if math.isinf(predicted):
                row["skipped"] = "not run: the previous launch failed or was killed"
                rows.append(row)
                continue
            if predicted > left:
                row["skipped"] = f"predicted {predicted:.0f} s > {max(left, 0):.0f} s left of the part budget"
                rows.append(row)
                log(f"[{device}] {row}")
                continue
        if left <= 1:
            row["skipped"] = "not run: part budget spent"
            rows.append(row)
            continue
        if spec == "default":
            graph, extra = "default", ["--exact"]
        else:
            graph, extra = str(folder / f"random_{spec}.npz"), []
            if not Path(graph).exists():
                _write_npz(random_graph(spec), Path(graph))
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "1",
                   "-m", "graphwgan.distributed", "--graph", graph, "--batch-size", "256",
                   "--max-steps", str(DDP_STEPS), "--backend", backend, *extra]
        began = time.monotonic()
        # a session of its own, so that a timeout ends torchrun's worker too (it would hold the GPU)
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=REPO, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=left)
            row["wall"] = time.monotonic() - began
            lines = [line for line in stdout.splitlines() if line.startswith("{")]
            if proc.returncode != 0 or not lines:
                tail = [line for line in stderr.splitlines() if line.strip()]
                row["error"] = f"exit {proc.returncode}: " + " | ".join(tail[-3:])[-400:]
                previous = (math.inf, 0.0, 1)  # a failing launch fails the same way on larger graphs
            else:
                report = json.loads(lines[-1])
                row.update(nodes=report["nodes"], seconds=report["seconds"], check=report["lower_bound"],
                           backend=report["backend"], world_size=report["world_size"])
                if "exact" in report:
                    row["exact"] = report["exact"]
                    row["certified"] = bool(report["lower_bound"] <= report["exact"] * (1 + 1e-9))
                # the embedded graph's size in the random graphs' terms: |E| ~ 4 |V|
                edges = 4 * report["nodes"] if spec == "default" else spec
                previous = (row["wall"] - report["seconds"], report["seconds"], edges)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            row["wall"] = time.monotonic() - began
            row["skipped"] = f"killed at the part budget after {row['wall']:.0f} s"
            previous = (math.inf, 0.0, 1)
        rows.append(row)
        log(f"[{device}] {row}")
    return rows


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001
        return False


def machine(threads: int) -> dict:
    """CPU, memory, library versions and the GPU (from nvidia-smi, without starting CUDA here)."""
    import platform

    info = {"python": platform.python_version(), "cores": os.cpu_count(), "threads": threads}
    model, ram = cpu_model(unknown=""), total_ram_gib()
    if model:
        info["cpu"] = model
    if ram is not None:
        info["ram_gib"] = round(ram, 1)
    info.update(versions())
    try:
        import torch

        info["torch_cuda"] = torch.version.cuda
    except Exception:  # noqa: BLE001
        pass
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        if smi.returncode == 0 and smi.stdout.strip():
            info["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def pytest_summary(path: Path) -> list[str] | None:
    """The outcome lines of the CUDA tests that ``run_gpu_check.sh`` ran before (``$OUT/pytest_cuda.txt``)."""
    if not path.exists():
        return None
    keep = ("passed", "failed", "skipped", "error", "PASSED", "FAILED", "SKIPPED", "ERROR", "deselected")
    return [line.strip() for line in path.read_text(errors="replace").splitlines()
            if any(word in line for word in keep) and not line.startswith("=")][-20:] or None


def source_state() -> dict:
    """Git commit (when the copy has one) and a digest of graphwgan/*.py (identifies uncommitted code)."""
    state = {"graphwgan_sha256": source_digest(("graphwgan",))}
    revision = commit(("graphwgan",), dirty=" (graphwgan/ has uncommitted changes)", none="")
    if revision:
        state["commit"] = revision
    return state


def measure_all(args) -> int:
    started = time.monotonic()
    deadline = started + args.budget
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "gpu_check.log"

    def log(message: str) -> None:
        stamp = f"[{time.monotonic() - started:6.1f} s]"
        print(stamp, message, flush=True)
        with log_path.open("a") as handle:
            handle.write(f"{stamp} {message}\n")

    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"unknown parts {unknown}; choose from {list(PARTS)}")
    cuda = _cuda_available() or args.fake_cuda
    records = {
        "command": command_line(__file__, args.argv, prefix="", python=Path(sys.executable).name),
        "launcher": os.environ.get("GPU_CHECK_COMMAND"),
        "pytest": pytest_summary(out / "pytest_cuda.txt"),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
        "machine": machine(args.threads),
        "source": source_state(),
        "budget_s": args.budget,
        "sizes": sizes,
        "cuda": cuda,
        "fake_cuda": bool(args.fake_cuda),
        "synthesizer_options": None,
        "rows": [],
    }
    log(f"machine {records['machine']}")
    log(f"CUDA available: {cuda}; budget {args.budget:.0f} s; sizes {sizes}; parts {parts}")
    json_path = out / "gpu_check.json"

    def save() -> None:
        records["elapsed_s"] = time.monotonic() - started
        json_path.write_text(json.dumps(records, indent=1))
        try:
            write_report(records, out / "gpu_check.md")
        except Exception as error:  # noqa: BLE001 - the JSON is what counts; --report can be rerun
            log(f"could not write the markdown report: {type(error).__name__}: {error}")

    total_share = sum(PARTS[p][1] for p in parts)
    budgets = {p: args.budget * PARTS[p][1] / total_share for p in parts}
    child_parts = [p for p in parts if p != "ddp"]
    # CUDA first, each part held to its share; the CPU then gets the rest of each part's budget
    used: dict[str, float] = {}
    if cuda:
        plan = [{"part": p, "sizes": [] if p == "parity" else sizes,
                 "budget": budgets[p] * (1.0 if p == "parity" else CUDA_SHARE)} for p in child_parts]
        if plan:
            rows = run_device("cuda", plan, args.threads, deadline, log, actual="cpu" if args.fake_cuda else None)
            records["rows"] += rows
            for p in child_parts:
                used[p] = sum(r.get("wall", 0.0) for r in rows if r["part"] == p)
            save()
        if "ddp" in parts:
            with tempfile.TemporaryDirectory() as folder:
                rows = run_ddp("cuda", sizes, budgets["ddp"] * DDP_CUDA_SHARE, deadline, Path(folder), args.threads,
                               log, fake=args.fake_cuda)
            records["rows"] += rows
            used["ddp"] = sum(r.get("wall", 0.0) for r in rows)
            save()
    else:
        for p in parts:
            records["rows"].append({"part": p, "device": "cuda", "size": None, "skipped": "no CUDA"})
    if not args.skip_cpu:
        cpu = {p: max(budgets[p] - used.get(p, 0.0), 0.2 * budgets[p]) for p in parts if p != "parity"}
        # shrink them all alike to what is left (less the start of a child), rather than starve the last parts
        scale = min(1.0, max(deadline - time.monotonic() - 10.0, 0.0) / max(sum(cpu.values()), 1e-9))
        plan = [{"part": p, "sizes": sizes, "budget": cpu[p] * scale} for p in child_parts if p != "parity"]
        if plan:
            records["rows"] += run_device("cpu", plan, args.threads, deadline, log)
            save()
        if "ddp" in parts:
            with tempfile.TemporaryDirectory() as folder:
                records["rows"] += run_ddp("cpu", sizes, cpu["ddp"] * scale, deadline, Path(folder), args.threads,
                                           log)
    try:
        records["synthesizer_options"] = synthesizer_options()
    except Exception as error:  # noqa: BLE001
        records["synthesizer_options"] = f"unavailable: {error}"
    save()
    log(f"wrote {json_path} and {out / 'gpu_check.md'} in {time.monotonic() - started:.0f} s")
    return 0


# ----------------------------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------------------------


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _cell(row: dict | None) -> str:
    if row is None:
        return "not run"
    if "error" in row:
        return "error: " + row["error"].replace("|", "/")[:160] + (f" ({row['where']})" if row.get("where") else "")
    if "skipped" in row:
        return row["skipped"]
    return _fmt(row.get("seconds"))


def write_report(records: dict, path: Path) -> None:
    """The markdown report: header, GPU vs CPU table, parity checks, the DDP runs."""
    rows = [r for r in records["rows"] if not r["part"].startswith("_")]
    infos = {r["device"]: r for r in records["rows"] if r["part"] == "_info"}
    m = records.get("machine", {})
    gpu = infos.get("cuda", {})
    gpu_line = (f"{gpu.get('gpu')} ({gpu.get('gpu_memory_gib', 0):.0f} GiB, compute capability "
                f"{gpu.get('capability')}), CUDA {gpu.get('cuda')}" if gpu else
                "none (no CUDA: every CUDA column is skipped)")
    if records.get("fake_cuda"):
        gpu_line = "NONE: a --fake-cuda trial, the 'GPU' columns ran on the CPU (bookkeeping check only)"
    if m.get("nvidia_smi"):
        gpu_line += f"; nvidia-smi: {m['nvidia_smi']}"
    source = records.get("source", {})
    command = f"`{records.get('command', '')}`"
    if records.get("launcher"):
        command = f"`{records['launcher']}` (which runs {command})"
    lines = [
        "# GPU against CPU",
        "",
        f"- command: {command}, then `python -m benchmarks.scale.run_gpu_check --report gpu_check.json`",
        f"- code: commit {source.get('commit', 'unknown (the copy had no git metadata)')}; "
        f"sha256 of graphwgan/*.py {source.get('graphwgan_sha256', '?')}; measured {records.get('date', '?')}",
        f"- machine: {m.get('cores')} cores, {m.get('cpu', 'unknown CPU')}, {m.get('ram_gib', '?')} GiB RAM; "
        f"Python {m.get('python')}; numpy {m.get('numpy')}, scipy {m.get('scipy')}, torch {m.get('torch')} "
        f"(CUDA {m.get('torch_cuda')}), torch_geometric {m.get('torch_geometric')}, POT {m.get('ot')}; "
        f"{m.get('threads')} torch threads on the CPU",
        f"- GPU: {gpu_line}",
        f"- budget: {records.get('budget_s', 0):.0f} s for all parts, {records.get('elapsed_s', 0):.0f} s used; a "
        "size whose predicted time exceeds what is left of its part's budget is skipped, a part past its budget "
        "is killed (see `run_gpu_check.py`).",
        "- graphs `random:M`: the seeded graphs of `run_scaling.py` (M undirected edges on M/4 nodes, mean degree 8).",
        f"- GraphSynthesizer options: `{records.get('synthesizer_options')}`.",
        "- seconds: `critic_step` median of 3 steps, `minibatch_step` median of 5 (after a warm-up step each); "
        "every other part is one call, timed whole (setup included). Each part ran once on a 400-edge graph first "
        "(imports, CUDA kernels, allocator). GPU peak = `torch.cuda.max_memory_allocated` during the measurement "
        "(`reserved` = the caching allocator's peak).",
        "",
        "## Seconds and GPU memory",
        "",
        *table_head(["part", "graph", "nodes", "GPU s", "CPU s", "speed-up", "GPU peak MiB", "GPU reserved MiB",
                     "check GPU / CPU"]),
    ]
    keyed = {(r["part"], r["device"], r.get("size")): r for r in rows}
    sizes = records.get("sizes", [])
    for part, (label, _, _) in PARTS.items():
        if part == "parity":
            continue
        specs = (["default"] if part == "ddp" else []) + sizes
        present = [r for r in rows if r["part"] == part]
        if not present:
            continue
        for spec in specs:
            g = keyed.get((part, "cuda", spec)) or keyed.get((part, "cuda", None))
            c = keyed.get((part, "cpu", spec)) or keyed.get((part, "cpu", None))
            if g is None and c is None:
                continue
            nodes = next((r["nodes"] for r in (g, c) if r and "nodes" in r), None)
            speed = ""
            if g and c and g.get("seconds") and c.get("seconds") and "error" not in g and "error" not in c:
                speed = f"{c['seconds'] / g['seconds']:.1f}x"
            checks = " / ".join(_fmt(r.get("check"), 5) if r and "check" in r else "-" for r in (g, c))
            graph = "default (embedded)" if spec == "default" else f"random:{spec}"
            lines.append(f"| {label} | {graph} | {_fmt(nodes)} | {_cell(g)} | {_cell(c)} | {speed} | "
                         f"{_fmt((g or {}).get('gpu_peak_mib'), 4)} | {_fmt((g or {}).get('gpu_reserved_mib'), 4)} | "
                         f"{checks} |")
    ddp = [r for r in rows if r["part"] == "ddp" and r.get("exact") is not None]
    if ddp:
        lines += ["", "DDP on the embedded graph (`--exact`): " + "; ".join(
            f"{r['backend']}: lower bound {r['check']:.5f} of exact {r['exact']:.5f}, certified {r['certified']}"
            for r in ddp) + ". DDP seconds are the estimate's own (`result.seconds`), without the torchrun start; "
            "no GPU peak (another process)."]
    if records.get("pytest"):
        lines += ["", "## CUDA tests", "", "`pytest -q -rs tests -k 'cuda or nccl or gpu'` on the same machine, "
                  "before the timings:", "", "```", *records["pytest"], "```"]
    parity_rows = [r for r in rows if r["part"] == "parity"]
    lines += ["", "## CUDA against CPU on the embedded default graph", ""]
    items = [r for r in parity_rows if isinstance(r.get("check"), dict)]
    if items:
        lines += ["Each model fitted with the same seed on the CPU and on CUDA (estimates: 100 steps; detectors: "
                  "20 epochs, 16 random features; generators: 20 epochs, compared on their factors). Every random "
                  "number is drawn on the CPU except the SVD sketch of `AnomalyDetector(dims=8)` (drawn on the "
                  "device: CPU and CUDA results differ there by design). `rng` = the caller's CUDA random state "
                  "was the same before and after the two fits.", "",
                  *table_head(["item", "result", "rng", "seconds"])]
    for row in parity_rows:
        check = row.get("check") if isinstance(row.get("check"), dict) else row
        if "skipped" in check or ("error" in check and check is row):
            lines.append(f"| {row.get('size') or 'parity'} | {_cell(row)} | | |")
            continue
        if "error" in check:
            text = f"error: {check['error']} ({check.get('where', '')})".replace("|", "/")
        elif "exact" in check:
            text = (f"exact {check['exact']:.5f}, CPU bound {check['cpu_lower_bound']:.5f}, CUDA bound "
                    f"{check['cuda_lower_bound']:.5f}, certified {check['certified']}")
        else:
            text = (f"max abs diff {check['max_abs_diff']:.3g}, max rel diff {check['max_rel_diff']:.3g}, "
                    f"corr {check['corr']:.6f}")
            if "cuda_epochs" in check:
                text += f", epochs CPU/CUDA {check['cpu_epochs']}/{check['cuda_epochs']}"
        lines.append(f"| {row['size']} | {text} | {check.get('cuda_rng_untouched', '')} | {_fmt(row.get('wall'))} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("DEVICE", "PLAN"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default=None, help=f"undirected edges, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for all parts together (default 300, 120 with --quick)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="torch threads (default: every core this process may use)")
    parser.add_argument("--out", default=os.environ.get("OUT") or "gpu_out", help="folder for the JSON, "
                        "markdown and log (default $OUT, else ./gpu_out)")
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES} and a 120 s budget")
    parser.add_argument("--skip-cpu", action="store_true", help="time CUDA only")
    parser.add_argument("--fake-cuda", action="store_true", help=argparse.SUPPRESS)  # the CUDA pass on the CPU
    parser.add_argument("--report", metavar="IN.json", help="write the markdown report of a finished run")
    parser.add_argument("--md", default=str(RESULTS / "scaling_gpu.md"), help="where --report writes")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.child:
        child(args.child[0], json.loads(args.child[1]), args.threads)
        return 0
    if args.report:
        write_report(json.loads(Path(args.report).read_text()), Path(args.md))
        print(f"wrote {args.md}")
        return 0
    args.sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    args.budget = args.budget or (120.0 if args.quick else 300.0)
    return measure_all(args)


if __name__ == "__main__":
    raise SystemExit(main())
