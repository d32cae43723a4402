"""What the benchmark runners share: timing and memory, the stamp of a result, tables, JSON rows, data.

Every runner is a module run from the repository root (``python -m benchmarks.<task>.<runner>``) and
imports these helpers from here, so a result file's header (command, commit, machine, load, date), the
timing rules (median of repeats after a warm-up) and the memory readings (peak RSS) mean the same
thing in every table. Standard library only at import time: the memory runners import this module
before they read the resident memory of their imports.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

#: the repository root (runners and their children run here)
REPO = Path(__file__).resolve().parent.parent
#: where the result files live
RESULTS = REPO / "benchmarks" / "results"
#: the environment variable naming the shared data folder (as ``graphwgan.datasets``)
DATA_ENV = "GRAPHWGAN_DATA"


# ----------------------------------------------------------------------------------------------
# the code measured: commit and digest
# ----------------------------------------------------------------------------------------------


def git(*args: str, timeout: float = 30) -> str | None:
    """``git args`` in the repository: its stripped output, or None when git fails or is missing."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def commit(sources=("graphwgan",), *, dirty: str = " (the measured package files have uncommitted changes)",
           none: str = "uncommitted (the repository has no commit yet)") -> str:
    """Short commit hash (``none`` without one), followed by ``dirty`` when ``sources`` differ from it."""
    head = git("rev-parse", "--short", "HEAD")
    if head is None:
        return none
    changed = git("status", "--porcelain", "--", *sources) if sources else None
    return head + dirty if changed else head


def source_digest(sources) -> str:
    """Short sha256 of the files ``sources`` (paths under the repository; a folder stands for its ``*.py``)."""
    files = []
    for name in sources:
        path = REPO / name
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# ----------------------------------------------------------------------------------------------
# the machine and the date
# ----------------------------------------------------------------------------------------------


def _proc_field(path: str, prefix: str) -> str | None:
    """The rest of the first line of ``path`` starting with ``prefix`` (a ``/proc`` file), or None."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    except OSError:
        pass
    return None


def cpu_model(unknown: str = "unknown") -> str:
    """The CPU model name from ``/proc/cpuinfo``."""
    field = _proc_field("/proc/cpuinfo", "model name")
    return field.lstrip(":").strip() if field else unknown


def total_ram_gib() -> float | None:
    """``MemTotal`` in GiB, or None where unknown."""
    field = _proc_field("/proc/meminfo", "MemTotal:")
    return int(field.split()[0]) / 2**20 if field else None


def available_memory_bytes() -> int | None:
    """``MemAvailable`` from ``/proc/meminfo``, or None where unknown."""
    field = _proc_field("/proc/meminfo", "MemAvailable:")
    return int(field.split()[0]) * 1024 if field else None


def ram_text(unknown: str = "unknown") -> str:
    """``MemTotal`` as ``"15.6 GiB"``."""
    gib = total_ram_gib()
    return unknown if gib is None else f"{gib:.1f} GiB"


def load_average(first_only: bool = False) -> str:
    """The load average, ``"1.00, 0.50, 0.25"`` (1, 5, 15 minutes) or the 1-minute value alone."""
    try:
        loads = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{loads[0]:.2f}" if first_only else ", ".join(f"{x:.2f}" for x in loads)


def versions(names=("numpy", "scipy", "ot", "torch", "torch_geometric")) -> dict:
    """``{module: version}``, ``"missing"`` where a module does not import."""
    found = {}
    for name in names:
        try:
            found[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a broken install is reported, not raised
            found[name] = "missing"
    return found


def machine() -> dict:
    """Cores, CPU model, RAM, Python and library versions, for :func:`machine_line`."""
    found = versions(("numpy", "scipy", "ot", "torch"))
    return {
        "cores": str(os.cpu_count()),  # nproc would report OMP_NUM_THREADS instead
        "cpu": cpu_model(),
        "ram": ram_text(),
        "python": platform.python_version(),
        "versions": f"numpy {found['numpy']}, scipy {found['scipy']}, POT {found['ot']}, torch {found['torch']}",
    }


def machine_line(info: dict | None = None) -> str:
    """``- machine: 2 cores, <cpu>, 15.6 GiB RAM; Python 3.x; numpy ..., torch ...``."""
    return "- machine: {cores} cores, {cpu}, {ram} RAM; Python {python}; {versions}".format(**(info or machine()))


def utc_stamp() -> str:
    """The time now, ``"2026-12-03 09:00 UTC"``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def today() -> str:
    """The date today, ISO format."""
    return datetime.date.today().isoformat()


def command_line(file: str | Path, argv=None, *, prefix: str = "OMP_NUM_THREADS=1 ", python: str = "python") -> str:
    """The command that runs the runner ``file`` as a module with ``argv``: ``python -m benchmarks.task.run ...``.

    ``argv`` defaults to this process's arguments; an argument with a space is quoted.
    """
    module = ".".join(Path(file).resolve().relative_to(REPO).with_suffix("").parts)
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join([f"{prefix}{python}", "-m", module, *(a if " " not in a else repr(a) for a in args)])


def stamp_lines(command: str, revision: str | None = None) -> list[str]:
    """The header of a result file: the command, the commit and date, the machine and torch threads."""
    return [
        f"- command: `{command}`",
        f"- commit: {commit() if revision is None else revision}; date: {today()}",
        machine_line() + f"; torch threads: {os.environ.get('OMP_NUM_THREADS', 'default')}",
    ]


