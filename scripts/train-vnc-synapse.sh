#!/usr/bin/env bash
# The synapse training experiment: train pipelines/train-vnc-synapse.yaml on train.h5 (its last
# 128 columns held back for validation, which picks the best checkpoint), then predict val.h5
# with that checkpoint and evaluate it there (F1 at the threshold that is best on val, PR-AUC).
# Writes benchmarks/results/vnc-synapse-training.md and .json.
# Usage: scripts/train-vnc-synapse.sh EMFLOW_BINARY [OUTPUT_DIR (default runs/vnc-synapse)] [STEPS]
# Needs ../shared/data/vnc-synapse (the shared EM data) beside the repository.
set -euo pipefail
emflow=$(realpath "$1")
out=${2:-runs/vnc-synapse}
steps=${3:-}
data=../shared/data/vnc-synapse
[ -f "$data/val.h5" ] || { echo "needs $data (the shared EM data) next to the repository" >&2; exit 1; }
mkdir -p "$out" benchmarks/results
# TRAINED_SECONDS=N skips the training and reports N seconds for it (a run trained earlier,
# e.g. interrupted and resumed with `emflow train ... --resume OUTPUT/last`).
if [ -n "${TRAINED_SECONDS:-}" ]; then
  start=0; trained=$TRAINED_SECONDS
else
  start=$(date +%s)
  "$emflow" train pipelines/train-vnc-synapse.yaml ${steps:+--steps "$steps"} --output "$out" 2>"$out/train.err" || {
    cat "$out/train.err" >&2; exit 1; }
  trained=$(date +%s)
fi
"$emflow" run pipelines/synapses.yaml --set input="$data/val.h5:volumes/raw" --set truth="$data/val.h5:volumes/labels/synapse" \
  --set model="$out/best" --set output="$out/val.zarr" --set detections="$out/val-synapses.csv" \
  --set report="$out/val-report" --set block_shape=20,256,256 >"$out/predict.log" 2>&1 || { tail "$out/predict.log" >&2; exit 1; }
python3 - "$out" "$start" "$trained" <<'PY'
import json, sys, datetime, subprocess
out, start, trained = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
log = [json.loads(line) for line in open(f"{out}/log.jsonl")]
evaluation = json.load(open(f"{out}/val-report/report.json"))
volume = evaluation["runs"][0]["volumes"][0]
curve = volume["voxel"]["curve"]
validations = [r for r in log if r.get("validation")]
best_record = max(validations, key=lambda r: r["validation"]["averagePrecision"])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
          "machine": f"{model}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores",
          "steps": log[-1]["step"], "training_wall_s": trained - start, "best_step": best_record["step"],
          "heldback_pr_auc_at_best": best_record["validation"]["averagePrecision"],
          "val_pr_auc": curve["averagePrecision"], "val_best_f1": curve["bestF1"], "val_best_threshold": curve["bestThreshold"]}
json.dump(result, open("benchmarks/results/vnc-synapse-training.json", "w"), indent=1)
rows = "\n".join(f"| {r['step']} | {r['loss']:.4f} | {r['validation']['loss']:.4f} | {r['validation']['bestF1']:.3f} | "
                 f"{r['validation']['averagePrecision']:.3f} |" for r in validations)
section = f"""<!-- train-vnc-synapse.sh:begin -->
## Latest run of scripts/train-vnc-synapse.sh

{result['date']}, {result['machine']}, pipelines/train-vnc-synapse.yaml (its comments give the
recipe). Training data: train.h5 x 0:896; held back for validation and checkpoint choice:
train.h5 x 896:1024; val.h5 is read only by the final evaluation.

- steps: {result['steps']}; training wall time (including validation): {result['training_wall_s'] / 60:.1f} min
- checkpoint: step {result['best_step']} (best held-back PR-AUC {result['heldback_pr_auc_at_best']:.3f})
- **val.h5: voxel PR-AUC {result['val_pr_auc']:.3f}, best voxel F1 {result['val_best_f1']:.3f}** (threshold {result['val_best_threshold']:.3f}, chosen on val)
- the issue's PyTorch peer (the same network without group normalisation, 35 min on 2 cores, 300 steps): F1 0.685, PR-AUC 0.750

Validation on the held-back columns during training:

| step | training loss | held-back loss | held-back best F1 | held-back PR-AUC |
|---|---|---|---|---|
{rows}
<!-- train-vnc-synapse.sh:end -->"""
# Only the section between the markers is rewritten; the rest of the file is kept.
path = "benchmarks/results/vnc-synapse-training.md"
begin, end = "<!-- train-vnc-synapse.sh:begin -->", "<!-- train-vnc-synapse.sh:end -->"
try:
    text = open(path).read()
except FileNotFoundError:
    text = "# Synapse U-Net trained on vnc-synapse/train.h5, evaluated on val.h5\n\n" + begin + end + "\n"
if begin in text and end in text:
    text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
print(section)
PY
