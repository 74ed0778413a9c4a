#!/usr/bin/env bash
# Soak: run `firstwatch demo` in a detached tmux session for a while, sample its
# resident memory every 30 s into a CSV, and say whether it stayed flat.
#
#   benches/soak.sh [-b BINARY] [-d DURATION] [-i INTERVAL] [-o CSV] [-w WARMUP]
#
#   -b  the binary (default target/release/firstwatch)
#   -d  how long to run: 90s, 45m, 2h (default 40m)
#   -i  seconds between samples (default 30)
#   -o  the CSV to write (default soak-<date>.csv in the current folder)
#   -w  warm-up left out of the verdict: 10m (default)
#   -t  tolerance of the verdict in KiB (default 1024, 1 MiB)
#
# The CSV has one row per sample: seconds since start, VmRSS, RssAnon and
# RssFile in KiB, and the thread count. At the end it prints the range of RSS
# after the warm-up and exits 0 if it is within the tolerance, 1 if not, and 2
# if the console died or the run was too short to judge. Not part of
# `cargo test`: it takes as long as you give it.
set -euo pipefail

bin=target/release/firstwatch
duration=40m
interval=30
csv="soak-$(date +%Y%m%d-%H%M%S).csv"
warmup=10m
tolerance=1024

while getopts "b:d:i:o:w:t:h" opt; do
    case $opt in
        b) bin=$OPTARG ;;
        d) duration=$OPTARG ;;
        i) interval=$OPTARG ;;
        o) csv=$OPTARG ;;
        w) warmup=$OPTARG ;;
        t) tolerance=$OPTARG ;;
        *) sed -n '2,18p' "$0"; exit 2 ;;
    esac
done

seconds() {
    local v=$1
    case $v in
        *h) echo $(( ${v%h} * 3600 )) ;;
        *m) echo $(( ${v%m} * 60 )) ;;
        *s) echo "${v%s}" ;;
        *) echo "$v" ;;
    esac
}
total=$(seconds "$duration")
skip=$(seconds "$warmup")

command -v tmux >/dev/null || { echo "soak: tmux is not installed" >&2; exit 2; }
[ -x "$bin" ] || { echo "soak: no binary at $bin (cargo build --release)" >&2; exit 2; }
bin=$(readlink -f "$bin")

session="fw-soak-$$"
scratch=$(mktemp -d)
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT INT TERM

# `exec` so that the pane's process is the console itself, not a shell.
tmux new-session -d -s "$session" -x 120 -y 40 \
    "exec '$bin' demo --dir '$scratch/demo' 2>'$scratch/stderr'"
pid=$(tmux list-panes -t "$session" -F '#{pane_pid}')

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

echo "seconds,vmrss_kib,rss_anon_kib,rss_file_kib,threads" >"$csv"
echo "soak: pid $pid, $total s, a sample every $interval s, into $csv"
start=$(date +%s)
while :; do
    now=$(( $(date +%s) - start ))
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "soak: the console exited after $now s" >&2
        cat "$scratch/stderr" >&2 || true
        exit 2
    fi
    # A sample that cannot be read (the console alive) is skipped, not taken for an exit.
    rss=$(field VmRSS || true)
    if [ -n "$rss" ]; then
        echo "$now,$rss,$(field RssAnon),$(field RssFile),$(field Threads)" >>"$csv"
    fi
    [ "$now" -ge "$total" ] && break
    sleep "$interval"
done

awk -F, -v skip="$skip" -v tol="$tolerance" '
    NR == 1 { next }
    NR == 2 { first = $2 }
    { last = $2; peak = ($2 > peak ? $2 : peak) }
    $1 >= skip {
        n++
        if (n == 1 || $2 < lo) lo = $2
        if (n == 1 || $2 > hi) hi = $2
        if (n == 1) at = $2
    }
    END {
        printf "soak: VmRSS first %.1f MiB, peak %.1f MiB, last %.1f MiB\n",
            first / 1024, peak / 1024, last / 1024
        if (n < 2) { print "soak: too short to judge (no two samples after the warm-up)"; exit 2 }
        printf "soak: after %d s: %d samples, %.2f to %.2f MiB (range %d KiB, from %.2f to %.2f MiB)\n",
            skip, n, lo / 1024, hi / 1024, hi - lo, at / 1024, last / 1024
        if (hi - lo <= tol) { printf "soak: flat within %d KiB\n", tol; exit 0 }
        printf "soak: NOT flat: range over %d KiB\n", tol; exit 1
    }' "$csv"
