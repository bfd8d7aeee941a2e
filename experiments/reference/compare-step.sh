#!/usr/bin/env bash
# Interleaves `scorescope bench step` with the PyTorch reference of the same step (moco_step_torch.py), round by
# round, so that both see the same machine load; prints each run's JSON line and then the medians and the ratio.
#
#   experiments/reference/compare-step.sh [ROUNDS] [THREADS]
#
# Environment: SCORESCOPE (default .build/release/scorescope), PYTHON (a Python with torch; default python3).
set -euo pipefail
rounds=${1:-5}
threads=${2:-2}
bin=${SCORESCOPE:-.build/release/scorescope}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$bin" ]; then echo "compare-step: $bin not found; run 'make release' first (or set SCORESCOPE)" >&2; exit 2; fi
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "compare-step: $python has no torch; install it (pip install torch) or set PYTHON to one that has" >&2; exit 2
fi

export OPENBLAS_NUM_THREADS=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ours() { "$bin" bench step --threads "$threads" | tail -1 | tee -a "$out"; }
theirs() { "$python" "$here/moco_step_torch.py" --threads "$threads" | tail -1 | tee -a "$out"; }
for i in $(seq "$rounds"); do
    # Alternate which goes first.
    if [ $((i % 2)) -eq 1 ]; then ours; theirs; else theirs; ours; fi
done
"$python" - "$out" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
ours = [r["ms_per_iter"] for r in runs if r["bench"] == "moco_step"]
torch = [r["ms_per_iter"] for r in runs if r["bench"] == "moco_step_torch"]
pairs = [t / o for o, t in zip(ours, torch)]
print(json.dumps({"bench": "step_vs_torch", "rounds": len(pairs),
                  "scorescope_median_ms": round(statistics.median(ours), 1),
                  "torch_median_ms": round(statistics.median(torch), 1),
                  "speedup_median": round(statistics.median(pairs), 2),
                  "speedup_min": round(min(pairs), 2), "speedup_max": round(max(pairs), 2)}))
EOF
