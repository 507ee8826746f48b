/* W2 in C on libuv: a chain of 1,000,000 steps, one per turn of the loop, each run by the
 * check phase — what Node's setImmediate chain (bench/node/w2.js) is made of underneath: a
 * uv_check_t runs the immediates, and a uv_idle_t keeps the poll phase from blocking while
 * some are queued. Here the check callback is the step itself: the C floor for "one loop
 * iteration per callback".
 *
 *   w2 [w2] [--runs N]
 */
#include "harness.h"

#define CHAIN_LENGTH 1000000

static uv_check_t check;
static uv_idle_t idle;
static long ran;
static uint64_t end;

static void on_idle(uv_idle_t *h) { (void)h; }

static void on_check(uv_check_t *h) {
    (void)h;
    if (++ran == CHAIN_LENGTH) {
        end = uv_hrtime();
        uv_check_stop(&check);
        uv_idle_stop(&idle);
    }
}

static uint64_t once(void) {
    uv_loop_t *loop = uv_default_loop();
    ran = 0;
    uint64_t start = uv_hrtime();
    CHECK(uv_check_start(&check, on_check));
    CHECK(uv_idle_start(&idle, on_idle));
    CHECK(uv_run(loop, UV_RUN_DEFAULT));
    return end - start;
}

int main(int argc, char **argv) {
    int runs = parse_runs(argc, argv, "w2");
    CHECK(uv_check_init(uv_default_loop(), &check));
    CHECK(uv_idle_init(uv_default_loop(), &idle));
    measure("w2", CHAIN_LENGTH, runs, once);
    return 0;
}
