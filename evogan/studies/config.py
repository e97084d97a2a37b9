"""The ``study:`` section of a study YAML (``configs/studies/*.yaml``): how ``python -m
evogan.studies`` scores a finished study and which of its seed paper's claims it judges.

The sweep itself (arms, seeds, budget) is the ``sweep:`` section; this section only describes
the analysis, and ``python -m evogan.sweep`` checks it and records it in the experiment
directory, so a finished experiment carries everything its report needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from evogan.config import ConfigError, build_dataclass

COLUMNS = ("fid_domain", "is_domain", "fid_inception", "best_fid", "final_fid", "var_loss_g", "var_loss_d",
           "collapses", "oscillations", "sec_per_step")
"""Table columns a claim may name. fid_domain / is_domain / fid_inception: the final generator,
scored by the analysis (named with their sample counts in the report, e.g. fid_domain_4k);
best_fid / final_fid: the sweep's own training-time metric (e.g. fid_domain_512), lowest and
last; the stability figures (:mod:`evogan.studies.stability`); seconds per gradient step."""
HIGHER_IS_BETTER = ("is_domain",)
REFERENCES = ("full", "train")


@dataclass(frozen=True)
class ClaimConfig:
    text: str = ""
    """The claim in words (the verdict line quotes it)."""
    arm: str = ""
    """The row claimed better: an arm name, or a row label (see StudyConfig.group_by)."""
    baseline: str = ""
    """The row it is claimed better than."""
    metric: str = "fid_domain"
    """The column compared (COLUMNS); lower is better except for is_domain."""
    alpha: float = 0.05
    """One-sided Welch t-test level: holds when the arm is better with p < alpha, does not hold
    when it is worse with p < alpha, inconclusive otherwise (and with fewer than 2 seeds a side)."""


@dataclass(frozen=True)
class StudyConfig:
    title: str = ""
    """Heading of the study's report."""
    paper: str = ""
    """The seed paper, e.g. "seed 003 (Song & Kim 2023)"."""
    samples: int = 4096
    """Generated images per final generator for fid_domain_<n> and is_domain_<n> (protocol: >= 4k)."""
    real_samples: int = 10000
    """Real images behind the domain FID's reference statistics."""
    inception_samples: int = 1000
    """Generated (and real) images for the standard Inception FID cross-check, fid_inception_<n>,
    of each row's first-seed final generator; 0 skips it (``--inception`` overrides)."""
    reference: str = "full"
    """full: score against the whole training split of the study's dataset (data.limit ignored,
    so the limited-data studies are judged against the distribution, not the 1,000 images they
    saw; the domain network is trained on all its labels); train: the images the trials trained on."""
    group_by: tuple[str, ...] = ()
    """Swept keys whose values name a table row (``arm`` for the arms); default: every swept key
    except ``seed``."""
    heatmap: tuple[str, ...] = ()
    """Two swept keys [x, y]: a heat map of ``heatmap_metric`` over them (sensitivity studies)."""
    heatmap_metric: str = "fid_domain"
    """The column the heat map shows."""
    stability_vs: str = ""
    """A swept key: plot the stability figures and the final FID against it (seed 003's FD sweep)."""
    claims: tuple[ClaimConfig, ...] = ()
    """The paper's claims this study judges, one verdict line each."""


def build_study(raw: Mapping[str, Any] | None) -> StudyConfig:
    """StudyConfig from the raw section; ConfigError naming ``study.<key>`` on a bad value."""
    study = build_dataclass(StudyConfig, dict(raw or {}), "study")
    if study.samples < 10:
        raise ConfigError(f"study.samples: must be >= 10 (the IS splits), got {study.samples}")
    if study.real_samples < 2:
        raise ConfigError(f"study.real_samples: must be >= 2, got {study.real_samples}")
    if study.inception_samples < 0 or 0 < study.inception_samples < 2:
        raise ConfigError(f"study.inception_samples: must be 0 or >= 2, got {study.inception_samples}")
    if study.reference not in REFERENCES:
        raise ConfigError(f"study.reference: must be one of {', '.join(REFERENCES)}, got {study.reference!r}")
    if study.heatmap and len(study.heatmap) != 2:
        raise ConfigError(f"study.heatmap: must be two swept keys [x, y], got {list(study.heatmap)}")
    if study.heatmap_metric not in COLUMNS:
        raise ConfigError(f"study.heatmap_metric: must be one of {', '.join(COLUMNS)}, got {study.heatmap_metric!r}")
    for i, claim in enumerate(study.claims):
        where = f"study.claims[{i}]"
        if not claim.arm or not claim.baseline:
            raise ConfigError(f"{where}: needs arm and baseline")
        if claim.metric not in COLUMNS:
            raise ConfigError(f"{where}.metric: must be one of {', '.join(COLUMNS)}, got {claim.metric!r}")
        if not 0 < claim.alpha < 1:
            raise ConfigError(f"{where}.alpha: must be in (0, 1), got {claim.alpha}")
    return study


def claims_between(claims: Any, arms: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The raw claims (a study section's ``claims``) that compare two of ``arms``: what a study
    run with ``sweep.only_arms``, or several such pieces reported together, can judge."""
    return [c for c in claims or [] if isinstance(c, dict) and c.get("arm") in arms and c.get("baseline") in arms]


def check_against_sweep(study: StudyConfig, keys: list[str], arms: Mapping[str, Any]) -> None:
    """Keys the study names are swept, and a claim's rows exist when they are arm names."""
    swept = {k for key in keys for k in key.split(",")} | {key for key in keys}
    for name, key in [("group_by", k) for k in study.group_by] + [("heatmap", k) for k in study.heatmap] + \
            ([("stability_vs", study.stability_vs)] if study.stability_vs else []):
        if key not in swept:
            raise ConfigError(f"study.{name}: {key} is not swept (swept: {', '.join(sorted(swept)) or 'nothing'})")
    by_arm = (not study.group_by and list(keys) and all(k in ("arm", "seed") for k in keys)) or \
        tuple(study.group_by) == ("arm",)
    if arms and by_arm:
        for i, claim in enumerate(study.claims):
            for side in ("arm", "baseline"):
                if getattr(claim, side) not in arms:
                    raise ConfigError(f"study.claims[{i}].{side}: {getattr(claim, side)!r} is not an arm "
                                      f"({', '.join(arms)})")
