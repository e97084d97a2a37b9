"""Images/s of evogan's Inception feature path vs torch-fidelity's, on the same images and device.

evogan runs the TorchScript's weights BN-folded, channels_last, under inference_mode, with the
TF-exact resize done on the device from uint8; the unfused TorchScript is timed as an ablation.
Both run the same weights (fid-helper's TorchScript; torch-fidelity gets them converted into its
own weights file) on the same uint8 Fashion-MNIST images. Paths are timed in interleaved rounds
(median reported) so background load hits all of them alike; FID between two image sets is then
computed from each path's features with each library's own formula.

    python benchmarks/fid_throughput.py --num 64 --rounds 3 --batch-size 32
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evogan.metrics.fid import FeatureStats, frechet_distance  # noqa: E402
from evogan.metrics.inception import InceptionExtractor, inception_weights_path  # noqa: E402
from evogan.metrics.inception_net import state_dict_from_torchscript  # noqa: E402
from tests.metrics.conftest import fashion_mnist  # noqa: E402


def fidelity_extractor(ours: InceptionExtractor, device: torch.device):
    """torch-fidelity's FeatureExtractorInceptionV3 loaded with the same tensors as ``ours``."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = Path(tempfile.mkdtemp()) / "inception-from-torchscript.pth"
    torch.save(state_dict_from_torchscript(ours.module.state_dict()), path)
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    return net.to(device)


def fidelity_features(net, images: torch.Tensor, batch_size: int, device: torch.device) -> torch.Tensor:
    """torch-fidelity's own loop (utils.get_featuresdict_from_dataset): no_grad, uint8 RGB batches."""
    out = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            batch = images[start:start + batch_size].expand(-1, 3, -1, -1).contiguous().to(device)
            out.append(net(batch)[0].cpu())
    return torch.cat(out)


def timed(fn) -> tuple[float, torch.Tensor]:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, result


def torch_fidelity_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    stats = [fid_features_to_statistics(x) for x in (a, b)]
    return fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=64, help="images per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    images, labels = fashion_mnist("test")
    bench = images[: args.num]
    ours = InceptionExtractor(inception_weights_path(), device=device, batch_size=args.batch_size)
    unfused = InceptionExtractor(inception_weights_path(), device=device, batch_size=args.batch_size, fuse=False)
    theirs = fidelity_extractor(ours, device)
    paths = {"evogan": ours.features, "evogan, TorchScript unfused (ablation)": unfused.features,
             "torch-fidelity": lambda x: fidelity_features(theirs, x, args.batch_size, device)}
    for fn in paths.values():  # warm-up (oneDNN primitive creation, cuDNN autotune)
        fn(bench[: args.batch_size])
    load_before = os.getloadavg()[0]
    seconds = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, fn in paths.items():
            seconds[name].append(timed(lambda: fn(bench))[0])
    load_after = os.getloadavg()[0]
    rates = {name: args.num / statistics.median(s) for name, s in seconds.items()}
    best = {name: args.num / min(s) for name, s in seconds.items()}

    set_a, set_b = images[labels == 0][: args.num], images[labels == 1][: args.num]
    feats = {name: (paths[name](set_a), paths[name](set_b)) for name in ("evogan", "torch-fidelity")}
    stats = [FeatureStats.of(f) for f in feats["evogan"]]
    fid_ours = frechet_distance(stats[0].mean, stats[0].cov, stats[1].mean, stats[1].cov)
    fid_theirs = torch_fidelity_fid(*feats["torch-fidelity"])
    max_feature_diff = float((feats["evogan"][0] - feats["torch-fidelity"][0]).abs().max())

    result = {"device": str(device), "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "threads": args.threads, "torch": torch.__version__, "num": args.num, "batch_size": args.batch_size,
              "rounds": args.rounds, "loadavg_before_after": [load_before, load_after],
              "images_per_s_median": {k: round(v, 2) for k, v in rates.items()},
              "images_per_s_best": {k: round(v, 2) for k, v in best.items()},
              "speedup_vs_torch_fidelity_median": round(rates["evogan"] / rates["torch-fidelity"], 3),
              "speedup_vs_torch_fidelity_best": round(best["evogan"] / best["torch-fidelity"], 3),
              "fid_evogan": fid_ours, "fid_torch_fidelity": fid_theirs,
              "fid_rel_diff": abs(fid_ours - fid_theirs) / fid_theirs, "max_abs_feature_diff": max_feature_diff}
    print("| path | images/s (median) | images/s (best round) |\n|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.2f} | {best[name]:.2f} |")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
