"""A procedurally generated image dataset with known modes, needing nothing installed.

Each image is one of ``NUM_MODES`` shapes (disk, square, ring, cross, triangle, bars, diamond,
corner blob) drawn at a random offset, scale and intensity on a dark background. Labels are the
modes, so a classifier trained on them counts the modes a generator covers exactly, and the
images are varied enough that mode collapse and blurry samples are visible at a glance.
"""

from __future__ import annotations

import torch

MODE_NAMES = ("disk", "square", "ring", "cross", "triangle", "bars", "diamond", "corner")
NUM_MODES = len(MODE_NAMES)


def _mask(mode: int, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Soft 0..1 mask of shape ``mode`` on centred, scale-normalised coordinates (N, H, W)."""
    r = torch.sqrt(x ** 2 + y ** 2)
    sharp = 12.0
    if mode == 0:
        return torch.sigmoid(sharp * (0.55 - r))
    if mode == 1:
        return torch.sigmoid(sharp * (0.5 - torch.maximum(x.abs(), y.abs())))
    if mode == 2:
        return torch.sigmoid(sharp * (0.18 - (r - 0.5).abs()))
    if mode == 3:
        arm = torch.minimum(x.abs(), y.abs())
        return torch.sigmoid(sharp * (0.17 - arm)) * torch.sigmoid(sharp * (0.65 - torch.maximum(x.abs(), y.abs())))
    if mode == 4:
        inside = torch.minimum(y + 0.45, torch.minimum(0.45 - y - 1.6 * x, 0.45 - y + 1.6 * x) / 1.9)
        return torch.sigmoid(sharp * inside)
    if mode == 5:
        stripes = torch.cos(3.2 * torch.pi * y) > 0
        return stripes.float() * torch.sigmoid(sharp * (0.6 - torch.maximum(x.abs(), y.abs())))
    if mode == 6:
        return torch.sigmoid(sharp * (0.6 - (x.abs() + y.abs())))
    return torch.sigmoid(sharp * (0.45 - torch.sqrt((x + 0.4) ** 2 + (y + 0.4) ** 2)))


def render_shapes(num: int, resolution: int, channels: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(uint8 images (num, C, H, W), int64 labels (num,)), deterministic in ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_MODES, (num,), generator=gen)
    shift = (torch.rand(num, 2, generator=gen) - 0.5) * 0.5
    scale = 0.75 + 0.35 * torch.rand(num, generator=gen)
    intensity = 0.7 + 0.3 * torch.rand(num, generator=gen)
    hue = torch.rand(num, 3, generator=gen) * 0.6 + 0.4
    axis = torch.linspace(-1, 1, resolution)
    grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
    x = (grid_x[None] - shift[:, 0, None, None]) / scale[:, None, None]
    y = (grid_y[None] - shift[:, 1, None, None]) / scale[:, None, None]
    masks = torch.zeros(num, resolution, resolution)
    for mode in range(NUM_MODES):
        chosen = labels == mode
        if chosen.any():
            masks[chosen] = _mask(mode, x[chosen], y[chosen])
    masks = masks * intensity[:, None, None]
    if channels == 1:
        images = masks[:, None]
    else:
        images = masks[:, None] * hue[:, :, None, None]
    return (images.clamp(0, 1) * 255).round().to(torch.uint8), labels
