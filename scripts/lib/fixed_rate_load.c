/*
 * Open-loop HTTP/1.1 load at a fixed rate, latency corrected for coordinated omission (the wrk2 model): the
 * native twin of bench-jmh's io.turnpike.bench.load.FixedRateLoad, same options, same model, same output line.
 * scripts/bench.sh --rate builds it with `cc -O2` when a C compiler is there (docs/benchmarks.md).
 *
 * Why a second one: on the 2-core development machine the generator shares the load core with the backend. The
 * Java generator (two threads, NIO) costs ~27 us of CPU per request when a proxy is in between, so at 20,000 req/s it
 * needs more than half a core and the load core saturates: the requests then leave hundreds of ms late. This one is a
 * single thread on epoll, one send and one recv per request.
 *
 * Request n is due at t0 + n / rate and goes to keep-alive connection n % conns, one request in flight per
 * connection (queued on it while it waits for the previous answer). Its latency is measured from when it was due.
 * The thread wakes at most once per --tick-us (requests due within a tick leave together, each measured from its
 * own due time); epoll_pwait2 gives the wait nanosecond resolution.
 *
 *   fixed-rate-load --url http://127.0.0.1:8080/ --rate 20000 --conns 64 --warmup 2 --duration 10 \
 *                   [--timeout-ms 5000] [--tick-us 250] [--cpu-pids 123,124]
 *
 * Prints FIXED_RATE_JSON {...} (times in microseconds) as FixedRateLoad does.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NS 1000000000LL

static void die(const char *msg) {
    fprintf(stderr, "fixed-rate-load: %s\n", msg);
    exit(2);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * NS + ts.tv_nsec;
}

/* ---- log-linear histogram (relative error < 0.1 %), values in ns ---- */
#define SUB 1024
#define BUCKETS (2 * SUB + 40 * SUB)
typedef struct {
    uint64_t counts[BUCKETS];
    uint64_t total;
    int64_t max;
    double sum;
} hist;

static int h_index(int64_t v) {
    if (v < 2 * SUB) return (int) v;
    int msb = 63 - __builtin_clzll((uint64_t) v);
    int shift = msb - 10; /* v >> shift is in [1024, 2048) */
    int idx = 2 * SUB + (shift - 1) * SUB + (int) ((v >> shift) - SUB);
    return idx < BUCKETS ? idx : BUCKETS - 1;
}

static int64_t h_value(int idx) { /* the middle of the bucket */
    if (idx < 2 * SUB) return idx;
    int shift = (idx - 2 * SUB) / SUB + 1;
    int64_t sub = (idx - 2 * SUB) % SUB + SUB;
    return (sub << shift) + ((1LL << shift) >> 1);
}

static void h_record(hist *h, int64_t v) {
    if (v < 0) v = 0;
    if (v > 60 * NS) v = 60 * NS;
    h->counts[h_index(v)]++;
    h->total++;
    h->sum += (double) v;
    if (v > h->max) h->max = v;
}

