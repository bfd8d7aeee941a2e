#!/usr/bin/env bash
# kill-resume.sh: a run killed with SIGKILL mid-epoch, or stopped with SIGINT, and then resumed, ends with the
# same store data as an uninterrupted run of the same config (with other thread counts, too).
# Usage: Tests/cli/kill-resume.sh PATH/TO/scorescope      (a debug or release build; release is ~15x faster)
# Compared: every row of steps (without the wall-clock column ms), histograms and histogram blocks (counts as
# hex), evals, samples, events (without the interruption-only kinds resumed/interrupted/checkpoint and the id
# column), and the meta values config, status, histogram_specs, data; floats compared exactly (Python repr).
# Not compared: meta created/threads/blas_core (wall clock and machine). Needs python3 (sqlite3) and sqlite3.
# Deliberately not here: anything the Swift tests already cover in-process (resume after a crash at a chosen
# step, refusals, divergence).
set -euo pipefail

BIN=${1:?usage: $0 PATH/TO/scorescope}
[ -x "$BIN" ] || { echo "kill-resume: $BIN is not an executable" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v python3 >/dev/null || { echo "kill-resume: needs python3" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "kill-resume: needs sqlite3" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scorescope-kill-resume.XXXXXX")
CHILD=""
cleanup() { [ -n "$CHILD" ] && kill -9 "$CHILD" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1

# 12 steps per epoch, 2 epochs; checkpoints every 5 steps and at epoch ends; a kNN of the untrained encoder.
CONFIG=(--preset smoke --set "dataset=synthetic:${IMAGES:-384}?size=16" --set checkpointEvery=5
        --set sampleEvery=3 --set knn.atStart=true)
KILL_AT=${KILL_AT:-7}   # at least this many steps recorded, and not on a checkpoint step (5, 10, 12, 15, ...)

steps() { sqlite3 "$1/run.sqlite" 'select count(*) from steps' 2>/dev/null || echo 0; }
status() { sqlite3 "$1/run.sqlite" "select value from meta where key = 'status'" 2>/dev/null || echo none; }

# Waits until the run in $1 (process $2) has recorded at least $3 steps; fails if the process ends first.
wait_for_steps() {
    while [ "$(steps "$1")" -lt "$3" ]; do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "kill-resume: the run ended before recording $3 steps (too fast? set IMAGES=2048)" >&2
            exit 1
        fi
        sleep 0.005
    done
}

dump() {
    python3 - "$1/run.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def rows(sql):
    for row in db.execute(sql):
        print("\t".join(repr(v) for v in row))
cols = [r[1] for r in db.execute("PRAGMA table_info(steps)") if r[1] != "ms"]
print("# steps"); rows("SELECT " + ", ".join(cols) + " FROM steps ORDER BY step")
print("# histograms"); rows("SELECT step, stream, lo, hi, bins, underflow, overflow, nan, count, sum, sum_sq, min, max, "
                           "hex(counts) FROM histograms ORDER BY step, stream")
print("# histogram_blocks"); rows("SELECT first_step, stream, last_step, rows, lo, hi, bins, underflow, overflow, nan, count, "
                                 "hex(counts) FROM histogram_blocks ORDER BY first_step, stream")
print("# evals"); rows("SELECT * FROM evals ORDER BY step, kind")
print("# events"); rows("SELECT step, kind, detail FROM events WHERE kind NOT IN ('resumed', 'interrupted', 'checkpoint') "
                       "ORDER BY id")
print("# samples"); rows("SELECT step, kind, idx, hex(vector) FROM samples ORDER BY step, kind, idx")
print("# meta"); rows("SELECT key, value FROM meta WHERE key IN ('config', 'status', 'histogram_specs', 'data') ORDER BY key")
PY
}

compare() {
    dump "$WORK/base" > "$WORK/base.txt"
    dump "$1" > "$1.txt"
    if ! diff -q "$WORK/base.txt" "$1.txt" >/dev/null; then
        echo "kill-resume: FAIL: $2 differs from the uninterrupted run:" >&2
        diff "$WORK/base.txt" "$1.txt" | head -20 >&2
        exit 1
    fi
    echo "kill-resume: ok: $2 equals the uninterrupted run ($(grep -c . "$1.txt") rows compared)"
}

echo "kill-resume: uninterrupted run (1 thread)"
"$BIN" train "${CONFIG[@]}" --out "$WORK/base" --threads 1 > "$WORK/base.log"
[ "$(status "$WORK/base")" = finished ] || { echo "kill-resume: the uninterrupted run did not finish" >&2; exit 1; }

echo "kill-resume: SIGKILL after $KILL_AT+ steps (2 threads), then resume with the stored config (1 thread)"
"$BIN" train "${CONFIG[@]}" --out "$WORK/kill" --threads 2 > "$WORK/kill.log" 2>&1 &
CHILD=$!
wait_for_steps "$WORK/kill" "$CHILD" "$KILL_AT"
kill -9 "$CHILD"
wait "$CHILD" 2>/dev/null || true
CHILD=""
echo "kill-resume:   killed with $(steps "$WORK/kill") steps recorded"
"$BIN" train --out "$WORK/kill" --threads 1 > "$WORK/kill-resume.log"
grep -q "resuming at step" "$WORK/kill-resume.log" || { echo "kill-resume: no resume message" >&2; cat "$WORK/kill-resume.log" >&2; exit 1; }
[ "$(status "$WORK/kill")" = finished ] || { echo "kill-resume: the resumed run did not finish" >&2; exit 1; }
compare "$WORK/kill" "the SIGKILLed and resumed run"

echo "kill-resume: SIGINT after $KILL_AT+ steps (1 thread) -> exit 0, status interrupted; resume (2 threads)"
"$BIN" train "${CONFIG[@]}" --out "$WORK/int" --threads 1 > "$WORK/int.log" 2>&1 &
CHILD=$!
wait_for_steps "$WORK/int" "$CHILD" "$KILL_AT"
kill -INT "$CHILD"
code=0; wait "$CHILD" || code=$?
CHILD=""
[ "$code" = 0 ] || { echo "kill-resume: SIGINT gave exit code $code, expected 0" >&2; cat "$WORK/int.log" >&2; exit 1; }
state=$(status "$WORK/int")
if [ "$state" = interrupted ]; then
    grep -q "interrupted (SIGINT received)" "$WORK/int.log" || { echo "kill-resume: no interruption message" >&2; exit 1; }
    echo "kill-resume:   interrupted with $(steps "$WORK/int") steps recorded"
else
    echo "kill-resume: after SIGINT the status is '$state', expected interrupted" >&2; exit 1
fi
"$BIN" train "${CONFIG[@]}" --out "$WORK/int" --threads 2 > "$WORK/int-resume.log"
compare "$WORK/int" "the SIGINTed and resumed run"

# A finished run asked again: exit 0, no change.
"$BIN" train "${CONFIG[@]}" --out "$WORK/int" > "$WORK/again.log"
grep -q "already finished" "$WORK/again.log" || { echo "kill-resume: a finished run was not reported as such" >&2; exit 1; }
compare "$WORK/int" "the finished run asked to train again"
echo "kill-resume: PASS"
