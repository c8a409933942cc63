#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers emflow owns, for a bounded time (not part of `make test`).
#
#   bash benchmarks/run-fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]
#
# Builds fuzz/ (libFuzzer and AddressSanitizer from the Swift toolchain) in .build-fuzz, runs
# each target for SECONDS_PER_TARGET (default 60) from its corpus in fuzz/corpus/TARGET (seeds
# made here from emflow's own outputs, plus what earlier runs found and kept), and writes
# benchmarks/results/fuzz.md: machine, run time, executions, coverage and any crash, with the
# crashing input saved under fuzz/findings/ (outside git) to reproduce with
#   EMFLOW_FUZZ_TARGET=T .build-fuzz/release/EMFuzz fuzz/findings/T/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(pipeline-yaml training-yaml zarr-v2 zarr-v3 tiff safetensors checkpoint-json)

swift build -c release --package-path fuzz --scratch-path "$PWD/.build-fuzz" --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address >/dev/null
binary=$PWD/.build-fuzz/release/EMFuzz
root=$PWD
[ -f .build/release/emflow ] || swift build -c release --product emflow >/dev/null

# Seeds: files emflow writes itself, and the pipelines and configurations it ships.
seed() { mkdir -p "fuzz/corpus/$1"; cp "$2" "fuzz/corpus/$1/seed-$(basename "$2")" 2>/dev/null || true; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.build/release/emflow generate "$scratch/g.zarr" --shape 4,32,32 --chunks 2,16,16 --raw-only >/dev/null
.build/release/emflow convert "$scratch/g.zarr/volumes/raw" "$scratch/v3.zarr/a" --zarr-version 3 >/dev/null 2>&1
.build/release/emflow convert "$scratch/g.zarr/volumes/raw" "$scratch/s.tif" --codec raw >/dev/null 2>&1
seed zarr-v2 "$scratch/g.zarr/volumes/raw/.zarray"
seed zarr-v3 "$scratch/v3.zarr/a/zarr.json"
seed tiff "$scratch/s.tif"
for f in pipelines/*.yaml; do
  if grep -q '^stages:' "$f"; then seed pipeline-yaml "$f"; else seed training-yaml "$f"; fi
done
seed safetensors models/demo-synapse-bb/model.safetensors
seed checkpoint-json models/demo-synapse-bb/config.json

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
isa=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x -E 'avx512_bf16|avx512f|avx2' | sort | tail -1 || true)
out=benchmarks/results/fuzz.md
{
  echo "# Fuzzing the parsers emflow owns"
  echo
  echo "\`bash benchmarks/run-fuzz.sh $seconds\` on $(date -u +%Y-%m-%d), $cpu ($(nproc) cores, best ISA flag: ${isa:-none});"
  echo "libFuzzer + AddressSanitizer (every emflow module instrumented) from $(swift --version 2>&1 | head -1), $seconds s per target, RSS limit 2048 MB, input up to 64 KiB, leak checking off."
  echo
  echo "| target | executions | coverage (edges) | corpus files | result |"
  echo "|---|---|---|---|---|"
} > "$out"
# Leak checking off: Foundation keeps a few allocations until exit (4 KiB, the same every
# run), which LeakSanitizer would report as a finding at the end of every target.
export ASAN_OPTIONS=detect_leaks=0
status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/findings/$target"
  log=$(mktemp)
  set +e
  # From a scratch directory: relative addresses in fuzzed pipelines resolve there.
  (cd "$scratch" && EMFLOW_FUZZ_TARGET=$target "$binary" "$root/fuzz/corpus/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -max_len=65536 -timeout=20 -artifact_prefix="$root/fuzz/findings/$target/" -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  # Keep the corpus small enough to commit: merge it into the fewest files with the same coverage.
  minimized=$(mktemp -d)
  (cd "$scratch" && EMFLOW_FUZZ_TARGET=$target "$binary" -merge=1 -rss_limit_mb=2048 -max_len=65536 "$minimized" "$root/fuzz/corpus/$target") >/dev/null 2>&1 \
    && rm -rf "fuzz/corpus/$target" && mv "$minimized" "fuzz/corpus/$target" || rm -rf "$minimized"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  [ -n "$runs" ] || runs="?"
  files=$(find "fuzz/corpus/$target" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    result="no crash"
  else
    status=1
    result="FOUND: $(grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error|SUMMARY|deadly signal' "$log" | cut -c1-120 || true); input in fuzz/findings/$target/"
    cp "$log" "fuzz/findings/$target/log.txt"
  fi
  echo "| $target | $runs | $edges | $files | $result |" >> "$out"
  echo "fuzz: $target: $runs executions, $edges edges, $result" >&2
  rm -f "$log"
done
echo "fuzz: results in $out" >&2
exit $status
