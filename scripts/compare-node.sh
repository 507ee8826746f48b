#!/usr/bin/env bash
# Runs the same workloads in Node 20 and in this crate, back to back on this machine, and
# prints how fast each side was (DESIGN §7). It reports; it does not assert: a missed target
# still exits 0.
#
#   scripts/compare-node.sh [--runs N] [--round-trips N] [WORKLOAD...]
#
# With workload names (w2 w7a ...), runs only those. --round-trips sets w5's and w5-async's
# round trips per connection on every side (default 10,000): fewer for a quick look.
#
# Workloads (bench/node/*.js and examples/workloads.rs; w7b: examples/pbkdf2_waves.rs):
#   w1        1,000,000 setTimeout with delay i % 100 ms, until all fired   target >= 2x Node
#   w1-sched  the same timeouts scheduled, then all cleared (no waiting)     no target; context
#   w2        a chain of 1,000,000 setImmediate                              target >= 5x Node
#   w3        a chain of 5,000,000 process.nextTick                          target >= 3x Node
#   w4        5,000,000 Promise.resolve().then(next) steps                   target >= 1.5x Node
#   w4-async  one async function awaiting 5,000,000 resolved promises       target >= 1.5x Node
#             (`sum += await Promise.resolve(i)`; ours: a task, `.await`)
#   w4-async-pair  the same awaits made by two async functions taking turns:  no target; context
#             every hop waits in the microtask queue (none taken in place)
#   spawn     1,000,000 tasks spawned and run to completion, against       target >= 1.0x tokio
#             tokio's spawn_local on a LocalSet (bench/tokio)
#   w5        TCP echo in one process: 100 connections x 10,000 sequential   target >= 1.5x Node
#             64-byte round trips over 127.0.0.1; also against tokio's       and >= 1.0x tokio
#             current-thread runtime (bench/tokio, a crate of its own)
#   w5-async  w5 written with .await over AsyncRead/AsyncWrite (tasks):      target >= 0.9x
#             against our callback w5 (within 10%) and tokio; then the      our w5, and
#             system calls per round trip of both, counted with strace -c   >= 1.0x tokio
#             (1,000 round trips per connection, one run; needs strace)
#   w6        chapter 11's HTTP server, examples/http_hello (bench/node/w6.js  target >= 1.5x Node
#             for Node) under `wrk -t1 -c100 -d10s`: requests/s (needs
#             Debian's wrk; installed with apt-get when missing and running
#             as root)
#   C peers   w1, w2, w5 and w6 also run written in C on libuv (bench/c/*.c,   target >= 0.9x C
#             built with cc against Debian's libuv1-dev, installed with
#             apt-get when missing and running as root): the rows marked "c"
#   w7a       2,000 files of 4 KiB read at once with readFile (warm cache)   target >= 4x Node
#   w7b       8 pbkdf2 hashes at once, default pool and UV_THREADPOOL_SIZE=8  no target; printed
#             for both runtimes: when each hash finished (two waves of 4, or one of 8)
#   w8        10,000 idle connections from another process                   target <= 512
#             (examples/idle_client.rs): the server's resident memory        bytes per
#             (VmRSS) before and after, per connection (examples/idle_server.rs  connection
#             on the stream layer, and on chapter 9's bare handles for        (stream layer)
#             context; bench/node/w8.js for Node)
#   chat      chapter 11's chat server (examples/chat_server.rs; Node:       no target;
#             bench/node/chat_server.js) with 1,000 clients in another        printed
#             process (examples/chat_client.rs): 10 senders write 100 lines
#             each, every other client receives every line; deliveries
#             (a line reaching a client) per second, and the server's
#             resident memory with the room full and at its peak
# Each side does one warm-up run, then N timed runs (default 5), and reports the median
# (w6: a 2 s warm-up, then N runs of 10 s; w7b: one run per pool size, no warm-up; w8: one
# measurement each; chat: one run each). The servers of w6, w8 and chat listen on a free
# port of 127.0.0.1.
#
# w5 and w5-async run in N interleaved rounds instead: each round starts every side once
# (`--runs 1`: its own warm-up run, then one timed run), the order turning by one side each
# round, so that each ratio compares runs made within the same minute or two. On a shared
# machine the speed of one binary drifts by 20% from one minute to the next, more than the
# gap the w5 targets are about; blocks of N runs per side would let that drift pick the
# verdict. Their rows show each side's median ops/s, the median of the per-round ratios,
# and the spread (lowest-highest) of those ratios; a spread that straddles the target says
# the target is within the noise of this machine at this moment. The load average before
# and after is printed with them, and each side's CPU time (user + system) per round trip,
# median over the rounds (with /usr/bin/time): preemption by a neighbour hardly moves it.
set -euo pipefail

