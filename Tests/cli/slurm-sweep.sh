#!/usr/bin/env bash
# End-to-end test of the sweep's Slurm backend on a real one-node Slurm cluster (.ci/slurm-cluster.sh):
# a smoke sweep of 4 runs (2 momenta × 2 seeds) is submitted as a job array, waited for, checked and analysed.
#   Tests/cli/slurm-sweep.sh PATH/TO/scorescope
# Skips itself (exit 0, with a message) only where Slurm cannot be installed or started (e.g. not root).
set -euo pipefail
bin="$(readlink -f "${1:?usage: $0 PATH/TO/scorescope}")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d /tmp/scorescope-slurm-test.XXXXXX)"
base="$work/cluster"
cleanup() { "$root/.ci/slurm-cluster.sh" stop "$base" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

set +e
out="$("$root/.ci/slurm-cluster.sh" start "$base" 2>&1)"; rc=$?
set -e
if [ $rc -eq 3 ]; then echo "slurm-sweep: SKIPPED: Slurm cannot be set up here: $out"; exit 0; fi
if [ $rc -ne 0 ]; then echo "slurm-sweep: FAILED to start the cluster: $out" >&2; exit 1; fi
eval "$(echo "$out" | tail -1)"   # export SLURM_CONF=...

mkdir -p "$work/exp"
cat > "$work/exp/sweep.json" <<JSON
{"name": "slurm-smoke", "base": {"preset": "smoke"},
 "grid": {"momentum": [0.9, 0.99]}, "seeds": [1, 2],
 "slurm": {"cpusPerTask": 1, "time": "00:10:00"}}
JSON
echo "slurm-sweep: submitting 4 smoke runs"
"$bin" sweep "$work/exp/sweep.json" --backend slurm --wait --out "$work/runs" | tee "$work/submit.log"
grep -q "submitted job array" "$work/submit.log"
for r in m0.9-s1 m0.9-s2 m0.99-s1 m0.99-s2; do
  [ -f "$work/runs/$r/run.sqlite" ] || { echo "slurm-sweep: FAILED: no store for $r"; cat "$work"/runs/slurm/*.out; exit 1; }
done
"$bin" sweep status "$work/runs" | tee "$work/status.log"
[ "$(grep -c $'\tfinished\t' "$work/status.log")" = 4 ] || { echo "slurm-sweep: FAILED: not all 4 runs finished"; cat "$work"/runs/slurm/*.out; exit 1; }
"$bin" analyze "$work/runs" --format md > "$work/analysis.md"
grep -q "0.99" "$work/analysis.md" || { echo "slurm-sweep: FAILED: analysis lacks the momentum groups"; cat "$work/analysis.md"; exit 1; }
echo "slurm-sweep: 1 passed, 0 failed"
