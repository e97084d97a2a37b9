"""Name -> GAN variant class registry; variants register themselves on import."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from evogan.config import ConfigError, ModelConfig, build_dataclass

VARIANTS: dict[str, type] = {}


def register_variant(cls: type) -> type:
    """Class decorator: make ``cls`` selectable as ``model.variant: <cls.name>``."""
    if not cls.name or cls.name in VARIANTS:
        raise ValueError(f"variant name {cls.name!r} is empty or taken")
    VARIANTS[cls.name] = cls
    return cls


def variant_options(variant: str, options: Mapping[str, Any]) -> Any:
    """Build the variant's Options dataclass from ``model.options`` (unknown keys -> ConfigError)."""
    if variant not in VARIANTS:
        raise ConfigError(f"model.variant: unknown variant {variant!r} (known: {', '.join(sorted(VARIANTS))})")
    cls = VARIANTS[variant].Options
    built = build_dataclass(cls, options, "model.options")
    check = getattr(built, "validate", None)
    if check is not None:
        check()
    return built


def check_option_files(variant: str, options: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the option when a file the variant's options name (or need) is
    missing or unusable (the Options' ``check_files``); run before any work starts."""
    check = getattr(variant_options(variant, options), "check_files", None)
    if check is not None:
        check()


def build_variant(model: ModelConfig, image_shape: tuple[int, int, int]):
    """Instantiate the configured variant for images of shape (C, H, W)."""
    options = variant_options(model.variant, model.options)
    return VARIANTS[model.variant](model, image_shape, options)


def options_dict(options: Any) -> dict:
    return dataclasses.asdict(options)
