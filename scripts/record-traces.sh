#!/usr/bin/env bash
# Records the trace of each chapter's main puzzle into chapters/traces/, where the book's
# trace player reads it (theme/trace-player.js). Run it after a change to the loop or to a
# port; tests/trace.rs (the_books_traces_are_what_their_ports_record_today) fails until the
# committed traces are what the ports record.
#
#   bash scripts/record-traces.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# One puzzle per chapter (chapter 1's puzzles run on the stack alone, before there is a loop).
puzzles=(
    p01-main-basic                       # 2  the task queue
    p09-timer-list-order                 # 3  timers
    p18-immediate-next-iteration         # 4  phases
    p04-microtasks-between-timers        # 5  nextTick and microtasks
    p15-beforeexit                       # 6  refs
    p23-microtasks-between-io-callbacks  # 7  the thread pool
    c08-one-wait-two-sockets             # 8  kernel I/O
    p22-close-phase                      # 9  networking
    c04-immediate-vs-timeout-in-timer    # 12 watching the loop
)

cargo build --quiet --bin learn --features viz-ports
mkdir -p chapters/traces
for puzzle in "${puzzles[@]}"; do
    target/debug/learn viz "$puzzle" --json > "chapters/traces/$puzzle.jsonl"
    echo "chapters/traces/$puzzle.jsonl: $(($(wc -l < "chapters/traces/$puzzle.jsonl") - 1)) events"
done
# Chapter 12 reads this one as text too, in excerpts named by anchors: `prelude`, from the main
# script to the end of the timers phase before the first iteration, then `iteration_N`, from
# the N-th iteration's poll phase to its alive decision. tests/viz.rs checks the file, anchors
# aside, is what the visualizer prints today; `cargo learn check`, that every anchor the chapter
# names is here. After a change, read the chapter's walk-through against the new excerpts.
walk=chapters/traces/c04-immediate-vs-timeout-in-timer.txt
target/debug/learn viz c04-immediate-vs-timeout-in-timer --plain | awk '
    NR == 2 { print "ANCHOR: prelude"; open = "prelude" }
    open == "" && /enter the poll phase$/ { n++; open = "iteration_" n; print "ANCHOR: " open }
    { print }
    open == "prelude" && /leave the timers phase$/ { print "ANCHOR_END: " open; open = "" }
    open ~ /^iteration_/ && / alive\? / { print "ANCHOR_END: " open; open = "" }
    END { if (open != "" || n < 3) exit 1 }
' > "$walk" || { echo "$walk: the replay no longer has the shape chapter 12 walks through" >&2; exit 1; }
# The chapter's first look at the format: the header and the first events.
head -n 6 chapters/traces/c04-immediate-vs-timeout-in-timer.jsonl \
    > chapters/traces/c04-immediate-vs-timeout-in-timer-head.txt
