"""MSPG-SEN: two-flow feedback multi-scale progressive GAN of Sun et al. (seed 004).

The seed is incomplete (no layer shapes, no numbers, garbled equations), so this is a careful
reading, with every choice configurable in :class:`MSPGOptions`:

* **Generator** (Section III-B, "multi-scale progressive";
  :class:`~evogan.models.layers.progressive.MSPGGenerator`): z -> linear -> 4x4 (7x7 at 28 px)
  map, then per scale: 2x nearest upsample, 3x3 conv, BN, LeakyReLU and ``blocks_per_stage``
  :class:`~evogan.models.layers.gctdrn.GCTDRNBlock` (3/5/7 branches, DEMA flow, GAP branch,
  shortcut; Eqs. 15-16). Every scale has a 1x1 toRGB and the image is refined progressively,
  rgb_s = up(rgb_{s/2}) + toRGB_s(h_s) (the skip layout of MSG-GAN / StyleGAN2), so coarse
  scales hold the image's layout and fine scales add detail. Channels: width * 2^k, capped at
  ``width_cap`` * width.
* **DEMA** (Section III-A, Eqs. 1-7) inside every GCTDRN block; its local-global contrastive loss
  (Eq. 7) is the ``contrastive`` term, averaged over blocks.
* **AFE** (Eqs. 17-20): the auxiliary discriminator ``discriminator_aux`` sees the generator's
  intermediate-scale output tanh(rgb_s) at ``aux_resolution`` (the "feature map of the middle
  layer", projected by its toRGB so that it can be compared with real images downsampled to the
  same size: Eq. 18 has no other real counterpart). Its adversarial loss enters D's loss and,
  weighted by lambda_aux (``aux``), G's loss (Eqs. 19-20).
* **APFL** (Section III-C, Eqs. 8-14): see :func:`apfl_adjust`. Feature matching (Eq. 12) on the
  main D's hidden activations is the ``fm`` term; staged training (early / middle / late) is a
  linear instance-noise plan on D's inputs: ``noise_start`` until ``stage_steps[0]``, linearly
  to 0 by ``stage_steps[1]``, then ``noise_late`` ("linear noise plan"). APFL acts only after
  the early stage (in which "the generator focuses on learning the basic patterns"). It watches
  D's accuracy on the training batch and, as the quality proxy, the feature-matching distance
  (cheap and always available; it drifts as D's features change, which is a known weakness).
* **EMA** of G (decay 0.9999 per the seed, with the usual (1+t)/(10+t) warm-up) is the frozen
  module ``generator_ema``; :meth:`MSPGSEN.generate` uses it once a train step has updated it
  (in evolution mode ``ga`` nothing does, so the mutated generator itself is evaluated). In
  memetic evolution, fitness then judges the EMA, which at 0.9999 follows a child's new weights
  only slowly (~1e-4 per step once warmed up): use ``ema_decay`` ~0.99, or 0 to drop the EMA,
  when selection should see what the last few steps did.
* **D**: the DCGAN discriminator of :mod:`evogan.models.dcgan` with 10 % dropout (seed); AdamW
  (seed) with ``weight_decay``. The seed's initial lr 0.1 is not adopted (set ``train.lr_*``).
* The DQN balancer of the same seed is a separate component (evogan.balancer), not built here.
* ``train.augment`` (DiffAugment, :mod:`evogan.models.augment`) applies to every input of the
  main and the auxiliary D, before the instance noise.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from evogan.config import ConfigError
from evogan.losses import discriminator_loss, feature_matching_loss, generator_loss, info_nce_loss, probability_real
from evogan.models.augment import diff_augment
from evogan.models.base import GANVariant
from evogan.models.evaluation import batch_d_accuracy
from evogan.models.dcgan import DCGANOptions, dcgan_discriminator, init_dcgan_weights
from evogan.models.layers.gctdrn import GCTDRNBlock
from evogan.models.layers.progressive import FeatureDiscriminator, MSPGGenerator, aux_discriminator
from evogan.models.registry import register_variant
from evogan.hyperparameters import Hyperparameters


@dataclass(frozen=True)
class MSPGOptions:
    blocks_per_stage: int = 1
    """GCTDRN blocks after each generator scale (0 = plain progressive generator: the GCTDRN
    ablation, which removes DEMA with it)."""
    dema: bool = True
    """DEMA attention flow (and its contrastive term) inside every GCTDRN block; false: the DEMA
    ablation (the blocks keep their 3/5/7 branches, GAP branch and shortcut)."""
    afe: bool = True
    """AFE: the auxiliary discriminator on the intermediate scale (Eqs. 17-20); false: the AFE
    ablation (no auxiliary D is built or trained, lambda_aux is ignored)."""
    width_cap: int = 4
    """Generator channels are width * 2^k capped at width_cap * width."""
    dema_heads: int = 4
    """DEMA heads (reduced to a divisor of the channel count); head windows cycle 3/5/7 px."""
    dema_context: int = 4
    """Implicit global-context tokens per DEMA (Eq. 3)."""
    dema_reduction: int = 4
    """Hidden size of DEMA/GCTDRN MLPs = channels / this."""
    contrastive_temperature: float = 0.1
    """tau of the DEMA contrastive loss (Eq. 7)."""
    aux_resolution: int = 16
    """AFE: the auxiliary D sees the generator's output at the largest inner scale <= this."""
    dropout: float = 0.1
    """Dropout in the main and auxiliary discriminators (seed: 10 %)."""
    ema_decay: float = 0.9999
    """EMA decay of generator weights (seed: 0.9999); 0 disables the EMA generator."""
    ema_warmup: bool = True
    """Use decay min(ema_decay, (1+t)/(10+t)) so short runs are not dominated by the init."""
    weight_decay: float = 0.01
    """AdamW weight decay (seed: AdamW, value not given; PyTorch's default)."""
    stage_steps: tuple[int, ...] = (500, 2000)
    """Ends of the early and middle training stages, in steps."""
    noise_start: float = 0.1
    """Instance-noise std on D's inputs in the early stage (decays linearly in the middle stage)."""
    noise_late: float = 0.0
    """Instance-noise std in the late stage."""
    apfl: bool = True
    """Enable the APFL feedback loop (learning-rate and loss-weight adjustment)."""
    apfl_interval: int = 50
    """Steps between APFL decisions."""
    apfl_gamma: float = 0.5
    """StepLR factor applied per APFL decision."""
    apfl_acc_high: float = 0.9
    """D accuracy above this: D too strong -> slow D, boost feature matching."""
    apfl_acc_low: float = 0.55
    """D accuracy below this: G too strong -> slow G."""
    apfl_patience: int = 4
    """Decisions without a relative improvement of the quality proxy before a StepLR decay (0: never)."""
    apfl_tolerance: float = 0.01
    """Relative improvement of the quality proxy that counts as progress."""
    apfl_min_lr_scale: float = 0.01
    """Lower bound of every APFL learning-rate factor."""
    apfl_fm_boost: float = 1.5
    """Factor on the fm weight while D is too strong (divided back when balanced)."""
    apfl_fm_max: float = 4.0
    """Upper bound of the fm weight factor."""

    def validate(self) -> None:
        for key in ("blocks_per_stage", "apfl_patience"):
            _require(getattr(self, key) >= 0, key, "must be >= 0")
        for key in ("width_cap", "dema_heads", "dema_context", "dema_reduction", "apfl_interval"):
            _require(getattr(self, key) >= 1, key, "must be >= 1")
        _require(self.contrastive_temperature > 0, "contrastive_temperature", "must be > 0")
        _require(self.aux_resolution >= 4, "aux_resolution", "must be >= 4")
        _require(0 <= self.dropout < 1, "dropout", "must be in [0, 1)")
        _require(self.ema_decay == 0 or 0.5 <= self.ema_decay < 1, "ema_decay", "must be 0 or in [0.5, 1)")
        _require(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        _require(len(self.stage_steps) == 2 and 0 <= self.stage_steps[0] <= self.stage_steps[1],
                 "stage_steps", f"must be two steps [early_end, middle_end], ascending, got {list(self.stage_steps)}")
        _require(self.noise_start >= 0, "noise_start", "must be >= 0")
        _require(self.noise_late >= 0, "noise_late", "must be >= 0")
        _require(0 < self.apfl_gamma < 1, "apfl_gamma", "must be in (0, 1)")
        _require(0 <= self.apfl_acc_low < self.apfl_acc_high <= 1, "apfl_acc_low",
                 "need 0 <= apfl_acc_low < apfl_acc_high <= 1")
        _require(self.apfl_tolerance >= 0, "apfl_tolerance", "must be >= 0")
        _require(0 < self.apfl_min_lr_scale <= 1, "apfl_min_lr_scale", "must be in (0, 1]")
        _require(self.apfl_fm_boost >= 1, "apfl_fm_boost", "must be >= 1")
        _require(self.apfl_fm_max >= 1, "apfl_fm_max", "must be >= 1")


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"model.options.{key}: {message}")


