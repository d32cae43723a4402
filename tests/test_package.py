import subprocess
import sys

import pytest

import graphwgan


def test_import_is_light():
    # a fresh interpreter: importing the package must not pull in torch, PyG or POT
    code = "import sys, graphwgan; print(sorted(m for m in ('torch', 'torch_geometric', 'ot') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names_resolve():
    for name in graphwgan.__all__:
        assert getattr(graphwgan, name) is not None
    assert graphwgan.wasserstein is graphwgan.ot.wasserstein


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphwgan.nope  # noqa: B018
