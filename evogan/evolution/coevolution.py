"""Who meets whom in competitive coevolution, and the fitness that follows (pure, no Ray).

seed 002 (section 4.1.3) evolves "the populations of both the discriminator and generator"
with a dual objective: a D's fitness is telling genuine from produced images, a G's is
producing images the discriminators judge genuine, and their quality. The thesis gives no
formula; here, with every probability loss-aware (:mod:`evogan.models.evaluation`):

* G objectives: quality = -FID(G's samples) and fool_rate = the mean, over G's opposing D's,
  of the fraction of its samples that D judges real;
* D objective: d_accuracy = balanced accuracy = (TPR on held-out real + mean TNR over its
  opposing G's samples) / 2.

Opponents for scoring form a bipartite graph: each G meets k D's and each D meets k G's
(all of them when k >= the other population's size), on a ring (Lipizzaner's spatial
neighbourhood: slots i .. i+k-1 of the other population, scaled when sizes differ) or on a
ring over a seeded random relabelling each generation. Every edge is scored once and serves
both of its ends.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

WORST = -1.0e9
"""Objective value of an invalid (NaN/inf) individual."""


def scoring_edges(n_g: int, n_d: int, k: int, neighbourhood: str, rng: np.random.Generator | None = None
                  ) -> list[tuple[int, int]]:
    """Sorted (g slot, d slot) pairs: each G meets min(k, n_d) D's and each D at least
    min(k, n_g) G's (exactly, when the populations have equal sizes)."""
    g_order = np.arange(n_g) if neighbourhood == "ring" else rng.permutation(n_g)
    d_order = np.arange(n_d) if neighbourhood == "ring" else rng.permutation(n_d)
    edges = set()
    for i in range(n_g):
        first = i * n_d // n_g
        edges.update((int(g_order[i]), int(d_order[(first + o) % n_d])) for o in range(min(k, n_d)))
    met = {int(d): sum(1 for _, e in edges if e == d) for d in d_order}
    for j in range(n_d):  # top up D's that unequal sizes left with fewer than k opponents
        first, o = j * n_g // n_d, 0
        while met[int(d_order[j])] < min(k, n_g):
            edge = (int(g_order[(first + o) % n_g]), int(d_order[j]))
            if edge not in edges:
                edges.add(edge)
                met[edge[1]] += 1
            o += 1
    return sorted(edges)


def training_rounds(g_slots: list[int], d_slots: list[int], generation: int,
                    rounds: int) -> list[list[tuple[int, int]]]:
    """Local training pairings: round r pairs the i-th local G with local D (i + generation + r) mod n.

    Weights never travel for training, so each actor pairs only the G's and D's it holds; the
    offset rotates every round and generation, so each D trains against several G's.
    """
    g_slots, d_slots = sorted(g_slots), sorted(d_slots)
    if not g_slots or not d_slots:
        return []
    n = len(d_slots)
    return [[(g, d_slots[(i + generation + r) % n]) for i, g in enumerate(g_slots)] for r in range(rounds)]


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return float(np.mean(values)) if values else math.nan


def aggregate(edges: list[dict[str, Any]], judges: dict[int, dict[str, float]], fids: dict[int, float]
              ) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]]:
    """Per-G and per-D scores from edge results.

    ``edges``: one dict per (g, d) scored: g, d (uids), fooled (fraction judged real),
    fake_score, loss_g, loss_d. ``judges``: per D uid its held-out true-positive rate and
    real_score. ``fids``: per G uid its FID.
    """
    by_g: dict[int, list] = {g: [] for g in fids}
    by_d: dict[int, list] = {d: [] for d in judges}
    for edge in edges:
        by_g[edge["g"]].append(edge)
        by_d[edge["d"]].append(edge)
    g_scores = {g: {"fid": fids[g], "fool_rate": _mean(e["fooled"] for e in es),
                    "fake_score": _mean(e["fake_score"] for e in es), "loss_g": _mean(e["loss_g"] for e in es),
                    "real_score": _mean(judges[e["d"]]["real_score"] for e in es), "opponents": [e["d"] for e in es]}
                for g, es in by_g.items()}
    d_scores = {d: {"d_accuracy": 0.5 * (judges[d]["true_positive"] + 1.0 - _mean(e["fooled"] for e in es)),
                    "real_score": judges[d]["real_score"], "fake_score": _mean(e["fake_score"] for e in es),
                    "loss_d": _mean(e["loss_d"] for e in es), "opponents": [e["g"] for e in es]}
                for d, es in by_d.items()}
    return g_scores, d_scores


def objective_values(scores: dict[str, float], objectives: tuple[str, ...]) -> tuple[float, ...]:
    """Maximised objective values; any non-finite one makes every objective WORST."""
    table = {"quality": -scores.get("fid", math.inf), "fool_rate": scores.get("fool_rate", math.nan),
             "d_accuracy": scores.get("d_accuracy", math.nan)}
    values = tuple(float(table[name]) for name in objectives)
    return values if all(math.isfinite(v) for v in values) else tuple(WORST for _ in objectives)
