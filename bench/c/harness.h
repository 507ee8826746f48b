/* What every C peer shares (scripts/compare-node.sh builds them against Debian's libuv1-dev;
 * bench/node/harness.js is the Node side of the same protocol): the command line
 * `[workload] [--runs N]`, one warm-up run then N timed runs in this process, and the result
 * line `<workload> ops=<n> median_ms=<ms> ops_per_s=<n>` with the median run. */
#ifndef PEER_HARNESS_H
#define PEER_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Reads `[name] [--runs N]`; exits with a usage line on anything else. */
static int parse_runs(int argc, char **argv, const char *name) {
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1) {
                fprintf(stderr, "--runs needs a positive integer\n");
                exit(2);
            }
        } else if (strcmp(argv[i], name) != 0) {
            fprintf(stderr, "unknown argument: %s\nusage: %s [%s] [--runs N]\n", argv[i],
                    argv[0], name);
            exit(2);
        }
    }
    return runs;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs `once` (which returns a run's elapsed nanoseconds) once to warm up, then `runs` times,
 * and prints the result line for `ops` operations a run. */
static void measure(const char *workload, long ops, int runs, uint64_t (*once)(void)) {
    double *ms = calloc((size_t)runs, sizeof *ms);
    once();
    for (int r = 0; r < runs; r++) ms[r] = (double)once() / 1e6;
    qsort(ms, (size_t)runs, sizeof *ms, by_value);
    double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    printf("%s ops=%ld median_ms=%.1f ops_per_s=%.0f\n", workload, ops, median,
           (double)ops / (median / 1000.0));
    free(ms);
}

#define CHECK(expr)                                                                      \
    do {                                                                                 \
        int check_rc_ = (expr);                                                          \
        if (check_rc_ < 0) {                                                             \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr,                \
                    uv_strerror(check_rc_));                                             \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

#endif
