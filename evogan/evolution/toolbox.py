"""The DEAP toolbox of a run: selection over light handles, vectorised operators over genomes.

The driver selects with DEAP's own ``selTournament`` / ``selNSGA2`` / ``selBest`` on
:class:`Handle` objects that carry only fitness and bookkeeping; the population actors apply
``mate`` / ``mutate`` / ``mutate_hparams`` from the same toolbox to the weights they hold.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from deap import base, creator, tools

from evogan.config import EvolutionConfig, FitnessConfig
from evogan.evolution import operators


def _fitness_class(weights: tuple[float, ...]) -> type:
    """A DEAP Fitness subclass for ``weights``, created once per distinct weight tuple."""
    name = "Fitness_" + hashlib.md5(repr(weights).encode()).hexdigest()[:10]
    if not hasattr(creator, name):
        creator.create(name, base.Fitness, weights=weights)
    return getattr(creator, name)


@dataclass
class Handle:
    """What the driver knows of an individual: id, place, hyperparameters and fitness."""

    uid: int
    slot: int
    objectives: tuple[float, ...] = ()
    valid: bool = True
    hp: dict[str, Any] = field(default_factory=dict)
    fitness: Any = None


def uses_nsga2(evo: EvolutionConfig, fit: FitnessConfig) -> bool:
    return evo.selection == "nsga2" or (evo.selection == "auto" and len(fit.objectives) > 1)


def sel_crowded_tournament(individuals: list, k: int) -> list:
    """NSGA-II parent selection (Deb et al. 2002): binary tournaments on the crowded-comparison
    order (lower non-domination rank, then larger crowding distance).

    DEAP's selTournamentDCD needs at least four individuals; this works for any population.
    Crowding distances must be assigned first (``selNSGA2`` does).
    """
    fronts = tools.sortNondominated(individuals, len(individuals))
    rank = {id(ind): r for r, front in enumerate(fronts) for ind in front}

    def better(a, b):
        key_a = (-rank[id(a)], a.fitness.crowding_dist)
        key_b = (-rank[id(b)], b.fitness.crowding_dist)
        return a if key_a > key_b or (key_a == key_b and random.random() < 0.5) else b

    return [better(random.choice(individuals), random.choice(individuals)) for _ in range(k)]


def sel_elites(individuals: list, k: int) -> list:
    """The ``k`` best, never by slot order: whole non-dominated fronts in turn, each ordered by
    the primary (first) objective, then the others, then the lower uid (deterministic ties).

    With one objective this is the plain ranking. It fixes ``selNSGA2(pool, 1)``, which keeps
    whichever extreme of the first front comes first (often the worst generator by FID).
    """
    if k <= 0:
        return []
    fronts = tools.sortNondominated(individuals, len(individuals))
    ordered = [ind for front in fronts
               for ind in sorted(front, key=lambda h: (tuple(-w * v for w, v in zip(h.fitness.weights,
                                                                                    h.fitness.values)), h.uid))]
    return ordered[:k]


def _no_crossover(ind1, ind2, rng):
    return ind1, ind2


def build_toolbox(evo: EvolutionConfig, fit: FitnessConfig, side: str = "g") -> base.Toolbox:
    """Register select / elites / mate / mutate / mutate_hparams for one population.

    ``side`` "g": the generator objectives of ``fit`` (NSGA-II when there are several);
    "d": the single d_accuracy objective (tournament).
    """
    toolbox = base.Toolbox()
    weights = tuple(fit.weights) if side == "g" else (1.0,)
    toolbox.multi_objective = side == "g" and uses_nsga2(evo, fit)
    if toolbox.multi_objective:
        toolbox.fitness_class = _fitness_class(weights)
        toolbox.register("rank", tools.selNSGA2)  # assigns crowding distances
        toolbox.register("select", sel_crowded_tournament)
    else:
        toolbox.fitness_class = _fitness_class((1.0,))
        toolbox.register("rank", lambda individuals, k: individuals[:k])
        toolbox.register("select", tools.selTournament, tournsize=evo.tournament_size)
    toolbox.register("elites", sel_elites)
    toolbox.register("mate", {"layerwise": operators.cx_layerwise, "blend": operators.cx_blend,
                              "none": _no_crossover}[evo.crossover])
    toolbox.register("mutate", operators.mut_gaussian_layer_scaled, sigma=evo.mutation_sigma,
                     floor=evo.mutation_floor)
    toolbox.register("mutate_hparams", operators.mutate_hyperparameters, side=side, tau=evo.lr_mutation_tau,
                     bounds=tuple(evo.lr_bounds), loss_prob=evo.loss_mutation_prob, losses=tuple(evo.losses))
    toolbox.weights = weights
    toolbox.side = side
    return toolbox


def assign_fitness(toolbox: base.Toolbox, handle: Handle) -> None:
    """Set the DEAP fitness from the objectives: Pareto values, or their weighted sum."""
    fitness = toolbox.fitness_class()
    if toolbox.multi_objective:
        fitness.values = tuple(handle.objectives)
    else:
        fitness.values = (sum(w * o for w, o in zip(toolbox.weights, handle.objectives)),)
    handle.fitness = fitness


def select_survivors_and_parents(toolbox: base.Toolbox, handles: list[Handle], elites: int,
                                 seed: int) -> tuple[list[Handle], list[tuple[Handle, Handle]]]:
    """Elites (kept unchanged) and one parent pair per remaining slot.

    Individuals with invalid (NaN/inf) fitness are excluded unless nothing else is left.
    DEAP's selectors draw from ``random``, seeded here so a resumed run selects identically.
    """
    random.seed(seed)
    pool = sorted([h for h in handles if h.valid] or list(handles), key=lambda h: h.uid)
    toolbox.rank(pool, len(pool))
    kept = toolbox.elites(pool, min(elites, len(pool)))
    parents = toolbox.select(pool, 2 * (len(handles) - len(kept)))
    pairs = [(parents[2 * i], parents[2 * i + 1]) for i in range(len(handles) - len(kept))]
    return kept, pairs
