/*
 * daemon.c - one process owns the store: the control socket
 *
 * While `wings serve` runs for a node folder, every other command for that
 * folder is carried out by the daemon. The command line sends its folder,
 * working directory and arguments over ipc://DIR/wings.ctl (owner-only: the
 * folder is 0700 and the socket is created under umask 077, as ssh-agent's
 * is, so whoever can open it is the node's own operator) and prints exactly
 * what the daemon returns, with the same exit code.
 *
 *   request:  "wings-ctl/1", cwd, "0"|"1" (json), dir, argv[0..n)
 *   reply:    exit code (decimal), stdout bytes, stderr bytes
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "wg_node.h"

#define CTL_MAGIC "wings-ctl/1"
#define MAX_ARGS 64
#define MAX_REQUEST (1 << 20)

static int control_path(const char *dir, const char *file, char *out,
                        size_t cap)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return -1;
    return snprintf(out, cap, "%s/%s", real, file) >= (int)cap ? -1 : 0;
}

/* The daemon's pid from DIR/wings.pid, if that process is alive. */
static pid_t daemon_pid(const char *dir)
{
    char path[PATH_MAX + 16], buf[32];
    if (control_path(dir, WG_PID_FILE, path, sizeof path))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    pid_t pid = (pid_t)strtol(buf, NULL, 10);
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return 0;
    return pid;
}

