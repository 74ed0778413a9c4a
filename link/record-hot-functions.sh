#!/usr/bin/env bash
# Record which functions run while the console idles and while it shows the
# demo, and write them to link/hot-functions.txt, the order build.rs gives the
# linker. Run it after changes that move a lot of code, or after a new Rust
# release (symbol names carry the compiler's and every crate's hash, so a list
# from another toolchain matches nothing and the binary is simply laid out as
# before).
#
#   link/record-hot-functions.sh [TARGET_DIR]   (default target/hot)
#
# Needs valgrind (callgrind names every function that ran) and tmux (the
# console wants a terminal). Takes about ten minutes beside the build: the
# console runs some 50 times slower under callgrind.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-$root/target/hot}
work=$(mktemp -d)
trap 'tmux kill-session -t fw-hot 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in valgrind tmux nm; do
    command -v "$tool" >/dev/null || { echo "record-hot-functions: $tool is needed" >&2; exit 2; }
done

# The same profile as a release build, so the names match; only the linker keeps them.
if [[ ! -d $target/release && -d $root/target/release ]]; then
    mkdir -p "$target" && cp -al "$root/target/release" "$target/release"
fi
(cd "$root" && FIRSTWATCH_KEEP_SYMBOLS=1 cargo build --release --target-dir "$target")
bin=$target/release/firstwatch

cat >"$work/idle.toml" <<TOML
[settings]
data_dir = "$work/data"

[[check]]
name = "cpu"
system = "cpu"

[[check]]
name = "memory"
system = "memory"

[[check]]
name = "root disk"
disk = "/"
TOML

# record NAME SECONDS ARGS... [-- KEYS...]: run under callgrind in a 120x40
# terminal, type each key 10 s apart after SECONDS, then quit with q.
record() {
    local name=$1 settle=$2; shift 2
    local args=() keys=()
    while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
    (($#)) && shift && keys=("$@")
    tmux new-session -d -s fw-hot -x 120 -y 40 \
        "valgrind --tool=callgrind --demangle=no --callgrind-out-file=$work/$name.out $bin ${args[*]} 2>$work/$name.log"
    sleep "$settle"
    for key in "${keys[@]}"; do tmux send-keys -t fw-hot "$key"; sleep 10; done
    tmux send-keys -t fw-hot q
    while tmux has-session -t fw-hot 2>/dev/null; do sleep 1; done
    [[ -s $work/$name.out ]] || { echo "record-hot-functions: $name left no profile" >&2; cat "$work/$name.log" >&2; exit 1; }
}

record idle 45 --config "$work/idle.toml"
record demo 100 demo --dir "$work/demo"
rm -rf "$work/demo"
record tour 40 demo --dir "$work/demo" -- 2 3 4 5 6 1 '?' Escape : Escape j j Enter Escape

# Every function that ran, in the order the profiles first name them (idle,
# then the demo, then the tour), kept only where the binary defines it.
out=$root/link/hot-functions.txt
{
    echo "# Functions a release binary places first, so the code that runs while the console"
    echo "# idles and shows the demo shares pages instead of being spread over the whole"
    echo "# binary. Made by link/record-hot-functions.sh; build.rs passes it to the linker."
    echo "# $(rustc --version)"
    nm --defined-only "$bin" | awk '$2 ~ /^[tTwW]$/ {print $3}' |
        awk 'NR == FNR {defined[$1] = 1; next}
             match($0, /^c?fn=\([0-9]+\) /) {
                 name = substr($0, RLENGTH + 1)
                 if ((name in defined) && !(name in seen)) { seen[name] = 1; print name }
             }' - "$work/idle.out" "$work/demo.out" "$work/tour.out"
} >"$out"
echo "record-hot-functions: $(($(wc -l <"$out") - 4)) functions in $out"
