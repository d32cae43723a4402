"""The header every results file of the ruler benchmarks starts with: command, commit, machine, date."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path


def header(command: str) -> list[str]:
    """Markdown lines naming the command, the commit, the machine and the date of a run."""
    repo = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- command: `{command}` (from the repository root)",
        f"- commit: `{commit}`",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores shared with other "
        f"jobs (load average {load:.1f} at the end of the run), Python {platform.python_version()}",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]
