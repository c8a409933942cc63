#!/usr/bin/env bash
# The Budgeted Broadcast experiment of issue 6 on the VNC synapse stack.
#
# For every seed, method and density it trains pipelines/vnc-synapse-bb.yaml with that setting
# (checkpoint and threshold chosen on x 768:1024 of train.h5, held back from training), exports
# the compacted model of OUTPUT/best with `emflow compact` (FLOPs, live channels), predicts
# val.h5 with it and evaluates it at the held-back threshold (voxel F1, PR-AUC, object F1).
# Afterwards, with nothing else running: inference speed of every compacted model against the
# dense model of its seed (`emflow bench models`), and the blurred-darkness floor
# (pipelines/darkness-floor.yaml, sigma and threshold chosen on the same held-back columns).
# Finally scripts/bb-experiment-summary.py writes RUNS/comparison.html and RUNS/summary.md: the
# table over seeds (mean and standard deviation) with the floor as the first row, F1 and PR-AUC
# against density, speed-ups, and BB against magnitude pruning paired by seed.
# Runs already finished (their eval.json exists) are skipped, so an interrupted experiment resumes.
#
#   scripts/bb-experiment.sh [RUNS_DIR]        (default runs/vnc-synapse-bb; from the repository root)
#
# Environment: EMFLOW (default .build/release/emflow), SEEDS ("1 2 3"), METHODS
# ("dense bb-in bb-out bb-both magnitude random"), DENSITIES ("0.5 0.3 0.1"), STEPS (300),
# WARMUP (40), RAMP (140), REFRESH (20), JOBS (parallel runs, 2), THREADS (per run, 1).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs/vnc-synapse-bb}
EMFLOW=${EMFLOW:-.build/release/emflow}
SEEDS=${SEEDS:-"1 2 3"}
METHODS=${METHODS:-"dense bb-in bb-out bb-both magnitude random"}
DENSITIES=${DENSITIES:-"0.5 0.3 0.1"}
STEPS=${STEPS:-300} WARMUP=${WARMUP:-40} RAMP=${RAMP:-140} REFRESH=${REFRESH:-20}
JOBS=${JOBS:-2} THREADS=${THREADS:-1}
DATA=../shared/data/vnc-synapse
# The predict and evaluate steps use the libraries' default thread count.
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
mkdir -p "$RUNS"

# One setting: NAME METHOD DENSITY SEED.
run_one() {
    set -euo pipefail
    local name=$1 method=$2 density=$3 seed=$4 dir="$RUNS/$1"
    [[ -f "$dir/eval.json" ]] && return 0
    mkdir -p "$dir"
    sed -e "s|^seed: .*|seed: $seed|" -e "s|^  seed: 1$|  seed: $seed|" -e "s|^  seed: 1 .*|  seed: $seed|" \
        -e "s|^output: .*|output: $dir|" -e "s|^steps: .*|steps: $STEPS|" -e "s|^threads: .*|threads: $THREADS|" \
        -e "s|^  method: [a-z-]*|  method: $method|" -e "s|^  target_density: [0-9.]*|  target_density: $density|" \
        -e "s|^  warmup: [0-9]*|  warmup: $WARMUP|" -e "s|^  ramp_steps: [0-9]*|  ramp_steps: $RAMP|" \
        -e "s|^  refresh_every: [0-9]*|  refresh_every: $REFRESH|" \
        pipelines/vnc-synapse-bb.yaml > "$dir/train.yaml"
    local start=$SECONDS
    "$EMFLOW" train "$dir/train.yaml" --quiet > "$dir/train.txt" 2>&1
    local threshold
    threshold=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metadata']['best_threshold'])" "$dir/best/training_state.json")
    "$EMFLOW" compact "$dir/best" "$dir/compacted" --patch 20,256,256 --threads "$THREADS" --json > "$dir/compaction.json"
    rm -rf "$dir/val.zarr"
    "$EMFLOW" run pipelines/synapses.yaml --quiet --set input=$DATA/val.h5:volumes/raw --set model="$dir/compacted" \
        --set truth=$DATA/val.h5:volumes/labels/synapse --set output="$dir/val.zarr" --set threshold="$threshold" \
        --set detections="$dir/val-detections.csv" --set report="$dir/val-pipeline-report" > "$dir/predict.txt" 2>&1
    "$EMFLOW" evaluate --prediction "$dir/val.zarr/probabilities" --truth $DATA/val.h5:volumes/labels/synapse \
        --threshold "$threshold" --name "$name" --report "$dir/report" --json > "$dir/eval.tmp"
    mv "$dir/eval.tmp" "$dir/eval.json"
    echo "$name: $((SECONDS - start)) s"
}
export -f run_one
export RUNS EMFLOW STEPS WARMUP RAMP REFRESH THREADS DATA

