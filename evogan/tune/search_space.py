"""Search spaces of a sweep: a YAML spec -> Ray Tune domains (Tune's own ``grid_search``,
``choice``, ``uniform``, ``loguniform``, ``randint``), checked value by value before Ray starts.

Spec: ``sweep.search_space`` maps a dotted key of the run config to one domain::

    train.lr_g:           {loguniform: [1e-4, 1e-2]}
    model.latent_dim:     {grid_search: [32, 64, 128]}
    model.variant:        {grid_search: all_variants}     # every name in VARIANTS at run time
    model.options.feature_dim: {choice: [1, 4, 16]}       # CFT's FD (seed 003)
    train.loss_weights.aux:    {uniform: [0.0, 1.0]}      # lambda_aux (seed 004)
    trainer.balancer.gamma:    {uniform: [0.8, 0.99]}
    "train.lr_g,train.lr_d":   {grid_search: [1e-4, 2e-4, 5e-4]}   # tied: one value for both keys

Keys fixed for a whole sweep (data, metrics, fitness, ray, output, the trial budget) are
refused: the data and the FID actor are shared by every trial and ASHA/PBT compare trials at
equal budgets. Under PBT, the perturbable keys (learning rates, betas, loss weights, balancer
learning hyperparameters) become ``hyperparam_mutations``; the rest are drawn once per trial.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from evogan.config import ConfigError
from evogan.config import set_dotted

KINDS = ("grid_search", "choice", "uniform", "loguniform", "randint")
ALL_VARIANTS = "all_variants"
FIXED_PREFIXES = ("data.", "metrics.", "fitness.", "ray.", "output.", "sweep.", "evolution.")
FIXED_KEYS = ("trainer.steps", "trainer.eval_every", "trainer.torch_threads")
PERTURBABLE_KEYS = ("train.lr_g", "train.lr_d", "train.beta1", "train.beta2", "trainer.balancer.gamma",
                    "trainer.balancer.lr", "trainer.balancer.eps_end", "trainer.balancer.lr_factor",
                    "trainer.balancer.acc_target", "trainer.balancer.acc_band", "trainer.balancer.band_weight",
                    "trainer.balancer.fake_weight", "trainer.balancer.target_sync")
PERTURBABLE_PREFIXES = ("train.loss_weights.",)


@dataclass(frozen=True)
class Dimension:
    """One swept key (or comma-separated tied keys that share one value) and its domain."""

    key: str
    kind: str
    args: tuple

    @property
    def keys(self) -> list[str]:
        return self.key.split(",")

    @property
    def path(self) -> str:
        """Where the value sits in Tune's nested trial config: the first tied key."""
        return self.keys[0]

    @property
    def perturbable(self) -> bool:
        return all(k in PERTURBABLE_KEYS or k.startswith(PERTURBABLE_PREFIXES) for k in self.keys)

    def assign(self, value: Any) -> dict[str, Any]:
        return {k: value for k in self.keys}

    def domain(self) -> Any:
        from ray import tune

        if self.kind == "grid_search":
            return tune.grid_search(list(self.args))
        if self.kind == "choice":
            return tune.choice(list(self.args))
        return getattr(tune, self.kind)(*self.args)

    def mutation(self) -> Any:
        """PBT's ``hyperparam_mutations`` entry: the value list for categorical kinds, else the domain."""
        return list(self.args) if self.kind in ("grid_search", "choice") else self.domain()

    def probe_values(self) -> list[Any]:
        """Every categorical value, or the ends of a range: what validation builds a config with."""
        if self.kind in ("grid_search", "choice"):
            return list(self.args)
        low, high = self.args
        return [low, high - 1] if self.kind == "randint" else [low, high]


def _numbers(key: str, kind: str, args: Any, integer: bool) -> tuple:
    ok_type = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if integer else \
        (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
    if not (isinstance(args, (list, tuple)) and len(args) == 2 and all(ok_type(v) for v in args)):
        what = "integers" if integer else "numbers"
        raise ConfigError(f"sweep.search_space.{key}: {kind} needs [low, high] {what}, got {args!r}")
    low, high = args
    if not low < high:
        raise ConfigError(f"sweep.search_space.{key}: {kind} needs low < high, got {list(args)}")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"sweep.search_space.{key}: loguniform needs low > 0, got {low}")
    return (low, high) if integer else (float(low), float(high))


