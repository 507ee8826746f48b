#!/usr/bin/env bash
# Time to a learner's first feedback (issue 11): a fresh clone's `cargo learn stack`, cold.
#
#   scripts/first-feedback/run.sh [COMMIT]      # default HEAD
#
# Exports COMMIT (a clone has no target/) to a temporary folder and builds there with an
# empty CARGO_TARGET_DIR, in the two steps `cargo learn stack` takes:
#   1. the console: what `cargo run` (and the `cargo learn` alias) builds;
#   2. the exercise's tests, with the exact command the console runs (cargo_test.rs);
# then runs `cargo learn stack` itself, now warm: the feedback. Each step prints its wall
# time and its CPU seconds (user + system, children included), with the load average
# before and after: on a shared machine the CPU seconds are the figure to compare, and wall
# time on an idle machine is at least the CPU seconds over the cores. `--timings` reports
# (where each step's time went, crate by crate) are kept in the printed folder. Every rustc
# runs under rustc-cpu.sh, which logs its CPU seconds; with python3, simulate.py then says
# how long each build would take on two idle cores (see its docstring for the model).
# Needs no network when the registry cache is warm (`cargo fetch` first otherwise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
commit=$(git rev-parse --short "${1:-HEAD}")
work=$(mktemp -d "${TMPDIR:-/tmp}/first-feedback-$commit.XXXXXX")
mkdir "$work/src"
git archive "$commit" | tar -x -C "$work/src"
export CARGO_TARGET_DIR="$work/target"
export RUSTC_WRAPPER="$here/rustc-cpu.sh"
cd "$work/src"

step() {
    local name=$1
    shift
    printf '%-28s load %s\n' "$name" "$(cut -d' ' -f1-3 /proc/loadavg)"
    RUSTC_CPU_LOG="$work/$name.rustc-cpu" /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" \
        >"$work/$name.out" 2>&1 || true
    # `time` writes "Command exited with non-zero status N" first when the command fails
    # (the feedback on an untouched exercise does).
    read -r wall user sys < <(tail -n 1 "$work/time")
    awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" \
        'BEGIN { printf "%-28s %6.1f s wall  %6.1f s CPU (%.1f user, %.1f sys)\n", n, w, u + s, u, s }'
    if [ -f "$CARGO_TARGET_DIR/cargo-timings/cargo-timing.html" ]; then
        mv "$CARGO_TARGET_DIR/cargo-timings/cargo-timing.html" "$work/$name.timings.html"
        if command -v python3 >/dev/null; then
            printf '%-28s simulated: ' "$name"
            python3 "$here/simulate.py" "$work/$name.timings.html" "$work/$name.rustc-cpu" 2 \
                || echo "(no simulation)"
        fi
    fi
}

echo "commit $commit, $(nproc) cores, in $work"
step console cargo build --quiet --timings --bin learn
step exercise-tests cargo test --quiet --timings --no-run --no-default-features \
    --features learn-stack --test stack_and_heap
step feedback cargo learn stack
printf '%-28s load %s\n' "end" "$(cut -d' ' -f1-3 /proc/loadavg)"
tail -n 3 "$work/feedback.out"