# ----------------------------------------------------------------------------- APFL


def instance_noise(step: int, options: MSPGOptions) -> float:
    """Staged linear noise plan: noise_start (early), linear to 0 (middle), noise_late (late)."""
    early, middle = options.stage_steps
    if step < early:
        return options.noise_start
    if step < middle:
        return options.noise_start * (middle - step) / max(1, middle - early)
    return options.noise_late


def apfl_observe(state: dict, d_accuracy: float, quality_loss: float, smoothing: float = 0.9) -> None:
    """Exponential moving averages of D accuracy and the quality proxy (lower is better)."""
    first = state["observations"] == 0
    for key, value in (("d_acc_ema", d_accuracy), ("quality_ema", quality_loss)):
        state[key] = value if first else smoothing * state[key] + (1 - smoothing) * value
    state["observations"] += 1


def apfl_adjust(state: dict, options: MSPGOptions) -> None:
    """One APFL decision (seed 004 Section III-C; StepLR-style Eqs. 8-9).

    Balance: D accuracy above ``apfl_acc_high`` (D too strong) multiplies ``balance`` by gamma
    and boosts the feature-matching weight (the seed's "simplified discriminator feedback"); below
    ``apfl_acc_low`` (G too strong) divides it. lr_D gets min(1, balance), lr_G min(1, 1/balance),
    so only the side that is ahead is slowed. Stagnation: when the quality proxy (EMA of the
    feature-matching distance) has not improved by ``apfl_tolerance`` for ``apfl_patience``
    decisions, both learning rates decay by gamma (StepLR on plateau). Factors stay in
    [apfl_min_lr_scale, 1]; the state holds plain numbers only, so it checkpoints with the individual.
    """
    gamma, low = options.apfl_gamma, options.apfl_min_lr_scale
    if state["d_acc_ema"] > options.apfl_acc_high:
        state["balance"] = max(low, state["balance"] * gamma)
        state["fm_scale"] = min(options.apfl_fm_max, state["fm_scale"] * options.apfl_fm_boost)
    elif state["d_acc_ema"] < options.apfl_acc_low:
        state["balance"] = min(1 / low, state["balance"] / gamma)
    else:
        state["fm_scale"] = max(1.0, state["fm_scale"] / options.apfl_fm_boost)
    if state["quality_ema"] < state["best_quality"] * (1 - options.apfl_tolerance):
        state["best_quality"], state["stale"] = state["quality_ema"], 0
    else:
        state["stale"] += 1
    if options.apfl_patience and state["stale"] >= options.apfl_patience:
        state["lr_scale"], state["stale"] = max(low, state["lr_scale"] * gamma), 0
        state["lr_decays"] += 1


