#!/usr/bin/env bash
# Runs the quickstart policy sweep and executes the notebooks headless on its outputs,
# saving their figures as PNG. Usage: notebooks/run.sh AIFSIM_BINARY WORK_DIR
set -euo pipefail
aifsim=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
"$aifsim" sweep -q "$here/../scenarios/sweeps/quickstart-policies.json" -j 2 -o "$work/sweep"
export AIFSIM_RUNS="$work/sweep" AIFSIM_FIGURES="$work/figures"
jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
  --output-dir "$work" "$here/factory-policies.ipynb"
for f in ownership cdfs policies; do
  test -s "$work/figures/$f.png" || { echo "notebook did not draw $f.png" >&2; exit 1; }
done
echo "figures in $work/figures"
