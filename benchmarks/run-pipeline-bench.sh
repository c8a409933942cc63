#!/usr/bin/env bash
# Pipeline benchmark: predict a generated volume (default 4 GiB) block by block with a small
# U-Net (benchmarks/predict-pipeline.yaml), measuring peak resident memory and the pipeline's
# throughput against bare network inference on the same blocks (`emflow bench predict`, same
# workers and threads, no I/O) in the same run. Writes benchmarks/results/pipeline.md and .json.
# Usage: benchmarks/run-pipeline-bench.sh EMFLOW_BINARY
# Environment: SHAPE (default 256,4096,4096 = 4 GiB of uint8), BLOCK (32,256,256), WORKERS (2),
# THREADS (1 per network), BENCH_DIR (scratch, default /tmp/emflow-pipeline-bench).
set -euo pipefail
emflow=$(realpath "$1")
shape=${SHAPE:-256,4096,4096}
block=${BLOCK:-32,256,256}
workers=${WORKERS:-2}
threads=${THREADS:-1}
dir=${BENCH_DIR:-/tmp/emflow-pipeline-bench}
rm -rf "$dir"; mkdir -p "$dir" benchmarks/results
trap 'rm -rf "$dir"' EXIT

echo "generating $shape ..." >&2
"$emflow" generate "$dir/big.zarr" --shape "$shape" --raw-only --chunks "$block" --seed 3 >/dev/null 2>&1
# A small U-Net (depth 2, base 8, 1x3x3 kernels, 1x2x2 pooling), trained for 2 steps on a small
# generated volume: its speed, not its accuracy, matters here.
"$emflow" generate "$dir/small.zarr" --shape 16,128,128 --seed 2 >/dev/null 2>&1
cat >"$dir/train.yaml" <<YAML
raw: $dir/small.zarr/volumes/raw
label: $dir/small.zarr/volumes/labels/synapse
patch_shape: [8, 64, 64]
steps: 2
output: $dir/model
network: {input_channels: 1, output_channels: 1, depth: 2, base_width: 8, width_multiplier: 2,
          kernel_sizes: [[1, 3, 3], [1, 3, 3]], pooling_factors: [[1, 2, 2]], convolutions_per_level: 2, padding: same}
YAML
"$emflow" train "$dir/train.yaml" --quiet >/dev/null
model=$dir/model/last

echo "bare inference on $block blocks ..." >&2
bare=$("$emflow" bench predict "$model" --block-shape "$block" --blocks 16 --workers "$workers" --threads "$threads")
echo "pipeline over $shape ..." >&2
/usr/bin/time -v "$emflow" run benchmarks/predict-pipeline.yaml --set input="$dir/big.zarr/volumes/raw" --set model="$model" \
  --set output="$dir/out.zarr/probabilities" --set block_shape="$block" --set workers="$workers" --set threads="$threads" \
  >"$dir/run.out" 2>"$dir/run.err" || { tail -20 "$dir/run.err" >&2; exit 1; }
bare_after=$("$emflow" bench predict "$model" --block-shape "$block" --blocks 16 --workers "$workers" --threads "$threads")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/run.err")
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/run.err")
machine=$(printf '%s; %s cores; %s GiB; load average before: %s; emflow %s' "$(lscpu | sed -n 's/^Model name: *//p')" "$(nproc)" \
  "$(free -g | awk '/Mem:/ {print $2}')" "$(cut -d' ' -f1-3 /proc/loadavg)" "$("$emflow" --version)")
python3 - "$shape" "$block" "$workers" "$threads" "$bare" "$bare_after" "$rss" "$wall" "$machine" <<'PY'
import json, sys, datetime
shape, block, workers, threads, bare, bare_after, rss, wall, machine = sys.argv[1:]
bare, bare_after = json.loads(bare), json.loads(bare_after)
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
voxels = 1
for n in shape.split(","): voxels *= int(n)
pipeline = voxels / seconds
reference = max(bare["voxels_per_s"], bare_after["voxels_per_s"])
result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"), "machine": machine,
          "shape": shape, "bytes": voxels, "block_shape": block, "workers": int(workers), "threads": int(threads),
          "pipeline_seconds": seconds, "pipeline_voxels_per_s": pipeline, "peak_rss_mib": int(rss) // 1024,
          "bare_voxels_per_s": [bare["voxels_per_s"], bare_after["voxels_per_s"]], "bare_input_shape": bare["input_shape"],
          "efficiency": pipeline / reference}
json.dump(result, open("benchmarks/results/pipeline.json", "w"), indent=1)
open("benchmarks/results/pipeline.md", "w").write(f"""# Pipeline benchmark: a {voxels / 2**30:.1f} GiB volume predicted block by block

Produced by `benchmarks/run-pipeline-bench.sh .build/release/emflow` ({result['date']}).

- machine: {machine}
- volume: {shape} uint8 (generated), zstd Zarr chunks {block}; pipeline: benchmarks/predict-pipeline.yaml
  (read -> predict, crop-centre stitching, uint8 probabilities -> write zstd Zarr), blocks {block},
  {workers} workers x {threads} thread(s); model: U-Net depth 2, base 8, 1x3x3 kernels, 1x2x2 pooling
- bare inference: `emflow bench predict` on 16 blocks of the same shape (input {'x'.join(map(str, bare['input_shape']))}
  with the halo), same workers and threads, no reading, conversion, queues or writing; run before and after the
  pipeline, the faster taken

| measure | value |
|---|---|
| pipeline wall time | {wall} ({seconds:.0f} s) |
| pipeline throughput | {pipeline / 1e6:.2f} Mvoxel/s |
| bare inference (before / after) | {bare['voxels_per_s'] / 1e6:.2f} / {bare_after['voxels_per_s'] / 1e6:.2f} Mvoxel/s |
| **pipeline / bare inference** | **{result['efficiency']:.3f}** (overhead {100 * (1 - result['efficiency']):.1f} %) |
| **peak resident memory** | **{result['peak_rss_mib']} MiB** |
""")
print(open("benchmarks/results/pipeline.md").read())
PY
