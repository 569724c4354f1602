#!/usr/bin/env bash
# Renders the HTML report of a demo incident and photographs it with headless Chromium, to look at
# the page as an administrator would (layout, chart, tables) without opening a browser.
#
# `scripts/screenshot-html.sh [SCENARIO...]` (default: expiry-night; also cron, burst-ban). It
# installs Debian's `chromium` when missing (apt-get), builds tokentrail and the generator, writes
# the scenario's log to a temporary directory, renders `--format html --last-success` into
# bench-data/report.html (bench-data/report-SCENARIO.html for the other scenarios; bench-data/ is
# git-ignored) and screenshots it at 1280 px wide next to it as .png. Chromium runs with a throwaway
# profile and every background network feature off: the page itself loads nothing.
#
# Environment: SHOT_HEIGHT (window height in pixels, default 2000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly HEIGHT="${SHOT_HEIGHT:-2000}"
readonly DIR=bench-data
readonly TT=./target/release/tokentrail
readonly GEN=./target/release/examples/generate

say() { printf '\033[1mscreenshot-html.sh:\033[0m %s\n' "$*" >&2; }

if ! command -v chromium >/dev/null; then
    say "installing chromium"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    if ! "${sudo[@]}" apt-get install -y chromium; then
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y chromium
    fi
fi

say "building tokentrail and the generator"
cargo build --release --bins --examples

mkdir -p "$DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

scenarios=("$@")
((${#scenarios[@]})) || scenarios=(expiry-night)
shots=()
for scenario in "${scenarios[@]}"; do
    name=report
    [[ $scenario == expiry-night ]] || name="report-$scenario"
    log="$work/$scenario/api_json.log"
    mkdir -p "$work/$scenario"
    say "$scenario: generating $log"
    "$GEN" --scenario "$scenario" --out "$log"
    say "$scenario: rendering $DIR/$name.html"
    rc=0
    "$TT" --quiet --format html --last-success --output "$DIR/$name.html" "$log" || rc=$?
    # 0: failures found, 1: none found; both still write a report.
    ((rc <= 1)) || { say "tokentrail failed with exit status $rc"; exit "$rc"; }
    say "$scenario: screenshot $DIR/$name.png"
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$work/profile-$scenario" --hide-scrollbars \
        --window-size="1280,$HEIGHT" --screenshot="$PWD/$DIR/$name.png" \
        "file://$PWD/$DIR/$name.html" 2>"$work/chromium-$scenario.log" || {
        cat "$work/chromium-$scenario.log" >&2
        exit 1
    }
    shots+=("$DIR/$name.png")
done
say "done: ${shots[*]}"
