#!/usr/bin/env bash
# End-to-end timings of tokentrail against the tools an administrator would reach for (rg, grep,
# jq, pigz, gzip) on the same generated files, written into BENCHMARKS.md.
#
# One command, safe to re-run: `scripts/bench.sh`. It installs what it lacks (apt-get), builds the
# release binary and the generator, generates bench-data/api_json.log (~1 GiB) if absent, derives a
# ~100 MB slice and a gzip copy from it when they are missing or older, times everything with
# hyperfine (JSON exports in bench-data/), samples peak anonymous memory and RSS, and replaces the
# part of BENCHMARKS.md between the `bench.sh` markers (the rest of the file is kept).
#
# Environment: BENCH_MIB (size of the big file when generated, default 1024), BENCH_RUNS (default 5),
# BENCH_DIR (default bench-data; a small BENCH_DIR/BENCH_MIB pair makes a quick trial run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly MIB="${BENCH_MIB:-1024}"
readonly RUNS="${BENCH_RUNS:-5}"
readonly DIR="${BENCH_DIR:-bench-data}"
readonly BIG="$DIR/api_json.log"
readonly SLICE="$DIR/api_json.slice.log"
readonly GZ="$DIR/api_json.log.gz"
readonly TT=./target/release/tokentrail
readonly GEN=./target/release/examples/generate
readonly OUT=BENCHMARKS.md

