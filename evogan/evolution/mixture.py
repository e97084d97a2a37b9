"""Generator mixtures: weight the final population's generators to minimise FID (Lipizzaner).

A mixture of generators G_1..G_k with weights w on the probability simplex draws each image
from G_i with probability w_i (:func:`evogan.models.sampling.mixture_sample`). Lipizzaner
(Schmiedlechner et al. 2018; Toutouh et al. 2019) evolves such weights with an evolution
strategy on the mixture's score; this module does the same, with no Ray and no engine inside
the algorithm (:func:`optimise_mixture` takes two callables):

* **Sample pools, drawn once.** Every generator draws one pool of N images with latents of its
  own (``sample_pool(uid)``). A candidate w is scored on the *exact-proportion* mixture: the
  first ``round(w_i * N)`` images of pool i (largest remainder, so the counts sum to N; see
  :func:`proportional_counts`). Every candidate reuses the same pools (common random numbers),
  so FID differences between candidates come from the weights, not from sampling noise, and
  no candidate costs a generator call.
* **Start.** The best of the uniform mixture and each single generator (one-hot w), so the
  result never scores worse on the pools than the population's best single generator.
* **Search.** A seeded (1 + lambda)-ES on unnormalised non-negative weights: each offspring is
  ``max(0, w + sigma * N(0, I))``, normalised (an all-zero draw is dropped); the parent is
  replaced only by a strictly better offspring, and sigma follows the 1/5th success rule.
  A candidate whose counts equal the parent's is not scored (it is the same mixture).
* **Features instead of images.** FID sees a sample only through per-image features, so the
  pools may hold features (``embed``) and ``fid`` then scores a set of feature rows: each
  candidate costs one Fréchet distance instead of a pass of the feature network (what the run
  does: the FID service embeds each pool once, then scores candidates from their rows).
* **Result.** The weights returned are the evaluated counts divided by N, so a member the ES
  switched off has weight exactly 0. They are fitted to the pools: :func:`mixture_fid` and the
  run's final report score the mixture on fresh samples drawn as a true mixture.

:func:`population_mixture`, :func:`sample_population_mixture` and :func:`mixture_fid` apply it
to an :class:`~evogan.evolution.engine.Engine`'s final G population through any backend
(``backend.samples(slot, uid, n, seed)``): in-process (LocalBackend) or on Ray (RayBackend).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from evogan.models.sampling import mixture_sample
from evogan.seeding import derive_seed, numpy_rng

FidFn = Callable[[torch.Tensor], float]
"""uint8 images -> FID (lower is better)."""
FidManyFn = Callable[[list[torch.Tensor]], list[float]]
"""Several image sets -> their FIDs in one call (e.g. spread over the FID pool)."""

SUCCESS_UP = 1.5
"""sigma *= SUCCESS_UP after a successful ES generation, and *= SUCCESS_UP ** -0.25 after a
failed one: stationary at a 1/5 success rate (Rechenberg's rule)."""
SIGMA_BOUNDS = (1e-3, 1.0)


def proportional_counts(weights: Sequence[float], n: int) -> list[int]:
    """round(w_i * n) per member, by largest remainder so the counts sum to exactly ``n``
    (ties go to the lower index); ``weights`` need not be normalised."""
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {list(weights)}")
    exact = w / w.sum() * n
    counts = np.floor(exact).astype(np.int64)
    order = sorted(range(w.size), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:n - int(counts.sum())]:
        counts[i] += 1
    return [int(c) for c in counts]


def assemble(pools: Sequence[torch.Tensor], counts: Sequence[int]) -> torch.Tensor:
    """The exact-proportion mixture: the first ``counts[i]`` rows (images or their features) of
    ``pools[i]``, concatenated."""
    return torch.cat([pool[:c] for pool, c in zip(pools, counts) if c > 0])


@dataclass
class MixtureResult:
    """The optimised mixture of generators ``uids``; ``fid`` is on the pools (``samples`` each)."""

    uids: list[int]
    weights: list[float]
    fid: float
    samples: int
    start: str
    """Where the ES started: ``uniform`` or ``single:<uid>``."""
    uniform_fid: float
    single_fids: dict[int, float]
    history: list[float] = field(default_factory=list)
    """The parent's FID after each ES generation."""
    evaluations: int = 0
    sigma: float = 0.0
    """The ES step size at the end."""

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON- and ``weights_only``-safe form (uid keys as strings)."""
        out = asdict(self)
        out["single_fids"] = {str(uid): fid for uid, fid in self.single_fids.items()}
        return out

    @property
    def best_single_fid(self) -> float:
        return min(self.single_fids.values())


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else math.inf


def optimise_mixture(uids: Sequence[int], sample_pool: Callable[[int], torch.Tensor], fid: FidFn | None = None, *,
                     iterations: int = 20, offspring: int = 1, sigma: float = 0.1, seed: int = 0,
                     fid_many: FidManyFn | None = None) -> MixtureResult:
    """Mixture weights over the generators ``uids`` minimising ``fid`` of the exact-proportion
    mixture of their pools (``sample_pool(uid)``: uint8 images, or their per-image features with
    a ``fid`` on features; one call per uid; pools are cut to the shortest). ``fid_many``, when
    given, scores each ES generation's candidates in one call."""
    if not uids:
        raise ValueError("a mixture needs at least one generator")
    if fid is None and fid_many is None:
        raise ValueError("pass fid or fid_many")
    score_many: FidManyFn = fid_many or (lambda sets: [fid(images) for images in sets])
    pools = [sample_pool(uid) for uid in uids]
    n = min(int(pool.shape[0]) for pool in pools)
    k = len(pools)
    evaluations = 0

    def score(candidates: list[list[int]]) -> list[float]:
        nonlocal evaluations
        evaluations += len(candidates)
        return [_finite(f) for f in score_many([assemble(pools, counts) for counts in candidates])]

    starts = [proportional_counts([1.0] * k, n)] + ([[n if j == i else 0 for j in range(k)] for i in range(k)]
                                                     if k > 1 else [])
    start_fids = score(starts)
    uniform_fid = start_fids[0]
    single_fids = {uid: f for uid, f in zip(uids, start_fids[1:])} if k > 1 else {uids[0]: uniform_fid}
    best = min(range(len(starts)), key=lambda i: (start_fids[i], i))
    parent, parent_fid = starts[best], start_fids[best]
    start = "uniform" if best == 0 else f"single:{uids[best - 1]}"
    rng = numpy_rng(seed, "mixture-es")
    history: list[float] = []
    for _ in range(iterations if k > 1 else 0):
        weights = np.asarray(parent, dtype=np.float64) / n
        children = []
        for _ in range(offspring):
            child = np.maximum(weights + sigma * rng.standard_normal(k), 0.0)
            if child.sum() > 0:
                counts = proportional_counts(child, n)
                if counts != parent and counts not in children:
                    children.append(counts)
        fids = score(children) if children else []
        winner = min(range(len(children)), key=lambda i: (fids[i], i)) if children else None
        if winner is not None and fids[winner] < parent_fid:
            parent, parent_fid = children[winner], fids[winner]
            sigma = min(sigma * SUCCESS_UP, SIGMA_BOUNDS[1])
        else:
            sigma = max(sigma * SUCCESS_UP ** -0.25, SIGMA_BOUNDS[0])
        history.append(parent_fid)
    return MixtureResult(uids=[int(u) for u in uids], weights=[c / n for c in parent], fid=parent_fid, samples=n,
                         start=start, uniform_fid=uniform_fid, single_fids={int(u): f for u, f in single_fids.items()},
                         history=history, evaluations=evaluations, sigma=sigma)


# ----------------------------------------------------------------------------- an engine's population


def pool_seed(seed: int, uid: int) -> int:
    """Seed of generator ``uid``'s sample pool: latents of its own, so two members never
    contribute images of the same latents."""
    return derive_seed(seed, "mixture-pool", uid)


def _final_generators(engine: Any) -> list[Any]:
    """The engine's current G handles, valid ones only (all if none is valid), by slot."""
    handles = sorted(engine.handles["g"], key=lambda h: h.slot)
    return [h for h in handles if h.valid] or handles


def population_mixture(engine: Any, backend: Any, fid: FidFn | None = None, *, samples: int = 1024,
                       iterations: int = 20, offspring: int = 1, sigma: float = 0.1, seed: int = 0,
                       fid_many: FidManyFn | None = None,
                       embed: Callable[[torch.Tensor], torch.Tensor] | None = None) -> MixtureResult:
    """:func:`optimise_mixture` over the engine's final (valid) generators, each drawing its pool of
    ``samples`` images where it lives (``backend.samples``). With ``embed`` (uint8 images ->
    (n, d) features) each pool is embedded once and ``fid``/``fid_many`` score feature rows."""
    slot_of = {h.uid: h.slot for h in _final_generators(engine)}

    def pool(uid: int) -> torch.Tensor:
        images = backend.samples(slot_of[uid], uid, samples, pool_seed(seed, uid))
        return images if embed is None else embed(images)

    return optimise_mixture(sorted(slot_of, key=slot_of.get), pool, fid, iterations=iterations, offspring=offspring,
                            sigma=sigma, seed=seed, fid_many=fid_many)


def sample_population_mixture(engine: Any, backend: Any, result: MixtureResult, n: int, seed: int) -> torch.Tensor:
    """``n`` fresh images of the mixture ``result`` of the engine's generators: image j from
    member i with probability w_i; member i samples where it lives with a seed of its own."""
    slot_of = {h.uid: h.slot for h in engine.handles["g"]}
    members = [(uid, w) for uid, w in zip(result.uids, result.weights) if w > 0]
    gen = torch.Generator().manual_seed(derive_seed(seed, "mixture-assign") % (2 ** 63))
    return mixture_sample([w for _, w in members], n, gen, lambda i, m: backend.samples(
        slot_of[members[i][0]], members[i][0], m, derive_seed(seed, "mixture-sample", members[i][0])))


def mixture_fid(engine: Any, backend: Any, fid: FidFn, *, report_samples: int = 4096, samples: int = 1024,
                iterations: int = 20, offspring: int = 1, sigma: float = 0.1, seed: int = 0,
                embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
                feature_fid: Callable[[torch.Tensor], float] | None = None) -> float:
    """The FID of the FID-optimised mixture of the engine's final generators, scored by ``fid``
    on ``report_samples`` fresh mixture samples (not on the pools the weights were fitted to).

    ``fid``: uint8 images -> FID, e.g. ``lambda x: scorer.fid(x, "domain")``. The weight search
    runs on ``samples``-image pools, scored by ``fid`` (one feature pass per candidate) or, when
    ``embed`` and ``feature_fid`` are given (``scorer.features(x, "domain")`` and
    ``scorer.fid_from_features(f, "domain")``), by ``feature_fid`` on rows of each pool's
    features, embedded once: the same FID, without a feature pass per candidate.
    """
    if (embed is None) != (feature_fid is None):
        raise ValueError("pass both embed and feature_fid, or neither")
    result = population_mixture(engine, backend, feature_fid or fid, samples=samples, iterations=iterations,
                                offspring=offspring, sigma=sigma, seed=seed, embed=embed)
    return float(fid(sample_population_mixture(engine, backend, result, report_samples, derive_seed(seed, "report"))))
