#!/usr/bin/env bash
# What tracing costs (chapter 12), measured on this machine:
#
#   off: W2 and W3 (examples/workloads.rs) built from BASE (default: main) and from the working
#        tree, run alternately ROUNDS times (default 10), each run reporting the median of 3;
#        prints the median of those medians for each build and their ratio.
#   on:  workloads run untraced, with EVENTLOOP_TRACE to a binary trace (a .trace file under
#        target/: format version 2, the default), and, for reference, to JSON lines (.jsonl),
#        alternately, 3 rounds; prints the ratio traced / untraced of the workload's own time
#        (the loop's run, as the workload times it) and of the whole process (which includes
#        writing out what the writer thread had not written yet when the run ended), the
#        files' sizes and the binary encoding's bytes per event (events counted as JSON lines).
#   instructions (with `on-instructions` as the third argument, and valgrind): the same
#        workloads under callgrind, one thread at a time: the loop's thread traced / untraced
#        (what recording costs the loop) and the writer thread's instructions (formatting).
#        Slow: minutes per workload.
#
#   bash scripts/trace-cost.sh [BASE] [ROUNDS] [off|on|on-instructions]
#
# With `off`, only the first measurement; with `on`, only the second. The instruction counts
# of the same runs, which a loaded machine does not disturb, come from valgrind when it is
# installed:
#   valgrind --tool=cachegrind --cache-sim=no <binary> w2 --runs 1
# A shared, loaded machine makes single runs noisy: only the interleaved medians mean anything,
# and a traced run has a second thread that a loaded machine does not give a core of its own.
# It reports; it asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-main}"
rounds="${2:-10}"
only="${3:-}"
work="${CARGO_TARGET_DIR:-target}/trace-cost"
mkdir -p "$work"

