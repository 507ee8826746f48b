/* W1 in C on libuv: 1,000,000 timers with delay i % 100 ms, until every one has fired — the
 * floor under Node's setTimeout (bench/node/w1.js) and ours (examples/workloads.rs). libuv has
 * one heap of uv_timer_t; Node puts its own lists in front of one such timer, as we do.
 *
 *   w1 [w1] [--runs N]
 */
#include "harness.h"

#define N_TIMERS 1000000
#define SPREAD_MS 100

static uv_timer_t *timers;
static long fired;
static uint64_t start, end;

static void on_timeout(uv_timer_t *t) {
    (void)t;
    if (++fired == N_TIMERS) end = uv_hrtime();
}

static void on_close(uv_handle_t *h) { (void)h; }

static uint64_t once(void) {
    uv_loop_t *loop = uv_default_loop();
    fired = 0;
    uv_update_time(loop);
    start = uv_hrtime();
    for (long i = 0; i < N_TIMERS; i++) {
        CHECK(uv_timer_init(loop, &timers[i]));
        CHECK(uv_timer_start(&timers[i], on_timeout, (uint64_t)(i % SPREAD_MS), 0));
    }
    CHECK(uv_run(loop, UV_RUN_DEFAULT));
    /* Not timed: the handles are closed so the next run can use them again. */
    for (long i = 0; i < N_TIMERS; i++) uv_close((uv_handle_t *)&timers[i], on_close);
    uv_run(loop, UV_RUN_DEFAULT);
    return end - start;
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, "w1");
    timers = calloc(N_TIMERS, sizeof *timers);
    measure("w1", N_TIMERS, runs, once);
    return 0;
}
