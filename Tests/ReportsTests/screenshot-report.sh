#!/usr/bin/env bash
# Renders a sweep report's index.html in headless Chromium and writes a screenshot, so a person (or a reviewer)
# can look at the page as a browser shows it: figures load, tables fit, nothing escapes the layout.
#
#   Tests/ReportsTests/screenshot-report.sh [SWEEP_DIR] [SCREENSHOT.png]
#
# Without SWEEP_DIR it writes a small synthetic sweep first (`scorescope bench plot --keep`, 5 momenta x 2000 steps
# with FT streams: synthetic numbers, not results). The report goes to a temporary folder (or SWEEP_DIR/report);
# the screenshot defaults to report-screenshot.png in the current folder. Needs a built scorescope (debug is fine;
# SCORESCOPE=path overrides) and the Debian package chromium (installed here with apt-get when missing and allowed:
# set SCORESCOPE_NO_APT=1 to skip instead). Exits non-zero when the report or the screenshot cannot be made.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scorescope="${SCORESCOPE:-$root/.build/debug/scorescope}"
if [[ ! -x "$scorescope" ]]; then
    echo "screenshot-report: no scorescope binary at $scorescope (run swift build first)" >&2
    exit 1
fi

browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
    if [[ "${SCORESCOPE_NO_APT:-0}" == 1 || "$(id -u)" != 0 ]]; then
        echo "screenshot-report: SKIPPED: chromium is not installed (apt-get install -y chromium)" >&2
        exit 0
    fi
    apt-get install -y chromium >/dev/null
    browser="$(command -v chromium)"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sweep="${1:-}"
if [[ -z "$sweep" ]]; then
    sweep="$work/sweep"
    "$scorescope" bench plot --keep "$sweep" --steps 2000 --steps-per-epoch 100 --ft --repeats 1 --kinds curves --formats svg >/dev/null
    report="$work/report"
else
    report="$sweep/report"
fi
shot="${2:-$PWD/report-screenshot.png}"

index="$("$scorescope" report "$sweep" --out "$report")"
[[ -f "$index" ]] || { echo "screenshot-report: the report printed '$index', which is not a file" >&2; exit 1; }
index="$(readlink -f "$index")"   # file:// URLs need absolute paths
mkdir -p "$(dirname "$shot")"
shot="$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")"

# --no-sandbox: containers run as root; --virtual-time-budget lets every <img> finish loading before the shot.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=5000 \
    --screenshot="$shot" --window-size=1200,3000 "file://$index" 2>/dev/null
[[ -s "$shot" ]] || { echo "screenshot-report: chromium wrote no screenshot" >&2; exit 1; }
echo "$shot"