static int64_t h_percentile(const hist *h, double p) {
    if (h->total == 0) return 0;
    uint64_t want = (uint64_t) (p / 100.0 * (double) h->total + 0.5);
    if (want < 1) want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            int64_t v = h_value(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

static void h_json(const char *prefix, const hist *h) {
    printf(",\"%scount\":%llu,\"%sp50_us\":%.1f,\"%sp90_us\":%.1f,\"%sp99_us\":%.1f,\"%sp999_us\":%.1f,"
           "\"%smax_us\":%.1f,\"%smean_us\":%.1f",
           prefix, (unsigned long long) h->total, prefix, h_percentile(h, 50) / 1e3, prefix,
           h_percentile(h, 90) / 1e3, prefix, h_percentile(h, 99) / 1e3, prefix, h_percentile(h, 99.9) / 1e3,
           prefix, h->max / 1e3, prefix, h->total ? h->sum / (double) h->total / 1e3 : 0.0);
}

/* ---- response framing: the rules of bench-jmh's ResponseFramer ---- */
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int eq_ci(const char *p, size_t n, const char *lit) {
    size_t m = strlen(lit);
    if (n != m) return 0;
    for (size_t i = 0; i < m; i++)
        if (lower((unsigned char) p[i]) != lit[i]) return 0;
    return 1;
}

static int contains_ci(const char *p, size_t n, const char *lit) {
    size_t m = strlen(lit);
    for (size_t i = 0; i + m <= n; i++)
        if (eq_ci(p + i, m, lit)) return 1;
    return 0;
}

/* Index just past the first CRLF in [from, limit), or -1. */
static long line_end(const char *b, long from, long limit) {
    for (long i = from; i + 1 < limit; i++)
        if (b[i] == '\r' && b[i + 1] == '\n') return i + 2;
    return -1;
}

/* Length of the one whole response at the start of b[0, len): >0 consumed, -1 need more, -2 malformed. */
static long frame(const char *b, long len, int *status, int *close) {
    long head_end = -1;
    for (long i = 0; i + 3 < len; i++) {
        if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
            head_end = i + 4;
            break;
        }
    }
    if (head_end < 0) return -1;
    long status_end = line_end(b, 0, head_end) - 2;
    if (status_end < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -2;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (b[i] < '0' || b[i] > '9') return -2;
        st = st * 10 + (b[i] - '0');
    }
    int http10 = b[7] == '0';
    long long content_length = -1;
    int chunked = 0, cl = http10;
    long line = status_end + 2;
    while (line < head_end - 2) {
        long eol = line_end(b, line, head_end) - 2;
        const char *colon = memchr(b + line, ':', (size_t) (eol - line));
        if (colon && colon > b + line) {
            long name_end = colon - b;
            while (name_end > line && (b[name_end - 1] == ' ' || b[name_end - 1] == '\t')) name_end--;
            long v = colon - b + 1;
            while (v < eol && (b[v] == ' ' || b[v] == '\t')) v++;
            long v_end = eol;
            while (v_end > v && (b[v_end - 1] == ' ' || b[v_end - 1] == '\t')) v_end--;
            if (eq_ci(b + line, (size_t) (name_end - line), "content-length")) {
                if (v_end == v || v_end - v > 18) return -2;
                content_length = 0;
                for (long i = v; i < v_end; i++) {
                    if (b[i] < '0' || b[i] > '9') return -2;
                    content_length = content_length * 10 + (b[i] - '0');
                }
            } else if (eq_ci(b + line, (size_t) (name_end - line), "transfer-encoding")) {
                chunked = contains_ci(b + v, (size_t) (v_end - v), "chunked");
            } else if (eq_ci(b + line, (size_t) (name_end - line), "connection")) {
                cl = contains_ci(b + v, (size_t) (v_end - v), "close")
                        || (http10 && !contains_ci(b + v, (size_t) (v_end - v), "keep-alive"));
            }
        }
        line = eol + 2;
    }
    long p = head_end;
    if (st == 204 || st == 304 || (st >= 100 && st < 200)) {
        content_length = 0;
        chunked = 0;
    }
    if (chunked) {
        for (;;) {
            long eol = line_end(b, p, len);
            if (eol < 0) return -1;
            long size_end = eol - 2;
            const char *semi = memchr(b + p, ';', (size_t) (size_end - p));
            if (semi) size_end = semi - b;
            long s = p, e = size_end;
            while (s < e && (b[s] == ' ' || b[s] == '\t')) s++;
            while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t')) e--;
            if (s == e || e - s > 15) return -2;
            long long size = 0;
            for (long i = s; i < e; i++) {
                int c = lower((unsigned char) b[i]);
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0) return -2;
                size = size * 16 + d;
            }
            p = eol;
            if (size == 0) {
                for (;;) { /* trailers, then the empty line */
                    eol = line_end(b, p, len);
                    if (eol < 0) return -1;
                    int empty = eol - 2 == p;
                    p = eol;
                    if (empty) break;
                }
                break;
            }
            if (p + size + 2 > len) return -1;
            p += (long) size + 2;
        }
    } else if (content_length >= 0) {
        if (p + content_length > len) return -1;
        p += (long) content_length;
    } else {
        return -2; /* no Content-Length and not chunked: not supported */
    }
    *status = st;
    *close = cl;
    return p;
}

