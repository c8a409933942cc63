#!/usr/bin/env bash
# Storage benchmark: (1) read/write throughput of zstd Zarr and gzip HDF5, emflow against
# zarr-python and h5py on the same volume in the same run; (2) converting a generated 8 GiB
# volume with peak resident memory measured. Writes benchmarks/results/storage.md.
# Usage: benchmarks/run-storage-bench.sh EMFLOW_BINARY   (EMFLOW_PYTHON: python with zarr, h5py)
# Environment: BENCH_SHAPE (default 64,2048,2048 = 256 MiB), BIG_SHAPE (default 512,4096,4096 = 8 GiB),
# BENCH_DIR (scratch, default /tmp/emflow-bench), SKIP_BIG=1 to skip the 8 GiB part.
set -euo pipefail
emflow=$(realpath "$1")
python=${EMFLOW_PYTHON:-python3}
dir=${BENCH_DIR:-/tmp/emflow-bench}
shape=${BENCH_SHAPE:-64,2048,2048}
big=${BIG_SHAPE:-512,4096,4096}
out=benchmarks/results/storage.md
mkdir -p "$dir" benchmarks/results
rm -rf "$dir"/*

machine() {
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores available"
  echo "- memory: $(free -g | awk '/Mem:/ {print $2}') GiB; disk: $(df -h "$dir" | awk 'NR==2 {print $2" "$1}')"
  echo "- emflow $("$emflow" --version), $(swift --version 2>&1 | head -1)"
  echo "- peers: $("$python" -c 'import zarr,h5py,numcodecs; print("zarr", zarr.__version__, "h5py", h5py.__version__, "numcodecs", numcodecs.__version__, "HDF5", h5py.version.hdf5_version)')"
}

echo "generating $shape ..." >&2
"$emflow" generate "$dir/src.zarr" --shape "$shape" --raw-only --chunks 64,256,256 >/dev/null 2>&1
ours=$("$emflow" bench storage "$dir/src.zarr/volumes/raw" --scratch "$dir")
peer=$("$python" benchmarks/storage_peer.py "$dir/src.zarr/volumes/raw" "$dir" 64,256,256 3 4)

big_line=$'\n| skipped (SKIP_BIG=1) | | |'
if [ "${SKIP_BIG:-0}" != 1 ]; then
  echo "generating $big (8 GiB) ..." >&2
  "$emflow" generate "$dir/big.zarr" --shape "$big" --raw-only --chunks 64,512,512 >/dev/null 2>&1
  for target in "$dir/big-out.zarr/raw" "$dir/big-out.h5:raw"; do
    codec=zstd; [[ $target == *.h5* ]] && codec=gzip
    /usr/bin/time -v "$emflow" convert "$dir/big.zarr/volumes/raw" "$target" --chunks 32,256,256 --codec "$codec" --level 1 \
      >"$dir/convert.out" 2>"$dir/convert.err"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/convert.err")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/convert.err")
    [[ $big_line == *skipped* ]] && big_line=""
    format=Zarr; [[ $target == *.h5* ]] && format=HDF5
    big_line+=$'\n'"| $big uint8 zstd Zarr -> $codec level 1 $format, chunks 32,256,256 | $wall | $((rss / 1024)) MiB |"
    rm -rf "$dir/big-out.zarr" "$dir/big-out.h5"
  done
  rm -rf "$dir/big.zarr"
fi

"$python" - "$ours" "$peer" "$big_line" >"$out.tmp" <<PY
import json, sys
ours, peer, big = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print("# Storage benchmark\n")
print("Reproduce: \`make bench\` (or \`benchmarks/run-storage-bench.sh .build/release/emflow\`).\n")
print("""$(machine)""")
mib = ours["bytes"] / 2**20
print(f"\n## Whole-volume write and read, {ours['shape']} uint8 ({mib:.0f} MiB), chunks {ours['chunks']}\n")
print("Same data, chunks and levels (zstd 3, gzip 4) for both; ratio > 1 means emflow is faster.\n")
print("| format | emflow write MB/s | peer write MB/s | write ratio | emflow read MB/s | peer read MB/s | read ratio |")
print("|---|---|---|---|---|---|---|")
for a, b in zip(ours["cases"], peer["cases"]):
    print(f"| {a['case']} | {a['write_MBps']:.0f} | {b['write_MBps']:.0f} | {a['write_MBps']/b['write_MBps']:.2f} | "
          f"{a['read_MBps']:.0f} | {b['read_MBps']:.0f} | {a['read_MBps']/b['read_MBps']:.2f} |")
print(f"\nPeer: {peer['tool']}.")
print("\n## Converting a generated 8 GiB volume (\`emflow convert\`, default --memory-mb 512)\n")
print("| conversion | wall time | peak resident memory |\n|---|---|---|" + big)
PY
mv "$out.tmp" "$out"
cat "$out"
