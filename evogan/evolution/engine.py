"""The GA-GAN generation loop with two coevolving populations (seed 002, Fig. 4.2 and 4.1.3):
breed both -> train (memetic) -> publish G samples -> judge -> select -> log -> checkpoint.

The engine talks to the populations through a *backend* (in-process shards for tests and
debugging, population actors on Ray for real runs) and never sees weights except when it
writes a checkpoint. Selection runs here with one DEAP toolbox per population over
:class:`Handle` objects; children are placed on the shard where their first parent lives, so
genomes cross the network only when a parent lives elsewhere. DEAP's ``HallOfFame`` keeps the
best generator ever seen.
"""

from __future__ import annotations

import copy
import logging
import time
from collections import defaultdict
from typing import Any, Callable, Protocol

import numpy as np
import torch
from deap import tools

from evogan.config import Config
from evogan.evolution.coevolution import WORST, aggregate, objective_values, scoring_edges
from evogan.evolution.lineage import crossover_success, lineage_record
from evogan.evolution.recovery import Journal, Recovery, ShardsFailed, StoredParents
from evogan.timing import timed
from evogan.evolution.shard import SIDES, ChildPlan
from evogan.evolution.toolbox import Handle, assign_fitness, build_toolbox, select_survivors_and_parents
from evogan.seeding import derive_seed, numpy_rng

log = logging.getLogger(__name__)
D_OBJECTIVES = ("d_accuracy",)


class Backend(Protocol):
    """Where the individuals live; slot ``s`` of either population is on shard ``s % num_shards``."""

    num_shards: int

    def spawn(self, assignment: dict[int, dict[str, list[tuple[int, int]]]]) -> None: ...
    def train(self, generation: int, only: set[int] | None = None) -> dict[str, dict[int, dict[str, float]]]: ...
    def evaluate(self, generation: int, matchups: dict[int, dict[int, list[int]]]
                 ) -> tuple[list[dict], dict[int, dict], dict[int, float]]: ...
    def breed(self, side: str, plans: dict[int, list[ChildPlan]], sources: dict[int, dict[int, list[int]]],
              stored: StoredParents | None = None) -> None: ...
    def replace(self, shards: set[int]) -> None: ...
    def load_shards(self, storage: Any, entries: dict[int, dict], only: set[int]) -> None: ...
    def samples(self, slot: int, uid: int, n: int, seed: int) -> torch.Tensor: ...
    def state(self, side: str | None = None, slots: list[int] | None = None) -> dict[str, dict[int, dict]]: ...
    def load(self, states: dict[str, dict[int, dict]]) -> None: ...


SUMMARY_KEYS = ("fid", "fool_rate", "d_accuracy", "real_score", "fake_score", "loss_g", "loss_d")


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Statistics of one generation. The best G is the lowest FID among valid generators, the
    best D the highest balanced accuracy; best_fid/fool_rate/fake_score/loss_g are the best G's,
    best_d_accuracy/real_score/loss_d the best D's."""
    stats: dict[str, Any] = {"invalid": sum(not r["valid"] for r in results)}
    for side, key, pick in (("g", "fid", min), ("d", "d_accuracy", max)):
        rows = [r for r in results if r["population"] == side]
        valid = [r for r in rows if r["valid"] and np.isfinite(r[key])] or rows
        best = pick(valid, key=lambda r: r[key] if np.isfinite(r[key]) else (np.inf if pick is min else -np.inf))
        stats[f"best_{side}_uid"] = best["uid"]
        for name in SUMMARY_KEYS:
            if name in best:
                stats[f"best_{name}"] = best[name]
                values = [r[name] for r in valid if name in r and np.isfinite(r[name])]
                stats[f"mean_{name}"] = float(np.mean(values)) if values else float("nan")
    stats["best_uid"] = stats["best_g_uid"]
    return stats


