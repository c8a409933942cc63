#!/usr/bin/env bash
# The demo: generate a synthetic EM-like volume with labels (a seed the bundled model never saw
# in training), run pipelines/synapses.yaml over it block by block with the bundled Budgeted
# Broadcast-pruned U-Net (models/demo-synapse-bb, made by scripts/train-demo-model.sh), which
# predicts, thresholds, labels, detects and evaluates the synapses against the generated labels;
# run the darkness baseline (pipelines/demo-darkness.yaml) over the same volume for comparison,
# and combine both evaluations into one HTML report whose path is printed last.
# Usage: scripts/demo.sh EMFLOW_BINARY OUTPUT_DIRECTORY
set -euo pipefail
emflow=$1
out=$2
model=models/demo-synapse-bb
threshold=$(cat "$model/threshold")
mkdir -p "$out"
"$emflow" generate "$out/demo.zarr" --shape 32,384,384 --seed 1 --overwrite
"$emflow" info "$out/demo.zarr/volumes/raw"
raw="$out/demo.zarr/volumes/raw"
truth="$out/demo.zarr/volumes/labels/synapse"

echo
echo "== the bundled model ($model, threshold $threshold) =="
"$emflow" run pipelines/synapses.yaml --set input="$raw" --set truth="$truth" --set model="$model" \
  --set name=bb-unet --set output="$out/synapses.zarr" --set detections="$out/synapses.csv" \
  --set report="$out/model-report" --set threshold="$threshold"

echo
echo "== the darkness baseline =="
"$emflow" run pipelines/demo-darkness.yaml --set input="$raw" --set output="$out/darkness.zarr"
"$emflow" evaluate --prediction "$out/darkness.zarr/score" --truth "$truth" --raw "$raw" \
  --threshold 0.93 --min-size 10 --name "darkness baseline" --report "$out/darkness-report"

echo
"$emflow" report "$out/model-report" "$out/darkness-report" --output "$out/report" \
  --title "emflow demo: bundled BB-pruned U-Net against the darkness baseline"
echo
# The summary table of the report (voxel precision, recall, F1, IoU, AP = PR-AUC, objects, CREMI).
sed -n '/^## Summary/,/^## /p' "$out/report/report.md" | grep '^|'
echo
echo "demo report: $(cd "$out/report" && pwd)/report.html"