/* ---- connections ---- */
typedef struct {
    int fd;
    int in_flight;
    int64_t intended, sent;
    int64_t *pending; /* ring of due times */
    int cap, head, size;
    char *buf;
    long buf_len, buf_cap;
} conn;

static struct sockaddr_in addr;
static char request[2048];
static size_t request_len;
static int ep;
static conn *conns;
static int nconns;
static int64_t t0, measure_start, end_ns, timeout_ns, tick_ns;
static double rate;
static hist corrected, uncorrected, send_lag;
static unsigned long long completed, non2xx, connect_errors, read_errors, timeout_errors, bytes_read;

static void push(conn *c, int64_t t) {
    if (c->size == c->cap) {
        int ncap = c->cap ? c->cap * 2 : 64;
        int64_t *p = malloc(sizeof(int64_t) * (size_t) ncap);
        if (!p) die("out of memory");
        for (int i = 0; i < c->size; i++) p[i] = c->pending[(c->head + i) % c->cap];
        free(c->pending);
        c->pending = p;
        c->cap = ncap;
        c->head = 0;
    }
    c->pending[(c->head + c->size) % c->cap] = t;
    c->size++;
}

static int64_t poll_due(conn *c) {
    int64_t t = c->pending[c->head];
    c->head = (c->head + 1) % c->cap;
    c->size--;
    return t;
}

static void open_conn(conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) return;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *) &addr, sizeof addr) != 0) { /* blocking; loopback */
        close(c->fd);
        c->fd = -1;
        return;
    }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->buf_len = 0;
}

static void send_next(conn *c, int64_t now);

/* The in-flight request failed; the connection is replaced. */
static void fail(conn *c, int64_t now, int timeout) {
    if (c->in_flight && c->intended >= measure_start) {
        if (timeout) timeout_errors++;
        else read_errors++;
        h_record(&corrected, now - c->intended);
    }
    c->in_flight = 0;
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (now < end_ns) {
        open_conn(c);
        if (c->fd < 0) connect_errors++;
    }
}

static void send_next(conn *c, int64_t now) {
    if (c->in_flight || c->size == 0 || c->fd < 0) return;
    c->intended = poll_due(c);
    c->sent = now;
    c->in_flight = 1;
    size_t off = 0;
    while (off < request_len) {
        ssize_t w = send(c->fd, request + off, request_len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t) w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue; /* cannot happen with one small request in flight */
        } else {
            fail(c, now, 0);
            return;
        }
    }
}

static void on_readable(conn *c) {
    for (;;) {
        if (c->buf_len == c->buf_cap) {
            c->buf_cap = c->buf_cap ? c->buf_cap * 2 : 16384;
            c->buf = realloc(c->buf, (size_t) c->buf_cap);
            if (!c->buf) die("out of memory");
        }
        long space = c->buf_cap - c->buf_len;
        ssize_t r = recv(c->fd, c->buf + c->buf_len, (size_t) space, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) return;
        if (r <= 0) {
            int64_t t = now_ns();
            fail(c, t, 0);
            send_next(c, t);
            return;
        }
        c->buf_len += r;
        long off = 0;
        for (;;) {
            int status = 0, cl = 0;
            long n = frame(c->buf + off, c->buf_len - off, &status, &cl);
            if (n == -1) break;
            if (n == -2 || !c->in_flight) { /* garbage, or an answer nobody asked for */
                c->buf_len = 0;
                int64_t t = now_ns();
                fail(c, t, 0);
                send_next(c, t);
                return;
            }
            int64_t done = now_ns();
            if (c->intended >= measure_start) {
                h_record(&corrected, done - c->intended);
                h_record(&uncorrected, done - c->sent);
                h_record(&send_lag, c->sent - c->intended);
                completed++;
                bytes_read += (unsigned long long) n;
                if (status < 200 || status > 399) non2xx++;
            }
            c->in_flight = 0;
            off += n;
            if (cl) {
                c->buf_len = 0;
                fail(c, done, 0);
                send_next(c, done);
                return;
            }
            send_next(c, done);
        }
        if (off > 0) {
            memmove(c->buf, c->buf + off, (size_t) (c->buf_len - off));
            c->buf_len -= off;
        }
        if (r < space) return; /* drained: skip the read that would only say EAGAIN */
    }
}

