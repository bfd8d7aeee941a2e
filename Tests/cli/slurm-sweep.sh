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

# SIGTERM before the time limit (what --signal=B:TERM@N delivers): the task checkpoints, requeues, and resumes.
mkdir -p "$work/exp2"
cat > "$work/exp2/sweep.json" <<JSON
{"name": "slurm-requeue", "base": {"preset": "smoke", "set": {"epochs": 4}},
 "grid": {"momentum": [0.99]}, "seeds": [1], "slurm": {"cpusPerTask": 2, "time": "00:10:00"}}
JSON
"$bin" sweep "$work/exp2/sweep.json" --backend slurm --out "$work/runs2" > "$work/submit2.log"
id="$(cat "$work/runs2/slurm-job-id")"
run="$work/runs2/m0.99-s1"
steps=0
for _ in $(seq 600); do
  steps="$( { "$bin" inspect "$run" --json 2>/dev/null || true; } | sed -n 's/^ *"stepCount" *: *\([0-9]*\).*/\1/p' | head -1)"
  [ "${steps:-0}" -ge 5 ] && break; sleep 0.1
done
[ "${steps:-0}" -ge 5 ] || { echo "slurm-sweep: FAILED: the requeue run never recorded 5 steps"; cat "$work"/runs2/slurm/*.out; exit 1; }
echo "slurm-sweep: sending SIGTERM to task ${id}_0 after $steps steps"
scancel --signal=TERM --batch "${id}_0"; t0=$(date +%s)
pending_since=""
for _ in $(seq 900); do
  line="$( { squeue -h -t all -j "$id" -o "%T %r" 2>/dev/null || true; } | head -1)"
  state="${line%% *}"
  [ "$state" = COMPLETED ] && break
  # A requeued task waits for a begin time Slurm sets ~2 minutes ahead. Once it has sat requeued for a few
  # seconds (the old task fully cleaned up; starting it earlier can make the launch fail), make it eligible now.
  if [ "$line" = "PENDING BeginTime" ]; then
    [ -z "$pending_since" ] && pending_since=$(date +%s)
    if [ $(( $(date +%s) - pending_since )) -ge 3 ]; then
      scontrol update JobId="${id}_0" StartTime=now >/dev/null 2>&1 || true
      pending_since=$(( $(date +%s) + 30 ))
    fi
  fi
  sleep 0.2
done
"$bin" inspect "$run" > "$work/inspect2.log" || true
if [ "$state" != COMPLETED ] || ! grep -q "requeueing" "$work"/runs2/slurm/*.out || ! grep -q "resumed" "$work/inspect2.log" \
   || ! grep -q "finished" "$work/inspect2.log"; then
  echo "slurm-sweep: FAILED: SIGTERM did not lead to checkpoint, requeue and resume (job state: $state)"
  cat "$work"/runs2/slurm/*.out "$work/inspect2.log"; tail -25 "$base/log/slurmctld.log"; exit 1
fi
echo "slurm-sweep: SIGTERM -> checkpoint -> requeue -> resumed and finished ($(( $(date +%s) - t0 )) s after the signal)"
echo "slurm-sweep: 2 passed, 0 failed"
