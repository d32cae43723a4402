r"""The WGAN training engine: alternating critic and generator steps, shared by every job.

The engine owns every optimiser step; what to optimise comes in as plain functions that return
losses (see :mod:`graphwgan.nn.functional`). One training step is ``n_critic`` critic updates, each
minimising ``critic_loss()``, then one generator update minimising ``generator_loss()``. The
critic's loss is the negative of its dual objective, so ``-critic_loss`` is the running W1
estimate: it is logged every step, drives the progress bar, and stops training when it has not
improved by ``min_delta`` (relative) for ``patience`` evaluations — the WGAN paper's observation
that this number tracks sample quality.

Presets hold the published defaults as starting points:

============  ===========================================  ========  =========
preset        optimiser                                    n_critic  Lipschitz
============  ===========================================  ========  =========
``"wgan"``    RMSprop, lr 5e-5                             5         clip 0.01
``"wgan-gp"`` Adam, lr 1e-4, betas (0.5, 0.9)              5         penalty 10
============  ===========================================  ========  =========

(Arjovsky et al., 2017; Gulrajani et al., 2017). The penalty itself belongs to the critic's loss
function; the engine applies weight clipping, because clipping acts on parameters.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHECKPOINT_VERSION", "PRESETS", "TrainingHistory", "WGANTrainer"]

#: Version written into checkpoints; loading another version is refused.
CHECKPOINT_VERSION = 1

PRESETS = {
    "wgan": {"optimizer": "rmsprop", "lr": 5e-5, "betas": None, "n_critic": 5, "clip_value": 0.01},
    "wgan-gp": {"optimizer": "adam", "lr": 1e-4, "betas": (0.5, 0.9), "n_critic": 5, "clip_value": None},
}


@dataclass
class TrainingHistory:
    """What happened during training, one entry per generator step."""

    step: list = field(default_factory=list)
    wasserstein: list = field(default_factory=list)
    critic_loss: list = field(default_factory=list)
    generator_loss: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    stopped_early: bool = False


class WGANTrainer:
    """Alternating WGAN updates of a critic and a generator.

    Parameters
    ----------
    critic, generator : torch.nn.Module
        The two players (their parameters are what the optimisers update).
    preset : str
        ``"wgan"`` or ``"wgan-gp"``; the options below override its values.
    optimizer : str, optional
        ``"adam"`` or ``"rmsprop"``.
    lr, critic_lr, generator_lr : float, optional
        Learning rates (``critic_lr``/``generator_lr`` override ``lr`` for one player).
    betas : tuple, optional
        Adam's betas.
    generator_betas : tuple, optional
        Adam's betas for the generator alone (default: ``betas``).
    n_critic : int, optional
        Critic updates per generator update.
    clip_value : float or None, optional
        Clip critic parameters to ``[-c, c]`` after each critic update (``None``: no clipping).
    max_steps : int
        Generator steps at most.
    patience, min_delta : int, float
        Stop when the W1 estimate has not improved by ``min_delta`` (relative to its best value)
        for ``patience`` consecutive steps; ``patience=None`` never stops early. The generator
        minimises W1, so improvement means a lower estimate.
    checkpoint_path : str or Path, optional
        Written every ``checkpoint_every`` steps and at the end; :meth:`fit` resumes from it when
        it exists and ``resume=True``.
    verbose : bool, optional
        Progress bar (default: when standard error is a terminal).
    """

    def __init__(self, critic: Any, generator: Any, *, preset: str = "wgan-gp", optimizer: str | None = None,
                 lr: float | None = None, critic_lr: float | None = None, generator_lr: float | None = None,
                 betas: tuple | None = None, generator_betas: tuple | None = None, n_critic: int | None = None,
                 clip_value: float | None = -1.0,
                 max_steps: int = 1000, patience: int | None = None, min_delta: float = 1e-3,
                 checkpoint_path: str | Path | None = None, checkpoint_every: int = 100,
                 verbose: bool | None = None) -> None:
        from graphwgan._checks import check_int

        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        settings = dict(PRESETS[preset])
        for key, value in (("optimizer", optimizer), ("lr", lr), ("betas", betas), ("n_critic", n_critic)):
            if value is not None:
                settings[key] = value
        if clip_value != -1.0:  # -1 means "the preset's"; None switches clipping off
            settings["clip_value"] = clip_value
        if settings["optimizer"] not in ("adam", "rmsprop"):
            raise ValueError(f"optimizer must be 'adam' or 'rmsprop', got {settings['optimizer']!r}")
        if settings["clip_value"] is not None and not settings["clip_value"] > 0:
            raise ValueError(f"clip_value must be positive or None, got {settings['clip_value']!r}")
        self.n_critic = check_int(settings["n_critic"], "n_critic", "WGANTrainer", minimum=1)
        self.max_steps = check_int(max_steps, "max_steps", "WGANTrainer", minimum=1)
        self.patience = None if patience is None else check_int(patience, "patience", "WGANTrainer", minimum=1)
        self.checkpoint_every = check_int(checkpoint_every, "checkpoint_every", "WGANTrainer", minimum=1)
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}")
        self.min_delta = float(min_delta)
        self.clip_value = settings["clip_value"]
        self.critic, self.generator = critic, generator
        self.critic_optimizer = self._optimizer(critic, settings, critic_lr)
        generator_settings = settings if generator_betas is None else {**settings, "betas": tuple(generator_betas)}
        self.generator_optimizer = self._optimizer(generator, generator_settings, generator_lr)
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        self.verbose = verbose
        self.history = TrainingHistory()
        self.settings = settings

    @staticmethod
    def _optimizer(module, settings, lr):
        import torch

        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(module).__name__} has no trainable parameters")
        rate = settings["lr"] if lr is None else lr
        if settings["optimizer"] == "adam":
            return torch.optim.Adam(params, lr=rate, betas=settings["betas"] or (0.9, 0.999))
        return torch.optim.RMSprop(params, lr=rate)

    def fit(self, critic_loss: Callable[[], Any], generator_loss: Callable[[], Any], *,
            resume: bool = True, callback: Callable[[int, float], Any] | None = None) -> TrainingHistory:
        """Train; ``critic_loss()`` and ``generator_loss()`` return scalar tensors to minimise.

        Each call should recompute its loss from the current parameters (sampling afresh where the
        objective samples). ``-critic_loss()`` is logged as the W1 estimate. ``callback(step,
        estimate)``, if given, runs after each step is logged; a true return value ends training
        (a caller's own stopping rule, such as a quality target).
        """
        import torch

        from graphwgan.lipschitz import clip_weights_

        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self.load_checkpoint(self.checkpoint_path)
        start_step = self.history.step[-1] if self.history.step else 0
        best, stale = math.inf, 0
        for value in self.history.wasserstein:  # a resumed run keeps its plateau count
            best, stale = (value, 0) if self._improved(value, best) else (best, stale + 1)
        show = sys.stderr.isatty() if self.verbose is None else bool(self.verbose)
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.max_steps, initial=start_step, desc="wgan", unit="step", leave=False)
        started = time.perf_counter() - (self.history.seconds[-1] if self.history.seconds else 0.0)
        for step in range(start_step + 1, self.max_steps + 1):
            for _ in range(self.n_critic):
                loss_c = critic_loss()
                self._check(loss_c, "critic", step)
                self.critic_optimizer.zero_grad()
                loss_c.backward()
                self.critic_optimizer.step()
                if self.clip_value is not None:
                    clip_weights_(self.critic, self.clip_value)
            loss_g = generator_loss()
            self._check(loss_g, "generator", step)
            self.generator_optimizer.zero_grad()
            self.critic_optimizer.zero_grad()
            loss_g.backward()
            self.generator_optimizer.step()
            with torch.no_grad():
                estimate = -float(critic_loss().detach())
            history = self.history
            history.step.append(step)
            history.wasserstein.append(estimate)
            history.critic_loss.append(float(loss_c.detach()))
            history.generator_loss.append(float(loss_g.detach()))
            history.seconds.append(time.perf_counter() - started)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(w1=f"{estimate:.4g}")
            if self.checkpoint_path is not None and step % self.checkpoint_every == 0:
                self.save_checkpoint(self.checkpoint_path)
            best, stale = (estimate, 0) if self._improved(estimate, best) else (best, stale + 1)
            if callback is not None and callback(step, estimate):
                break
            if self.patience is not None and stale >= self.patience:
                history.stopped_early = True
                break
        if bar is not None:
            bar.close()
        if self.checkpoint_path is not None:
            self.save_checkpoint(self.checkpoint_path)
        return self.history

    def _improved(self, estimate: float, best: float) -> bool:
        # relative to the best value so far; absolute once the estimate is at or below zero
        if best == math.inf:
            return True
        margin = self.min_delta * best if best > 0 else self.min_delta
        return estimate < best - margin

    @staticmethod
    def _check(loss, who, step):
        if not math.isfinite(float(loss.detach())):
            raise FloatingPointError(
                f"WGAN training diverged at step {step}: the {who} loss is {float(loss.detach())}; "
                "lower the learning rate or check the inputs"
            )

    def save_checkpoint(self, path: str | Path) -> None:
        """Write both players, both optimisers, the history and the version to ``path``."""
        import dataclasses

        import torch

        torch.save({
            "version": CHECKPOINT_VERSION,
            "critic": self.critic.state_dict(),
            "generator": self.generator.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "generator_optimizer": self.generator_optimizer.state_dict(),
            "history": dataclasses.asdict(self.history),
            "settings": self.settings,
        }, Path(path))

    def load_checkpoint(self, path: str | Path) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` (same version only)."""
        import torch

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint not found: {path}")
        try:
            state = torch.load(path, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - torch raises several types for a bad file
            raise ValueError(f"{path} is not a graphwgan checkpoint: {exc}") from None
        version = state.get("version") if isinstance(state, dict) else None
        if version != CHECKPOINT_VERSION:
            raise ValueError(
                f"{path} was written by checkpoint version {version!r}; this graphwgan reads version "
                f"{CHECKPOINT_VERSION}. Retrain, or load it with the graphwgan release that wrote it"
            )
        self.critic.load_state_dict(state["critic"])
        self.generator.load_state_dict(state["generator"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.generator_optimizer.load_state_dict(state["generator_optimizer"])
        self.history = TrainingHistory(**state["history"])
