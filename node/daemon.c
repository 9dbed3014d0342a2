/*
 * daemon.c - one process owns the store: the daemon's end of the control
 * socket
 *
 * While `wings serve` runs for a node folder, every other command for that
 * folder is carried out by the daemon. The command line sends its folder,
 * working directory and arguments over DIR/wings.ctl (sync/ctl.c: owner-only
 * on both ends, checked by uid) and prints exactly what the daemon returns,
 * with the same exit code. This file holds what is the command line's own:
 * where the socket and the pid file live, whether the daemon is alive, and
 * running a forwarded command in the caller's working folder.
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

#include "wg_ctl.h"
#include "wg_node.h"

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

typedef struct alive_ctx {
    const char *dir;
    pid_t pid;
} alive_ctx;

/* Wait as long as the command takes, while the daemon we asked lives: one
 * that died took the request with it, even if another daemon has taken its
 * place since. */
static int still_alive(void *p)
{
    alive_ctx *a = p;
    return daemon_pid(a->dir) == a->pid;
}

int wg_daemon_forward(wg_cli *cli, int argc, char **argv, int *code)
{
    char path[PATH_MAX + 16], cwd[PATH_MAX];
    struct stat sb;
    if (control_path(cli->dir, WG_CONTROL_FILE, path, sizeof path) ||
        lstat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode))
        return 0;
    pid_t pid = daemon_pid(cli->dir);
    if (!pid || !getcwd(cwd, sizeof cwd))
        return 0; /* a stale socket of a daemon that died: go direct */
    wg_ctl_request rq = { .cwd = cwd, .dir = cli->dir, .json = cli->json,
                          .argc = argc, .argv = argv };
    snprintf(rq.lang, sizeof rq.lang, "%s", wg_i18n_lang());
    alive_ctx a = { cli->dir, pid };
    wg_ctl_reply rep;
    wg_err err = { 0 };
    wg_rc rc = wg_ctl_call(path, &rq, still_alive, &a, &rep, &err);
    if (rc == WG_ERR_NOTFOUND)
        return 0;
    if (rc == WG_ERR_PEER)
        *code = wg_cli_failf(cli, WG_EXIT_INTERNAL,
                             "the daemon serving '%s' stopped before "
                             "answering", cli->dir);
    else if (rc == WG_ERR_PROTO)
        *code = wg_cli_failf(cli, WG_EXIT_INTERNAL,
                             "malformed answer from the daemon");
    else if (rc)
        *code = wg_cli_fail(cli, &err);
    else {
        fwrite(rep.out, 1, rep.outlen, cli->out);
        fwrite(rep.errb, 1, rep.errlen, cli->errf);
        *code = rep.code;
    }
    wg_ctl_reply_release(&rep);
    return 1;
}

/* ---- the daemon's side ------------------------------------------------------ */

struct wg_control {
    wg_engine *e;
    wg_store *st;
    wg_ctl *ctl;
    char pidpath[PATH_MAX + 16];
    char listen[WG_ENDPOINT_MAX + 1];
};

/* Run one forwarded command line in the caller's working folder. */
static int run_request(void *p, const wg_ctl_request *rq, FILE *out,
                       FILE *errf)
{
    wg_control *c = p;
    char here[PATH_MAX];
    if (!rq) {
        fputs("wings: malformed request to the daemon\n", errf);
        return WG_EXIT_INTERNAL;
    }
    if (!getcwd(here, sizeof here) || chdir(rq->cwd) != 0) {
        fprintf(errf, "wings: the daemon cannot enter '%s'\n", rq->cwd);
        return WG_EXIT_INTERNAL;
    }
    wg_cli cli = { 0 };
    cli.prog = "wings";
    cli.out = out;
    cli.errf = errf;
    cli.dir = rq->dir;
    cli.json = rq->json;
    cli.shared_store = c->st;
    cli.engine = c->e;
    cli.cwd = rq->cwd;
    cli.listen = c->listen[0] ? c->listen : NULL;
    /* Answer in the caller's language, not the daemon's. */
    wg_i18n_use(rq->lang[0] ? rq->lang : NULL);
    int code = wg_cli_dispatch(&cli, rq->argc, rq->argv);
    wg_i18n_use(NULL);
    if (chdir(here) != 0)
        fputs("wings: the daemon lost its working folder\n", errf);
    return code;
}

wg_rc wg_control_open(wg_engine *e, wg_store *st, const char *dir,
                      wg_control **out, wg_err *err)
{
    wg_control *c = wg_xcalloc(1, sizeof *c);
    char path[PATH_MAX + 16];
    c->e = e;
    c->st = st;
    if (control_path(dir, WG_CONTROL_FILE, path, sizeof path) ||
        control_path(dir, WG_PID_FILE, c->pidpath, sizeof c->pidpath)) {
        free(c);
        return wg_err_set(err, WG_ERR_IO, "node folder '%s' path too long",
                          dir);
    }
    wg_rc rc = wg_ctl_open(e, path, run_request, c, &c->ctl, err);
    if (rc) {
        free(c);
        return rc;
    }
    int fd = open(c->pidpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (write(fd, buf, (size_t)n) != n)
            n = -1;
        close(fd);
    }
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
    wg_ctl_close(&c->ctl);
    unlink(c->pidpath);
    free(c);
    *cp = NULL;
}
