"""The GA-GAN generation loop (seed 002, Fig. 4.2): breed -> train -> evaluate -> log -> checkpoint.

The engine talks to the population through a *backend* (in-process shards for tests and
debugging, population actors on Ray for real runs) and never sees weights except when it
writes a checkpoint. Selection runs here with DEAP over :class:`Handle` objects; children are
placed on the shard where their first parent lives, so genomes cross the network only when a
parent lives elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any, Callable, Protocol

import numpy as np
import torch

from evogan.config import Config
from evogan.evolution.fitness import objective_values
from evogan.evolution.shard import ChildPlan
from evogan.evolution.toolbox import Handle, assign_fitness, build_toolbox, select_survivors_and_parents
from evogan.seeding import derive_seed, numpy_rng

log = logging.getLogger(__name__)


class Backend(Protocol):
    """Where the individuals live; slot ``s`` is on shard ``s % num_shards``."""

    num_shards: int

    def spawn(self, assignment: dict[int, list[tuple[int, int]]]) -> None: ...
    def step(self, generation: int) -> list[dict[str, Any]]: ...
    def breed(self, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]]) -> None: ...
    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor: ...
    def state(self, slots: list[int] | None = None) -> dict[int, dict[str, Any]]: ...
    def load(self, states: dict[int, dict[str, Any]]) -> None: ...


SUMMARY_KEYS = ("fid", "d_accuracy", "real_score", "fake_score", "loss_g", "loss_d")


def summarize(results: list[dict[str, Any]]) -> dict[str, float]:
    """Population statistics of one generation (best = lowest FID among valid individuals)."""
    valid = [r for r in results if r["valid"]] or results
    best = min(valid, key=lambda r: r["fid"] if np.isfinite(r["fid"]) else np.inf)
    stats = {f"best_{k}": best[k] for k in SUMMARY_KEYS}
    for key in SUMMARY_KEYS:
        values = [r[key] for r in valid if np.isfinite(r[key])]
        stats[f"mean_{key}"] = float(np.mean(values)) if values else float("nan")
    stats["invalid"] = sum(not r["valid"] for r in results)
    stats["best_uid"] = best["uid"]
    return stats


class Engine:
    """Runs generations ``start .. config.evolution.generations - 1`` on a backend."""

    def __init__(self, config: Config, backend: Backend, on_generation: Callable[[dict, "Engine"], None] | None = None):
        self.config = config
        self.backend = backend
        self.toolbox = build_toolbox(config.evolution, config.fitness)
        self.on_generation = on_generation
        self.handles: list[Handle] = []
        self.next_uid = 0
        self.generation = -1  # last completed generation

    # ---------------------------------------------------------------- set-up / resume
    def shard_of(self, slot: int) -> int:
        return slot % self.backend.num_shards

    def initialize(self) -> None:
        """Spawn ``population_size`` fresh individuals, uid = slot."""
        size = self.config.evolution.population_size
        assignment: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for slot in range(size):
            assignment[self.shard_of(slot)].append((slot, slot))
        self.backend.spawn(dict(assignment))
        self.handles = [Handle(uid=slot, slot=slot) for slot in range(size)]
        self.next_uid = size

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a population checkpoint written by :meth:`checkpoint_payload`."""
        self.backend.load({int(k): v for k, v in saved["population"].items()})
        self.handles = [Handle(**h) for h in saved["handles"]]
        for handle in self.handles:
            handle.objectives = tuple(handle.objectives)
            assign_fitness(self.toolbox, handle)
        self.next_uid = saved["next_uid"]
        self.generation = saved["generation"]

    def checkpoint_payload(self) -> dict[str, Any]:
        handles = [{"uid": h.uid, "slot": h.slot, "objectives": list(h.objectives), "valid": h.valid,
                    "hp": h.hp} for h in self.handles]
        return {"kind": "population", "generation": self.generation, "next_uid": self.next_uid,
                "handles": handles, "population": self.backend.state()}

    # ---------------------------------------------------------------- the loop
    def run(self) -> None:
        for generation in range(self.generation + 1, self.config.evolution.generations):
            started = time.perf_counter()
            if generation > 0:
                self.breed(generation)
            results = self.backend.step(generation)
            self.record(generation, results)
            self.generation = generation
            summary = {"generation": generation, "seconds": time.perf_counter() - started,
                       "population": summarize(results), "individuals": results}
            if self.on_generation is not None:
                self.on_generation(summary, self)

    def record(self, generation: int, results: list[dict[str, Any]]) -> None:
        """Turn shard results into handles with DEAP fitness."""
        self.handles = []
        for result in sorted(results, key=lambda r: r["slot"]):
            objectives = objective_values(result, self.config.fitness.objectives)
            result["objectives"] = list(objectives)
            handle = Handle(uid=result["uid"], slot=result["slot"], objectives=objectives,
                            valid=result["valid"], hp=result["hp"])
            assign_fitness(self.toolbox, handle)
            self.handles.append(handle)

    def breed(self, generation: int) -> None:
        """Select elites and parents from the last evaluation and make children in place."""
        evo, seed = self.config.evolution, self.config.seed
        kept, pairs = select_survivors_and_parents(self.toolbox, self.handles, evo.elites,
                                                   derive_seed(seed, generation, "select"))
        rng = numpy_rng(seed, generation, "plan")
        free = [h.slot for h in self.handles if h.slot not in {k.slot for k in kept}]
        children = []
        for first, second in pairs:
            crossover = evo.crossover != "none" and rng.random() < evo.crossover_prob
            children.append((first, second if crossover else None))
        plans = self._place(children, free, generation)
        sources = self._remote_sources(plans)
        self.backend.breed(plans, sources)
        by_slot = {p.slot: p for ps in plans.values() for p in ps}
        self.handles = [Handle(uid=by_slot[h.slot].uid, slot=h.slot) if h.slot in by_slot else h
                        for h in self.handles]

    def _place(self, children: list[tuple[Handle, Handle | None]], free: list[int],
               generation: int) -> dict[int, list[ChildPlan]]:
        """Give each child a free slot, preferring the shard of its first parent."""
        open_slots: dict[int, list[int]] = defaultdict(list)
        for slot in free:
            open_slots[self.shard_of(slot)].append(slot)
        placed: list[tuple[int, Handle, Handle | None]] = []
        waiting = []
        for first, second in children:
            shard = self.shard_of(first.slot)
            if open_slots[shard]:
                placed.append((open_slots[shard].pop(0), first, second))
            else:
                waiting.append((first, second))
        leftovers = sorted(s for slots in open_slots.values() for s in slots)
        placed += [(slot, first, second) for slot, (first, second) in zip(leftovers, waiting)]
        plans: dict[int, list[ChildPlan]] = defaultdict(list)
        for slot, first, second in sorted(placed, key=lambda p: p[0]):
            uid = self.next_uid
            self.next_uid += 1
            plans[self.shard_of(slot)].append(ChildPlan(
                slot=slot, uid=uid, parent_a=first.uid, parent_b=second.uid if second else None,
                seed=derive_seed(self.config.seed, generation, "breed", uid)))
        return dict(plans)

    def _remote_sources(self, plans: dict[int, list[ChildPlan]]) -> dict[int, dict[int, list[int]]]:
        """For each target shard: {source shard: parent uids it must export}."""
        shard_of_uid = {h.uid: self.shard_of(h.slot) for h in self.handles}
        sources: dict[int, dict[int, list[int]]] = {}
        for target, shard_plans in plans.items():
            needed: dict[int, set[int]] = defaultdict(set)
            for plan in shard_plans:
                for uid in (plan.parent_a, plan.parent_b):
                    if uid is not None and shard_of_uid[uid] != target:
                        needed[shard_of_uid[uid]].add(uid)
            sources[target] = {src: sorted(uids) for src, uids in needed.items()}
        return sources
