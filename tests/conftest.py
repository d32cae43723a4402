"""Shared pytest configuration: the ``slow`` marker and the shared-data fixture."""

from __future__ import annotations

import pytest


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
