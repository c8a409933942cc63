#!/usr/bin/env bash
# U-Net benchmark: emflow's oneDNN U-Net against PyTorch CPU on the same architecture, in the
# same run, same thread count. Writes benchmarks/results/unet.md and unet.json.
# Usage: benchmarks/run-unet-bench.sh EMFLOW_BINARY
# Environment: TORCH_PYTHON (a python with torch; default: .venv-bench, created with pip torch),
# THREADS (default 2), SIZES (default 64,96), ROUNDS (default 3: the tools alternate, each
# round times every case; the fastest round per tool and case is kept, as load only slows down).
set -euo pipefail
emflow=$(realpath "$1")
threads=${THREADS:-2}
sizes=${SIZES:-64,96}
rounds=${ROUNDS:-3}
python=${TORCH_PYTHON:-}
if [ -z "$python" ]; then
  if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c 'import torch' 2>/dev/null; then
    echo "installing PyTorch into .venv-bench (several GiB with its CUDA libraries) ..." >&2
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -q torch numpy
  fi
  python=.venv-bench/bin/python
fi
mkdir -p benchmarks/results
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for round in $(seq "$rounds"); do
  echo "round $round/$rounds: emflow ..." >&2
  "$emflow" bench unet --sizes "$sizes" --threads "$threads" --json >"$scratch/emflow-$round.json"
  echo "round $round/$rounds: pytorch ..." >&2
  OMP_NUM_THREADS=$threads "$python" benchmarks/unet_peer.py --sizes "$sizes" --threads "$threads" >"$scratch/pytorch-$round.json"
done
machine=$(printf '%s; %s cores; %s GiB; load average before the run: %s; %s; emflow %s' \
  "$(lscpu | sed -n 's/^Model name: *//p')" "$(nproc)" "$(free -g | awk '/Mem:/ {print $2}')" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(swift --version 2>&1 | head -1)" "$("$emflow" --version)")
"$python" - "$scratch" "$rounds" "$machine" <<'PY'
import json, sys, datetime
scratch, rounds, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(tool):
    return [json.load(open(f"{scratch}/{tool}-{r}.json")) for r in range(1, rounds + 1)]
ours, peer = load("emflow"), load("pytorch")
def best(runs, key, size, layout=None):
    values = [c[key] for run in runs for c in run["cases"] if c["size"] == size and c.get("layout") == layout]
    return min(values)
rows, table = [], []
for size in sorted({c["size"] for c in ours[0]["cases"]}):
    e_inf, e_train = best(ours, "inference_s", size), best(ours, "training_step_s", size)
    layouts = {l: (best(peer, "inference_s", size, l), best(peer, "training_step_s", size, l))
               for l in ("contiguous", "channels_last_3d")}
    p_inf = min(v[0] for v in layouts.values()); p_train = min(v[1] for v in layouts.values())
    row = {"size": size, "emflow_inference_s": e_inf, "emflow_training_step_s": e_train,
           "pytorch": {l: {"inference_s": v[0], "training_step_s": v[1]} for l, v in layouts.items()},
           "inference_speedup": p_inf / e_inf, "training_speedup": p_train / e_train}
    rows.append(row)
    table.append(f"| {size}^3 | {size**3 / e_inf / 1e6:.3f} | {size**3 / p_inf / 1e6:.3f} "
                 f"({size**3 / layouts['contiguous'][0] / 1e6:.3f} / {size**3 / layouts['channels_last_3d'][0] / 1e6:.3f}) "
                 f"| **{p_inf / e_inf:.2f}x** | {e_train:.3f} | {p_train:.3f} ({layouts['contiguous'][1]:.3f} / "
                 f"{layouts['channels_last_3d'][1]:.3f}) | **{p_train / e_train:.2f}x** |")
result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"), "machine": machine,
          "threads": ours[0]["threads"], "rounds": rounds, "parameters": {"emflow": ours[0]["parameters"], "pytorch": peer[0]["parameters"]},
          "pytorch_version": peer[0]["version"], "cases": rows}
json.dump(result, open("benchmarks/results/unet.json", "w"), indent=1, sort_keys=True)
with open("benchmarks/results/unet.md", "w") as f:
    f.write(f"""# U-Net inference and training step: emflow against PyTorch CPU

Produced by `benchmarks/run-unet-bench.sh .build/release/emflow` ({result['date']}).

- machine: {machine}
- threads: {result['threads']} for both; PyTorch {result['pytorch_version']}; parameters: emflow {ours[0]['parameters']}, PyTorch {peer[0]['parameters']}
- architecture: depth 3, base 16, two 3x3x3 convolutions + ReLU per level, max-pool 2, transposed-convolution
  up, concatenated skips, 1x1x1 head; one block of 1 channel per run; training step = forward, BCE (pos_weight 5)
  + Dice, backward, Adam
- {rounds} rounds, the tools alternating; each value is the fastest round's median of 3 timed runs (after a warm-up).
  PyTorch is timed in both memory layouts (contiguous / channels_last_3d); the ratio uses the faster one.
  Speed-up = PyTorch time / emflow time (above 1: emflow is faster).

| input | emflow Mvoxel/s | PyTorch Mvoxel/s (contiguous / channels_last_3d) | inference speed-up | emflow training step s | PyTorch training step s (contiguous / channels_last_3d) | training speed-up |
|---|---|---|---|---|---|---|
""" + "\n".join(table) + "\n")
print(open("benchmarks/results/unet.md").read())
PY