static int64_t due(long long n) { return t0 + (int64_t) ((double) n * (double) NS / rate); }

static long long cpu_ticks(const int *pids, int n) {
    long long total = 0;
    for (int i = 0; i < n; i++) {
        char path[64], stat[4096];
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        FILE *f = fopen(path, "r");
        if (!f) return -1;
        size_t k = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[k] = 0;
        char *p = strrchr(stat, ')');
        if (!p) return -1;
        unsigned long long ut, st;
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
        total += (long long) (ut + st);
    }
    return total;
}

int main(int argc, char **argv) {
    const char *url = NULL;
    double warmup = 3, duration = 10;
    long timeout_ms = 5000, tick_us = 250;
    int pids[64], npids = 0;
    nconns = 64;
    rate = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: fixed-rate-load --url http://HOST:PORT/PATH --rate REQ_PER_S [--conns N] [--warmup S] "
                   "[--duration S] [--timeout-ms MS] [--tick-us US] [--cpu-pids PID,PID...]\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "fixed-rate-load: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--url")) url = v;
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--conns")) nconns = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--timeout-ms")) timeout_ms = atol(v);
        else if (!strcmp(a, "--tick-us")) tick_us = atol(v);
        else if (!strcmp(a, "--cpu-pids")) {
            char *copy = strdup(v), *save = NULL;
            for (char *t = strtok_r(copy, ",", &save); t && npids < 64; t = strtok_r(NULL, ",", &save))
                if (*t) pids[npids++] = atoi(t);
            free(copy);
        } else {
            fprintf(stderr, "fixed-rate-load: unknown option %s\n", a);
            return 2;
        }
    }
    if (!url || rate <= 0 || nconns <= 0 || duration <= 0 || warmup < 0 || tick_us < 0 || timeout_ms <= 0)
        die("need --url, --rate > 0, --conns > 0, --duration > 0, --tick-us >= 0");
    /* http://IPV4[:PORT][/PATH]: loopback benchmarks only, no DNS */
    if (strncmp(url, "http://", 7) != 0) die("only http:// URLs");
    const char *host = url + 7;
    const char *path = strchr(host, '/');
    size_t hostlen = path ? (size_t) (path - host) : strlen(host);
    if (!path) path = "/";
    char hostport[256];
    if (hostlen == 0 || hostlen >= sizeof hostport) die("bad host in --url");
    memcpy(hostport, host, hostlen);
    hostport[hostlen] = 0;
    char ip[256];
    int port = 80;
    strcpy(ip, hostport);
    char *colon = strchr(ip, ':');
    if (colon) {
        *colon = 0;
        port = atoi(colon + 1);
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t) port);
    if (inet_pton(AF_INET, ip, &addr.sin_addr) != 1) die("--url host must be an IPv4 address");
    /* The same request wrk sends. */
    int rl = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, hostport);
    if (rl <= 0 || (size_t) rl >= sizeof request) die("--url too long");
    request_len = (size_t) rl;
    if (!strchr(hostport, ':')) { /* Host with the port, as the Java generator writes it */
        rl = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, hostport, port);
        request_len = (size_t) rl;
    }

    ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    conns = calloc((size_t) nconns, sizeof(conn));
    if (!conns) die("out of memory");
    for (int k = 0; k < nconns; k++) {
        conns[k].fd = -1;
        open_conn(&conns[k]);
        if (conns[k].fd < 0) {
            fprintf(stderr, "fixed-rate-load: cannot connect to %s\n", hostport);
            return 1;
        }
    }
    timeout_ns = (int64_t) timeout_ms * 1000000LL;
    tick_ns = (int64_t) tick_us * 1000LL;
    t0 = now_ns() + 50000000LL;
    measure_start = t0 + (int64_t) (warmup * NS);
    end_ns = measure_start + (int64_t) (duration * NS);

    int self = getpid();
    long long ticks0 = -2, ticks1 = -2, self0 = 0, self1 = 0;
    int64_t wall0 = 0, wall1 = 0;
    long long i = 0;
    int64_t last_wake = INT64_MIN / 2, next_check = 0;
    struct epoll_event events[256];
    for (;;) {
        int64_t now = now_ns();
        if (ticks0 == -2 && now >= measure_start) {
            ticks0 = npids ? cpu_ticks(pids, npids) : -1;
            self0 = cpu_ticks(&self, 1);
            wall0 = now;
        }
        if (ticks1 == -2 && now >= end_ns) {
            ticks1 = npids ? cpu_ticks(pids, npids) : -1;
            self1 = cpu_ticks(&self, 1);
            wall1 = now;
        }
        /* Everything due by now (each measured from its own due time). */
        int64_t d = due(i);
        while (d <= now && d < end_ns) {
            conn *c = &conns[i % nconns];
            push(c, d);
            send_next(c, now);
            i++;
            d = due(i);
        }
        if (now >= next_check) { /* every 10 ms: stuck requests, and whether we are done */
            next_check = now + 10000000LL;
            int busy = 0;
            for (int k = 0; k < nconns; k++) {
                conn *c = &conns[k];
                if (c->fd < 0 && now < end_ns) {
                    open_conn(c);
                    if (c->fd < 0) connect_errors++;
                }
                if (c->in_flight && now - c->sent > timeout_ns) {
                    fail(c, now, 1);
                    send_next(c, now);
                }
                busy |= c->in_flight || c->size > 0;
            }
            if (now >= end_ns && ticks1 != -2 && (!busy || now > end_ns + timeout_ns)) break;
        }
        /* Sleep until the next due request (not sooner than a tick after the last wake-up), an answer, or the next
           check. */
        int64_t wake = d < end_ns ? (d > last_wake + tick_ns ? d : last_wake + tick_ns) : next_check;
        if (wake > next_check) wake = next_check;
        if (ticks0 == -2 && wake > measure_start) wake = measure_start;
        if (ticks1 == -2 && wake > end_ns) wake = end_ns;
        int64_t wait = wake - now;
        if (wait < 0) wait = 0;
        struct timespec ts = {.tv_sec = wait / NS, .tv_nsec = wait % NS};
        int n = (int) syscall(SYS_epoll_pwait2, ep, events, 256, &ts, NULL, 0);
        if (n < 0 && errno != EINTR) die("epoll_pwait2");
        int64_t after = now_ns();
        if (after >= wake) last_wake = after; /* a timer wake-up, not an answer */
        for (int k = 0; k < n; k++) on_readable((conn *) events[k].data.ptr);
    }

    long long expected = 0;
    for (long long n = 0; due(n) < end_ns; n++)
        if (due(n) >= measure_start) expected++;
    unsigned long long unfinished = 0;
    int64_t now = now_ns();
    for (int k = 0; k < nconns; k++) {
        conn *c = &conns[k];
        if (c->in_flight && c->intended >= measure_start) { /* still waiting: at least that late */
            unfinished++;
            h_record(&corrected, now - c->intended);
        }
        while (c->size > 0) {
            int64_t t = poll_due(c);
            if (t >= measure_start) {
                unfinished++;
                h_record(&corrected, now - t);
            }
        }
    }
    unsigned long long errors = connect_errors + read_errors + timeout_errors;
    printf("FIXED_RATE_JSON {\"generator\":\"native\",\"rate\":%.0f,\"conns\":%d,\"duration_us\":%lld,"
           "\"cpu_window_us\":%lld,\"expected\":%lld,\"requests\":%llu,\"achieved_rps\":%.1f,\"bytes\":%llu,"
           "\"status_errors\":%llu,\"connect_errors\":%llu,\"read_errors\":%llu,\"timeout_errors\":%llu,"
           "\"unfinished\":%llu,\"errors\":%llu,\"cpu_ticks\":%lld,\"generator_cpu_ticks\":%lld",
           rate, nconns, (long long) (duration * 1e6), (long long) ((wall1 - wall0) / 1000), expected, completed,
           (double) completed / duration, bytes_read, non2xx, connect_errors, read_errors, timeout_errors,
           unfinished, errors + unfinished, ticks0 < 0 || ticks1 < 0 ? -1LL : ticks1 - ticks0, self1 - self0);
    h_json("", &corrected);
    h_json("uncorrected_", &uncorrected);
    h_json("send_lag_", &send_lag);
    printf("}\n");
    fflush(stdout);
    return 0;
}
