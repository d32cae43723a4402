"""The header every results file of the ruler benchmarks starts with: command, commit, machine, date."""

from __future__ import annotations

import datetime
import os
import platform

from benchmarks import common


def header(command: str) -> list[str]:
    """Markdown lines naming the command, the commit, the machine and the date of a run."""
    # the measured code: the package and the ruler runners (a results file being rewritten is no change)
    commit = common.commit(("graphwgan", "benchmarks/ruler"), dirty=" (with uncommitted changes)", none="unknown")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- command: `{command}` (from the repository root)",
        f"- commit: `{commit}`",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores shared with other "
        f"jobs (load average {load:.1f} at the end of the run), Python {platform.python_version()}",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
    ]
