"""A (G, D) pair's weights as one flat float32 genome with per-layer segments.

Every floating-point tensor of the variant's ModuleDict (parameters and BatchNorm running
statistics; integer counters are left out) is one *layer* of the genome. Operators act on the
flat vector with ``segments`` telling where each layer starts, so they vectorise over millions
of weights instead of looping per gene as DEAP's stock operators do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class GenomeLayout:
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: np.ndarray
    """Start index of each layer in the flat vector, plus the total size at the end."""
    mutable: np.ndarray
    """Per layer: True for trainable parameters; False for buffers (BatchNorm statistics,
    EMA copies), which crossover carries along but mutation must not perturb."""

    @classmethod
    def of(cls, modules: nn.Module) -> "GenomeLayout":
        trainable = {name for name, p in modules.named_parameters() if p.requires_grad}
        names, shapes, sizes, mutable = [], [], [], []
        for name, tensor in modules.state_dict().items():
            if tensor.is_floating_point():
                names.append(name)
                shapes.append(tuple(tensor.shape))
                sizes.append(tensor.numel())
                mutable.append(name in trainable)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return cls(tuple(names), tuple(shapes), offsets, np.array(mutable, dtype=bool))

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    @property
    def num_layers(self) -> int:
        return len(self.names)

    def layer_sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


class Genome(np.ndarray):
    """Flat float32 weights (a numpy array, so DEAP and numpy both handle it) plus its layout."""

    layout: GenomeLayout

    def __new__(cls, values: np.ndarray, layout: GenomeLayout) -> "Genome":
        obj = np.asarray(values, dtype=np.float32).view(cls)
        obj.layout = layout
        return obj

    def __array_finalize__(self, obj) -> None:
        self.layout = getattr(obj, "layout", None)

    def __reduce__(self):  # keep the layout through pickling / the Ray object store
        return Genome, (np.asarray(self), self.layout)

    def layer(self, index: int) -> np.ndarray:
        return self[self.layout.offsets[index]:self.layout.offsets[index + 1]]


def flatten(modules: nn.Module, layout: GenomeLayout | None = None) -> Genome:
    """Copy the module's floating-point state into a new Genome."""
    layout = layout or GenomeLayout.of(modules)
    state = modules.state_dict()
    flat = torch.cat([state[name].detach().reshape(-1).float().cpu() for name in layout.names])
    return Genome(flat.numpy(), layout)


@torch.no_grad()
def load_genome(modules: nn.Module, genome: Genome) -> None:
    """Write a Genome's values back into the module's tensors in place."""
    state = modules.state_dict()
    flat = torch.from_numpy(np.ascontiguousarray(genome, dtype=np.float32))
    layout = genome.layout
    for i, name in enumerate(layout.names):
        target = state[name]
        chunk = flat[layout.offsets[i]:layout.offsets[i + 1]].view(layout.shapes[i])
        target.copy_(chunk.to(device=target.device, dtype=target.dtype))
