"""Where each individual came from, and whether crossover pays (pure bookkeeping).

Every child is logged with its parents and the operators applied; after it has been scored,
its primary fitness (quality for G's, balanced accuracy for D's; the weighted sum under
tournament selection) is compared with its better parent's, separately for children made by
crossover and by mutation alone, so the defaults can follow the measurements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evogan.config import EvolutionConfig


def lineage_record(side: str, plan: Any, evo: EvolutionConfig) -> dict[str, Any]:
    """{population, uid, slot, parents, ops} of one planned child."""
    ops = [f"crossover:{evo.crossover}"] if plan.parent_b is not None else []
    if evo.mutation_sigma > 0:
        ops.append("mutation")
    ops.append("hp_mutation")
    parents = [plan.parent_a] + ([plan.parent_b] if plan.parent_b is not None else [])
    return {"population": side, "uid": plan.uid, "slot": plan.slot, "parents": parents, "ops": ops}


def _primary(handle: Any) -> float:
    return float(handle.fitness.values[0])


def crossover_success(lineage: list[dict[str, Any]], parents: dict[str, dict[int, Any]],
                      scored: dict[str, list[Any]]) -> dict[str, dict[str, float]]:
    """Per population and operator ("crossover", "mutation"): children, the fraction that beat
    their better parent, and the mean gain over it. Adds ``gain`` to each lineage record."""
    now = {side: {h.uid: h for h in handles} for side, handles in scored.items()}
    tally: dict[str, dict[str, list[float]]] = {}
    for record in lineage:
        side = record["population"]
        child = now[side].get(record["uid"])
        before = [parents[side][uid] for uid in record["parents"]
                  if uid in parents[side] and parents[side][uid].valid and parents[side][uid].fitness is not None]
        if child is None or child.fitness is None or not before or not child.valid:
            continue
        gain = _primary(child) - max(_primary(p) for p in before)
        record["gain"] = gain
        kind = "crossover" if len(record["parents"]) > 1 else "mutation"
        tally.setdefault(side, {}).setdefault(kind, []).append(gain)
    return {f"{side}_{kind}": {"children": len(gains), "success_rate": float(np.mean([g > 0 for g in gains])),
                               "mean_gain": float(np.mean(gains))}
            for side, kinds in tally.items() for kind, gains in kinds.items()}
