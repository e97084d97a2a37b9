"""Training-stability figures of one trial, from the records it reported (``progress.csv``) —
the definitions benchmarks/README.md states for the studies:

* ``var_loss_g`` / ``var_loss_d``: variance, across evaluations, of the generator's and the
  discriminator's mean training loss over each evaluation interval (``train_loss_g``,
  ``train_loss_d``), the first interval left out (the initial transient).
* ``collapses``: evaluations at which the quality metric (FID: lower is better) is more than
  ``COLLAPSE_FACTOR`` times the best value reported before it (a relapse of image quality, e.g. a
  mode collapse), or is not finite (divergence, which ends the trial).
* ``oscillations``: evaluations that are a local peak of the FID curve, higher than both
  neighbours by more than ``OSCILLATION_FACTOR`` (a swing that recovers).

Plus Welch's t-test verdicts (:func:`verdict`) and mean / spread (:func:`mean_std`).
"""

from __future__ import annotations

import math
from typing import Sequence

COLLAPSE_FACTOR = 1.5
OSCILLATION_FACTOR = 1.1


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def variance(values: Sequence[float]) -> float:
    """Population variance of the finite values (nan with fewer than 2)."""
    xs = _finite(values)
    if len(xs) < 2:
        return math.nan
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs) / len(xs)


def collapse_events(fids: Sequence[float], factor: float = COLLAPSE_FACTOR) -> int:
    """Evaluations whose FID exceeds ``factor`` x the best before it, or is not finite."""
    events, best = 0, math.inf
    for value in fids:
        value = float(value)
        if not math.isfinite(value):
            events += 1
            continue
        if value > factor * best:
            events += 1
        best = min(best, value)
    return events


def oscillation_events(fids: Sequence[float], factor: float = OSCILLATION_FACTOR) -> int:
    """Local FID peaks more than ``factor`` x both neighbours (finite triples only)."""
    xs = [float(v) for v in fids]
    return sum(1 for a, b, c in zip(xs, xs[1:], xs[2:])
               if all(math.isfinite(v) for v in (a, b, c)) and b > factor * a and b > factor * c)


def stability(rows: Sequence[dict], metric: str) -> dict[str, float]:
    """The stability figures of one trial's records (in step order)."""
    fids = [float(row.get(metric, math.nan)) if not row.get("diverged") else math.nan for row in rows]
    later = rows[1:] if len(rows) > 2 else rows
    return {"var_loss_g": variance([row.get("train_loss_g") for row in later]),
            "var_loss_d": variance([row.get("train_loss_d") for row in later]),
            "collapses": float(collapse_events(fids)), "oscillations": float(oscillation_events(fids))}


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, sample standard deviation (ddof 1; 0 for one value), count) of the finite values."""
    xs = _finite(values)
    if not xs:
        return math.nan, math.nan, 0
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return mean, std, len(xs)


def welch_p(better: Sequence[float], worse: Sequence[float]) -> float:
    """One-sided Welch t-test p-value for mean(better) < mean(worse) (nan with < 2 values a side)."""
    from scipy import stats

    a, b = _finite(better), _finite(worse)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if max(a) == min(a) and max(b) == min(b):  # no spread: the t statistic is undefined
        return 0.0 if a[0] < b[0] else 1.0
    return float(stats.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)


def verdict(arm: Sequence[float], baseline: Sequence[float], higher_is_better: bool,
            alpha: float = 0.05) -> tuple[str, float]:
    """("holds" | "does not hold" | "inconclusive", p of the claimed direction)."""
    sign = -1.0 if higher_is_better else 1.0
    a, b = [sign * x for x in _finite(arm)], [sign * x for x in _finite(baseline)]
    p_better, p_worse = welch_p(a, b), welch_p(b, a)
    if math.isnan(p_better):
        return "inconclusive", p_better
    if p_better < alpha:
        return "holds", p_better
    if p_worse < alpha:
        return "does not hold", p_better
    return "inconclusive", p_better
