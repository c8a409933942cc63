#!/usr/bin/env bash
# The demo: generate a synthetic EM-like volume with labels, run the darkness-baseline
# pipeline over it block by block, evaluate the score against the synapse labels and write an
# HTML report. Usage: scripts/demo.sh EMFLOW_BINARY OUTPUT_DIRECTORY
set -euo pipefail
emflow=$1
out=$2
mkdir -p "$out"
"$emflow" generate "$out/demo.zarr" --shape 32,384,384 --seed 1 --overwrite
"$emflow" info "$out/demo.zarr/volumes/raw"
"$emflow" run pipelines/demo-darkness.yaml --set input="$out/demo.zarr/volumes/raw" --set output="$out/demo-out.zarr"
"$emflow" evaluate --prediction "$out/demo-out.zarr/score" --truth "$out/demo.zarr/volumes/labels/synapse" \
  --raw "$out/demo.zarr/volumes/raw" --threshold 0.93 --name "darkness baseline" --report "$out/report"
echo
echo "demo report: $(cd "$out/report" && pwd)/report.html"
