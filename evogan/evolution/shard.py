"""A shard of both populations: the generators and discriminators one population actor holds.

No Ray here. Each generation a shard (1) trains its G's against its own D's (memetic mode),
(2) publishes its G's uint8 samples and their FIDs, (3) judges the G samples it is sent with
its D's, and (4) breeds children into its own slots with the population's DEAP toolbox.
Weights never leave the shard except as a parent genome another shard breeds from.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

from evogan.config import Config
from evogan.data import to_uint8
from evogan.evolution.coevolution import training_rounds
from evogan.evolution.genome import Genome, flatten, load_genome
from evogan.evolution.operators import perturb_learning_rate
from evogan.evolution.toolbox import build_toolbox
from evogan.hyperparameters import Hyperparameters
from evogan.losses import discriminator_loss, generator_loss, judged_real, probability_real
from evogan.models import build_variant
from evogan.models.evaluation import discriminator_outputs
from evogan.models.sampling import batch_stat_mode, sample_images
from evogan.seeding import derive_seed, numpy_rng
from evogan.timing import timed
from evogan.training.individual import (Individual, joined, make_optimizers, pair_hyperparameters, pair_member,
                                        split_modules)
from evogan.training.member import seeded_generator
from evogan.training.schedule import lr_factor, scheduled
from evogan.validation import from_dict

log = logging.getLogger(__name__)

QualityFn = Callable[[dict[int, torch.Tensor]], dict[int, float]]
"""{G uid: uint8 samples} -> {G uid: FID}: one call to the FID service per shard."""
SIDES = ("g", "d")


@dataclass(frozen=True)
class ChildPlan:
    """How to make the individual ``uid`` in ``slot``: parents, and the seed of its operators."""

    slot: int
    uid: int
    parent_a: int
    parent_b: Optional[int]
    seed: int


@dataclass
class Parent:
    """What breeding needs of a parent: its weights, hyperparameters and variant state."""

    genome: Genome
    hp: dict[str, Any]
    state: dict[str, Any]


def resolve_device(config: Config, has_gpu: bool) -> torch.device:
    if config.device == "cuda" or (config.device == "auto" and has_gpu and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


class PopulationShard:
    """Generators and discriminators in fixed slots (``members[side][slot]``)."""

    def __init__(self, config: dict | Config, train_images: torch.Tensor, holdout: torch.Tensor,
                 quality_fn: QualityFn, device: str | torch.device = "cpu"):
        self.config = config if isinstance(config, Config) else from_dict(config)
        torch.set_num_threads(self.config.ray.torch_threads)
        self.device = torch.device(device)
        self.images = train_images.to(self.device)
        self.holdout = holdout
        self.quality_fn = quality_fn
        self.variant = build_variant(self.config.model, tuple(train_images.shape[1:]))
        self.toolboxes = {side: build_toolbox(self.config.evolution, self.config.fitness, side) for side in SIDES}
        self.members: dict[str, dict[int, Individual]] = {"g": {}, "d": {}}
        self._partners = split_modules(self.variant, self.variant.build())  # structure only
        self.busy: dict[str, float] = {}
        """Seconds spent training, sampling (incl. waiting on FID) and judging since :meth:`pop_busy`."""

    # ---------------------------------------------------------------- population
    def spawn(self, assignment: dict[str, list[tuple[int, int]]]) -> None:
        """Fresh individuals: (slot, uid) pairs per side."""
        for side, slots in assignment.items():
            for slot, uid in slots:
                self.members[side][slot] = self._fresh(side, uid)

    def _fresh(self, side: str, uid: int) -> Individual:
        """``evolution.init`` shared: the run's one initialisation + an init_sigma perturbation;
        independent: an initialisation of its own. Learning rates drawn with init_lr_tau."""
        cfg, evo = self.config, self.config.evolution
        shared = evo.init == "shared"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(cfg.seed, "init") if shared else derive_seed(cfg.seed, "init", side, uid))
            modules = split_modules(self.variant, self.variant.build())[side].to(self.device)
        if shared and evo.init_sigma > 0:
            genome = flatten(modules)
            self.toolboxes[side].mutate(genome, rng=numpy_rng(cfg.seed, "init-perturb", side, uid),
                                        sigma=evo.init_sigma)
            load_genome(modules, genome)
        hp = Hyperparameters.from_train(cfg.train)
        if evo.init_lr_tau > 0:
            rng, key = numpy_rng(cfg.seed, "init-lr", side, uid), "lr_g" if side == "g" else "lr_d"
            hp = hp.replace(**{key: perturb_learning_rate(getattr(hp, key), rng, evo.init_lr_tau,
                                                          tuple(evo.lr_bounds))})
        individual = Individual(uid, side, modules, hp, state=self.variant.initial_state() if side == "g" else {})
        make_optimizers(self.variant, individual, self._partners["d" if side == "g" else "g"])
        return individual

    def uids(self) -> dict[str, dict[int, int]]:
        return {side: {slot: m.uid for slot, m in members.items()} for side, members in self.members.items()}

    def _find(self, side: str, uid: int) -> Individual:
        for member in self.members[side].values():
            if member.uid == uid:
                return member
        raise KeyError(f"{side} individual {uid} is not on this shard")

    # ---------------------------------------------------------------- one generation
    def pop_busy(self) -> dict[str, float]:
        busy, self.busy = self.busy, {}
        return busy

    def train(self, generation: int) -> dict[str, dict[int, dict[str, float]]]:
        with timed(self.busy, "train"):
            return self._train(generation)

    def _train(self, generation: int) -> dict[str, dict[int, dict[str, float]]]:
        """Memetic steps: each local G against local D's in rotating rounds (see
        :func:`training_rounds`); each pair step updates D on (real, G's fakes), then G against D.

        Why local pairs: weights never travel, so training opponents are the D's on this actor;
        scoring (:meth:`judge`) meets D's and G's of every actor through their samples.
        Returns mean training scalars per side and uid ({} in ga mode).
        """
        cfg = self.config
        steps = cfg.train.steps_per_generation if cfg.evolution.mode == "memetic" else 0
        g_slots, d_slots = sorted(self.members["g"]), sorted(self.members["d"])
        if not steps or not g_slots or not d_slots:
            return {"g": {}, "d": {}}
        rounds = max(1, min(cfg.evolution.opponents, len(d_slots), steps))
        factor = lr_factor(cfg.train, generation, cfg.evolution.generations)
        sums: dict[tuple[str, int], list[dict[str, float]]] = {}
        for r, pairs in enumerate(training_rounds(g_slots, d_slots, generation, rounds)):
            n_steps = steps // rounds + (1 if r < steps % rounds else 0)
            for g_slot, d_slot in pairs:
                g, d = self.members["g"][g_slot], self.members["d"][d_slot]
                member = pair_member(self.variant, g, d, scheduled(pair_hyperparameters(g, d), factor))
                gen = seeded_generator(derive_seed(cfg.seed, generation, "train", g.uid, d.uid, r))
                stats = member.train(n_steps, self.images, cfg.train.batch_size, gen)
                sums.setdefault(("g", g.uid), []).append(stats)
                sums.setdefault(("d", d.uid), []).append(stats)
        out: dict[str, dict[int, dict[str, float]]] = {"g": {}, "d": {}}
        for (side, uid), rows in sums.items():
            out[side][uid] = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}
        return out

    def publish(self, generation: int) -> tuple[dict[int, torch.Tensor], dict[int, float]]:
        """Every local G's uint8 samples (the same latents for all: common random numbers) and
        their FIDs from one call to the FID service. Non-finite samples give FID NaN."""
        with timed(self.busy, "publish"):
            return self._publish(generation)

    def _publish(self, generation: int) -> tuple[dict[int, torch.Tensor], dict[int, float]]:
        n, seed = self.config.fitness.eval_samples, derive_seed(self.config.seed, generation, "eval")
        samples, finite = {}, {}
        for member in self.members["g"].values():
            images, ok = self._samples(member, n, seed)
            samples[member.uid], finite[member.uid] = images, ok
        fids = self.quality_fn({uid: s for uid, s in samples.items() if finite[uid]}) if any(finite.values()) else {}
        return samples, {uid: float(fids.get(uid, math.nan)) for uid in samples}

    def hyperparameters(self) -> dict[str, dict[int, dict[str, Any]]]:
        """{side: {uid: hyperparameters}} of the local members (for the driver's handles and logs)."""
        return {side: {m.uid: m.hp.to_dict() for m in members.values()} for side, members in self.members.items()}

    @torch.inference_mode()
    def _samples(self, member: Individual, n: int, seed: int) -> tuple[torch.Tensor, bool]:
        """(uint8 samples, whether every generated value was finite)."""
        z = self.variant.sample_latent(n, seeded_generator(seed), self.device)
        with batch_stat_mode(member.modules):
            fake = self.variant.generate(member.modules, z)
        return to_uint8(torch.nan_to_num(fake)).cpu(), bool(torch.isfinite(fake).all())

    def judge(self, matchups: dict[int, list[int]], samples: dict[int, torch.Tensor]
              ) -> tuple[list[dict[str, Any]], dict[int, dict[str, float]]]:
        """Score each local D (uid -> opposing G uids) on held-out real images and on the
        opposing G's ``samples``; loss-aware (each D under its own loss)."""
        with timed(self.busy, "judge"):
            return self._judge(matchups, samples)

    def _judge(self, matchups: dict[int, list[int]], samples: dict[int, torch.Tensor]
               ) -> tuple[list[dict[str, Any]], dict[int, dict[str, float]]]:
        edges, judges = [], {}
        for d_uid, g_uids in sorted(matchups.items()):
            member = self._find("d", d_uid)
            loss, modules = member.hp.loss, self._judge_modules(member)
            real_out = discriminator_outputs(self.variant, modules, self.holdout)
            judges[d_uid] = {"true_positive": judged_real(loss, real_out).float().mean().item(),
                             "real_score": probability_real(loss, real_out).mean().item()}
            for g_uid in g_uids:
                fake_out = discriminator_outputs(self.variant, modules, samples[g_uid])
                edges.append({"g": g_uid, "d": d_uid,
                              "fooled": judged_real(loss, fake_out).float().mean().item(),
                              "fake_score": probability_real(loss, fake_out).mean().item(),
                              "loss_g": generator_loss(loss, fake_out).item(),
                              "loss_d": discriminator_loss(loss, real_out, fake_out).item()})
        return edges, judges

    def _judge_modules(self, member: Individual):
        """D's modules completed with structure-only G modules (what ``discriminate`` expects)."""
        return joined(self._partners["g"], member.modules)

    def checkpoint_samples(self, payload: dict[str, Any], n: int, seed: int) -> torch.Tensor:
        """``n`` samples of the generator in a generator checkpoint payload (e.g. ``best.pt``)."""
        return sample_images(self.variant, self._restore("g", payload["member"]).modules, n, seeded_generator(seed))

    def samples(self, uid: int, n: int, seed: int) -> torch.Tensor:
        """``n`` samples of the local generator ``uid`` (sample grids, reports)."""
        return sample_images(self.variant, self._find("g", uid).modules, n, seeded_generator(seed))

    # ---------------------------------------------------------------- breeding
    def export(self, side: str, uids: list[int]) -> dict[int, Parent]:
        """Genomes (flat float32) of the named members, for breeding elsewhere."""
        return {uid: self._parent(self._find(side, uid)) for uid in uids}

    @staticmethod
    def _parent(member: Individual) -> Parent:
        return Parent(flatten(member.modules), member.hp.to_dict(), dict(member.state))

    def breed(self, side: str, plans: list[ChildPlan], remote: dict[int, Parent]) -> None:
        """Make every planned child from local or ``remote`` parents; elites are not touched.

        All parents are copied out before any slot is overwritten, because a parent may live
        in a slot that receives a child.
        """
        needed = {p.parent_a for p in plans} | {p.parent_b for p in plans if p.parent_b is not None}
        parents = dict(remote)
        for uid in needed - parents.keys():
            parents[uid] = self._parent(self._find(side, uid))
        children = [(plan, self._make_child(side, plan, parents)) for plan in plans]
        partner = self._partners["d" if side == "g" else "g"]
        for plan, (genome, hp, state) in children:
            member = self.members[side][plan.slot]
            load_genome(member.modules, genome)
            member.uid, member.hp, member.state = plan.uid, Hyperparameters.from_dict(hp), state
            make_optimizers(self.variant, member, partner)

    def _make_child(self, side: str, plan: ChildPlan, parents: dict[int, Parent]):
        toolbox, rng = self.toolboxes[side], numpy_rng(plan.seed)
        first = parents[plan.parent_a]
        child = first.genome.copy()
        if plan.parent_b is not None:
            other = parents[plan.parent_b].genome.copy()
            child, _ = toolbox.mate(child, other, rng=rng)
        (child,) = toolbox.mutate(child, rng=rng)
        hp = toolbox.mutate_hparams(Hyperparameters.from_dict(first.hp), rng=rng)
        return child, hp.to_dict(), dict(first.state)

    # ---------------------------------------------------------------- checkpoints
    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict[str, Any]]]:
        """Checkpoint states per side and slot (all when ``side``/``slots`` are None)."""
        return {s: {slot: m.checkpoint_state() for slot, m in members.items() if slots is None or slot in slots}
                for s, members in self.members.items() if side is None or s == side}

    def load(self, states: dict[str, dict[int, dict[str, Any]]]) -> None:
        """Rebuild members from :meth:`state` output (weights, optimiser states, variant state)."""
        for side, by_slot in states.items():
            self.members[side] = {int(slot): self._restore(side, saved) for slot, saved in by_slot.items()}

    def _restore(self, side: str, saved: dict[str, Any]) -> Individual:
        member = self._fresh(side, int(saved["uid"]))
        member.modules.load_state_dict(saved["modules"])
        member.hp, member.state = Hyperparameters.from_dict(saved["hp"]), dict(saved.get("state", {}))
        make_optimizers(self.variant, member, self._partners["d" if side == "g" else "g"])
        for key, optimizer in member.optimizers.items():
            if key in saved.get("optimizers", {}):
                optimizer.load_state_dict(saved["optimizers"][key])
        return member

    def parents_from(self, side: str, states: dict[int, dict[str, Any]], uids: set[int]) -> dict[int, Parent]:
        """Parents rebuilt from another shard's checkpointed states (recovery: their owner
        died or has bred since)."""
        return {int(saved["uid"]): self._parent(self._restore(side, saved))
                for saved in states.values() if int(saved["uid"]) in uids}

    def seed_weights(self, weights: dict[str, torch.Tensor]) -> None:
        """Every member takes ``weights``' tensors of its own modules (a G-only checkpoint leaves
        the D's as initialised); optimiser states start fresh."""
        for side, members in self.members.items():
            partner = self._partners["d" if side == "g" else "g"]
            for member in members.values():
                own = {k: v for k, v in weights.items() if k in member.modules.state_dict()}
                member.modules.load_state_dict(own, strict=False)
                make_optimizers(self.variant, member, partner)

    def member_state(self, side: str, uid: int) -> dict[str, Any]:
        """One member's weights, hyperparameters and variant state, without optimiser states."""
        state = self._find(side, uid).checkpoint_state()
        state.pop("optimizers")
        return state
