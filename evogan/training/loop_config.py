"""Configuration of the standalone gradient trainer and the section loader it shares with sweeps.

``evogan.config.Config`` stays the one schema of a run. Tools that need more (the trainer's
``trainer:``, a sweep's ``sweep:``) keep it in their own top-level YAML keys: the loader pops
those keys (and dotted overrides starting with them), builds each with
``evogan.config.build_dataclass`` (unknown keys and wrong types -> ConfigError), and builds and
validates the rest as the standard Config.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Mapping


from evogan.balancer.config import BalancerConfig, validate_balancer
from evogan.config import Config, ConfigError, build_dataclass, parse_override, read_yaml, set_dotted
from evogan.validation import validate


@dataclass(frozen=True)
class TrainerConfig:
    steps: int = 2000
    """Gradient steps (one D and one G update each) of the single individual."""
    eval_every: int = 200
    """Evaluate (FID + D's held-out scores) every this many steps; also one Tune iteration."""
    torch_threads: int = 0
    """torch intra-op threads of ``python -m evogan.train`` (0: ``ray.torch_threads``, default 1;
    on a busy 2-core machine 2 threads measured 17x slower per step than 1). Tune trials always
    use ``ray.torch_threads``."""
    balancer: BalancerConfig = field(default_factory=BalancerConfig)
    """The DQN balancer (seed 004); ``balancer.enabled: true`` switches it on."""

    @property
    def evaluations(self) -> int:
        """Evaluations (Tune iterations) in a run: ceil(steps / eval_every)."""
        return -(-self.steps // self.eval_every)


def validate_trainer(cfg: TrainerConfig, config: Config, prefix: str = "trainer") -> None:
    """Range checks of the trainer section against the run config; ConfigError names the key."""
    if cfg.steps < 1:
        raise ConfigError(f"{prefix}.steps: must be >= 1, got {cfg.steps}")
    if cfg.eval_every < 1:
        raise ConfigError(f"{prefix}.eval_every: must be >= 1, got {cfg.eval_every}")
    if cfg.torch_threads < 0:
        raise ConfigError(f"{prefix}.torch_threads: must be >= 0, got {cfg.torch_threads}")
    validate_balancer(cfg.balancer, f"{prefix}.balancer")
    if cfg.balancer.enabled and cfg.balancer.probe_samples > config.data.holdout:
        raise ConfigError(f"{prefix}.balancer.probe_samples: must be <= data.holdout={config.data.holdout}, "
                          f"got {cfg.balancer.probe_samples}")


# ----------------------------------------------------------------------------- loading


def with_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any] | list[str]) -> dict[str, Any]:
    """A deep copy of ``raw`` with dotted overrides applied (``["a.b=1"]`` or ``{"a.b": 1}``)."""
    out = copy.deepcopy(dict(raw))
    pairs = [parse_override(text) for text in overrides] if isinstance(overrides, list) \
        else [(key.split("."), value) for key, value in overrides.items()]
    for keys, value in pairs:
        set_dotted(out, keys, value)
    return out


def build_sections(raw: Mapping[str, Any], sections: Mapping[str, type]) -> tuple[Config, dict[str, Any]]:
    """(validated Config, {name: section dataclass}) from one raw mapping holding both."""
    raw = dict(raw)
    built = {}
    for name, cls in sections.items():
        values = raw.pop(name, None) or {}
        if not isinstance(values, Mapping):
            raise ConfigError(f"{name}: expected a mapping, got {values!r}")
        built[name] = build_dataclass(cls, values, name)
    config = build_dataclass(Config, raw)
    validate(config)
    return config, built


def load_with_sections(path: str | os.PathLike | None, overrides: list[str],
                       sections: Mapping[str, type]) -> tuple[Config, dict[str, Any], dict[str, Any]]:
    """Read YAML, apply overrides, build: returns (Config, sections, the merged raw mapping)."""
    raw = with_overrides(read_yaml(path), overrides)
    config, built = build_sections(raw, sections)
    return config, built, raw


def section_dict(section: Any) -> dict[str, Any]:
    """Plain YAML-able form of a section dataclass (tuples as lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(section))
