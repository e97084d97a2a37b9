"""Gradient training of ONE individual of any registered variant, no GA and no Ray.

Used by ``python -m evogan.train`` (with an in-process quality scorer) and by the Ray Tune
trainable (with the shared FID actor): both inject ``quality_fn`` (uint8 images -> FID).
Optionally the DQN balancer of seed 004 decides, every ``balancer.act_every`` steps, which
side trains and how the learning rates move (:mod:`evogan.balancer`).

Every random stream derives from ``config.seed`` (init, minibatches, evaluation latents,
balancer), and :meth:`IndividualTrainer.state_dict` holds everything else, so a resumed run
continues an uninterrupted one exactly on the CPU.

``train.lr_schedule`` (:mod:`evogan.training.schedule`) scales the learning rates per evaluation
interval: the optimisers get base * factor(evaluations done, evaluations in the run), while
``member.hp`` keeps the base rates that PBT perturbs and the balancer adjusts.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Callable, Iterator

import torch

from evogan.balancer import BalancerController
from evogan.config import Config, to_dict
from evogan.models.evaluation import evaluate_pair
from evogan.models import build_variant
from evogan.models.sampling import sample_images
from evogan.seeding import derive_seed
from evogan.hyperparameters import Hyperparameters
from evogan.training.loop_config import TrainerConfig
from evogan.training.member import Member, seeded_generator
from evogan.training.schedule import lr_factor, scheduled

QualityFn = Callable[[torch.Tensor], float]
SCORE_KEYS = ("fid", "real_score", "fake_score", "loss_g", "loss_d", "d_accuracy")


def resolve_device(config: Config) -> torch.device:
    """cuda when configured (or auto and available), else cpu."""
    if config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def is_finite_record(record: dict[str, Any]) -> bool:
    return all(math.isfinite(record[key]) for key in SCORE_KEYS if key in record)


class IndividualTrainer:
    """One (G, D) Member, its minibatch stream and (optionally) its DQN balancer."""

    def __init__(self, config: Config, trainer_cfg: TrainerConfig, train_images: torch.Tensor,
                 holdout: torch.Tensor, device: torch.device | str = "cpu"):
        self.config, self.trainer_cfg = config, trainer_cfg
        self.image_shape = tuple(train_images.shape[1:])
        self.variant = build_variant(config.model, self.image_shape)
        self.config_hp = Hyperparameters.from_train(config.train)
        self.member = Member.create(0, self.variant, self.config_hp, derive_seed(config.seed, "init", 0), device)
        self.images = train_images.to(device)
        self.holdout = holdout.to(device)
        self.balancer = (BalancerController(trainer_cfg.balancer, self.member, self.holdout,
                                            derive_seed(config.seed, "balancer"))
                         if trainer_cfg.balancer.enabled else None)
        self.generator = seeded_generator(derive_seed(config.seed, "train"))
        self.step = 0

    # ---------------------------------------------------------------- training and evaluation
    def train(self, steps: int) -> dict[str, float]:
        """``steps`` gradient steps (balanced when the balancer is on) at the scheduled learning
        rates; mean training scalars."""
        batch_size = self.config.train.batch_size
        with self._scheduled_learning_rates(self.lr_factor()):
            if self.balancer is not None:
                scalars = self.balancer.train(self.member, steps, self.images, batch_size, self.generator)
            else:
                scalars = self.member.train(steps, self.images, batch_size, self.generator)
        self.step += steps
        return scalars

    def lr_factor(self) -> float:
        """The schedule's factor for the next training interval: index = evaluations done so far
        (step // eval_every), total = the run's evaluations."""
        return lr_factor(self.config.train, self.step // self.trainer_cfg.eval_every, self.trainer_cfg.evaluations)

    @contextlib.contextmanager
    def _scheduled_learning_rates(self, factor: float) -> Iterator[None]:
        """Train at base * ``factor``; afterwards ``member.hp`` holds the base rates again.

        Inside, ``member.hp`` is the scheduled one, because variants may push ``hp``'s rates into
        their optimisers on every step (mspg_sen's APFL does). The balancer's learning-rate
        actions act multiplicatively on those scheduled rates, with its clamp range and lr-ratio
        state scaled by the same factor, so in base terms it behaves exactly as without a
        schedule; a rate it changed is divided back by ``factor`` into the new base. The
        optimisers keep the scheduled rates (what :meth:`optimizer_learning_rates` reports).
        """
        if factor == 1.0:
            yield
            return
        base, frame = self.member.hp, scheduled(self.member.hp, factor)
        self.member.set_hyperparameters(frame)
        env = self.balancer.env if self.balancer is not None else None
        env_base = dict(env.base_lr) if env is not None else None
        if env is not None:
            env.base_lr = {name: lr * factor for name, lr in env_base.items()}
        try:
            yield
        finally:
            now = self.member.hp
            self.member.hp = now.replace(  # not set_hyperparameters: the optimisers stay scheduled
                lr_g=base.lr_g if now.lr_g == frame.lr_g else now.lr_g / factor,
                lr_d=base.lr_d if now.lr_d == frame.lr_d else now.lr_d / factor)
            if env is not None:
                env.base_lr = env_base

    def evaluate(self, quality_fn: QualityFn) -> tuple[dict[str, float], torch.Tensor]:
        """GA-GAN's fitness measurements (FID, D's held-out scores, losses) at the current step."""
        gen = seeded_generator(derive_seed(self.config.seed, "eval", self.step))
        return evaluate_pair(self.member, self.holdout, self.config.fitness.eval_samples, gen, quality_fn)

    def iterate(self, steps: int, quality_fn: QualityFn) -> dict[str, Any]:
        """Train ``steps`` steps, then evaluate: one record (one Tune iteration, one log line)."""
        started = time.perf_counter()
        factor = self.lr_factor()
        scalars = self.train(steps)
        trained = time.perf_counter()
        scores, _ = self.evaluate(quality_fn)
        record: dict[str, Any] = {"step": self.step, **scores}
        record.update({f"train_{key}": value for key, value in scalars.items()})
        record.update(self.optimizer_learning_rates())
        record["lr_factor"] = factor
        if self.balancer is not None:
            record.update(self.balancer.pop_stats())
        record["seconds"] = time.perf_counter() - started
        record["train_seconds"] = trained - started  # the gradient steps alone (time per step = this / steps)
        return record

    def optimizer_learning_rates(self) -> dict[str, float]:
        """Base lr_g / lr_d (``member.hp``: what PBT and the balancer change) and, as
        optimizer_lr_*, the rates the optimisers hold (base times the schedule's factor)."""
        out = {"lr_g": self.member.hp.lr_g, "lr_d": self.member.hp.lr_d}
        for group in ("g", "d"):
            if group in self.member.optimizers:
                out[f"optimizer_lr_{group}"] = self.member.optimizers[group].param_groups[0]["lr"]
        return out

    def samples(self, n: int, seed: int) -> torch.Tensor:
        return sample_images(self.variant, self.member.modules, n, seeded_generator(seed))

    # ---------------------------------------------------------------- PBT and checkpoints
    def adopt_config_hyperparameters(self, hp: Hyperparameters) -> bool:
        """Push ``hp`` (a new trial config's) into the optimisers if it differs from the config
        this state was trained under; returns whether it did. Balancer-made changes of an
        unchanged config are kept."""
        if hp == self.config_hp:
            return False
        self.config_hp = hp
        self.member.set_hyperparameters(hp)
        if self.balancer is not None:
            self.balancer.set_config(self.trainer_cfg.balancer, hp)
        return True

    def state_dict(self) -> dict[str, Any]:
        """Everything to continue exactly; ``torch.load(weights_only=True)``-loadable."""
        return {"step": self.step, "member": self.member.checkpoint_state(), "config_hp": self.config_hp.to_dict(),
                "generator": self.generator.get_state(),
                "balancer": self.balancer.state_dict() if self.balancer is not None else None}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore weights, optimisers, hyperparameters, streams and the balancer as saved."""
        self.member = Member.from_checkpoint(saved["member"], self.variant, self.member.device)
        self.config_hp = Hyperparameters.from_dict(saved["config_hp"])
        self.generator.set_state(saved["generator"])
        self.step = saved["step"]
        if self.balancer is not None and saved.get("balancer") is not None:
            self.balancer.load_state_dict(saved["balancer"])

    def generator_payload(self, fid: float, metric: str, evaluation: int) -> dict[str, Any]:
        """A "generator" checkpoint (as ``evogan.run`` writes best.pt): loadable by
        ``load_generator``, ``python -m evogan.fid`` and ``python -m evogan.run --seed-population``."""
        member = {k: v for k, v in self.member.checkpoint_state().items() if k != "optimizers"}
        return {"kind": "generator", "config": to_dict(self.config), "image_shape": list(self.image_shape),
                "member": member, "generation": evaluation, "step": self.step, "fid": fid, "metric": metric}


def run_loop(trainer: IndividualTrainer, total_steps: int, eval_every: int, quality_fn: QualityFn,
             on_evaluation: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Train to ``total_steps``, evaluating every ``eval_every`` steps (and at the end);
    stops early when an evaluation is non-finite. Returns the records."""
    records = []
    while trainer.step < total_steps:
        record = trainer.iterate(min(eval_every, total_steps - trainer.step), quality_fn)
        records.append(record)
        on_evaluation(record)
        if not is_finite_record(record):
            break
    return records