def apfl_lr_factors(state: dict) -> tuple[float, float]:
    """(generator factor, discriminator factor) on the configured learning rates."""
    return (state["lr_scale"] * min(1.0, 1.0 / state["balance"]), state["lr_scale"] * min(1.0, state["balance"]))


def make_ema(generator: nn.Module) -> nn.Module:
    """A frozen copy of ``generator`` with an ``ema_updates`` counter (an integer buffer, so it is
    checkpointed but is not a gene)."""
    ema = copy.deepcopy(generator).requires_grad_(False)
    ema.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
    return ema


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model for parameters; buffers (BN statistics) are copied."""
    for ema_param, param in zip(ema.parameters(), model.parameters()):
        ema_param.lerp_(param, 1.0 - decay)
    ema_buffers = dict(ema.named_buffers())
    for name, buffer in model.named_buffers():
        ema_buffers[name].copy_(buffer)
    ema.ema_updates += 1


# ----------------------------------------------------------------------------- variant


@register_variant
class MSPGSEN(GANVariant):
    """Seed 004: GCTDRN/DEMA progressive G, AFE auxiliary D, APFL feedback, EMA G, AdamW."""

    name = "mspg_sen"
    Options = MSPGOptions
    default_loss_weights = {"aux": 0.5, "fm": 1.0, "contrastive": 0.1}
    """aux = lambda_aux (Eq. 20), fm = feature matching (Eq. 12), contrastive = DEMA's Eq. 7."""

    def build(self) -> nn.ModuleDict:
        channels, resolution, _ = self.image_shape
        width, options = self.model.width, self.options
        generator = MSPGGenerator(self.model.latent_dim, width, channels, resolution,
                                  blocks=options.blocks_per_stage, width_cap=options.width_cap,
                                  heads=options.dema_heads, context=options.dema_context,
                                  reduction=options.dema_reduction, aux_resolution=options.aux_resolution,
                                  dema=options.dema)
        body = dcgan_discriminator(width, channels, resolution, DCGANOptions(dropout=options.dropout))
        modules = nn.ModuleDict({"generator": generator, "discriminator": FeatureDiscriminator(body)})
        if options.afe:
            modules["discriminator_aux"] = aux_discriminator(width, channels, options.dropout)
        modules.apply(init_dcgan_weights)
        for block in generator.modules():
            if isinstance(block, GCTDRNBlock):
                block.reset_fusion()
        if options.ema_decay > 0:
            modules["generator_ema"] = make_ema(generator)
        return modules

    def generate(self, modules: nn.ModuleDict, z: torch.Tensor) -> torch.Tensor:
        """Images from the EMA generator once it has been updated by a train step, else from the
        generator itself: in evolution mode ``ga`` no train step runs, the EMA never moves and
        mutation acts on ``generator``, so that is what must be evaluated."""
        ema = modules["generator_ema"] if "generator_ema" in modules else None
        if ema is not None and int(ema.ema_updates) > 0:
            return ema(z)
        return modules["generator"](z)

    def parameter_groups(self, modules: nn.ModuleDict) -> dict[str, list[nn.Parameter]]:
        """g: generator; d: main D; d_aux: AFE's auxiliary D. generator_ema is never optimised."""
        groups = {"g": list(modules["generator"].parameters()), "d": list(modules["discriminator"].parameters())}
        if "discriminator_aux" in modules:
            groups["d_aux"] = list(modules["discriminator_aux"].parameters())
        return groups

    def loss_weight(self, name: str, hp: Hyperparameters) -> float:
        """As the base; lambda_aux is 0 without AFE (``afe: false``)."""
        return 0.0 if name == "aux" and not self.options.afe else super().loss_weight(name, hp)

    def learning_rate(self, group: str, hp: Hyperparameters) -> float:
        return hp.lr_d if group == "d" or group.startswith("d_") else hp.lr_g

    def make_optimizers(self, modules: nn.ModuleDict, hp: Hyperparameters) -> dict[str, torch.optim.Optimizer]:
        """AdamW per group (seed 004 Section IV)."""
        return {group: torch.optim.AdamW(params, lr=self.learning_rate(group, hp), betas=(hp.beta1, hp.beta2),
                                         weight_decay=self.options.weight_decay)
                for group, params in self.parameter_groups(modules).items() if params}

    def initial_state(self) -> dict:
        """Step counter, APFL statistics and factors (plain numbers, checkpointed with the individual)."""
        return {"step": 0, "observations": 0, "d_acc_ema": 0.5, "quality_ema": 0.0, "best_quality": 1e30,
                "stale": 0, "lr_scale": 1.0, "balance": 1.0, "fm_scale": 1.0, "lr_decays": 0}

    # ---------------------------------------------------------------- training
    def train_step(self, modules, optimizers, real, hp, gen, state):
        """Staged-noise D update (main + auxiliary D), then G update with aux, fm and contrastive terms.

        Returns the base contract's detached scalars (loss_d, loss_g, real_score, fake_score).
        """
        modules.train()
        state["step"] += 1
        self._apply_learning_rates(optimizers, hp, state)
        sigma = instance_noise(state["step"], self.options)
        extras: dict = {}
        fake = modules["generator"](self.sample_latent(real.shape[0], gen, real.device), extras)
        real_logits, fake_logits, real_features, loss_d = self._discriminator_phase(
            modules, optimizers, real, fake, extras, hp, gen, sigma)
        loss_g, fm = self._generator_phase(modules, optimizers, fake, extras, real_features, hp, gen, sigma, state)
        apfl_observe(state, batch_d_accuracy(hp.loss, real_logits, fake_logits), float(fm))
        self.after_step(modules, hp, state)
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "real_score": probability_real(hp.loss, real_logits.detach()).mean(),
                "fake_score": probability_real(hp.loss, fake_logits.detach()).mean()}

    def _apply_learning_rates(self, optimizers, hp: Hyperparameters, state: dict) -> None:
        g_factor, d_factor = apfl_lr_factors(state)
        for group, optimizer in optimizers.items():
            factor = d_factor if _is_d_group(group) else g_factor
            for param_group in optimizer.param_groups:
                param_group["lr"] = self.learning_rate(group, hp) * factor

    def _noisy(self, images: torch.Tensor, sigma: float, gen: torch.Generator) -> torch.Tensor:
        if sigma <= 0:
            return images
        return images + sigma * torch.randn(images.shape, generator=gen, device="cpu").to(images)

    def _d_input(self, images: torch.Tensor, hp: Hyperparameters, gen: torch.Generator, sigma: float) -> torch.Tensor:
        """What the main D sees: DiffAugment with ``hp.augment``, then the staged instance noise."""
        return self._noisy(diff_augment(images, hp.augment, gen), sigma, gen)

    def _discriminator_phase(self, modules, optimizers, real, fake, extras, hp, gen, sigma):
        """Eq. 17 (main D) + lambda_aux * Eq. 18 (auxiliary D on the intermediate scale).

        Every D input (main and auxiliary, real and fake) goes through DiffAugment with ``hp.augment``.
        """
        real_features: list[torch.Tensor] = []
        real_logits = modules["discriminator"](self._d_input(real, hp, gen, sigma), real_features).reshape(-1)
        fake_logits = self.discriminate(modules, self._d_input(fake.detach(), hp, gen, sigma))
        loss_d = discriminator_loss(hp.loss, real_logits, fake_logits)
        aux_weight = self.loss_weight("aux", hp)
        if aux_weight > 0:
            aux_image = extras["aux_image"]
            aux_real = modules["discriminator_aux"](
                diff_augment(F.adaptive_avg_pool2d(real, aux_image.shape[-1]), hp.augment, gen)).reshape(-1)
            aux_fake = modules["discriminator_aux"](diff_augment(aux_image.detach(), hp.augment, gen)).reshape(-1)
            loss_d = loss_d + aux_weight * discriminator_loss(hp.loss, aux_real, aux_fake)
        _step(optimizers, [g for g in optimizers if _is_d_group(g)], loss_d)
        return real_logits, fake_logits, [f.detach() for f in real_features], loss_d

    def _generator_phase(self, modules, optimizers, fake, extras, real_features, hp, gen, sigma, state):
        """Eqs. 19-20 (main + lambda_aux * auxiliary), + fm (Eq. 12, APFL-scaled) + contrastive (Eq. 7)."""
        fake_features: list[torch.Tensor] = []
        logits = modules["discriminator"](self._d_input(fake, hp, gen, sigma), fake_features).reshape(-1)
        fm = feature_matching_loss(real_features, fake_features)
        terms = {"fm": fm * state["fm_scale"]}
        if self.loss_weight("aux", hp) > 0:
            aux_fake = diff_augment(extras["aux_image"], hp.augment, gen)
            terms["aux"] = generator_loss(hp.loss, modules["discriminator_aux"](aux_fake).reshape(-1))
        if extras.get("pairs"):
            tau = self.options.contrastive_temperature
            terms["contrastive"] = sum(info_nce_loss(a, b, tau) for a, b in extras["pairs"]) / len(extras["pairs"])
        loss_g = generator_loss(hp.loss, logits)
        for name, value in terms.items():
            loss_g = loss_g + self.loss_weight(name, hp) * value
        _step(optimizers, [g for g in optimizers if not _is_d_group(g)], loss_g)
        return loss_g, fm.detach()

    def after_step(self, modules: nn.ModuleDict, hp: Hyperparameters, state: dict) -> None:
        """EMA update of generator_ema; an APFL decision every ``apfl_interval`` steps after the early stage."""
        if "generator_ema" in modules:
            decay = self.options.ema_decay
            if self.options.ema_warmup:
                decay = min(decay, (1 + state["step"]) / (10 + state["step"]))
            update_ema(modules["generator_ema"], modules["generator"], decay)
        options = self.options
        if (options.apfl and state["step"] > options.stage_steps[0]
                and state["step"] % options.apfl_interval == 0 and math.isfinite(state["quality_ema"])):
            apfl_adjust(state, options)


def _is_d_group(group: str) -> bool:
    return group == "d" or group.startswith("d_")


def _step(optimizers, groups: list[str], loss: torch.Tensor) -> None:
    for group in groups:
        optimizers[group].zero_grad(set_to_none=True)
    loss.backward()
    for group in groups:
        optimizers[group].step()
