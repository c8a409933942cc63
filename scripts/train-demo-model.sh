#!/usr/bin/env bash
# Reproduces the demo's bundled model, models/demo-synapse-bb, end to end: generates the
# synthetic training volume (seed 101; the demo's volume uses seed 1), trains the small
# Budgeted Broadcast-pruned U-Net of pipelines/train-demo-model.yaml (checkpoint and threshold
# chosen on the held-back columns x 384:512), compacts the best checkpoint (dead units removed,
# same predictions), evaluates it on an unseen generated volume (seed 7) beside the darkness
# baseline, and copies the compacted checkpoint and its threshold into models/demo-synapse-bb.
# From the repository root, after `swift build -c release --product emflow`:
#
#   bash scripts/train-demo-model.sh [EMFLOW_BINARY]     (about 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
emflow=${1:-.build/release/emflow}
work=runs/demo-model
model=models/demo-synapse-bb
mkdir -p "$work"

"$emflow" generate "$work/train.zarr" --shape 32,512,512 --seed 101 --overwrite
rm -rf "$work/train"
time "$emflow" train pipelines/train-demo-model.yaml --quiet
grep '^{' "$work/train/log.jsonl" | grep '"validation' | tail -n 3 || true
rm -rf "$work/compact"
"$emflow" compact "$work/train/best" "$work/compact" --patch 8,96,96
# The threshold with the best validation F1, chosen with the checkpoint.
threshold=$(sed -n 's/.*"best_threshold" *: *"\([0-9.eE+-]*\)".*/\1/p' "$work/train/best/training_state.json")
[ -n "$threshold" ] || { echo "no best_threshold in $work/train/best/training_state.json" >&2; exit 1; }

# An unseen volume: the bundled model against the darkness baseline.
"$emflow" generate "$work/test.zarr" --shape 32,384,384 --seed 7 --overwrite
"$emflow" run pipelines/synapses.yaml --set input="$work/test.zarr/volumes/raw" \
  --set truth="$work/test.zarr/volumes/labels/synapse" --set model="$work/compact" --set name=test \
  --set output="$work/test-synapses.zarr" --set detections="$work/test-synapses.csv" \
  --set report="$work/test-report" --set threshold="$threshold"
"$emflow" run pipelines/demo-darkness.yaml --set input="$work/test.zarr/volumes/raw" --set output="$work/test-darkness.zarr"
"$emflow" evaluate --prediction "$work/test-darkness.zarr/score" --truth "$work/test.zarr/volumes/labels/synapse" \
  --threshold 0.93 --min-size 10 --name "darkness baseline"
"$emflow" evaluate --prediction "$work/test-synapses.zarr/probabilities" --truth "$work/test.zarr/volumes/labels/synapse" \
  --threshold "$threshold" --min-size 10 --name "demo model"

mkdir -p "$model"
cp "$work/compact/config.json" "$work/compact/model.safetensors" "$work/compact/compaction.json" "$model/"
echo "$threshold" > "$model/threshold"
echo "wrote $model (threshold $threshold); update $model/README.md with the numbers above"
