#!/usr/bin/env bash
# Fuzzes tokentrail's line decoder and line scanner with cargo-fuzz (libFuzzer), each target for a
# bounded time, and prints how many inputs each one executed.
#
# Usage: `scripts/fuzz.sh [SECONDS]` (default 60 per target). Safe to re-run: the corpus in
# fuzz/corpus/ grows from run to run. It installs cargo-fuzz when it is missing, uses a nightly
# toolchain when one is installed and RUSTC_BOOTSTRAP=1 on stable otherwise, seeds empty corpora
# from fixtures/, builds with debug assertions and overflow checks, and runs the targets one after
# the other, one fuzzing process each (the machine is small and shared). A crashing input is saved
# in fuzz/artifacts/TARGET/; the script then exits 1 after the other targets ran. See FUZZING.md.
#
# Environment: FUZZ_TARGETS (default "decode_line scan_buffer"), FUZZ_MAX_LEN (default 8192 bytes
# per input), FUZZ_BUILD_FLAGS (extra `cargo fuzz run` flags, default "--debug-assertions").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly SECONDS_PER_TARGET="${1:-60}"
readonly TARGETS="${FUZZ_TARGETS:-decode_line scan_buffer}"
readonly MAX_LEN="${FUZZ_MAX_LEN:-8192}"
readonly BUILD_FLAGS="${FUZZ_BUILD_FLAGS:---debug-assertions}"

say() { printf 'fuzz.sh: %s\n' "$*" >&2; }

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || ((SECONDS_PER_TARGET < 1)); then
    say "usage: scripts/fuzz.sh [SECONDS]   (SECONDS per target, a positive integer)"
    exit 2
fi

# --- tools ------------------------------------------------------------------------------------
if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
# libFuzzer and the sanitizer need nightly flags: a nightly toolchain, or stable told to allow them.
cargo_fuzz=(cargo fuzz)
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo_fuzz=(cargo +nightly fuzz)
    say "toolchain: $(rustc +nightly --version)"
else
    export RUSTC_BOOTSTRAP=1
    say "toolchain: $(rustc --version) with RUSTC_BOOTSTRAP=1"
fi

# --- seeds ------------------------------------------------------------------------------------
# Real-shaped lines from the fixtures: one line per seed for decode_line, runs of lines for
# scan_buffer. Written only into an empty corpus, so a grown corpus is kept as it is.
seed() {
    local target=$1 per_seed=$2 dir="fuzz/corpus/$1"
    mkdir -p "$dir"
    if [[ -n "$(ls -A "$dir")" ]]; then
        return
    fi
    say "seeding $dir from fixtures/"
    local n=0 file
    for file in fixtures/mixed/api_json.log fixtures/k8s/*.log fixtures/rotated/api_json.log \
        fixtures/rotated/api_json.log.1 fixtures/rotated/sidekiq.log; do
        [[ -s "$file" ]] || continue
        split -l "$per_seed" -d -a 4 "$file" "$dir/seed-$n-"
        n=$((n + 1))
    done
}

# --- run --------------------------------------------------------------------------------------
mkdir -p fuzz/target
declare -A runs result
status=0
for target in $TARGETS; do
    case $target in
    decode_line) seed "$target" 1 ;;
    *) seed "$target" 6 ;;
    esac
    log="fuzz/target/$target.log"
    say "fuzzing $target for ${SECONDS_PER_TARGET}s (log: $log)"
    # shellcheck disable=SC2086 # BUILD_FLAGS is a list of flags
    if "${cargo_fuzz[@]}" run $BUILD_FLAGS "$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" \
        -dict="$PWD/fuzz/tokentrail.dict" -print_final_stats=1 >"$log" 2>&1; then
        result[$target]="no crash"
    else
        result[$target]="CRASH: see $log and fuzz/artifacts/$target/"
        status=1
        tail -n 40 "$log" >&2
    fi
    runs[$target]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [[ -n "${runs[$target]}" ]] || runs[$target]=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
done

printf '\n%-14s %14s %10s  %s\n' TARGET EXECUTIONS SECONDS RESULT
for target in $TARGETS; do
    printf '%-14s %14s %10s  %s\n' "$target" "${runs[$target]:-?}" "$SECONDS_PER_TARGET" "${result[$target]}"
done
exit "$status"
