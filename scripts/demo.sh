#!/usr/bin/env bash
# The demo: generate a synthetic EM-like volume, inspect it, convert it, render slices.
set -euo pipefail
emflow=$1
out=$2
mkdir -p "$out"
"$emflow" generate "$out/synthetic.zarr" --shape 32,256,256 --seed 1
"$emflow" info "$out/synthetic.zarr/raw"
"$emflow" convert "$out/synthetic.zarr/raw" "$out/synthetic.h5:volumes/raw" --codec gzip
"$emflow" info "$out/synthetic.h5:volumes/raw"
echo "demo output: $out"