# ----------------------------------------------------------------------------------------------
# timing and memory
# ----------------------------------------------------------------------------------------------


def timed(fn, *args, repeats: int):
    """``(seconds per call, result of the last call)`` of ``repeats`` calls ``fn(*args)``."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return times, result


def median_time(step, repeats: int) -> tuple[float, object]:
    """Median seconds of ``repeats`` timed calls ``step()`` after one untimed warm-up call, and the last value."""
    import statistics

    step()
    times, value = timed(step, repeats=repeats)
    return float(statistics.median(times)), value


def fit_and_sample(model, graph, keys, seed: int = 1) -> dict:
    """Fit a graph generator on ``graph`` and draw one sample (``seed``), both timed; statistics ``keys`` of both.

    ``RuntimeWarning`` (an edge-overlap target not reached) is silenced: the caller records the overlap.
    Returns ``fit_seconds``, ``sample``, ``sample_seconds``, ``real`` and ``sample_stats`` (dicts over ``keys``).
    """
    import warnings

    from graphwgan import metrics

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(graph)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    sample = model.sample(seed=seed)
    sample_seconds = time.perf_counter() - start
    real, fake = metrics.graph_statistics(graph), metrics.graph_statistics(sample)
    return {"fit_seconds": fit_seconds, "sample": sample, "sample_seconds": sample_seconds,
            "real": {k: real[k] for k in keys}, "sample_stats": {k: fake[k] for k in keys}}


def rss_bytes() -> int:
    """This process's resident memory now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def max_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    """``ru_maxrss`` in bytes (kilobytes on Linux): the peak of this process or of its finished children."""
    return resource.getrusage(who).ru_maxrss * 1024


def peak_rss_bytes() -> int:
    """Peak RSS of this process image.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``fork`` + ``exec``, so in a child started
    by a big parent (the W1 table after its 3 GB baseline) it reports the parent's peak.
    ``ru_maxrss`` elsewhere.
    """
    field = _proc_field("/proc/self/status", "VmHWM:")
    return int(field.split()[0]) * 1024 if field else max_rss_bytes()


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def wait_with_usage(proc: subprocess.Popen, timeout: float | None, poll: float = 0.05):
    """Wait for ``proc`` (killed after ``timeout`` seconds); ``(exit code, its own rusage, timed out)``.

    ``os.wait4`` gives the resource usage of that child alone, so ``usage.ru_maxrss`` (KiB on Linux)
    is its peak resident memory, whatever the other children did.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(poll)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage, timed_out


def run_module(module: str, *args: str, **popen) -> subprocess.Popen:
    """Start ``python -m module args`` in the repository root (a runner's child process)."""
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, **popen)


# ----------------------------------------------------------------------------------------------
# rows and tables
# ----------------------------------------------------------------------------------------------


def emit(row: dict, out: str | Path | None = None) -> None:
    """Print ``row`` as one JSON line; also append it to the JSON-lines file ``out`` when given."""
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        with open(out, "a") as handle:
            handle.write(line + "\n")


def last_json(text: str) -> dict | None:
    """The last line of ``text`` that is a JSON object (a child's result), or None."""
    lines = [line for line in text.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def table_head(headers, align: str | None = None) -> list[str]:
    """A markdown table's header and separator lines; ``align`` has one letter a column, ``l`` or ``r``."""
    align = align or "l" * len(headers)
    return ["| " + " | ".join(headers) + " |", "|" + "".join("---:|" if a == "r" else "---|" for a in align)]


def mean_std(values, scale: float = 100.0, digits: int = 1) -> str:
    """``"mean ± std"`` of ``values * scale`` (population std), the value alone for one, ``—`` for none."""
    import numpy as np

    if not len(values):
        return "—"
    array = np.asarray(values, dtype=float) * scale
    if array.size == 1:
        return f"{array[0]:.{digits}f}"
    return f"{array.mean():.{digits}f} ± {array.std(ddof=0):.{digits}f}"


def fit_exponent(x, y) -> float | None:
    """Slope of the least-squares line through ``(log x, log y)`` over positive points; None below 2 points."""
    import math

    points = [(math.log(a), math.log(b)) for a, b in zip(x, y, strict=True)
              if a is not None and b is not None and a > 0 and b > 0]
    if len(points) < 2:
        return None
    mean_x = sum(p[0] for p in points) / len(points)
    mean_y = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    sxy = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points)
    return sxy / sxx if sxx > 0 else None


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------


def _use_shared_data() -> None:
    """Point ``GRAPHWGAN_DATA`` at the shared folder next to the repository when it is unset.

    Done once at import, so that every runner (and the library calls it makes, such as
    ``load_split``) finds the data the same way; the library itself never looks there.
    """
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not os.environ.get(DATA_ENV) and shared.is_dir():
        os.environ[DATA_ENV] = str(shared)


_use_shared_data()


def find_data_dir() -> tuple[Path | None, str]:
    """The shared data folder (``graphwgan.datasets.data_dir``) and, when it is missing, the reason."""
    from graphwgan.datasets import data_dir

    try:
        return data_dir(), ""
    except FileNotFoundError as error:
        return None, str(error)


def load_graph(name: str, root: Path | None = None, *, largest_component: bool = True):
    """A named dataset from the data folder (its largest connected component by default)."""
    from graphwgan.datasets import load

    if root is None:
        root = find_data_dir()[0]
    return load(name, root=root, largest_component=largest_component)
