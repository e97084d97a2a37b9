"""A shard of the population: the individuals one population actor holds. No Ray here.

A shard trains its members (memetic mode), scores them, exports genomes that other shards
need as parents, and breeds children into its own slots with the run's DEAP toolbox.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

from evogan.config import Config, from_dict
from evogan.evolution.fitness import evaluate
from evogan.evolution.genome import Genome, flatten, load_genome
from evogan.evolution.toolbox import build_toolbox
from evogan.models import build_variant
from evogan.models.sampling import sample_images
from evogan.seeding import derive_seed, numpy_rng
from evogan.training.hyperparameters import Hyperparameters
from evogan.training.member import Member, all_finite, seeded_generator

log = logging.getLogger(__name__)

QualityFn = Callable[[torch.Tensor], float]


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
    """Members in fixed slots; ``quality_fn`` maps uint8 samples to an FID (the FID actor)."""

    def __init__(self, config: dict | Config, train_images: torch.Tensor, holdout: torch.Tensor,
                 quality_fn: QualityFn, device: str | torch.device = "cpu"):
        self.config = config if isinstance(config, Config) else from_dict(config)
        torch.set_num_threads(self.config.ray.torch_threads)
        self.device = torch.device(device)
        self.images = train_images.to(self.device)
        self.holdout = holdout.to(self.device)
        self.quality_fn = quality_fn
        self.variant = build_variant(self.config.model, tuple(train_images.shape[1:]))
        self.toolbox = build_toolbox(self.config.evolution, self.config.fitness)
        self.members: dict[int, Member] = {}  # slot -> member

    # ---------------------------------------------------------------- population
    def spawn(self, slots_and_uids: list[tuple[int, int]]) -> None:
        """Fresh individuals with the configured initial hyperparameters."""
        hp = Hyperparameters.from_train(self.config.train)
        for slot, uid in slots_and_uids:
            seed = derive_seed(self.config.seed, "init", uid)
            self.members[slot] = Member.create(uid, self.variant, hp, seed, self.device)

    def uids(self) -> dict[int, int]:
        return {slot: m.uid for slot, m in self.members.items()}

    def _member(self, uid: int) -> Member:
        for member in self.members.values():
            if member.uid == uid:
                return member
        raise KeyError(f"individual {uid} is not on this shard")

    # ---------------------------------------------------------------- one generation
    def step(self, generation: int) -> list[dict[str, Any]]:
        """Memetic training (if enabled) then fitness of every member; scalars only."""
        cfg = self.config
        steps = cfg.train.steps_per_generation if cfg.evolution.mode == "memetic" else 0
        results = []
        for slot, member in sorted(self.members.items()):
            train_stats = {}
            if steps:
                gen = seeded_generator(derive_seed(cfg.seed, generation, member.uid, "train"))
                train_stats = member.train(steps, self.images, cfg.train.batch_size, gen)
            eval_gen = seeded_generator(derive_seed(cfg.seed, generation, "eval"))
            scores, _ = evaluate(member, self.holdout, cfg.fitness.eval_samples, eval_gen, self.quality_fn)
            valid = all_finite(train_stats) and all(math.isfinite(v) for v in scores.values())
            if not valid:
                log.warning("generation %d: individual %d has non-finite losses or samples", generation, member.uid)
            results.append({"slot": slot, "uid": member.uid, "hp": member.hp.to_dict(), "valid": valid,
                            **scores, **{f"train_{k}": v for k, v in train_stats.items()}})
        return results

    def samples(self, uid: int, n: int, seed: int) -> torch.Tensor:
        member = self._member(uid)
        return sample_images(self.variant, member.modules, n, seeded_generator(seed))

    # ---------------------------------------------------------------- breeding
    def export(self, uids: list[int]) -> dict[int, Parent]:
        """Genomes (flat float32) of the named members, for breeding elsewhere."""
        return {uid: self._parent(self._member(uid)) for uid in uids}

    @staticmethod
    def _parent(member: Member) -> Parent:
        return Parent(flatten(member.modules), member.hp.to_dict(), dict(member.state))

    def breed(self, plans: list[ChildPlan], remote: dict[int, Parent]) -> None:
        """Make every planned child from local or ``remote`` parents; elites are not touched.

        All parents are copied out before any slot is overwritten, because a parent may live
        in a slot that receives a child.
        """
        needed = {p.parent_a for p in plans} | {p.parent_b for p in plans if p.parent_b is not None}
        parents = dict(remote)
        for uid in needed - parents.keys():
            parents[uid] = self._parent(self._member(uid))
        children = [(plan, self._make_child(plan, parents)) for plan in plans]
        for plan, (genome, hp, state) in children:
            member = self.members[plan.slot]
            load_genome(member.modules, genome)
            member.uid = plan.uid
            member.hp = Hyperparameters.from_dict(hp)
            member.state = state
            member.reset_optimizers()

    def _make_child(self, plan: ChildPlan, parents: dict[int, Parent]):
        rng = numpy_rng(plan.seed)
        first = parents[plan.parent_a]
        child = first.genome.copy()
        if plan.parent_b is not None:
            other = parents[plan.parent_b].genome.copy()
            child, _ = self.toolbox.mate(child, other, rng=rng)
        (child,) = self.toolbox.mutate(child, rng=rng)
        hp = self.toolbox.mutate_hparams(Hyperparameters.from_dict(first.hp), rng=rng)
        return child, hp.to_dict(), dict(first.state)

    # ---------------------------------------------------------------- checkpoints
    def state(self, slots: list[int] | None = None) -> dict[int, dict[str, Any]]:
        """Checkpoint state of the members in ``slots`` (all when None)."""
        return {slot: member.checkpoint_state() for slot, member in self.members.items()
                if slots is None or slot in slots}

    def load(self, states: dict[int, dict[str, Any]]) -> None:
        self.members = {int(slot): Member.from_checkpoint(saved, self.variant, self.device)
                        for slot, saved in states.items()}