cd "$(dirname "$0")/.."

runs=5
round_trips=()
only=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs)
            runs="${2:?--runs needs a number}"
            shift 2
            ;;
        --round-trips)
            round_trips=(--round-trips "${2:?--round-trips needs a number}")
            shift 2
            ;;
        -h | --help)
            sed -n '2,65p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        w[0-9]* | spawn | chat)
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

wants() {
    [[ ${#only[@]} -eq 0 || " ${only[*]} " == *" $1 "* ]]
}

target_dir="${CARGO_TARGET_DIR:-target}"
echo "building the examples (release)..." >&2
cargo build --release --quiet --example workloads --example pbkdf2_waves --example http_hello \
    --example idle_server --example idle_client --example chat_server --example chat_client
ours_bin="$target_dir/release/examples/workloads"
waves_bin="$target_dir/release/examples/pbkdf2_waves"
examples="$target_dir/release/examples"
# The tokio peer is a crate of its own (its own workspace): built apart, into a target
# directory of its own, and only when w5 runs.
tokio_bin="$target_dir/tokio-peer/release/tokio-peer"
if wants w5 || wants spawn || wants w5-async; then
    echo "building the tokio peer (bench/tokio, release)..." >&2
    CARGO_TARGET_DIR="$target_dir/tokio-peer" cargo build --release --quiet \
        --manifest-path bench/tokio/Cargo.toml
fi

# The C peers on libuv (bench/c): built with the system's C compiler against Debian's
# libuv1-dev, into a directory of their own, only when a workload that has one runs.
c_dir="$target_dir/c-peer"
c_ready=false
if wants w1 || wants w2 || wants w5 || wants w6; then
    if [[ ! -e /usr/include/uv.h && "$(id -u)" == 0 ]] && command -v apt-get > /dev/null 2>&1; then
        echo "compare-node: libuv1-dev is missing; installing it (apt-get install -y libuv1-dev)..." >&2
        apt-get install -y libuv1-dev > /dev/null ||
            { apt-get update > /dev/null && apt-get install -y libuv1-dev > /dev/null; }
    fi
    if command -v cc > /dev/null 2>&1 && [[ -e /usr/include/uv.h ]]; then
        echo "building the C peers (bench/c, cc -O2, libuv" \
            "$(pkg-config --modversion libuv 2> /dev/null || echo '?'))..." >&2
        mkdir -p "$c_dir"
        for peer in w1 w2 w5 w6; do
            cc -O2 -o "$c_dir/$peer" "bench/c/$peer.c" -luv
        done
        c_ready=true
    else
        echo "compare-node: no C compiler or no libuv1-dev (uv.h): the C peers are skipped." >&2
    fi
fi

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
    "w4-async|bench/node/w4-async.js|1.5"
    "w4-async-pair|bench/node/w4-async.js w4-async-pair|-"
    "w5|bench/node/w5.js|1.5"
    "w7a|bench/node/w7a.js|4"
)

rows=()
# Adds a table row: workload, peer, the peer's and our ops/s, target ratio ("-" for none).
add_row() {
    local name="$1" peer="$2" peer_ops="$3" ours_ops="$4" target="$5" ratio verdict
    if [[ -z "$peer_ops" || -z "$ours_ops" ]]; then
        echo "compare-node: could not read ops_per_s for $name ($peer)" >&2
        exit 1
    fi
    ratio="$(awk -v a="$ours_ops" -v b="$peer_ops" 'BEGIN { printf "%.2f", a / b }')"
    if [[ "$target" == "-" ]]; then
        verdict="-"
    elif awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
        verdict=">= ${target}x met"
    else
        verdict=">= ${target}x MISSED"
    fi
    rows+=("$name|$peer|$peer_ops|$ours_ops|${ratio}x|$verdict")
}

# The load average (1, 5, 15 minutes) now.
load_now() {
    cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo "?"
}

# Interleaved rounds (see the header): `run_rounds SIDE CMD [SIDE CMD...]` runs every CMD
# (a command and its arguments, split on spaces) once per round with `--runs 1` and the
# round trips asked for, the order turning by one each round, and keeps each run's ops/s
# in round_ops[SIDE,ROUND].
# With /usr/bin/time, it also keeps the process's CPU time (user + system) per operation in
# microseconds, in round_cpu[SIDE,ROUND]: the warm-up run and the timed run both count, so
# it is CPU time over 2 x ops. Unlike ops/s, a neighbour that takes the CPU away does not
# change it much: it says what a round trip costs, where ops/s says how fast it went.
declare -A round_ops=() round_cpu=()
run_rounds() {
    local sides=() cmds=() round i k line timing ops cpu
    while [[ $# -gt 0 ]]; do
        sides+=("$1")
        cmds+=("$2")
        shift 2
    done
    timing="$(mktemp)"
    for ((round = 1; round <= runs; round++)); do
        for ((k = 0; k < ${#sides[@]}; k++)); do
            i=$(((k + round - 1) % ${#sides[@]}))
            if [[ -x /usr/bin/time ]]; then
                # shellcheck disable=SC2086 # a command and its arguments
                line="$(/usr/bin/time -f '%U %S' -o "$timing" ${cmds[i]} --runs 1 "${round_trips[@]}")"
                ops="$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<< "$line")"
                cpu="$(awk -v n="$ops" '{ printf "%.2f", ($1 + $2) * 1e6 / (2 * n) }' "$timing")"
                round_cpu[${sides[i]},$round]="$cpu"
                cpu=" cpu_us_per_op=$cpu"
            else
                # shellcheck disable=SC2086 # a command and its arguments
                line="$(${cmds[i]} --runs 1 "${round_trips[@]}")"
                cpu=""
            fi
            round_ops[${sides[i]},$round]="$(ops_per_s "$line")"
            echo "  round $round, ${sides[i]}: $line$cpu" >&2
        done
    done
    rm -f "$timing"
}

# One line: each side's CPU time per operation (median over the rounds), for sides $2...,
# under the title $1; nothing without /usr/bin/time.
cpu_line() {
    local title="$1" side round out=""
    shift
    [[ -x /usr/bin/time ]] || return 0
    for side in "$@"; do
        [[ -n "$side" ]] || continue
        out+=" $side $(for ((round = 1; round <= runs; round++)); do
            echo "${round_cpu[$side,$round]}"
        done | median_of "%.2f"),"
    done
    echo "$title:${out%,} (median over $runs rounds)"
}

# The median of the numbers on stdin (one a line), printed with format $1.
median_of() {
    sort -g | awk -v f="$1" '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf f, m }'
}

# A table row from interleaved rounds: workload $1, peer $2 (its side in round_ops),
# our side $3, target ratio $4, and the peer's name in the table $5 (default: $2). The ops/s shown are each side's median over the rounds;
# the ratio is the median of the per-round ratios ours/peer, and the verdict gives their
# spread.
add_round_row() {
    local name="$1" peer="$2" ours="$3" target="$4" label="${5:-$2}" round ratios=() ratio
    local lowest highest peer_ops ours_ops verdict
    for ((round = 1; round <= runs; round++)); do
        if [[ -z "${round_ops[$peer,$round]:-}" || -z "${round_ops[$ours,$round]:-}" ]]; then
            echo "compare-node: could not read ops_per_s for $name ($peer, round $round)" >&2
            exit 1
        fi
        ratios+=("$(awk -v a="${round_ops[$ours,$round]}" -v b="${round_ops[$peer,$round]}" \
            'BEGIN { printf "%.4f", a / b }')")
    done
    ratio="$(printf '%s\n' "${ratios[@]}" | median_of "%.2f")"
    lowest="$(printf '%s\n' "${ratios[@]}" | sort -g | head -n 1)"
    highest="$(printf '%s\n' "${ratios[@]}" | sort -g | tail -n 1)"
    peer_ops="$(for ((round = 1; round <= runs; round++)); do
        echo "${round_ops[$peer,$round]}"
    done | median_of "%.0f")"
    ours_ops="$(for ((round = 1; round <= runs; round++)); do
        echo "${round_ops[$ours,$round]}"
    done | median_of "%.0f")"
    if awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
        verdict=">= ${target}x met"
    else
        verdict=">= ${target}x MISSED"
    fi
    # Compared as shown (two decimals), as the median is.
    lowest="$(awk -v r="$lowest" 'BEGIN { printf "%.2f", r }')"
    highest="$(awk -v r="$highest" 'BEGIN { printf "%.2f", r }')"
    verdict+="$(awk -v lo="$lowest" -v hi="$highest" -v t="$target" -v n="$runs" 'BEGIN {
        printf " (%d rounds: %.2f-%.2fx", n, lo, hi
        if (lo < t && hi >= t) printf ", straddles the target"
        printf ")" }')"
    rows+=("$name|$label|$peer_ops|$ours_ops|${ratio}x|$verdict")
}

load_lines=()

for entry in "${workloads[@]}"; do
    IFS='|' read -r name node_cmd target <<< "$entry"
    if ! wants "$name"; then
        continue
    fi
    if [[ "$name" == w5 ]]; then
        # Interleaved: ours, tokio, C on libuv, Node, one run each per round.
        sides=(ours "$ours_bin w5" tokio "$tokio_bin w5")
        if [[ "$c_ready" == true ]]; then
            sides+=(c "$c_dir/w5 w5")
        fi
        sides+=(node "node $node_cmd")
        echo "running w5 in $runs rounds of: ours, tokio$([[ "$c_ready" == true ]] && echo ", C"), node" \
            "($node_version), the order turning each round..." >&2
        load_before="$(load_now)"
        run_rounds "${sides[@]}"
        load_lines+=("w5: load average $load_before before, $(load_now) after")
        cpu="$(cpu_line "w5: CPU microseconds (user + system) per round trip" \
            ours tokio "$([[ "$c_ready" == true ]] && echo c)" node)"
        if [[ -n "$cpu" ]]; then
            load_lines+=("$cpu")
        fi
        add_round_row w5 node ours "$target"
        add_round_row w5 tokio ours 1
        if [[ "$c_ready" == true ]]; then
            add_round_row w5 c ours 0.9
        fi
        continue
    fi
    echo "running $name: node ($node_version), then ours..." >&2
    # shellcheck disable=SC2086 # node_cmd is a script and its arguments
    node_line="$(node $node_cmd --runs "$runs")"
    ours_line="$("$ours_bin" "$name" --runs "$runs")"
    echo "  node: $node_line" >&2
    echo "  ours: $ours_line" >&2
    add_row "$name" node "$(ops_per_s "$node_line")" "$(ops_per_s "$ours_line")" "$target"
    if [[ "$c_ready" == true && -x "$c_dir/$name" ]]; then
        echo "running $name: C on libuv..." >&2
        c_line="$("$c_dir/$name" "$name" --runs "$runs")"
        echo "  c: $c_line" >&2
        add_row "$name" c "$(ops_per_s "$c_line")" "$(ops_per_s "$ours_line")" 0.9
    fi
done

# spawn: ours against tokio's spawn_local; no Node side.
if wants spawn; then
    echo "running spawn: tokio (current-thread, LocalSet), then ours..." >&2
    tokio_line="$("$tokio_bin" spawn --runs "$runs")"
    ours_line="$("$ours_bin" spawn --runs "$runs")"
    echo "  tokio: $tokio_line" >&2
    echo "  ours:  $ours_line" >&2
    add_row spawn tokio "$(ops_per_s "$tokio_line")" "$(ops_per_s "$ours_line")" 1
fi

# w5-async: the echo with .await, against our callback echo and tokio, then system calls.
syscall_lines=()
if wants w5-async; then
    echo "running w5-async in $runs rounds of: ours with callbacks (w5), ours with .await," \
        "tokio, the order turning each round..." >&2
    load_before="$(load_now)"
    run_rounds callbacks "$ours_bin w5" async "$ours_bin w5-async" tokio-async "$tokio_bin w5"
    load_lines+=("w5-async: load average $load_before before, $(load_now) after")
    cpu="$(cpu_line "w5-async: CPU microseconds (user + system) per round trip" \
        callbacks async tokio-async)"
    if [[ -n "$cpu" ]]; then
        load_lines+=("$cpu")
    fi
    add_round_row w5-async callbacks async 0.9 w5
    add_round_row w5-async tokio-async async 1 tokio
    if command -v strace > /dev/null 2>&1; then
        for name in w5 w5-async; do
            trace="$(mktemp)"
            # A warm-up run and one timed run of 100 connections x 1,000 round trips.
            strace -f -c -o "$trace" "$ours_bin" "$name" --runs 1 --round-trips 1000 > /dev/null
            calls="$(awk '$NF == "total" { print $4 }' "$trace")"
            syscall_lines+=("$name: $calls system calls for 200,000 round trips: $(
                awk -v c="$calls" 'BEGIN { printf "%.2f", c / 200000 }') per round trip")
            rm -f "$trace"
        done
    else
        syscall_lines+=("w5-async: strace is not installed; system calls not counted")
    fi
fi

# Prints the first line of file $1 that starts with $2, waiting up to $3 seconds for it
# while process $4 lives; fails otherwise.
await_line() {
    local file="$1" prefix="$2" secs="$3" pid="$4" i
    for ((i = 0; i < secs * 10; i++)); do
        if grep -q "^$prefix" "$file"; then
            grep -m 1 "^$prefix" "$file"
            return 0
        fi
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    echo "compare-node: no '$prefix' line from process $pid within ${secs} s; it said:" >&2
    cat "$file" >&2
    return 1
}

# Stops a server this script started (by its process id), quietly.
stop() {
    kill "$1" 2> /dev/null || true
    wait "$1" 2> /dev/null || true
}

# W6: a server (the command after $1) under wrk. Prints the result line; $1 names the side.
wrk_line() {
    local side="$1" out pid url rps=() run median
    shift
    out="$(mktemp)"
    "$@" > "$out" &
    pid=$!
    url="$(await_line "$out" "" 10 "$pid" | grep -o 'http://[^ ]*')" || {
        stop "$pid"
        rm -f "$out"
        return 1
    }
    wrk -t1 -c100 -d2s "$url" > /dev/null # warm-up
    for ((run = 0; run < runs; run++)); do
        rps+=("$(wrk -t1 -c100 -d10s "$url" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')")
    done
    stop "$pid"
    rm -f "$out"
    median="$(printf '%s\n' "${rps[@]}" | sort -g | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f", m }')"
    echo "  $side: wrk runs (requests/s): ${rps[*]}" >&2
    echo "w6 ops=$(awk -v r="$median" 'BEGIN { printf "%.0f", r * 10 }') median_ms=10000.0 ops_per_s=$median"
}

if wants w6; then
    if ! command -v wrk > /dev/null 2>&1; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get > /dev/null 2>&1; then
            echo "compare-node: wrk is missing; installing it (apt-get install -y wrk)..." >&2
            apt-get install -y wrk > /dev/null || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }
        fi
    fi
    if command -v wrk > /dev/null 2>&1; then
        echo "running w6: node ($node_version), then ours, each under wrk -t1 -c100 -d10s..." >&2
        node_line="$(wrk_line node node bench/node/w6.js 0)"
        ours_line="$(wrk_line ours "$examples/http_hello" 127.0.0.1:0)"
        echo "  node: $node_line" >&2
        echo "  ours: $ours_line" >&2
        add_row w6 node "$(ops_per_s "$node_line")" "$(ops_per_s "$ours_line")" 1.5
        if [[ "$c_ready" == true ]]; then
            c_line="$(wrk_line c "$c_dir/w6" 127.0.0.1:0)"
            echo "  c: $c_line" >&2
            add_row w6 c "$(ops_per_s "$c_line")" "$(ops_per_s "$ours_line")" 0.9
        fi
    else
        echo "compare-node: w6 needs wrk, which is not installed: run 'apt-get install wrk' as" \
            "root (Debian/Ubuntu), or put a wrk 4.x on PATH. w6 is skipped." >&2
        rows+=("w6|node|-|-|-|SKIPPED: wrk is not installed")
    fi
fi

# W8: resident memory per idle connection. Starts the server (the command after $1, which
# says how many connections it holds), reads its VmRSS, opens the connections from another
# process, waits until the server accepted them all, reads VmRSS again. Prints the result.
idle_connections=10000
idle_line() {
    local out pid addr before after client
    out="$(mktemp)"
    "$@" > "$out" &
    pid=$!
    addr="$(await_line "$out" "listening " 10 "$pid" | awk '{ print $2 }')" || {
        stop "$pid"
        rm -f "$out"
        return 1
    }
    sleep 0.5 # settled: whatever the server does at start is done
    before="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
    "$examples/idle_client" "$addr" "$idle_connections" 120 > /dev/null &
    client=$!
    if ! await_line "$out" "accepted " 60 "$pid" > /dev/null; then
        stop "$client"
        stop "$pid"
        rm -f "$out"
        return 1
    fi
    sleep 1 # idle for a moment
    after="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
    stop "$client"
    stop "$pid"
    rm -f "$out"
    echo "w8 connections=$idle_connections rss_before_kb=$before rss_after_kb=$after" \
        "bytes_per_connection=$(((after - before) * 1024 / idle_connections))"
}

w8_lines=()
if wants w8; then
    echo "running w8: node ($node_version), then ours, each holding $idle_connections idle connections..." >&2
    # Node does not raise its own descriptor limit: give it the hard limit.
    node_line="$(ulimit -n "$(ulimit -Hn)" && idle_line node bench/node/w8.js 127.0.0.1:0 "$idle_connections")"
    ours_line="$(idle_line "$examples/idle_server" 127.0.0.1:0 "$idle_connections" stream)"
    handles_line="$(idle_line "$examples/idle_server" 127.0.0.1:0 "$idle_connections" handles)"
    w8_lines+=("node           $node_line" "ours (stream)  $ours_line" "ours (handles) $handles_line")
    node_bytes="${node_line##*bytes_per_connection=}"
    ours_bytes="${ours_line##*bytes_per_connection=}"
    if ((ours_bytes <= 512)); then
        w8_verdict="<= 512 bytes met"
    else
        w8_verdict="<= 512 bytes MISSED"
    fi
    w8_lines+=("w8: ours $ours_bytes bytes per idle connection on the stream layer ($(
        )${handles_line##*bytes_per_connection=} on bare handles), Node $node_bytes; target $w8_verdict")
fi

# Chat: a server (the command after $1) loaded by examples/chat_client.rs, which reads the
# server's memory itself. Prints the client's result line.
chat_clients=1000
chat_line() {
    local out pid addr line
    out="$(mktemp)"
    "$@" > "$out" &
    pid=$!
    addr="$(await_line "$out" "chat_server listening on " 10 "$pid" | awk '{ print $NF }')" || {
        stop "$pid"
        rm -f "$out"
        return 1
    }
    line="$("$examples/chat_client" "$addr" "$pid" "$chat_clients" 10 100)" || {
        stop "$pid"
        rm -f "$out"
        return 1
    }
    stop "$pid"
    rm -f "$out"
    echo "$line"
}

# The field $2 (name=value) of line $1.
field() {
    sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<< " $1"
}

chat_lines=()
if wants chat; then
    echo "running chat: node ($node_version), then ours, each with $chat_clients clients..." >&2
    node_line="$(ulimit -n "$(ulimit -Hn)" && chat_line node bench/node/chat_server.js 127.0.0.1:0)"
    ours_line="$(ulimit -n "$(ulimit -Hn)" && chat_line "$examples/chat_server" 127.0.0.1:0)"
    echo "  node: $node_line" >&2
    echo "  ours: $ours_line" >&2
    for side in node ours; do
        line="${side}_line"
        line="${!line}"
        chat_lines+=("$(printf '%-5s %10s deliveries/s   resident memory: %6s KiB full, %6s KiB peak' \
            "$side" "$(field "$line" deliveries_per_s)" "$(field "$line" rss_full_kb)" \
            "$(field "$line" rss_peak_kb)")")
    done
    chat_lines+=("chat: ours/node $(awk -v a="$(field "$ours_line" deliveries_per_s)" \
        -v b="$(field "$node_line" deliveries_per_s)" 'BEGIN { printf "%.2f", a / b }')x $(
        )the deliveries per second, $(awk -v a="$(field "$ours_line" rss_peak_kb)" \
            -v b="$(field "$node_line" rss_peak_kb)" 'BEGIN { printf "%.2f", a / b }')x the peak memory")
fi

# W7b: not a speed ratio but a shape. Each runtime, each pool size, prints when every hash
# finished; the summary line of each is shown as it is.
w7b_lines=()
if wants w7b; then
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

if [[ ${#rows[@]} -eq 0 && ${#w7b_lines[@]} -eq 0 && ${#w8_lines[@]} -eq 0 &&
    ${#syscall_lines[@]} -eq 0 && ${#chat_lines[@]} -eq 0 ]]; then
    echo "compare-node: no workload is called ${only[*]}" >&2
    exit 2
fi

if [[ ${#rows[@]} -gt 0 ]]; then
    echo
    printf '%-10s %-6s %14s %14s %11s  %s\n' workload peer "peer ops/s" "ours ops/s" "ours/peer" target
    for row in "${rows[@]}"; do
        IFS='|' read -r name peer peer_ops ours_ops ratio verdict <<< "$row"
        printf '%-10s %-6s %14s %14s %11s  %s\n' "$name" "$peer" "$peer_ops" "$ours_ops" "$ratio" "$verdict"
    done
fi

if [[ ${#load_lines[@]} -gt 0 ]]; then
    echo
    printf '%s\n' "${load_lines[@]}"
fi

if [[ ${#syscall_lines[@]} -gt 0 ]]; then
    echo
    printf '%s\n' "${syscall_lines[@]}"
fi

if [[ ${#w7b_lines[@]} -gt 0 ]]; then
    echo
    echo "w7b: 8 pbkdf2 hashes at once; two waves: last_ms ~ 2x fourth_ms, one wave: about equal"
    printf '%s\n' "${w7b_lines[@]}"
fi

if [[ ${#w8_lines[@]} -gt 0 ]]; then
    echo
    printf '%s\n' "${w8_lines[@]}"
fi

if [[ ${#chat_lines[@]} -gt 0 ]]; then
    echo
    echo "chat: $chat_clients clients, 10 senders x 100 lines, every line to every other client"
    printf '%s\n' "${chat_lines[@]}"
fi