def check_sweepable(part: str, where: str) -> None:
    """ConfigError unless the dotted key ``part`` may differ between trials of one sweep."""
    if not part or part.startswith(FIXED_PREFIXES) or part in FIXED_KEYS or "." not in part and part != "seed":
        raise ConfigError(f"{where}: {part or 'empty key'} cannot be swept (data, metrics, "
                          "fitness, ray, output, whole sections and the trial budget are fixed for a sweep)")


def parse_dimension(key: str, spec: Any, variants: Callable[[], list[str]]) -> Dimension:
    if not is_domain(spec):
        raise ConfigError(f"sweep.search_space.{key}: expected one of {{{', '.join(KINDS)}: ...}}, got {spec!r}")
    for part in key.split(","):
        check_sweepable(part, f"sweep.search_space.{key}")
    kind, args = next(iter(spec.items()))
    if kind in ("grid_search", "choice"):
        if args == ALL_VARIANTS:
            if key != "model.variant":
                raise ConfigError(f"sweep.search_space.{key}: {ALL_VARIANTS} applies only to model.variant")
            args = variants()
        if not isinstance(args, (list, tuple)) or not args:
            raise ConfigError(f"sweep.search_space.{key}: {kind} needs a non-empty list, got {args!r}")
        return Dimension(key, kind, tuple(args))
    return Dimension(key, kind, _numbers(key, kind, args, integer=kind == "randint"))


def is_domain(spec: Any) -> bool:
    return isinstance(spec, Mapping) and len(spec) == 1 and next(iter(spec)) in KINDS