{
    for seed in $SEEDS; do
        for method in $METHODS; do
            if [[ $method == dense ]]; then
                echo "dense-1.0-seed$seed dense 1 $seed"
            else
                for density in $DENSITIES; do echo "$method-$density-seed$seed $method $density $seed"; done
            fi
        done
    done
} | xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ || echo "some runs failed; see $RUNS/*/train.txt and predict.txt" >&2

# Inference speed, after training so that nothing competes: per seed, the dense model and every
# compacted model of that seed in one `emflow bench models` run (2 threads, the whole machine).
for seed in $SEEDS; do
    [[ -f "$RUNS/inference-seed$seed.json" ]] && continue
    models=("$RUNS/dense-1.0-seed$seed/best")
    for dir in "$RUNS"/*-seed"$seed"; do
        [[ -f "$dir/eval.json" && $dir != */dense-* ]] && models+=("$dir/compacted")
    done
    [[ -d ${models[0]} ]] || continue
    "$EMFLOW" bench models "${models[@]}" --patch 20,256,256 --rounds 5 --threads 2 --json > "$RUNS/inference.tmp"
    mv "$RUNS/inference.tmp" "$RUNS/inference-seed$seed.json"
done

# The floor: blurred darkness (pipelines/darkness-floor.yaml), its sigma and threshold chosen on
# the held-back columns of train.h5 (by PR-AUC, then best F1 there), then evaluated on val.h5.
floor="$RUNS/darkness-floor"
if [[ ! -f "$floor/eval.json" ]]; then
    mkdir -p "$floor"
    for array in raw labels/synapse; do
        "$EMFLOW" convert "$DATA/train.h5:volumes/$array" "$floor/heldback.zarr/${array#labels/}" --roi 0:20,0:512,768:1024 > /dev/null
    done
    for sigma in 1 2 4 8; do
        "$EMFLOW" run pipelines/darkness-floor.yaml --quiet --set input="$floor/heldback.zarr/raw" --set sigma=$sigma \
            --set output="$floor/heldback-sigma$sigma.zarr/score" > /dev/null
        "$EMFLOW" evaluate --prediction "$floor/heldback-sigma$sigma.zarr/score" --truth "$floor/heldback.zarr/synapse" \
            --json > "$floor/heldback-sigma$sigma.json"
    done
    python3 - "$floor" > "$floor/chosen.json" <<'CHOOSE'
import glob, json, re, sys
curves = {float(re.search(r"sigma([0-9.]+)\.json$", path).group(1)):
          json.load(open(path))["runs"][0]["volumes"][0]["voxel"]["curve"] for path in glob.glob(sys.argv[1] + "/heldback-sigma*.json")}
sigma = max(curves, key=lambda s: curves[s]["averagePrecision"])
print(json.dumps({"sigma": sigma, "threshold": curves[sigma]["bestThreshold"],
                  "heldBackPRAUC": {str(s): c["averagePrecision"] for s, c in sorted(curves.items())}}))
CHOOSE
    read -r sigma threshold < <(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['sigma'], c['threshold'])" "$floor/chosen.json")
    "$EMFLOW" run pipelines/darkness-floor.yaml --quiet --set input=$DATA/val.h5:volumes/raw --set sigma="$sigma" \
        --set output="$floor/val.zarr/score" > "$floor/predict.txt" 2>&1
    "$EMFLOW" evaluate --prediction "$floor/val.zarr/score" --truth $DATA/val.h5:volumes/labels/synapse --threshold "$threshold" \
        --name "darkness floor (sigma $sigma)" --report "$floor/report" --json > "$floor/eval.tmp"
    mv "$floor/eval.tmp" "$floor/eval.json"
fi

python3 scripts/bb-experiment-summary.py "$RUNS"
