"""The WGAN engine on a problem with an exact answer: a generator of a node distribution."""

import networkx as nx
import numpy as np
import pytest
import torch

from graphwgan import wasserstein
from graphwgan.datasets import default_graph
from graphwgan.lipschitz import CTransform
from graphwgan.nn import NodeCritic, wgan_critic_loss, wgan_generator_loss
from graphwgan.train import CHECKPOINT_VERSION, PRESETS, WGANTrainer


class NodeDistribution(torch.nn.Module):
    """A generator whose output is a distribution over the nodes: softmax of free logits."""

    def __init__(self, n):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(n))

    def forward(self):
        return torch.softmax(self.logits, 0)


def setup(seed=0):
    data = default_graph()
    n = data.num_nodes
    labels = np.asarray(data.y)
    mu = (labels == 0).astype(np.float32)
    mu = torch.as_tensor(mu / mu.sum())
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        critic = NodeCritic(0, 32, 2, num_nodes=n, embedding_dim=16)
    generator = NodeDistribution(n)
    transform = CTransform(data)

    def potential():
        return critic(None, data.edge_index)

    def critic_loss():
        # the semi-dual: certified, so -critic_loss is a lower bound on W1(mu, nu_theta)
        f = potential()
        return wgan_critic_loss(f, transform.upper(f), mu, generator().detach())

    def generator_loss():
        return wgan_generator_loss(transform.upper(potential()).detach(), generator())

    return data, mu, critic, generator, critic_loss, generator_loss


def exact_w1(data, mu, generator):
    with torch.no_grad():
        real, fake = mu.double().numpy(), generator().double().numpy()
        return wasserstein(data, real / real.sum(), fake / fake.sum()).distance


def test_generator_learns_and_the_estimate_tracks_the_exact_distance():
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    before = exact_w1(data, mu, generator)
    trainer = WGANTrainer(critic, generator, preset="wgan-gp", lr=1e-2, generator_lr=0.1, n_critic=3, max_steps=60,
                          verbose=False)
    history = trainer.fit(critic_loss, generator_loss)
    after = exact_w1(data, mu, generator)
    print(f"exact W1 before {before:.4f}, after {after:.4f}; last estimate {history.wasserstein[-1]:.4f}")
    assert after < 0.2 * before
    # the logged estimate is certified: never above the exact distance of the generator it saw
    assert history.wasserstein[-1] <= after * (1 + 1e-4) + 1e-6
    # and it falls as the generator improves
    early, late = np.mean(history.wasserstein[:10]), np.mean(history.wasserstein[-10:])
    assert late < early
    assert len(history.step) == 60 and history.step[-1] == 60


def test_checkpoint_resume_continues_exactly(tmp_path):
    path = tmp_path / "run.pt"
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    straight = WGANTrainer(critic, generator, lr=1e-2, n_critic=2, max_steps=20, verbose=False)
    straight.fit(critic_loss, generator_loss)
    reference = generator().detach().clone()

    data, mu, critic, generator, critic_loss, generator_loss = setup()
    first = WGANTrainer(critic, generator, lr=1e-2, n_critic=2, max_steps=10, checkpoint_path=path, verbose=False)
    first.fit(critic_loss, generator_loss)
    data, mu, critic, generator, critic_loss, generator_loss = setup(seed=99)  # fresh players, other init
    second = WGANTrainer(critic, generator, lr=1e-2, n_critic=2, max_steps=20, checkpoint_path=path, verbose=False)
    history = second.fit(critic_loss, generator_loss)
    assert history.step == list(range(1, 21))
    torch.testing.assert_close(generator().detach(), reference, rtol=1e-5, atol=1e-7)


def test_early_stopping_on_a_plateau():
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    trainer = WGANTrainer(critic, generator, lr=1e-2, n_critic=2, max_steps=400, patience=5, min_delta=0.5,
                          verbose=False)
    history = trainer.fit(critic_loss, generator_loss)
    assert history.stopped_early
    assert len(history.step) < 400


def test_wgan_preset_clips_the_critic():
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    trainer = WGANTrainer(critic, generator, preset="wgan", max_steps=2, verbose=False)
    assert trainer.settings == PRESETS["wgan"]
    trainer.fit(critic_loss, generator_loss)
    assert max(p.abs().max().item() for p in critic.parameters()) <= 0.01 + 1e-7
    assert isinstance(trainer.critic_optimizer, torch.optim.RMSprop)


def test_divergence_and_bad_options(tmp_path):
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    trainer = WGANTrainer(critic, generator, max_steps=3, verbose=False)
    with pytest.raises(FloatingPointError, match="diverged at step 1: the critic loss is nan"):
        trainer.fit(lambda: critic_loss() * float("nan"), generator_loss)
    with pytest.raises(ValueError, match="preset must be one of"):
        WGANTrainer(critic, generator, preset="lsgan")
    with pytest.raises(ValueError, match="optimizer must be"):
        WGANTrainer(critic, generator, optimizer="sgd")
    with pytest.raises(ValueError, match="n_critic must be >= 1"):
        WGANTrainer(critic, generator, n_critic=0)
    with pytest.raises(ValueError, match="clip_value must be positive"):
        WGANTrainer(critic, generator, clip_value=0.0)
    with pytest.raises(ValueError, match="no trainable parameters"):
        WGANTrainer(critic, torch.nn.Identity())


def test_checkpoint_from_another_version_is_refused(tmp_path):
    data, mu, critic, generator, critic_loss, generator_loss = setup()
    trainer = WGANTrainer(critic, generator, max_steps=1, verbose=False)
    path = tmp_path / "old.pt"
    trainer.save_checkpoint(path)
    state = torch.load(path, weights_only=True)
    state["version"] = CHECKPOINT_VERSION + 1
    torch.save(state, path)
    with pytest.raises(ValueError, match="checkpoint version"):
        trainer.load_checkpoint(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a graphwgan checkpoint"):
        trainer.load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        trainer.load_checkpoint(tmp_path / "absent.pt")


def test_losses_are_plain_functions():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([0.0, 2.0])
    assert wgan_critic_loss(real, fake).item() == pytest.approx(-1.0)
    assert wgan_generator_loss(fake).item() == pytest.approx(-1.0)
    weights = torch.tensor([0.25, 0.75])
    assert wgan_critic_loss(real, fake, weights, weights).item() == pytest.approx(1.5 - 2.5)
    assert nx.path_graph(2).number_of_nodes() == 2


def test_callback_ends_training_and_generator_betas_apply_to_the_generator_only():
    _, _, critic, generator, critic_loss, generator_loss = setup()
    trainer = WGANTrainer(critic, generator, max_steps=50, generator_betas=(0.8, 0.95), verbose=False)
    assert trainer.generator_optimizer.param_groups[0]["betas"] == (0.8, 0.95)
    assert trainer.critic_optimizer.param_groups[0]["betas"] == PRESETS["wgan-gp"]["betas"]
    seen = []

    def callback(step, estimate):
        seen.append((step, estimate))
        return step == 3

    history = trainer.fit(critic_loss, generator_loss, callback=callback)
    assert history.step == [1, 2, 3] and [s for s, _ in seen] == [1, 2, 3]
    assert [e for _, e in seen] == history.wasserstein
    assert not history.stopped_early  # the caller's rule, not the plateau rule
