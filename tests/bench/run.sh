#!/usr/bin/env bash
# Prints the benchmark figures of the batch foundation. Usage: tests/bench/run.sh [BUILD_DIR]
# Figures, not assertions: compare them with the targets in the issue and the README.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
cmake --build "$build" --target aifsim bench_engine bench_batch bench_gpu bench_k8s bench_k8s_cluster bench_serving >/dev/null
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
echo "# Kubernetes scheduling, default profile, 100,000 pods on 1000 HGX nodes"
"$build/tests/bench/bench_k8s" 1000 100000
echo "# Kubernetes cluster over time: 100,000 Job pods on 1000 nodes"
"$build/tests/bench/bench_k8s_cluster" 2000 50
echo "# Inference serving: 1,000,000 requests on 32 llama3-8b replicas (H100)"
"$build/tests/bench/bench_serving" 1000000 32 320
echo "# Dual-stack factory: a simulated week on 1,024 GPUs, LANL CM-5 and 10.6 M inference requests (lend)"
out=$(mktemp -d)
/usr/bin/env time -f "factory week wall_s=%e peak_rss_KiB=%M" "$build/sim/aifsim" run -q "$here/scenarios/ai-factory/week.json" -o "$out"
rm -rf "$out"
