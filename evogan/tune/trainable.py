"""The Tune function trainable: one gradient-trained individual per trial (evogan.training.loop),
its FID from the ONE shared FID actor whose handle arrives through ``tune.with_parameters``
(as Ray's PBT-DCGAN example passes its scorer by reference).

Each iteration trains ``trainer.eval_every`` steps, asks the FID actor for the quality metric,
and calls ``ray.tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(dir))``. A trial
restored by PBT (or after a failure) resumes from ``tune.get_checkpoint()``; when the trial's
config now holds different learning rates (a PBT perturbation), they are pushed into the
optimisers with ``Member.set_hyperparameters``. Only ``ray.tune`` APIs are used (``ray.train``
session functions raise inside Tune trainables in this Ray).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evogan.config import to_dict
from evogan.io.checkpoint import load_checkpoint, save_checkpoint
from evogan.hyperparameters import Hyperparameters
from evogan.training.loop import IndividualTrainer, is_finite_record
from evogan.training.loop_config import TrainerConfig, build_sections, section_dict, with_overrides
from evogan.tune.search_space import expand_arm, trial_assignments

CHECKPOINT_FILE = "trial.pt"
WORST_FID = 1.0e9
"""The metric reported for a diverged (NaN/inf) trial, so schedulers rank it last."""


def trial_configs(base: dict[str, Any], keys: list[str], trial_config: dict[str, Any],
                  arms: dict[str, dict[str, Any]] | None = None):
    """(Config, TrainerConfig) of one trial: the sweep's base with the trial's sampled values
    (a study's ``arm`` value expanded into that arm's overrides)."""
    assignments = expand_arm(trial_assignments(trial_config, keys), arms)
    config, sections = build_sections(with_overrides(base, assignments), {"trainer": TrainerConfig})
    return config, sections["trainer"]


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    with warnings.catch_warnings():  # object-store arrays are read-only; they are only read
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


def _device(config) -> torch.device:
    import ray

    use_gpu = config.device == "cuda" or (config.device == "auto" and ray.get_gpu_ids())
    return torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")


def _restore(trainer: IndividualTrainer, config) -> int:
    """Continue from Tune's checkpoint if there is one; returns the next evaluation index."""
    from ray import tune

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as directory:
        saved = load_checkpoint(Path(directory) / CHECKPOINT_FILE, kind="tune_trial")
    trainer.load_state_dict(saved["state"])
    trainer.adopt_config_hyperparameters(Hyperparameters.from_train(config.train))
    return saved["evaluation"] + 1


def gan_trainable(trial_config: dict[str, Any], *, base: dict[str, Any], keys: list[str], metric: str,
                  train_images: np.ndarray, holdout: np.ndarray, fid_actor: Any,
                  arms: dict[str, dict[str, Any]] | None = None) -> None:
    """Train one individual for ``trainer.steps`` steps, reporting after every ``eval_every``."""
    import ray
    from ray import tune

    config, trainer_cfg = trial_configs(base, keys, trial_config, arms)
    torch.set_num_threads(config.ray.torch_threads)
    trainer = IndividualTrainer(config, trainer_cfg, _as_tensor(train_images), _as_tensor(holdout), _device(config))
    evaluation = _restore(trainer, config)
    extractor = config.metrics.fitness_extractor

    def quality(images: torch.Tensor) -> float:
        return ray.get(fid_actor.fid.remote(images, extractor))

    while trainer.step < trainer_cfg.steps:
        record = trainer.iterate(min(trainer_cfg.eval_every, trainer_cfg.steps - trainer.step), quality)
        finite = is_finite_record(record)
        metrics = {metric: record["fid"] if finite else WORST_FID, **record, "diverged": not finite}
        payload = {"kind": "tune_trial", "config": to_dict(config), "trainer": section_dict(trainer_cfg),
                   "image_shape": list(trainer.image_shape), "evaluation": evaluation, "metric": metric,
                   "fid": record["fid"], "state": trainer.state_dict()}
        with tempfile.TemporaryDirectory() as directory:
            save_checkpoint(payload, Path(directory) / CHECKPOINT_FILE)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        evaluation += 1
        if not finite:
            break
