"""Pure torch modules and functional objectives: critics on graphs and their inputs."""

from graphwgan.nn.critic import BACKBONES, NodeCritic, SetCritic
from graphwgan.nn.encodings import laplacian_eigenvectors, random_walk_encoding, structural_encoding
from graphwgan.nn.functional import dual_objective, semi_dual_objective, wgan_critic_loss, wgan_generator_loss

__all__ = [
    "BACKBONES",
    "NodeCritic",
    "SetCritic",
    "dual_objective",
    "laplacian_eigenvectors",
    "random_walk_encoding",
    "semi_dual_objective",
    "structural_encoding",
    "wgan_critic_loss",
    "wgan_generator_loss",
]