def flatten_spec(spec: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested spec sections (YAML ``train: {lr_g: {...}}`` or overrides ``sweep.search_space.train.lr_g=...``)
    -> dotted keys; anything that is neither a domain nor a section stays, for parse_dimension to reject."""
    flat: dict[str, Any] = {}
    for key, value in spec.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value and not is_domain(value) and "," not in dotted:
            flat.update(flatten_spec(value, dotted))
        else:
            flat[dotted] = value
    return flat


def parse_search_space(spec: Mapping[str, Any]) -> list[Dimension]:
    """Dimensions of ``sweep.search_space``; ConfigError on an empty space or a malformed entry."""
    spec = flatten_spec(spec)
    if not spec:
        raise ConfigError("sweep.search_space: empty search space (nothing to sweep; add e.g. "
                          "train.lr_g: {loguniform: [1e-4, 1e-2]})")

    def variants() -> list[str]:
        from evogan.models import VARIANTS

        return sorted(VARIANTS)

    dimensions = [parse_dimension(str(key), value, variants) for key, value in spec.items()]
    keys = [k for d in dimensions for k in d.keys]
    for key in keys:
        clash = [other for other in keys if other == key or other.startswith(key + ".")]
        if len(clash) > 1:
            raise ConfigError(f"sweep.search_space: {key} is swept more than once ({', '.join(clash)})")
    return dimensions


# ----------------------------------------------------------------------------- study arms and seeds

ARM_KEY = "arm"
"""The dimension a study's ``sweep.arms`` become: its values are arm names, expanded into each
arm's overrides by :func:`expand_arm` before a trial config is built."""


def _flatten_values(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            flat.update(_flatten_values(value, dotted))
        else:
            flat[dotted] = value
    return flat


def parse_arms(arms: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``sweep.arms`` -> {arm name: {dotted key: value}} (nested sections flattened; an empty or
    null arm is the base config itself); ConfigError naming the arm and key."""
    out: dict[str, dict[str, Any]] = {}
    for name, overrides in arms.items():
        where = f"sweep.arms.{name}"
        if not isinstance(name, str) or not name or name != name.strip() or any(c in name for c in "/,=. "):
            raise ConfigError(f"{where}: an arm name must be a non-empty word without '/', ',', '=', '.' or spaces")
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"{where}: expected a mapping of dotted keys to values, got {overrides!r}")
        flat = _flatten_values(overrides)
        for key in flat:
            check_sweepable(key, where)
        out[name] = flat
    return out


def study_dimensions(arms: Mapping[str, Mapping[str, Any]], seeds: tuple[int, ...]) -> list[Dimension]:
    """The ``arm`` grid (when there are arms) and the ``seed`` grid (when there are seeds)."""
    dimensions = []
    if arms:
        dimensions.append(Dimension(ARM_KEY, "grid_search", tuple(arms)))
    if seeds:
        bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
        if bad or len(set(seeds)) != len(seeds):
            raise ConfigError(f"sweep.seeds: must be distinct integers >= 0, got {list(seeds)}")
        dimensions.append(Dimension("seed", "grid_search", tuple(seeds)))
    return dimensions


def check_overlap(sources: Mapping[str, list[str]]) -> None:
    """ConfigError when one config key (or a section and a key inside it) is set by two sources:
    ``sources`` maps a label (``sweep.seeds``, ``sweep.search_space.<key>``, ``sweep.arms.<name>``)
    to the dotted keys it sets. Arms may share keys with each other (that is what arms are for)."""
    entries = [(label, key) for label, keys in sources.items() for key in keys]
    for label, key in entries:
        for other_label, other in entries:
            if other_label == label or label.startswith("sweep.arms.") and other_label.startswith("sweep.arms."):
                continue
            if other == key or other.startswith(key + "."):
                raise ConfigError(f"{label}: {key} is also set by {other_label}")


def expand_arm(assignments: Mapping[str, Any], arms: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """Dotted assignments with ``arm: <name>`` replaced by that arm's overrides."""
    out = dict(assignments)
    if ARM_KEY in out:
        name = out.pop(ARM_KEY)
        if not arms or name not in arms:
            raise ConfigError(f"sweep.arms: unknown arm {name!r}")
        out = {**arms[name], **out}
    return out


def check_values(dimensions: list[Dimension], build: Callable[[dict[str, Any]], Any]) -> None:
    """Build a trial config with each probe value of each dimension (others at the base);
    re-raises the first ConfigError as ``sweep.search_space.<key>=<value>: <reason>``."""
    for dim in dimensions:
        for value in dim.probe_values():
            try:
                build(dim.assign(value))
            except ConfigError as err:
                raise ConfigError(f"sweep.search_space.{dim.key}={value!r}: {err}") from None


def count_trials(dimensions: list[Dimension], num_samples: int) -> int:
    grid = [len(d.args) for d in dimensions if d.kind == "grid_search"]
    return math.prod(grid) * num_samples


def grid_combinations(dimensions: list[Dimension]) -> list[dict[str, Any]]:
    """Every combination of the grid_search dimensions (for checking them together)."""
    grid = [d for d in dimensions if d.kind == "grid_search"]
    combinations = []
    for values in itertools.product(*(d.args for d in grid)):
        combination: dict[str, Any] = {}
        for dim, value in zip(grid, values):
            combination.update(dim.assign(value))
        combinations.append(combination)
    return combinations


def nested(pairs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs.items():
        set_dotted(out, key.split("."), value)
    return out


def param_space(dimensions: list[Dimension]) -> dict[str, Any]:
    """Tune's ``param_space``: nested dicts of domains."""
    return nested({d.path: d.domain() for d in dimensions})


def hyperparam_mutations(dimensions: list[Dimension]) -> dict[str, Any]:
    """PBT's mutations: the perturbable dimensions, nested like the param space."""
    return nested({d.path: d.mutation() for d in dimensions if d.perturbable})


def trial_assignments(trial_config: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """Dotted key -> value of one trial's (nested) config; ``keys`` are Dimension.key strings."""
    out = {}
    for key in keys:
        dim = Dimension(key, "choice", ())
        node: Any = trial_config
        for part in dim.path.split("."):
            node = node[part]
        out.update(dim.assign(node))
    return out
