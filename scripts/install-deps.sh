#!/usr/bin/env bash
# Installs the Debian packages emflow needs to build and test, only those missing.
# Usage: scripts/install-deps.sh [extra-package ...]
set -euo pipefail
packages=(pkg-config libhdf5-dev libtiff-dev libzstd-dev libblosc-dev zlib1g-dev libdnnl-dev libopenblas-dev "$@")
python3 -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)
command -v python3 >/dev/null 2>&1 || packages+=(python3 python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "emflow: installing missing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
