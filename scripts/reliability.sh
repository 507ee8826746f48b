#!/usr/bin/env bash
# The long reliability suite: the `long::` tests of tests/reliability.rs and
# tests/timer_models.rs, optimised, one at a time, each printing its figures.
#
#   scripts/reliability.sh            # everything (about two minutes after the build)
#   scripts/reliability.sh storm      # only the long tests whose name contains "storm"
#
# It runs
#   - 10,000 concurrent echo connections (the server in a process of its own): every byte
#     back, descriptors back to the baseline, the server's resident bytes per connection;
#   - a 1,000-cycle storm of peers that reset, half-close, vanish, or vanish mid-write;
#   - 20 rounds at the descriptor limit: bursts of 50 clients dropped, 1 s idle at the
#     limit each round (CPU ticks and poll phases counted), served again once descriptors
#     come free;
#   - 60 s of steady echo load over 64 connections: resident memory sampled every second;
#   - the timer heap and Node's timer lists against their models, 100,000 operations for
#     each of three seeds.
# The short versions of the same tests run in `cargo test`. The 10,000-connection test
# needs a hard descriptor limit above 10,256 (`ulimit -Hn`); below that it says it skipped.
# Copy the FIGURE lines into the README's "Reliability" section when they change.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="long::${1:-}"
cargo test --release --test reliability --test timer_models -- \
    --ignored --nocapture --test-threads=1 "$filter"
