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

cargo build --quiet --bin learn
mkdir -p chapters/traces
for puzzle in "${puzzles[@]}"; do
    target/debug/learn viz "$puzzle" --json > "chapters/traces/$puzzle.jsonl"
    echo "chapters/traces/$puzzle.jsonl: $(($(wc -l < "chapters/traces/$puzzle.jsonl") - 1)) events"
done
# Chapter 12 reads this one as text too, by line numbers: check its excerpts after a change.
target/debug/learn viz c04-immediate-vs-timeout-in-timer --plain \
    > chapters/traces/c04-immediate-vs-timeout-in-timer.txt
