/*
 * flood.c - a hostile load generator for the flood scenario
 *
 *   wings_flood ENDPOINT SERVER-KEY RAW CURVE
 *
 * Against a serving node at ENDPOINT (tcp://127.0.0.1:PORT) whose public key
 * is SERVER-KEY (the KEY token of `wings id`): RAW unauthenticated TCP
 * connections (a third send garbage, a third nothing, a third a CURVE
 * greeting cut off mid-HELLO), at most HOLD open at once, each held until
 * the server drops it or HOLD_MS passes; then CURVE fresh-key handshakes
 * (WAVE at a time, below the server's cap on connections in handshake),
 * each a DEALER with a new random key pair, WAVE at a time, each wave given
 * WAVE_MS to be refused. Prints one line:
 *
 *   flood raw=N raw_dropped_by_server=N curve=N curve_refused=N
 *
 * and exits 0 (2 on bad arguments). Uses the project's own crypto layer to
 * turn the Ed25519 key into the server's Curve25519 key.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "wg_crypto.h"

#define HOLD 900
#define HOLD_MS 3000
#define WAVE 50
#define WAVE_MS 1500

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct conn {
    int fd;
    int64_t at;
    int sent;
} conn;

/* Close connections the server dropped, and those held past HOLD_MS. */
static void reap(conn *c, int *n, long *dropped, int64_t t, int all)
{
    int k = 0;
    for (int i = 0; i < *n; i++) {
        uint8_t buf[256];
        ssize_t r;
        int gone = 0;
        while ((r = recv(c[i].fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            ;
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != ENOTCONN))
            gone = 1;
        if (gone)
            (*dropped)++;
        if (gone || all || t - c[i].at > HOLD_MS)
            close(c[i].fd);
        else
            c[k++] = c[i];
    }
    *n = k;
}

static void raw_flood(int port, long total, long *dropped)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    uint8_t garbage[512], greet[124];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 131 + 7);
    memset(greet, 0, sizeof greet);
    greet[0] = 0xff;
    greet[9] = 0x7f;
    greet[10] = 3;
    memcpy(greet + 12, "CURVE", 5);
    greet[64] = 0x04;
    greet[65] = 200;
    memcpy(greet + 66, "\x05HELLO\x01\x00", 8);
    conn *c = calloc(HOLD, sizeof *c);
    int n = 0;
    for (long i = 0; i < total; i++) {
        while (n >= HOLD) {
            reap(c, &n, dropped, now_ms(), 0);
            if (n >= HOLD)
                usleep(10000);
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            reap(c, &n, dropped, now_ms(), 0);
            i--;
            usleep(10000);
            continue;
        }
        connect(fd, (struct sockaddr *)&sa, sizeof sa);
        c[n++] = (conn){ fd, now_ms(), 0 };
        /* Send to those whose connection is up. */
        for (int j = 0; j < n; j++) {
            if (c[j].sent)
                continue;
            struct pollfd p = { c[j].fd, POLLOUT, 0 };
            if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
                continue;
            c[j].sent = 1;
            if (c[j].fd % 3 == 0)
                send(c[j].fd, garbage, sizeof garbage, MSG_NOSIGNAL);
            else if (c[j].fd % 3 == 1)
                send(c[j].fd, greet, sizeof greet, MSG_NOSIGNAL);
        }
        if (i % 64 == 0)
            reap(c, &n, dropped, now_ms(), 0);
    }
    int64_t end = now_ms() + HOLD_MS;
    while (n > 0 && now_ms() < end) {
        reap(c, &n, dropped, now_ms(), 0);
        usleep(20000);
    }
    reap(c, &n, dropped, now_ms(), 1);
    free(c);
}

static void curve_flood(const char *endpoint, const uint8_t server[32],
                        long total, long *refused)
{
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, 4 * WAVE + 16);
    for (long done = 0; done < total;) {
        int k = (int)(total - done < WAVE ? total - done : WAVE);
        void *s[WAVE], *m[WAVE];
        for (int i = 0; i < k; i++) {
            char pub[41], sec[41], mon[64];
            zmq_curve_keypair(pub, sec);
            s[i] = zmq_socket(ctx, ZMQ_DEALER);
            int linger = 0;
            zmq_setsockopt(s[i], ZMQ_LINGER, &linger, sizeof linger);
            zmq_setsockopt(s[i], ZMQ_CURVE_SERVERKEY, server, 32);
            zmq_setsockopt(s[i], ZMQ_CURVE_PUBLICKEY, pub, 40);
            zmq_setsockopt(s[i], ZMQ_CURVE_SECRETKEY, sec, 40);
            snprintf(mon, sizeof mon, "inproc://flood-%ld-%d", done, i);
            zmq_socket_monitor(s[i], mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
            m[i] = zmq_socket(ctx, ZMQ_PAIR);
            int unbounded = 0;
            zmq_setsockopt(m[i], ZMQ_LINGER, &linger, sizeof linger);
            zmq_setsockopt(m[i], ZMQ_RCVHWM, &unbounded, sizeof unbounded);
            zmq_connect(m[i], mon);
            zmq_connect(s[i], endpoint);
        }
        int seen[WAVE] = { 0 }, got = 0;
        int64_t end = now_ms() + WAVE_MS;
        while (got < k && now_ms() < end) {
            zmq_pollitem_t it[WAVE];
            for (int i = 0; i < k; i++)
                it[i] = (zmq_pollitem_t){ m[i], 0, ZMQ_POLLIN, 0 };
            zmq_poll(it, k, 50);
            for (int i = 0; i < k; i++) {
                uint8_t ev[6];
                char addr[256];
                if (!(it[i].revents & ZMQ_POLLIN))
                    continue;
                if (zmq_recv(m[i], ev, sizeof ev, ZMQ_DONTWAIT) < 0)
                    continue;
                zmq_recv(m[i], addr, sizeof addr, ZMQ_DONTWAIT);
                if (!seen[i]) {
                    seen[i] = 1;
                    got++;
                }
            }
        }
        *refused += got;
        for (int i = 0; i < k; i++) {
            zmq_close(s[i]); /* ends its monitor too */
            zmq_close(m[i]);
        }
        done += k;
    }
    zmq_ctx_term(ctx);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: wings_flood ENDPOINT SERVER-KEY RAW CURVE\n");
        return 2;
    }
    const char *ep = argv[1];
    const char *colon = strrchr(ep, ':');
    uint8_t ed[32], curve[32];
    if (!colon || wg_crypto_init(NULL) != WG_OK ||
        wg_hex_decode(ed, 32, argv[2], NULL) != WG_OK ||
        wg_sign_pk_to_curve(curve, ed, NULL) != WG_OK) {
        fprintf(stderr, "wings_flood: bad endpoint or key\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    long raw = atol(argv[3]), nc = atol(argv[4]);
    long dropped = 0, refused = 0;
    raw_flood(atoi(colon + 1), raw, &dropped);
    curve_flood(ep, curve, nc, &refused);
    printf("flood raw=%ld raw_dropped_by_server=%ld curve=%ld "
           "curve_refused=%ld\n", raw, dropped, nc, refused);
    return 0;
}
