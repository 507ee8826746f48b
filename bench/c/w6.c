/* W6 in C on libuv: an HTTP/1.1 server answering every request with `Hello, world!`, with
 * keep-alive and pipelining — the C floor under Node's http (bench/node/w6.js) and ours
 * (examples/http_hello.rs), loaded by `wrk -t1 -c100 -d10s` in scripts/compare-node.sh.
 *
 * It parses only as much as the comparison needs: a request ends at its blank line (no
 * bodies), and every request gets the same answer, so the server does the same work per
 * request as the others without a full parser. Answers to a batch of pipelined requests go
 * out in one write.
 *
 *   w6 [ADDRESS:PORT]      (default 127.0.0.1:8082; prints one line once it listens)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define RESPONSE                                                                          \
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n"
#define MAX_HEAD (16 * 1024)

typedef struct {
    uv_tcp_t tcp;
    /* The part of a request head that has not ended yet ("\r\n\r\n" may straddle reads). */
    char partial[MAX_HEAD + 4];
    size_t partial_len;
} conn_t;

static char read_buffer[64 * 1024];
static char *out;
static size_t out_cap;

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    (void)h;
    (void)size;
    *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void free_on_close(uv_handle_t *h) { free(h); }

static void after_write(uv_write_t *req, int status) {
    (void)status;
    free(req);
}

static void send_all(uv_stream_t *s, const char *data, size_t len) {
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &buf, 1);
    if (n == (int)len) return;
    if (n < 0 && n != UV_EAGAIN) {
        uv_close((uv_handle_t *)s, free_on_close);
        return;
    }
    if (n < 0) n = 0;
    struct {
        uv_write_t req;
        char data[];
    } *w = malloc(sizeof *w + len - (size_t)n);
    memcpy(w->data, data + n, len - (size_t)n);
    uv_buf_t rest = uv_buf_init(w->data, (unsigned)(len - (size_t)n));
    if (uv_write(&w->req, s, &rest, 1, after_write) < 0) free(w);
}

/* Counts the request heads that end in `data` (after what `c` kept), keeps the rest. */
static size_t complete_requests(conn_t *c, const char *data, size_t len) {
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        if (c->partial_len >= MAX_HEAD) return (size_t)-1;
        char ch = data[i];
        c->partial[c->partial_len++] = ch;
        if (ch == '\n' && c->partial_len >= 4 &&
            memcmp(c->partial + c->partial_len - 4, "\r\n\r\n", 4) == 0) {
            count++;
            c->partial_len = 0;
        }
    }
    return count;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn_t *c = (conn_t *)s;
    if (nread < 0) {
        uv_close((uv_handle_t *)s, free_on_close);
        return;
    }
    size_t n = complete_requests(c, buf->base, (size_t)nread);
    if (n == (size_t)-1) {
        uv_close((uv_handle_t *)s, free_on_close);
        return;
    }
    size_t need = n * (sizeof RESPONSE - 1);
    if (need == 0) return;
    if (need > out_cap) {
        out_cap = need * 2;
        out = realloc(out, out_cap);
    }
    for (size_t i = 0; i < n; i++) memcpy(out + i * (sizeof RESPONSE - 1), RESPONSE, sizeof RESPONSE - 1);
    send_all(s, out, need);
}

static void on_connection(uv_stream_t *srv, int status) {
    if (status < 0) return;
    conn_t *c = malloc(sizeof *c);
    c->partial_len = 0;
    uv_tcp_init(srv->loop, &c->tcp);
    if (uv_accept(srv, (uv_stream_t *)c) < 0 || uv_read_start((uv_stream_t *)c, alloc_cb, on_read) < 0) {
        uv_close((uv_handle_t *)c, free_on_close);
    }
}

int main(int argc, char **argv) {
    const char *arg = argc > 1 ? argv[1] : "127.0.0.1:8082";
    char host[64];
    int port = 0;
    if (sscanf(arg, "%63[^:]:%d", host, &port) != 2) {
        fprintf(stderr, "usage: %s [ADDRESS:PORT]\n", argv[0]);
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound;
    char shown[64];
    int rc;
    if ((rc = uv_ip4_addr(host, port, &addr)) < 0 || (rc = uv_tcp_init(loop, &server)) < 0 ||
        (rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&server, 511, on_connection)) < 0 ||
        (rc = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) < 0) {
        fprintf(stderr, "w6: %s\n", uv_strerror(rc));
        return 1;
    }
    uv_ip4_name((struct sockaddr_in *)&bound, shown, sizeof shown);
    printf("w6 c listening on http://%s:%d/\n", shown, ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