ms() { sed -n 's/.*median_ms=\([0-9.]*\).*/\1/p' <<< "$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "building the working tree's workloads (release)..." >&2
cargo build --release --quiet --example workloads
new="${CARGO_TARGET_DIR:-target}/release/examples/workloads"
if [[ "$only" != on* ]]; then
echo "building $base's workloads (release; a cold build takes minutes)..." >&2
rm -rf "$work/base-src"
mkdir -p "$work/base-src"
git archive "$base" | tar -x -C "$work/base-src"
(cd "$work/base-src" && CARGO_TARGET_DIR="$PWD/../base-target" cargo build --release --quiet --example workloads)
old="$work/base-target/release/examples/workloads"


echo
echo "tracing off: $base against the working tree, $rounds alternating rounds"
for w in w2 w3; do
    : > "$work/$w.old"
    : > "$work/$w.new"
    for ((r = 0; r < rounds; r++)); do
        if ((r % 2 == 0)); then order=(old new); else order=(new old); fi
        for which in "${order[@]}"; do
            bin="$old"
            [[ "$which" == new ]] && bin="$new"
            ms "$("$bin" "$w" --runs 3)" >> "$work/$w.$which"
        done
    done
    o="$(median < "$work/$w.old")"
    n="$(median < "$work/$w.new")"
    awk -v w="$w" -v o="$o" -v n="$n" -v b="$base" \
        'BEGIN { printf "  %s: %s %.1f ms, working tree %.1f ms: %+.1f%%\n", w, b, o, n, (n / o - 1) * 100 }'
done

if command -v valgrind > /dev/null 2>&1; then
    echo
    echo "instructions (valgrind's cachegrind; a warm-up run and one timed run each)"
    for w in w2 w3; do
        for which in old new; do
            bin="$old"
            [[ "$which" == new ]] && bin="$new"
            valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
                "$bin" "$w" --runs 1 2>&1 | sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d , \
                > "$work/$w.$which.ir"
        done
        awk -v w="$w" -v o="$(cat "$work/$w.old.ir")" -v n="$(cat "$work/$w.new.ir")" -v b="$base" \
            'BEGIN { printf "  %s: %s %.0f, working tree %.0f: %+.2f%%\n", w, b, o, n, (n / o - 1) * 100 }'
    done
fi
fi
[[ "$only" == off ]] && exit 0

if [[ "$only" == on-instructions ]]; then
    command -v valgrind > /dev/null 2>&1 || { echo "valgrind is not installed" >&2; exit 1; }
    echo
    echo "instructions under callgrind, by thread (a warm-up run and one timed run each)"
    cg="$work/callgrind"
    rm -rf "$cg"
    mkdir -p "$cg"
    total() { sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$1"; }
    for w in w3 w2 w1; do
        valgrind --tool=callgrind --callgrind-out-file="$cg/$w.plain" "$new" "$w" --runs 1 > /dev/null 2>&1
        EVENTLOOP_TRACE="$cg/trace.trace" valgrind --tool=callgrind --separate-threads=yes \
            --callgrind-out-file="$cg/$w.traced" "$new" "$w" --runs 1 > /dev/null 2>&1
        rm -f "$cg"/trace*.trace
        # Thread 1 is the loop's; the writer threads (one per traced loop) come after it.
        plain="$(total "$cg/$w.plain")"
        loop="$(total "$cg/$w.traced-01")"
        writer=0
        for f in "$cg/$w.traced"-0[2-9]; do writer=$((writer + $(total "$f"))); done
        awk -v w="$w" -v p="$plain" -v l="$loop" -v t="$writer" 'BEGIN {
            printf "  %s: untraced %.0f M, traced: loop thread %.0f M (%.2fx), writer threads %.0f M\n",
                w, p / 1e6, l / 1e6, l / p, t / 1e6 }'
    done
    exit 0
fi

echo
echo "tracing on (EVENTLOOP_TRACE to a binary .trace file, and to .jsonl for reference), 3 alternating rounds"
for spec in "w7a" "w5 --round-trips 1000" "w1" "w2" "w3"; do
    read -r -a args <<< "$spec"
    for kind in plain trace jsonl; do
        : > "$work/on.$kind"
        : > "$work/on.$kind.all"
    done
    for ((r = 0; r < 3; r++)); do
        for kind in plain trace jsonl; do
            rm -f "$work"/trace*."$kind"
            env=()
            [[ "$kind" != plain ]] && env=("EVENTLOOP_TRACE=$work/trace.$kind")
            start="$(date +%s%N)"
            ms "$(env "${env[@]}" "$new" "${args[@]}" --runs 1)" >> "$work/on.$kind"
            echo "$((($(date +%s%N) - start) / 1000000))" >> "$work/on.$kind.all"
            [[ "$kind" != plain ]] && cat "$work"/trace*."$kind" | wc -c > "$work/on.$kind.bytes"
            [[ "$kind" == jsonl ]] && cat "$work"/trace*.jsonl | wc -l > "$work/on.jsonl.lines"
            rm -f "$work"/trace*."$kind"
        done
    done
    p="$(median < "$work/on.plain")"
    pa="$(median < "$work/on.plain.all")"
    for kind in trace jsonl; do
        t="$(median < "$work/on.$kind")"
        ta="$(median < "$work/on.$kind.all")"
        awk -v s="$spec" -v k="$kind" -v p="$p" -v t="$t" -v pa="$pa" -v ta="$ta" \
            -v b="$(cat "$work/on.$kind.bytes")" \
            'BEGIN { printf "  %-22s %-6s run: untraced %7.1f ms, traced %7.1f ms: %5.2fx;  process: %6.0f ms, %6.0f ms: %5.2fx  (%.1f MB of trace, two runs)\n", s, k, p, t, t / p, pa, ta, ta / pa, b / 1e6 }'
    done
    awk -v b="$(cat "$work/on.trace.bytes")" -v l="$(cat "$work/on.jsonl.lines")" \
        'BEGIN { if (l > 0) printf "  %-22s binary: %.2f bytes an event (%d events, two runs)\n", "", b / l, l }'
done
echo "  (load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