say() { printf '\033[1mbench.sh:\033[0m %s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v rg >/dev/null || need+=(ripgrep)
command -v pigz >/dev/null || need+=(pigz)
command -v jq >/dev/null || need+=(jq)
command -v python3 >/dev/null || need+=(python3)
command -v lscpu >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
    say "installing ${need[*]}"
    sudo=()
    ((EUID == 0)) || sudo=(sudo)
    if ! "${sudo[@]}" apt-get install -y "${need[@]}"; then
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "${need[@]}"
    fi
fi

# --- build and data ---------------------------------------------------------------------------
say "building release binary and generator"
cargo build --release --bins --examples
# What was built: the commit, and whether the working tree differed from it.
COMMIT="\`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\`"
if [[ -n $(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    COMMIT="$COMMIT + uncommitted changes in src/"
fi

mkdir -p "$DIR"
if [[ ! -s $BIG ]]; then
    say "generating $BIG ($MIB MiB)"
    "$GEN" --mib "$MIB" --out "$BIG.tmp"
    mv "$BIG.tmp" "$BIG"
fi
if [[ ! -s $SLICE || $BIG -nt $SLICE ]]; then
    say "cutting $SLICE (first 75000 lines, ~100 MB)"
    head -n 75000 "$BIG" >"$SLICE.tmp"
    mv "$SLICE.tmp" "$SLICE"
fi
if [[ ! -s $GZ || $BIG -nt $GZ ]]; then
    say "compressing $GZ"
    pigz -c "$BIG" >"$GZ.tmp"
    mv "$GZ.tmp" "$GZ"
fi

# Four .gz files of 256 MiB uncompressed each (thread scaling across files).
GZ4="$DIR/gz4"
if [[ ! -s $GZ4/api_json.log.4.gz || $BIG -nt $GZ4/api_json.log.4.gz ]]; then
    say "cutting $GZ4 (4 x 256 MiB, gzip -1)"
    mkdir -p "$GZ4"
    for i in 1 2 3 4; do
        head -c 268435456 "$BIG" | head -n -1 | gzip -1 >"$GZ4/api_json.log.$i.gz"
    done
fi
# Every line a failure (cardinality cost): 300 tokens and IPs; tokens and IPs drawn from a
# million (~500 000 distinct, most seen once or twice); every failure a new token and IP (as many
# distinct ones as 1 GiB of these lines can hold).
HICARD="$DIR/hicard.log" LOCARD="$DIR/locard.log" HIMAX="$DIR/hicard-max.log"
[[ -s $HICARD ]] || "$GEN" --mib "$MIB" --failure-ppm 1000000 --tokens 1000000 --ips 1000000 --seed 5 --out "$HICARD"
[[ -s $LOCARD ]] || "$GEN" --mib "$MIB" --failure-ppm 1000000 --tokens 300 --ips 300 --seed 5 --out "$LOCARD"
[[ -s $HIMAX ]] || "$GEN" --mib "$MIB" --failure-ppm 1000000 --tokens 1000000000 --ips 1000000000 --seed 5 --out "$HIMAX"
# distinct NAME FILE: "tokens ips" as the table counts them.
distinct() {
    "$TT" "$1" | awk '/^TOP TOKENS/ {gsub(/[(),]/, ""); t = $5} /^TOP CLIENT IPS/ {gsub(/[(),;]/, ""); i = $6} END {print t, i}'
}

# Warm the page cache so the first timed tool does not pay for the disk.
cat "$BIG" "$SLICE" "$GZ" "$GZ4"/*.gz >/dev/null

# --- timings ----------------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# bench NAME COMMAND: one hyperfine run, exported to $DIR/hf-NAME.json (the command beside it in
# hf-NAME.cmd). No --ignore-failure: every command here exits 0 on these files (tokentrail: failures
# found; rg/grep: matches found), so a non-zero exit is a real problem and stops the script.
# --output=pipe because GNU grep stops at the first match when its output is /dev/null (hyperfine's
# default), which would time nothing.
bench() {
    local name=$1 cmd=$2
    say "timing $name: $cmd"
    printf '%s\n' "$cmd" >"$DIR/hf-$name.cmd"
    hyperfine --warmup 1 --runs "$RUNS" --style basic --output=pipe \
        --command-name "$name" --export-json "$DIR/hf-$name.json" "$cmd"
}

# The full default report (the table) is what an administrator runs; JSON is timed too.
TJ="$TT"
JQ_FILTER='select(.status==401 or (.status==403 and ."meta.auth_fail_reason"!=null)) | ."meta.auth_fail_token_id" // "none"'

bench tokentrail "$TJ $BIG >/dev/null"
bench tokentrail-no-mmap "$TJ --no-mmap $BIG >/dev/null"
bench tokentrail-json "$TJ --format json $BIG >/dev/null"
bench memmem-floor "./target/release/examples/floors memmem $BIG"
bench rg "rg -c '\"status\":401' $BIG"
bench grep "LC_ALL=C grep -c '\"status\":401' $BIG"
bench tokentrail-threads1 "$TJ --threads 1 $BIG >/dev/null"
bench tokentrail-full-parse "$TJ --full-parse $BIG >/dev/null"
bench tokentrail-slice "$TJ $SLICE >/dev/null"
bench jq-slice "jq -r '$JQ_FILTER' $SLICE | sort | uniq -c >/dev/null"
bench tokentrail-gz "$TJ $GZ >/dev/null"
bench gunzip-floor "./target/release/examples/floors gunzip $GZ"
bench pigz-gz "pigz -dc $GZ >/dev/null"
bench gzip-gz "gzip -dc $GZ >/dev/null"
bench tokentrail-4gz-threads1 "$TJ --threads 1 $GZ4 >/dev/null"
bench tokentrail-4gz "$TJ --threads 2 $GZ4 >/dev/null"
bench tokentrail-last-success "$TJ --last-success $BIG >/dev/null"
cat "$LOCARD" >/dev/null
bench tokentrail-locard "$TJ $LOCARD >/dev/null"
cat "$HICARD" >/dev/null
bench tokentrail-hicard "$TJ $HICARD >/dev/null"
cat "$HIMAX" >/dev/null
bench tokentrail-himax "$TJ $HIMAX >/dev/null"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# peak_mem ARGS...: tokentrail's peak anonymous memory and peak resident set size, in KiB ("anon
# rss"). RssAnon is sampled every 2 ms from /proc (the kernel keeps no peak of it); VmHWM is the
# kernel's peak RSS, which also counts the pages of a memory-mapped log (page cache, shared).
peak_mem() {
    python3 - "$TT" "$@" <<'PEAK'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
anon = hwm = 0
def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0
while p.poll() is None:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            text = f.read()
        anon = max(anon, field(text, "RssAnon"))
        hwm = max(hwm, field(text, "VmHWM"))
    except (FileNotFoundError, ProcessLookupError):
        break
    time.sleep(0.002)
print(anon, hwm)
PEAK
}
say "measuring peak memory"
mem_big=$(peak_mem "$BIG")
mem_big_read=$(peak_mem --no-mmap "$BIG")
mem_gz=$(peak_mem "$GZ")
mem_locard=$(peak_mem "$LOCARD")
mem_hicard=$(peak_mem "$HICARD")
mem_himax=$(peak_mem "$HIMAX")
distinct_hicard=$(distinct "$HICARD")
distinct_himax=$(distinct "$HIMAX")

# --- report -----------------------------------------------------------------------------------
say "writing $OUT"
CPU_MODEL=$(lscpu | awk -F': +' '/^Model name/ {print $2; exit}')
CORES=$(nproc)
TOOLS=$(printf '%s; ' "$($TT --version)" "$(rg --version | sed -n 1p)" \
    "grep $(grep --version | awk 'NR == 1 {print $NF}')" "$(jq --version)" \
    "pigz $(pigz --version 2>&1 | awk '{print $2}')" \
    "gzip $(gzip --version | awk 'NR == 1 {print $2}')" "$(hyperfine --version)")
TOOLS=${TOOLS%; }
export DIR BIG SLICE GZ GZ4 HICARD LOCARD HIMAX OUT RUNS load_before load_after CPU_MODEL CORES COMMIT TOOLS
export mem_big mem_big_read mem_gz mem_locard mem_hicard mem_himax distinct_hicard distinct_himax

python3 - <<'PY'
import datetime, json, os, re

env = os.environ
def size(path):
    return os.path.getsize(path)

def median(name):
    with open(f"{env['DIR']}/hf-{name}.json") as f:
        r = json.load(f)["results"][0]
    with open(f"{env['DIR']}/hf-{name}.cmd") as f:
        cmd = f.read().strip()
    return r["median"], r["min"], r["max"], cmd.replace("./target/release/", "").replace(env["DIR"] + "/", "")

big, slice_, gz = env["BIG"], env["SLICE"], env["GZ"]
def label(nbytes):
    return f"{nbytes / 2**30:.0f} GiB" if nbytes >= 2**30 * 0.9 else f"{nbytes / 1e6:,.0f} MB"

BIG_L, SLICE_L = label(size(big)), label(size(slice_))
# Uncompressed bytes each row reads, for MB/s.
hc_tok, hc_ip = env["distinct_hicard"].split()
hm_tok, hm_ip = env["distinct_himax"].split()
rows = [
    ("tokentrail", BIG_L, size(big)),
    ("tokentrail-no-mmap", BIG_L, size(big)),
    ("tokentrail-json", BIG_L, size(big)),
    ("memmem-floor", BIG_L, size(big)),
    ("rg", BIG_L, size(big)),
    ("grep", BIG_L, size(big)),
    ("tokentrail-threads1", BIG_L, size(big)),
    ("tokentrail-full-parse", BIG_L, size(big)),
    ("tokentrail-slice", SLICE_L + " slice", size(slice_)),
    ("jq-slice", SLICE_L + " slice", size(slice_)),
    ("tokentrail-gz", f".gz of {BIG_L}", size(big)),
    ("gunzip-floor", f".gz of {BIG_L}", size(big)),
    ("pigz-gz", f".gz of {BIG_L}", size(big)),
    ("gzip-gz", f".gz of {BIG_L}", size(big)),
    ("tokentrail-4gz-threads1", "4 .gz of 256 MiB", 4 * 268435456),
    ("tokentrail-4gz", "4 .gz of 256 MiB", 4 * 268435456),
    ("tokentrail-last-success", BIG_L, size(big)),
    ("tokentrail-locard", f"{BIG_L}, all failures, 300 tokens", size(env["LOCARD"])),
    ("tokentrail-hicard", f"{BIG_L}, all failures, {int(hc_tok):,} tokens, {int(hc_ip):,} IPs", size(env["HICARD"])),
    ("tokentrail-himax", f"{BIG_L}, all failures, {int(hm_tok):,} tokens, {int(hm_ip):,} IPs", size(env["HIMAX"])),
]
m = {}
lines = [
    "| what | input | command | median (s) | min–max (s) | MB/s |",
    "|---|---|---|---:|---:|---:|",
]
for name, what, nbytes in rows:
    t, lo, hi, cmd = median(name)
    m[name] = t
    cmd = cmd.replace("|", "\\|")
    lines.append(f"| {name} | {what} | `{cmd}` | {t:.3f} | {lo:.3f}–{hi:.3f} | {nbytes / t / 1e6:,.0f} |")

def ratio(a, b):
    return m[a] / m[b]

gz_tt = size(big) / m["tokentrail-gz"] / 1e6
gz_pigz = size(big) / m["pigz-gz"] / 1e6
ratios = [
    f"- tokentrail / rg ({BIG_L}): **{ratio('tokentrail', 'rg'):.2f}×** the time "
    f"(--no-mmap, how the live log is read: **{ratio('tokentrail-no-mmap', 'rg'):.2f}×**)",
    f"- tokentrail / bare memmem over the map on 2 threads ({BIG_L}): **{ratio('tokentrail', 'memmem-floor'):.2f}×** the time "
    f"(--no-mmap: {ratio('tokentrail-no-mmap', 'memmem-floor'):.2f}×)",
    f"- tokentrail / grep ({BIG_L}): **{ratio('tokentrail', 'grep'):.2f}×** the time",
    f"- jq pipeline / tokentrail ({SLICE_L} slice): tokentrail is **{ratio('jq-slice', 'tokentrail-slice'):.1f}×** faster",
    f"- tokentrail on .gz: **{gz_tt:,.0f} MB/s** of log vs pigz -dc **{gz_pigz:,.0f} MB/s** "
    f"(tokentrail / pigz time {ratio('tokentrail-gz', 'pigz-gz'):.2f}×; / gzip -dc {ratio('tokentrail-gz', 'gzip-gz'):.2f}×)",
    f"- tokentrail on .gz / bare flate2 decode of the same file: **+{(ratio('tokentrail-gz', 'gunzip-floor') - 1) * 100:.0f} %** the time",
    f"- --full-parse / default ({BIG_L}): **{ratio('tokentrail-full-parse', 'tokentrail'):.2f}×** the time",
    f"- --threads 1 / default ({BIG_L}, {env['CORES']} cores): **{ratio('tokentrail-threads1', 'tokentrail'):.2f}×** the time",
    f"- four .gz files, --threads 1 / --threads 2: **{ratio('tokentrail-4gz-threads1', 'tokentrail-4gz'):.2f}×** faster with 2 threads",
    f"- --last-success / default ({BIG_L}): **{ratio('tokentrail-last-success', 'tokentrail'):.2f}×** the time",
    f"- {int(hc_tok):,} tokens and {int(hc_ip):,} IPs / 300 of each (all lines failures): **{ratio('tokentrail-hicard', 'tokentrail-locard'):.2f}×** the time",
    f"- {int(hm_tok):,} tokens and {int(hm_ip):,} IPs, every failure a new one / 300: **{ratio('tokentrail-himax', 'tokentrail-locard'):.2f}×** the time",
]

def mib(kib):
    try:
        return f"{int(kib) / 1024:,.0f} MiB"
    except ValueError:
        return "unknown"

def mem(name):
    anon, hwm = env[name].split()
    return f"{mib(anon)} anonymous, {mib(hwm)} peak RSS"

section = "\n".join([
    "<!-- bench.sh:begin (generated by scripts/bench.sh; edits here are overwritten) -->",
    "## End to end (`scripts/bench.sh`)",
    "",
    f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, tokentrail at {env['COMMIT']}",
    f"- CPU: {env['CPU_MODEL']}, {env['CORES']} cores; load average {env['load_before']} before, {env['load_after']} after",
    f"- Files: `{big}` {size(big) / 1e6:,.0f} MB, `{slice_}` {size(slice_) / 1e6:,.0f} MB, "
    f"`{gz}` {size(gz) / 1e6:,.0f} MB (pigz -6); page cache warm",
    f"- hyperfine `--warmup 1 --runs {env['RUNS']}`; JSON exports in `{env['DIR']}/hf-*.json`",
    f"- Tools: {env['TOOLS']}",
    "",
    *lines,
    "",
    "MB/s is uncompressed log bytes per second (10^6 bytes), from the median.",
    "",
    "### Ratios",
    "",
    *ratios,
    "",
    "### Peak memory",
    "",
    "Anonymous memory (RssAnon, sampled every 2 ms) is what tokentrail allocates; peak RSS (VmHWM) also",
    "counts the pages of a memory-mapped log, which belong to the page cache and are shared.",
    "",
    f"- {BIG_L} file: {mem('mem_big')}; with --no-mmap: {mem('mem_big_read')}",
    f"- the .gz: {mem('mem_gz')}",
    f"- all failures, 300 tokens: {mem('mem_locard')}",
    f"- all failures, {int(hc_tok):,} tokens and {int(hc_ip):,} IPs: {mem('mem_hicard')}",
    f"- all failures, {int(hm_tok):,} tokens and {int(hm_ip):,} IPs: {mem('mem_himax')}",
    "<!-- bench.sh:end -->",
])

out = env["OUT"]
try:
    with open(out) as f:
        old = f.read()
except FileNotFoundError:
    old = ""
pattern = re.compile(r"<!-- bench\.sh:begin.*?<!-- bench\.sh:end -->", re.S)
if pattern.search(old):
    new = pattern.sub(lambda _: section, old, count=1)
else:
    new = "# Benchmarks\n\n" + section + "\n" + (("\n" + old) if old.strip() else "")
with open(out, "w") as f:
    f.write(new)
print("\n".join(lines + [""] + ratios))
PY