class Engine:
    """Runs generations ``start .. config.evolution.generations - 1`` on a backend."""

    def __init__(self, config: Config, backend: Backend, on_generation: Callable[[dict, "Engine"], None] | None = None,
                 recovery: Recovery | None = None):
        self.config = config
        self.recovery = recovery
        self.recovered: list[int] = []
        self.recovered_total = 0
        self._journal = Journal()
        self.backend = backend
        self.toolboxes = {side: build_toolbox(config.evolution, config.fitness, side) for side in SIDES}
        self.on_generation = on_generation
        self.handles: dict[str, list[Handle]] = {"g": [], "d": []}
        self.hall_of_fame = tools.HallOfFame(1)
        self.next_uid = 0
        self.generation = -1  # last completed generation
        self._lineage: list[dict[str, Any]] = []
        self._elites: dict[str, list[int]] = {}

    @property
    def sizes(self) -> dict[str, int]:
        return {"g": self.config.evolution.population_size, "d": self.config.evolution.d_size}

    # ---------------------------------------------------------------- set-up / resume
    def shard_of(self, slot: int) -> int:
        return slot % self.backend.num_shards

    def _assignment(self) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Generation 0's (slot, uid) pairs per shard and side; uids unique across both (G's first)."""
        assignment: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: {"g": [], "d": []})
        uid = 0
        for side in SIDES:
            for slot in range(self.sizes[side]):
                assignment[self.shard_of(slot)][side].append((slot, uid))
                uid += 1
        return dict(assignment)

    def initialize(self) -> None:
        """Spawn both populations."""
        assignment = self._assignment()
        self.handles = {side: sorted((Handle(uid=uid, slot=slot) for a in assignment.values() for slot, uid in a[side]),
                                     key=lambda h: h.slot) for side in SIDES}
        self.next_uid = sum(self.sizes.values())
        self.backend.spawn(assignment)

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a checkpoint's :meth:`light_state` (the backend loads the weights)."""
        for side in SIDES:
            self.handles[side] = [self._handle(side, h) for h in saved["handles"][side]]
        self.hall_of_fame.clear()
        self.hall_of_fame.update([self._handle("g", h) for h in saved["hall_of_fame"]])
        self.next_uid, self.generation = saved["next_uid"], saved["generation"]

    def _handle(self, side: str, saved: dict[str, Any]) -> Handle:
        handle = Handle(uid=saved["uid"], slot=saved["slot"], objectives=tuple(saved["objectives"]),
                        valid=saved["valid"], hp=saved["hp"])
        assign_fitness(self.toolboxes[side], handle)
        return handle

    def light_state(self) -> dict[str, Any]:
        """Everything but the weights: handles, hall of fame, uid counter (plain, ``weights_only``-safe)."""
        def plain(h: Handle) -> dict[str, Any]:
            return {"uid": h.uid, "slot": h.slot, "objectives": list(h.objectives), "valid": h.valid, "hp": h.hp}

        return {"generation": self.generation, "next_uid": self.next_uid,
                "handles": {side: [plain(h) for h in hs] for side, hs in self.handles.items()},
                "hall_of_fame": [plain(h) for h in self.hall_of_fame]}

    # ---------------------------------------------------------------- the loop
    def run(self) -> None:
        for generation in range(self.generation + 1, self.config.evolution.generations):
            started, self.recovered = time.perf_counter(), []
            self._journal = Journal()
            while True:  # the callback's actor calls (grids, best.pt, shards) are covered too
                try:
                    summary = self._generation(generation)
                    summary["seconds"] = time.perf_counter() - started
                    if self.on_generation is not None:
                        self.on_generation(summary, self)
                    break
                except ShardsFailed as failure:
                    self._recover(generation, failure.shards)

    def _generation(self, generation: int) -> dict[str, Any]:
        """One generation's phases; after a recovery, phases a shard completed are not redone."""
        journal, timings = self._journal, self._journal.timings
        if journal.parents is None:
            journal.parents = {side: {h.uid: h for h in hs} for side, hs in self.handles.items()}
            journal.old_handles = {side: list(hs) for side, hs in self.handles.items()}
            self._lineage = self.plan(generation) if generation > 0 else []
            if generation == 0:
                self._elites = {}
        with timed(timings, "breed"):
            for side in SIDES if generation > 0 else ():
                plans, sources = journal.plans[side]
                todo = {s: p for s, p in plans.items() if s not in journal.bred[side]}
                if todo:
                    with journal.completing(journal.bred[side], set(todo)):
                        self.backend.breed(side, todo, sources,
                                           self._stored_parents(side) if journal.recovering else None)
        with timed(timings, "train"):
            todo = set(range(self.backend.num_shards)) - journal.trained
            if todo:
                with journal.completing(journal.trained, todo, journal.record_training) as done:
                    done.update(self.backend.train(generation, only=todo if journal.trained else None))
        with timed(timings, "score"):
            results = self.evaluate(generation, journal.train_stats)
        self.generation = generation
        return {"generation": generation, "timings": dict(timings), "population": summarize(results),
                "individuals": results, "lineage": self._lineage, "elites": self._elites,
                "crossover": crossover_success(self._lineage, journal.parents, self.handles),
                "hall_of_fame": [{"uid": h.uid, "objectives": list(h.objectives)} for h in self.hall_of_fame],
                "recovered": list(self.recovered)}

    def _recover(self, generation: int, shards: set[int]) -> None:
        """Recreate dead shards' actors and bring them to where this generation needs them: the
        last checkpoint (end of the previous generation), then this generation's breeding and
        training for their own members only. Other shards keep their state and finished work.
        """
        recovery = self.recovery
        if recovery is None or self.recovered_total >= recovery.attempts:
            raise ShardsFailed(shards, "no recovery left")
        manifest = recovery.latest() if generation > 0 else None
        if generation > 0 and (manifest is None or manifest["generation"] != generation - 1):
            raise ShardsFailed(shards, "per-actor recovery needs a checkpoint of the previous generation")
        log.warning("generation %d: population actor(s) %s died; recreating them", generation + 1, sorted(shards))
        self.backend.replace(shards)
        if generation == 0:
            self.backend.spawn({s: a for s, a in self._assignment().items() if s in shards})
        else:
            entries = {e["shard"]: e for e in manifest["shards"]}
            self.backend.load_shards(recovery.storage, entries, shards)
            self._journal.manifest = manifest
        journal = self._journal
        for side in SIDES:
            journal.bred[side] -= shards
        journal.trained -= shards
        journal.recovering = True
        self.recovered += sorted(shards)
        self.recovered_total += len(shards)

    def _stored_parents(self, side: str) -> StoredParents:
        """Where every parent of this generation is checkpointed (end of the previous one)."""
        manifest = self._journal.manifest or self.recovery.latest()
        holders = {h.uid: self.shard_of(h.slot) for h in self._journal.old_handles[side]}
        return StoredParents(self.recovery.storage, {e["shard"]: e for e in manifest["shards"]}, holders)

    def evaluate(self, generation: int, train_stats: dict[str, dict[int, dict[str, float]]]) -> list[dict[str, Any]]:
        """Score both populations against each other and turn the scores into handles."""
        evo = self.config.evolution
        g_by_slot = {h.slot: h.uid for h in self.handles["g"]}
        d_by_slot = {h.slot: h.uid for h in self.handles["d"]}
        edges = scoring_edges(len(g_by_slot), len(d_by_slot), evo.opponents, evo.neighbourhood,
                              numpy_rng(self.config.seed, generation, "opponents"))
        matchups: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for g_slot, d_slot in edges:
            matchups[self.shard_of(d_slot)][d_by_slot[d_slot]].append(g_by_slot[g_slot])
        edge_rows, judges, fids, hps = self.backend.evaluate(generation, {s: dict(m) for s, m in matchups.items()})
        g_scores, d_scores = aggregate(edge_rows, judges, fids)
        self._journal.timings["fid_wait"] = getattr(self.backend, "fid_wait", 0.0)
        results = []
        for side, scores, objectives in (("g", g_scores, tuple(self.config.fitness.objectives)),
                                         ("d", d_scores, D_OBJECTIVES)):
            self.handles[side] = [self._scored(side, h, scores[h.uid], hps[side][h.uid],
                                               train_stats[side].get(h.uid, {}), objectives, results)
                                  for h in sorted(self.handles[side], key=lambda h: h.slot)]
        self.hall_of_fame.update([copy.copy(h) for h in self.handles["g"] if h.valid])
        return results

    def _scored(self, side: str, handle: Handle, scores: dict[str, Any], hp: dict[str, Any], train: dict[str, float],
                objectives: tuple[str, ...], results: list[dict[str, Any]]) -> Handle:
        values = objective_values(scores, objectives)
        valid = all(np.isfinite(v) for v in train.values()) and values[0] != WORST
        if not valid:
            log.warning("generation %d: %s individual %d has non-finite losses or scores", self.generation + 1,
                        side, handle.uid)
        new = Handle(uid=handle.uid, slot=handle.slot, objectives=values, valid=valid, hp=hp)
        assign_fitness(self.toolboxes[side], new)
        results.append({"population": side, "slot": handle.slot, "uid": handle.uid, "valid": valid,
                        "objectives": list(values), "hp": hp, **scores,
                        **{f"train_{k}": v for k, v in train.items()}})
        return new

    # ---------------------------------------------------------------- breeding
    def plan(self, generation: int) -> list[dict[str, Any]]:
        """Select elites and parents of both populations and plan every child (driver only; the
        journal keeps the plans, so a recovery replays them); returns the children's lineage."""
        lineage, self._elites, evo = [], {}, self.config.evolution
        for side in SIDES:
            kept, pairs = select_survivors_and_parents(self.toolboxes[side], self.handles[side], evo.elites,
                                                       derive_seed(self.config.seed, generation, "select", side))
            self._elites[side] = [h.uid for h in kept]
            rng = numpy_rng(self.config.seed, generation, "plan", side)
            children = [(a, b if evo.crossover != "none" and rng.random() < evo.crossover_prob and b.uid != a.uid
                         else None) for a, b in pairs]
            kept_slots = {k.slot for k in kept}
            plans = self._place(side, children, [h.slot for h in self.handles[side] if h.slot not in kept_slots],
                                generation)
            self._journal.plans[side] = (plans, self._remote_sources(side, plans))
            by_slot = {p.slot: p for ps in plans.values() for p in ps}
            hp_of = {h.uid: h.hp for h in self.handles[side]}
            self.handles[side] = [Handle(uid=by_slot[h.slot].uid, slot=h.slot, hp=hp_of[by_slot[h.slot].parent_a])
                                  if h.slot in by_slot else h for h in self.handles[side]]
            lineage += [lineage_record(side, plan, evo) for plan in sorted(by_slot.values(), key=lambda p: p.slot)]
        return lineage

    def breed(self, generation: int) -> list[dict[str, Any]]:
        """Plan and make the next generation's children at once (tests, and tools without recovery)."""
        self._journal = Journal()
        lineage = self.plan(generation)
        for side in SIDES:
            self.backend.breed(side, *self._journal.plans[side])
        return lineage

    def _place(self, side: str, children: list[tuple[Handle, Handle | None]], free: list[int],
               generation: int) -> dict[int, list[ChildPlan]]:
        """Give each child a free slot, preferring the shard of its first parent."""
        open_slots: dict[int, list[int]] = defaultdict(list)
        for slot in sorted(free):
            open_slots[self.shard_of(slot)].append(slot)
        placed, waiting = [], []
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
            uid, self.next_uid = self.next_uid, self.next_uid + 1
            plans[self.shard_of(slot)].append(ChildPlan(
                slot=slot, uid=uid, parent_a=first.uid, parent_b=second.uid if second else None,
                seed=derive_seed(self.config.seed, generation, "breed", uid)))
        return dict(plans)

    def _remote_sources(self, side: str, plans: dict[int, list[ChildPlan]]) -> dict[int, dict[int, list[int]]]:
        """For each target shard: {source shard: parent uids it must export}."""
        shard_of_uid = {h.uid: self.shard_of(h.slot) for h in self.handles[side]}
        sources: dict[int, dict[int, list[int]]] = {}
        for target, shard_plans in plans.items():
            needed: dict[int, set[int]] = defaultdict(set)
            for plan in shard_plans:
                for uid in (plan.parent_a, plan.parent_b):
                    if uid is not None and shard_of_uid[uid] != target:
                        needed[shard_of_uid[uid]].add(uid)
            sources[target] = {src: sorted(uids) for src, uids in needed.items()}
        return sources
