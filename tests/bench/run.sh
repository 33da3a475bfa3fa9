#!/usr/bin/env bash
# Prints the benchmark figures of the batch foundation. Usage: tests/bench/run.sh [BUILD_DIR]
# Figures, not assertions: compare them with the targets in the issue and the README.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
cmake --build "$build" --target aifsim bench_engine bench_batch bench_gpu >/dev/null
echo "# engine calendar"
"$build/tests/bench/bench_engine" 10000000 1000
"$build/tests/bench/bench_engine" 5000000 100000
echo "# largest shipped trace: LANL CM-5, 122,060 jobs, 1024 procs (each policy)"
"$build/tests/bench/bench_batch" "$here/workloads/swf/LANL-CM5-1994-4.1-cln.swf.gz" 1024
echo "# overloaded synthetic trace: Lublin 256, 10,000 jobs (long queues)"
"$build/tests/bench/bench_batch" "$here/workloads/swf/lublin_256.swf.gz" 256
echo "# whole CLI, LANL under EASY, outputs written"
out=$(mktemp -d)
/usr/bin/env time -f "cli wall_s=%e peak_rss_KiB=%M" "$build/sim/aifsim" batch -q --swf "$here/workloads/swf/LANL-CM5-1994-4.1-cln.swf.gz" \
  --scheduler easy -o "$out" 2>&1 || "$build/sim/aifsim" batch -q --swf "$here/workloads/swf/LANL-CM5-1994-4.1-cln.swf.gz" --scheduler easy -o "$out"
rm -rf "$out"
echo "# GPU cost model: one prediction, after warm-up"
"$build/tests/bench/bench_gpu" "$here/calibration/profiles/h100-sxm.json" "$here/workloads/models/llama3-8b.json"
"$build/tests/bench/bench_gpu" "$here/calibration/profiles/h100-sxm.json" "$here/workloads/models/mixtral-8x7b.json"
echo "# Kubernetes scheduling, default profile, 1000 HGX nodes (20,000 pods; the issue's 100,000 takes minutes today)"
cmake --build "$build" --target bench_k8s >/dev/null
"$build/tests/bench/bench_k8s" 1000 20000
