"""Every file a user names that is missing, unreadable or of the wrong kind: each entry point,
run as a subprocess, exits 2 with one line on stderr naming the path, no traceback, and
creates no run directory (nothing started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = ["data.num_samples=512", "data.holdout=64", "model.width=8", "model.latent_dim=16", "ray.dashboard=false"]


def unreadable_file(path: Path, text: str) -> Path:
    """A file the process cannot read: mode 000, or where that does not block reads (root), a
    file of the wrong kind (bytes that are not UTF-8 text, so not YAML either)."""
    path.write_text(text)
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return path
    path.chmod(0o644)
    path.write_bytes(b"\x80\x81\xfe\xff not a text file \x00")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """One of each kind of bad input under tmp_path."""
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("x\n")
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 not a zip")
    run = tmp_path / "0001-dcgan-shapes"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("seed: 0\n")
    (run / "trainer.yaml").write_text("trainer: {}\n")
    (run / "checkpoints" / "latest.pt").write_bytes(b"torn")
    (run / "checkpoints" / "latest.json").write_text('{"format": 1, "kind": "manif')
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "evogan_sweep.json").write_text("{not json")
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    for i in range(4):
        Image.new("L", (16, 16), color=40 * i).save(images / f"{i}.png")
    return {"dir": tmp_path / "a_dir", "file": tmp_path / "a_file", "missing": tmp_path / "missing.yaml",
            "unreadable": unreadable_file(tmp_path / "unreadable.yaml", "seed: 0\n"),
            "garbage_pt": tmp_path / "garbage.pt", "corrupt_npz": tmp_path / "corrupt.npz", "run": run,
            "sweep": sweep, "images": images}


# (module, argv with {placeholders} for files[...] and {tmp}, the path the error line must name)
CASES = {
    "run --config missing": ("evogan.run", ["--config", "{missing}"], "{missing}"),
    "run --config is a directory": ("evogan.run", ["--config", "{dir}"], "{dir}"),
    "run --config unreadable": ("evogan.run", ["--config", "{unreadable}"], "{unreadable}"),
    "run --resume missing": ("evogan.run", ["--resume", "{tmp}/no_run"], "{tmp}/no_run"),
    "run --resume is a file": ("evogan.run", ["--resume", "{file}"], "{file}"),
    "run --resume torn manifest": ("evogan.run", ["--resume", "{run}"], "{run}/checkpoints/latest.json"),
    "run --seed-population corrupt": ("evogan.run", ["--seed-population", "{garbage_pt}", *TINY], "{garbage_pt}"),
    "run --seed-population not a run": ("evogan.run", ["--seed-population", "{dir}"], "{dir}"),
    "run data.root missing": ("evogan.run", ["data.name=image_folder", "data.root={tmp}/no_data"], "{tmp}/no_data"),
    "run data.root is a file": ("evogan.run", ["data.name=image_folder", "data.root={file}"], "{file}"),
    "run inception weights missing": ("evogan.run", ["metrics.fitness_extractor=inception",
                                                     "metrics.inception_weights={tmp}/no.pt"], "{tmp}/no.pt"),
    "run inception weights corrupt": ("evogan.run", ["metrics.report_extractor=inception",
                                                     "metrics.inception_weights={garbage_pt}"], "{garbage_pt}"),
    "run perceptual weights corrupt": ("evogan.run", ["model.variant=vaegan_attn",
                                                      "model.options.perceptual_weights={garbage_pt}"], "{garbage_pt}"),
    "run output.root under a file": ("evogan.run", ["output.root={file}/runs"], "{file}/runs"),
    "run output.storage bad scheme": ("evogan.run", ["output.storage=nosuch://bucket/prefix"],
                                      "nosuch://bucket/prefix"),
    "run output.storage under a file": ("evogan.run", ["output.storage=file://{file}/store"], "{file}/store"),
    "train --resume corrupt checkpoint": ("evogan.train", ["--resume", "{run}"], "{run}/checkpoints/latest.pt"),
    "train --config unreadable": ("evogan.train", ["--config", "{unreadable}"], "{unreadable}"),
    "sweep --resume corrupt sweep file": ("evogan.sweep", ["--resume", "{sweep}"], "{sweep}/evogan_sweep.json"),
    "sweep storage_path under a file": ("evogan.sweep", ["--config", "configs/sweeps/lr_latent_sensitivity.yaml",
                                                         "sweep.smoke=true", "sweep.storage_path={file}/results"],
                                        "{file}/results"),
    "sweep export OUT is a directory": ("evogan.sweep", ["export", "{sweep}", "{dir}"], "{dir}"),
    "fid corrupt npz": ("evogan.fid", ["{images}", "{corrupt_npz}", "--extractor", "domain"], "{corrupt_npz}"),
    "fid weights missing": ("evogan.fid", ["{images}", "{images}", "--inception-weights", "{tmp}/no.pt"],
                            "{tmp}/no.pt"),
    "fid cache under a file": ("evogan.fid", ["{images}", "{images}", "--extractor", "domain",
                                              "--cache-dir", "{file}/cache"], "{file}/cache"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_path_exits_2_with_one_line_naming_it(case, files, tmp_path):
    module, argv, named = CASES[case]
    values = {**{k: str(v) for k, v in files.items()}, "tmp": str(tmp_path)}
    argv = [arg.format(**values) for arg in argv]
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    if module in ("evogan.run", "evogan.train") and not any(a.startswith("output.root=") for a in argv):
        argv += [f"output.root={runs}"]
    if module != "evogan.fid" and "export" not in argv:
        argv += [f"metrics.cache_dir={cache}"]
    env = {**os.environ, "RAY_ADDRESS": ""}
    result = subprocess.run([sys.executable, "-m", module, *argv], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert named.format(**values) in lines[0], result.stderr
    assert not runs.exists() and not cache.exists()  # nothing created, nothing started
