#!/usr/bin/env bash
# The distribution of the ReLU on-rates a_i of the VNC recipe's units after warm-up, with and
# without group normalisation (issue 18: "measure and report their distribution first"). Trains
# pipelines/train-vnc-synapse.yaml for WARMUP dense steps with a bb-both pruning block whose
# first refresh, at the end of the warm-up (one step before the last), logs every unit's on-rate (EMA, rate 0.05), then
# summarises them per layer into benchmarks/results/on-rates.{md,json}.
#
#   scripts/on-rate-distribution.sh            # RUNS=runs/on-rates WARMUP=100 THREADS=2
#
# Runs outside git (RUNS); a run whose log already holds its refresh is not repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/on-rates}
WARMUP=${WARMUP:-100}
THREADS=${THREADS:-2}
EMFLOW=${EMFLOW:-.build/release/emflow}
PYTHON=${PYTHON:-.venv-test/bin/python}
[ -x "$EMFLOW" ] || swift build -c release
[ -f ../shared/data/vnc-synapse/train.h5 ] || { echo "needs ../shared/data/vnc-synapse/train.h5 (the shared EM data)" >&2; exit 1; }
mkdir -p "$RUNS"

for variant in groupnorm plain; do
    dir="$RUNS/$variant"
    if [ -f "$dir/log.jsonl" ] && grep -q '"pruning"' "$dir/log.jsonl"; then echo "$variant: done before"; continue; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    drop=()
    [ "$variant" = plain ] && drop=(-e '/normalization_groups:/d')
    sed -e "s|^steps: .*|steps: $((WARMUP + 1))|" -e "s|^output: .*|output: $dir|" -e "s|^threads: .*||" \
        -e "s|^  every: .*|  every: 100000|" "${drop[@]}" pipelines/train-vnc-synapse.yaml > "$dir/train.yaml"
    cat >> "$dir/train.yaml" <<EOF
threads: $THREADS
pruning:
  method: bb-both
  target_density: 0.5
  warmup: $WARMUP
  refresh_every: $WARMUP
  ramp_steps: 1
EOF
    start=$SECONDS
    "$EMFLOW" train "$dir/train.yaml" --quiet
    echo "$variant: $((SECONDS - start)) s"
    echo "$((SECONDS - start))" > "$dir/seconds"
done

# The oneDNN ISA this machine runs (one verbose line of a tiny forward pass).
verbose=$(ONEDNN_VERBOSE=1 "$EMFLOW" bench models "$RUNS/groupnorm/last" --rounds 1 --patch 16,64,64 2>&1 || true)
isa=$(grep -m1 -o 'isa:[^,]*' <<<"$verbose" || true)
isa=${isa:-isa: unknown}
"$PYTHON" - "$RUNS" "$isa" "$WARMUP" <<'EOF'
import json, sys, platform, statistics
runs, isa, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3])
def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
result = {"machine": model, "isa": isa, "warmup_steps": warmup, "variants": {}}
lines = ["# ReLU on-rates of the VNC recipe's units after warm-up", "",
         f"`scripts/on-rate-distribution.sh`: pipelines/train-vnc-synapse.yaml trained {warmup} dense steps (2 threads), "
         "on-rates a_i (EMA, rate 0.05) of every unit at the first pruning refresh. "
         f"Machine: {model} ({platform.machine()}), oneDNN `{isa}`.", "",
         "The first-wave balance (`bb-*`, `minimum_on_rate` 0.001, `maximum_on_rate` 0.45) clamps a_i into [0.001, 0.45] "
         "before log((1 - a) / a) = beta k: every unit above 0.45 gets the same target degree, so the budget cannot tell "
         "them apart (the shares below). The structured rule of issue 18 must work on the unclamped log-odds.", ""]
for variant in ["groupnorm", "plain"]:
    record = [json.loads(l)["pruning"] for l in open(f"{runs}/{variant}/log.jsonl") if '"pruning"' in l][0]
    rates = [u["onRate"] for u in record["units"]]
    layers = {}
    for u in record["units"]:
        layers.setdefault(u["unit"].rsplit(":", 1)[0], []).append(u["onRate"])
    seconds = open(f"{runs}/{variant}/seconds").read().strip()
    summary = {"units": len(rates), "seconds": float(seconds),
               "quantiles": {name: quantile(rates, q) for name, q in [("0", 0), ("0.1", 0.1), ("0.5", 0.5), ("0.9", 0.9), ("1", 1)]},
               "share_0.4_0.6": sum(0.4 <= a <= 0.6 for a in rates) / len(rates),
               "share_above_0.45": sum(a > 0.45 for a in rates) / len(rates),
               "share_below_0.05": sum(a < 0.05 for a in rates) / len(rates),
               "share_below_0.001": sum(a < 0.001 for a in rates) / len(rates),
               "share_dead": sum(a == 0 for a in rates) / len(rates),
               "layers": {name: {"units": len(v), "min": min(v), "median": statistics.median(v), "max": max(v)} for name, v in layers.items()}}
    result["variants"][variant] = summary
    title = "with group normalisation (4 groups)" if variant == "groupnorm" else "without normalisation"
    q = summary["quantiles"]
    lines += [f"## {title}", "",
              f"{len(rates)} units; min {q['0']:.3f}, 10 % {q['0.1']:.3f}, median {q['0.5']:.3f}, 90 % {q['0.9']:.3f}, max {q['1']:.3f}; "
              f"in [0.4, 0.6]: {summary['share_0.4_0.6']:.0%}; above the 0.45 clamp: {summary['share_above_0.45']:.0%}; "
              f"below 0.05: {summary['share_below_0.05']:.0%}; below the 0.001 clamp: {summary['share_below_0.001']:.0%}; "
              f"never on: {summary['share_dead']:.0%} ({seconds} s of training).", "",
              "| layer | units | min | median | max |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {s['units']} | {s['min']:.3f} | {s['median']:.3f} | {s['max']:.3f} |" for name, s in summary["layers"].items()]
    lines.append("")
open("benchmarks/results/on-rates.json", "w").write(json.dumps(result, indent=2) + "\n")
open("benchmarks/results/on-rates.md", "w").write("\n".join(lines))
print("\n".join(lines))
EOF
