"""Baseline graph generators, kept at their original import path.

They live in :mod:`graphwgan.synthesis` (one module each); this module only re-exports them, so
``from graphwgan.baselines import CELL`` keeps working.
"""

from graphwgan.synthesis import CELL, CELLHistory, ConfigurationModel, DegreeCorrectedSBM, ErdosRenyi, NotFittedError

__all__ = ["CELL", "CELLHistory", "ConfigurationModel", "DegreeCorrectedSBM", "ErdosRenyi", "NotFittedError"]
