"""Shared pytest configuration: the ``slow`` marker and the shared-data fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The library looks only at GRAPHWGAN_DATA and the per-user folder; the tests (and CI) use the
# shared data folder next to the repository when GRAPHWGAN_DATA is unset.
_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if not os.environ.get("GRAPHWGAN_DATA") and _SHARED.is_dir():
    os.environ["GRAPHWGAN_DATA"] = str(_SHARED)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than about 5 seconds; deselect with -m 'not slow'")


@pytest.fixture(scope="session")
def data_root():
    """The shared data folder (see ``graphwgan.datasets.data_dir``); skip when it is absent."""
    from graphwgan.datasets import data_dir

    try:
        return data_dir()
    except FileNotFoundError as err:
        pytest.skip(f"shared data folder is absent: {err}")
