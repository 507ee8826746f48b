#!/usr/bin/env bash
# Runs the same workloads in Node 20 and in this crate, back to back on this machine, and
# prints how fast each side was (DESIGN §7). It reports; it does not assert: a missed target
# still exits 0.
#
#   scripts/compare-node.sh [--runs N] [WORKLOAD...]
#
# With workload names (w2 w7a ...), runs only those.
#
# Workloads (bench/node/*.js and examples/workloads.rs; w7b: examples/pbkdf2_waves.rs):
#   w1        1,000,000 setTimeout with delay i % 100 ms, until all fired   target >= 2x Node
#   w1-sched  the same timeouts scheduled, then all cleared (no waiting)     no target; context
#   w2        a chain of 1,000,000 setImmediate                              target >= 5x Node
#   w3        a chain of 5,000,000 process.nextTick                          target >= 3x Node
#   w4        5,000,000 Promise.resolve().then(next) steps                   target >= 1.5x Node
#   w7a       2,000 files of 4 KiB read at once with readFile (warm cache)   target >= 4x Node
#   w7b       8 pbkdf2 hashes at once, default pool and UV_THREADPOOL_SIZE=8  no target; printed
#             for both runtimes: when each hash finished (two waves of 4, or one of 8)
# Each side does one warm-up run, then N timed runs (default 5), and reports the median
# (w7b: one run per pool size, no warm-up).
set -euo pipefail

cd "$(dirname "$0")/.."

runs=5
only=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs)
            runs="${2:?--runs needs a number}"
            shift 2
            ;;
        -h | --help)
            sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        w[0-9]*)
            only+=("$1")
            shift
            ;;
        *)
            echo "compare-node: unknown argument: $1 (try --help)" >&2
            exit 2
            ;;
    esac
done

if ! command -v node > /dev/null 2>&1; then
    echo "compare-node: 'node' was not found on PATH; install Node 20 to compare against it." >&2
    exit 1
fi
node_version="$(node --version)"
if [[ "$node_version" != v20.* ]]; then
    echo "compare-node: warning: the targets are against Node 20, this is Node $node_version" >&2
fi

echo "building examples/workloads and examples/pbkdf2_waves (release)..." >&2
cargo build --release --quiet --example workloads --example pbkdf2_waves
ours_bin="${CARGO_TARGET_DIR:-target}/release/examples/workloads"
waves_bin="${CARGO_TARGET_DIR:-target}/release/examples/pbkdf2_waves"

# The `ops_per_s=` field of a result line.
ops_per_s() {
    sed -n 's/.*ops_per_s=\([0-9]*\).*/\1/p' <<< "$1"
}

# workload | Node script and its arguments | target ratio (ours / Node), "-" for none
workloads=(
    "w1|bench/node/w1.js w1|2"
    "w1-sched|bench/node/w1.js w1-sched|-"
    "w2|bench/node/w2.js|5"
    "w3|bench/node/w3.js|3"
    "w4|bench/node/w4.js|1.5"
    "w7a|bench/node/w7a.js|4"
)

rows=()
for entry in "${workloads[@]}"; do
    IFS='|' read -r name node_cmd target <<< "$entry"
    if [[ ${#only[@]} -gt 0 && " ${only[*]} " != *" $name "* ]]; then
        continue
    fi
    echo "running $name: node ($node_version), then ours..." >&2
    # shellcheck disable=SC2086 # node_cmd is a script and its arguments
    node_line="$(node $node_cmd --runs "$runs")"
    ours_line="$("$ours_bin" "$name" --runs "$runs")"
    echo "  node: $node_line" >&2
    echo "  ours: $ours_line" >&2
    node_ops="$(ops_per_s "$node_line")"
    ours_ops="$(ops_per_s "$ours_line")"
    if [[ -z "$node_ops" || -z "$ours_ops" ]]; then
        echo "compare-node: could not read ops_per_s for $name" >&2
        exit 1
    fi
    ratio="$(awk -v a="$ours_ops" -v b="$node_ops" 'BEGIN { printf "%.2f", a / b }')"
    if [[ "$target" == "-" ]]; then
        verdict="-"
    elif awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
        verdict=">= ${target}x met"
    else
        verdict=">= ${target}x MISSED"
    fi
    rows+=("$name|$node_ops|$ours_ops|${ratio}x|$verdict")
done

# W7b: not a speed ratio but a shape. Each runtime, each pool size, prints when every hash
# finished; the summary line of each is shown as it is.
w7b_lines=()
if [[ ${#only[@]} -eq 0 || " ${only[*]} " == *" w7b "* ]]; then
    for size in default 8; do
        if [[ "$size" == default ]]; then
            env_args=(env -u UV_THREADPOOL_SIZE)
        else
            env_args=(env "UV_THREADPOOL_SIZE=$size")
        fi
        echo "running w7b (pool: $size): node ($node_version), then ours..." >&2
        node_line="$("${env_args[@]}" node bench/node/w7b.js | tail -n 1)"
        ours_line="$("${env_args[@]}" "$waves_bin" | tail -n 1)"
        w7b_lines+=("node  $node_line" "ours  $ours_line")
    done
fi

if [[ ${#rows[@]} -eq 0 && ${#w7b_lines[@]} -eq 0 ]]; then
    echo "compare-node: no workload is called ${only[*]}" >&2
    exit 2
fi

if [[ ${#rows[@]} -gt 0 ]]; then
    echo
    printf '%-10s %14s %14s %12s  %s\n' workload "Node ops/s" "ours ops/s" "ours/Node" target
    for row in "${rows[@]}"; do
        IFS='|' read -r name node_ops ours_ops ratio verdict <<< "$row"
        printf '%-10s %14s %14s %12s  %s\n' "$name" "$node_ops" "$ours_ops" "$ratio" "$verdict"
    done
fi

if [[ ${#w7b_lines[@]} -gt 0 ]]; then
    echo
    echo "w7b: 8 pbkdf2 hashes at once; two waves: last_ms ~ 2x fourth_ms, one wave: about equal"
    printf '%s\n' "${w7b_lines[@]}"
fi
