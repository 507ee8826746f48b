/* W5 in C on libuv: TCP echo in one process — a server on 127.0.0.1 and 100 clients on the
 * same loop, each doing 10,000 sequential round trips of 64 bytes (write, wait until all 64
 * came back, write again). Nagle is off on both ends. The C floor under Node's net
 * (bench/node/w5.js) and ours (examples/workloads.rs).
 *
 * Writes are tried at once (uv_try_write) and queued with uv_write only for what the kernel
 * did not take — what Node's streams and ours do. Reads use one static buffer, since every
 * byte is consumed (echoed or counted) inside the read callback.
 *
 *   w5 [w5] [--runs N] [--round-trips N]   (round trips per connection, default 10,000)
 */
#include "harness.h"

#define CONNECTIONS 100
#define DEFAULT_ROUND_TRIPS 10000
#define MESSAGE 64

typedef struct {
    uv_tcp_t tcp;
    long trips;
    int got;
} client_t;

static uv_tcp_t server;
static client_t clients[CONNECTIONS];
static int clients_done;
static uint64_t end;
static char read_buffer[64 * 1024];
static char message[MESSAGE];
static long round_trips = DEFAULT_ROUND_TRIPS;

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    (void)h;
    (void)size;
    *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void free_on_close(uv_handle_t *h) { free(h); }
static void no_close(uv_handle_t *h) { (void)h; }

static void after_write(uv_write_t *req, int status) {
    (void)status;
    free(req);
}

/* Writes `len` bytes: at once if the kernel takes them, the rest through a write request. */
static void send_all(uv_stream_t *s, const char *data, size_t len) {
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &buf, 1);
    if (n == (int)len) return;
    if (n < 0) n = 0;
    struct {
        uv_write_t req;
        char data[];
    } *w = malloc(sizeof *w + len - (size_t)n);
    memcpy(w->data, data + n, len - (size_t)n);
    uv_buf_t rest = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
    CHECK(uv_write(&w->req, s, &rest, 1, after_write));
}

static void echo_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    if (nread > 0) {
        send_all(s, buf->base, (size_t)nread);
    } else if (nread < 0) {
        uv_close((uv_handle_t *)s, free_on_close);
    }
}

static void on_connection(uv_stream_t *srv, int status) {
    CHECK(status);
    uv_tcp_t *conn = malloc(sizeof *conn);
    CHECK(uv_tcp_init(srv->loop, conn));
    CHECK(uv_accept(srv, (uv_stream_t *)conn));
    CHECK(uv_tcp_nodelay(conn, 1));
    CHECK(uv_read_start((uv_stream_t *)conn, alloc_cb, echo_read));
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    (void)buf;
    client_t *c = (client_t *)s;
    if (nread < 0) {
        fprintf(stderr, "client read: %s\n", uv_strerror((int)nread));
        exit(1);
    }
    c->got += (int)nread;
    if (c->got < MESSAGE) return;
    c->got -= MESSAGE;
    if (++c->trips < round_trips) {
        send_all(s, message, MESSAGE);
        return;
    }
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, no_close);
    if (++clients_done == CONNECTIONS) {
        end = uv_hrtime();
        uv_close((uv_handle_t *)&server, no_close);
    }
}

static void on_connect(uv_connect_t *req, int status) {
    CHECK(status);
    uv_stream_t *s = req->handle;
    free(req);
    CHECK(uv_tcp_nodelay((uv_tcp_t *)s, 1));
    CHECK(uv_read_start(s, alloc_cb, client_read));
    send_all(s, message, MESSAGE);
}

static uint64_t once(void) {
    uv_loop_t *loop = uv_default_loop();
    struct sockaddr_in addr;
    CHECK(uv_ip4_addr("127.0.0.1", 0, &addr));
    CHECK(uv_tcp_init(loop, &server));
    CHECK(uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0));
    CHECK(uv_listen((uv_stream_t *)&server, 511, on_connection));
    struct sockaddr_storage bound;
    int len = sizeof bound;
    CHECK(uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len));
    clients_done = 0;
    uint64_t start = uv_hrtime();
    for (int i = 0; i < CONNECTIONS; i++) {
        clients[i].trips = 0;
        clients[i].got = 0;
        CHECK(uv_tcp_init(loop, &clients[i].tcp));
        uv_connect_t *req = malloc(sizeof *req);
        CHECK(uv_tcp_connect(req, &clients[i].tcp, (const struct sockaddr *)&bound, on_connect));
    }
    CHECK(uv_run(loop, UV_RUN_DEFAULT));
    return end - start;
}

int main(int argc, char **argv) {
    /* `--round-trips N` is w5's own; the rest goes to the shared parser. */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--round-trips") == 0 && i + 1 < argc) {
            round_trips = atol(argv[++i]);
            if (round_trips < 1) {
                fprintf(stderr, "--round-trips needs a positive integer\n");
                return 2;
            }
        } else {
            argv[kept++] = argv[i];
        }
    }
    int runs = parse_runs(kept, argv, "w5");
    memset(message, 'x', sizeof message);
    measure("w5", (long)CONNECTIONS * round_trips, runs, once);
    return 0;
}