int wg_daemon_forward(wg_cli *cli, int argc, char **argv, int *code)
{
    char path[PATH_MAX + 16], endpoint[PATH_MAX + 32], cwd[PATH_MAX];
    struct stat sb;
    if (control_path(cli->dir, WG_CONTROL_FILE, path, sizeof path) ||
        stat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return 0;
    pid_t pid = daemon_pid(cli->dir);
    if (!pid || !getcwd(cwd, sizeof cwd))
        return 0; /* a stale socket of a daemon that died: go direct */
    snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    *code = WG_EXIT_INTERNAL;
    if (zmq_connect(s, endpoint) != 0) {
        zmq_close(s);
        zmq_ctx_term(ctx);
        return 0;
    }
    zmq_send(s, CTL_MAGIC, strlen(CTL_MAGIC), ZMQ_SNDMORE);
    zmq_send(s, cwd, strlen(cwd), ZMQ_SNDMORE);
    zmq_send(s, cli->json ? "1" : "0", 1, ZMQ_SNDMORE);
    zmq_send(s, cli->dir, strlen(cli->dir), argc ? ZMQ_SNDMORE : 0);
    for (int i = 0; i < argc; i++)
        zmq_send(s, argv[i], strlen(argv[i]), i + 1 < argc ? ZMQ_SNDMORE : 0);
    /* Wait as long as the command takes, while the daemon we asked lives:
     * one that died took the request with it, even if another daemon has
     * taken its place since. */
    int got = 0;
    for (;;) {
        zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
        int r = zmq_poll(&it, 1, 250);
        if (r > 0) {
            got = 1;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (daemon_pid(cli->dir) != pid)
            break;
    }
    if (!got) {
        wg_cli_failf(cli, WG_EXIT_INTERNAL,
                     "the daemon serving '%s' stopped before answering",
                     cli->dir);
    } else {
        zmq_msg_t m[3];
        int nm = 0, more = 1;
        while (more && nm < 3) {
            zmq_msg_init(&m[nm]);
            if (zmq_msg_recv(&m[nm], s, 0) < 0)
                break;
            more = zmq_msg_more(&m[nm]);
            nm++;
        }
        if (nm == 3) {
            char num[16] = "";
            size_t n = zmq_msg_size(&m[0]);
            memcpy(num, zmq_msg_data(&m[0]), n < 15 ? n : 15);
            *code = atoi(num);
            fwrite(zmq_msg_data(&m[1]), 1, zmq_msg_size(&m[1]), cli->out);
            fwrite(zmq_msg_data(&m[2]), 1, zmq_msg_size(&m[2]), cli->errf);
        } else {
            wg_cli_failf(cli, WG_EXIT_INTERNAL,
                         "malformed answer from the daemon");
        }
        for (int i = 0; i < nm; i++)
            zmq_msg_close(&m[i]);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 1;
}

/* ---- the daemon's side ------------------------------------------------------ */

struct wg_control {
    wg_engine *e;
    wg_store *st;
    void *sock;
    char path[PATH_MAX + 16];
    char pidpath[PATH_MAX + 16];
    char listen[WG_ENDPOINT_MAX + 1];
};

static void serve_request(void *p)
{
    wg_control *c = p;
    for (;;) {
        zmq_msg_t f[MAX_ARGS + 5];
        int nf = 0, more = 1;
        size_t total = 0;
        zmq_msg_init(&f[0]);
        if (zmq_msg_recv(&f[0], c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[0]);
            return;
        }
        more = zmq_msg_more(&f[0]);
        nf = 1;
        while (more) {
            zmq_msg_t junk;
            zmq_msg_t *m = nf < MAX_ARGS + 5 ? &f[nf] : &junk;
            zmq_msg_init(m);
            if (zmq_msg_recv(m, c->sock, 0) < 0) {
                zmq_msg_close(m);
                break;
            }
            total += zmq_msg_size(m);
            more = zmq_msg_more(m);
            if (m == &junk)
                zmq_msg_close(m);
            else
                nf++;
        }
        /* f[0] routing id, f[1] magic, f[2] cwd, f[3] json, f[4] dir, args */
        char *args[MAX_ARGS + 1];
        int nargs = 0;
        char *cwd = NULL, *dir = NULL;
        int ok = nf >= 6 && nf < MAX_ARGS + 5 && total < MAX_REQUEST &&
                 zmq_msg_size(&f[1]) == strlen(CTL_MAGIC) &&
                 !memcmp(zmq_msg_data(&f[1]), CTL_MAGIC, strlen(CTL_MAGIC));
        if (ok) {
            cwd = strndup(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
            dir = strndup(zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
            for (int i = 5; i < nf; i++)
                args[nargs++] = strndup(zmq_msg_data(&f[i]),
                                        zmq_msg_size(&f[i]));
            args[nargs] = NULL;
        }
        char *outbuf = NULL, *errbuf = NULL;
        size_t outlen = 0, errlen = 0;
        FILE *out = open_memstream(&outbuf, &outlen);
        FILE *errf = open_memstream(&errbuf, &errlen);
        int code = WG_EXIT_INTERNAL;
        char here[PATH_MAX];
        if (!ok) {
            fputs("wings: malformed request to the daemon\n", errf);
        } else if (!getcwd(here, sizeof here) || chdir(cwd) != 0) {
            fprintf(errf, "wings: the daemon cannot enter '%s'\n", cwd);
        } else {
            wg_cli cli = { 0 };
            cli.prog = "wings";
            cli.out = out;
            cli.errf = errf;
            cli.dir = dir;
            cli.json = *(const char *)zmq_msg_data(&f[3]) == '1';
            cli.shared_store = c->st;
            cli.engine = c->e;
            cli.cwd = cwd;
            cli.listen = c->listen[0] ? c->listen : NULL;
            code = wg_cli_dispatch(&cli, nargs, args);
            if (chdir(here) != 0)
                fputs("wings: the daemon lost its working folder\n", errf);
        }
        fclose(out);
        fclose(errf);
        char num[16];
        snprintf(num, sizeof num, "%d", code);
        zmq_send(c->sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]),
                 ZMQ_SNDMORE);
        zmq_send(c->sock, num, strlen(num), ZMQ_SNDMORE);
        zmq_send(c->sock, outbuf, outlen, ZMQ_SNDMORE);
        zmq_send(c->sock, errbuf, errlen, 0);
        free(outbuf);
        free(errbuf);
        free(cwd);
        free(dir);
        for (int i = 0; i < nargs; i++)
            free(args[i]);
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
}

wg_rc wg_control_open(wg_engine *e, wg_store *st, const char *dir,
                      wg_control **out, wg_err *err)
{
    wg_control *c = wg_xcalloc(1, sizeof *c);
    c->e = e;
    c->st = st;
    if (control_path(dir, WG_CONTROL_FILE, c->path, sizeof c->path) ||
        control_path(dir, WG_PID_FILE, c->pidpath, sizeof c->pidpath)) {
        free(c);
        return wg_err_set(err, WG_ERR_IO, "node folder '%s' path too long",
                          dir);
    }
    unlink(c->path); /* a stale socket of a daemon that died */
    char endpoint[PATH_MAX + 32];
    snprintf(endpoint, sizeof endpoint, "ipc://%s", c->path);
    c->sock = zmq_socket(wg_engine_zmq(e), ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(c->sock, endpoint) != 0) {
        int er = errno;
        zmq_close(c->sock);
        free(c);
        return wg_err_set(err, WG_ERR_IO, "cannot bind the control socket "
                          "'%s': %s", endpoint, zmq_strerror(er));
    }
    chmod(c->path, 0600);
    int fd = open(c->pidpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (write(fd, buf, (size_t)n) != n)
            n = -1;
        close(fd);
    }
    wg_engine_watch(e, c->sock, 0, serve_request, c);
    *out = c;
    return WG_OK;
}

void wg_control_set_listen(wg_control *c, const char *endpoint)
{
    snprintf(c->listen, sizeof c->listen, "%s", endpoint);
}

void wg_control_close(wg_control **cp)
{
    if (!cp || !*cp)
        return;
    wg_control *c = *cp;
    zmq_close(c->sock);
    unlink(c->path);
    unlink(c->pidpath);
    free(c);
    *cp = NULL;
}
