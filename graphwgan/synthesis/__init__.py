r"""Network synthesis: learn a graph, generate new graphs like it.

The generator side of graphwgan, one concept a module:

==============================  ===================================================================
:mod:`.generator`               :class:`GraphGenerator`, the fit/sample contract every generator shares
:mod:`.synthesizer`             :class:`GraphSynthesizer`: the low-rank walk with a shortest-path transport term
:mod:`.walk_model`              :class:`LowRankWalkModel`: training loop, sampler, scores, persistence
:mod:`.edge_critic`             the graph-Lipschitz edge critic and the WGAN game it plays with the walk
:mod:`.exact_walk`              the walk's exact passes over all :math:`n^2` logits (row blocks)
:mod:`.sampled_walk`            the walk's sampled passes, linear in the graph per epoch
:mod:`.stationary`              the walk's stationary law (GMRES on row blocks or sparse balls)
:mod:`.spectral_init`           the spectral start of the walk's factors
:mod:`.balls`                   hop balls and the transport ball
:mod:`.blocks`                  row blocks and memory estimates
:mod:`.erdos_renyi`             baseline :class:`ErdosRenyi`
:mod:`.configuration_model`     baseline :class:`ConfigurationModel`
:mod:`.sbm`                     baseline :class:`DegreeCorrectedSBM`
:mod:`.cell`                    baseline :class:`CELL` (Rendsburg et al., 2020)
==============================  ===================================================================
"""

from graphwgan._estimator import NotFittedError
from graphwgan.synthesis.cell import CELL
from graphwgan.synthesis.configuration_model import ConfigurationModel
from graphwgan.synthesis.erdos_renyi import ErdosRenyi
from graphwgan.synthesis.generator import GraphGenerator
from graphwgan.synthesis.sbm import DegreeCorrectedSBM
from graphwgan.synthesis.synthesizer import GraphSynthesizer
from graphwgan.synthesis.walk_model import CELLHistory, LowRankWalkModel

__all__ = [
    "CELL",
    "CELLHistory",
    "ConfigurationModel",
    "DegreeCorrectedSBM",
    "ErdosRenyi",
    "GraphGenerator",
    "GraphSynthesizer",
    "LowRankWalkModel",
    "NotFittedError",
]
