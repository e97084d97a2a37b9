"""``python -m evogan.fid A B`` run as a subprocess: real inputs and unusable ones (exit code 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evogan.fid", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def write_pngs(folder: Path, images: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0]).save(folder / f"{i:04d}.png")
    return folder


def bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "empty").mkdir()
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    (corrupt / "broken.png").write_bytes(b"not a png at all")
    np.savez(tmp / "floats.npz", images=np.zeros((4, 1, 8, 8), np.float32))
    (tmp / "garbage.pt").write_bytes(b"garbage")
    return {"missing": tmp / "missing", "empty": tmp / "empty", "corrupt": corrupt / "broken.png",
            "floats": tmp / "floats.npz", "checkpoint": tmp / "garbage.pt"}


@pytest.mark.parametrize("case", ["missing", "empty", "corrupt", "floats", "checkpoint"])
def test_unusable_input_exits_2_with_one_line_naming_the_path(case, tmp_path, fmnist_test):
    good = write_pngs(tmp_path / "good", fmnist_test[0][:8].numpy())
    bad = bad_inputs(tmp_path)[case]
    result = run_cli(str(good), str(bad.parent if case == "corrupt" else bad), "--extractor", "domain")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0], result.stderr


def test_folder_against_npz_with_domain_extractor_and_kid(tmp_path, fmnist_test):
    x, y = fmnist_test[0].numpy(), fmnist_test[1].numpy()
    folder = write_pngs(tmp_path / "tshirts", x[y == 0][:120])
    np.savez(tmp_path / "trousers.npz", images=x[y == 1][:100].transpose(0, 2, 3, 1))  # NHWC
    result = run_cli(str(folder), str(tmp_path / "trousers.npz"), "--extractor", "domain", "--kid",
                     "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    values = dict(line.split(": ") for line in result.stdout.strip().splitlines())
    assert set(values) == {"fid_domain_100", "kid_domain_100", "kid_domain_100_std"}
    assert float(values["fid_domain_100"]) > 0


def test_checkpoint_against_folder_samples_the_generator(tmp_path, fmnist_test):
    """A generator checkpoint as ``evogan.run`` writes best.pt (untrained here) is sampled and scored."""
    from evogan.config import to_dict
    from evogan.validation import load
    from evogan.io.checkpoint import save_checkpoint
    from evogan.models import build_variant

    config = load(None, ["data.resolution=28", "data.channels=1", "model.width=8", "model.latent_dim=16"])
    modules = build_variant(config.model, (1, 28, 28)).build()
    save_checkpoint({"kind": "generator", "config": to_dict(config), "image_shape": [1, 28, 28],
                     "member": {"modules": modules.state_dict()}}, tmp_path / "best.pt")
    folder = write_pngs(tmp_path / "real", fmnist_test[0][:64].numpy())
    result = run_cli(str(folder), str(tmp_path / "best.pt"), "--extractor", "domain", "--num", "48",
                     "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("fid_domain_48: ")
