/*
 * check_ctl.c - unit suite for sync/ctl.c, the daemon's control socket
 *
 * A real engine serves the socket from a thread of this process; clients
 * are wg_ctl_call() and, for what an honest client never sends, a raw
 * ZeroMQ DEALER run as a child process (this same executable with
 * --raw-request), under another uid where the test runs as root. The
 * trust rules: the client sends nothing to a socket that is not its own
 * user's and private, and the server answers no other user.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "testutil.h"
#include "nodeutil.h"
#include "sync_int.h"
#include "wg_ctl.h"

#define NOBODY 65534
#define SILENCE_MS 1500   /* how long a refused client waits for nothing */

static char *dir;
static char self_exe[4096];

static void cleanup_at_exit(void)
{
    tu_rmtree(&dir);
}

/* ---- a served control socket ----------------------------------------------- */

typedef struct server {
    wg_store *st;
    wg_engine *e;
    wg_ctl *ctl;
    char *path;
    pthread_t thread;
    volatile int stop;
    /* what the handler saw, guarded by mu */
    pthread_mutex_t mu;
    int calls, malformed;
    char cwd[256], dir[256], args[512];
    int json, argc;
} server;

static server srv;

static int on_request(void *ctx, const wg_ctl_request *rq, FILE *out,
                      FILE *errf)
{
    server *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    if (!rq) {
        s->malformed++;
        pthread_mutex_unlock(&s->mu);
        fputs("malformed\n", errf);
        return 9;
    }
    snprintf(s->cwd, sizeof s->cwd, "%s", rq->cwd);
    snprintf(s->dir, sizeof s->dir, "%s", rq->dir);
    s->json = rq->json;
    s->argc = rq->argc;
    s->args[0] = 0;
    for (int i = 0; i < rq->argc; i++) {
        strncat(s->args, rq->argv[i], sizeof s->args - strlen(s->args) - 2);
        strcat(s->args, "|");
    }
    ck_assert_ptr_null(rq->argv[rq->argc]);
    pthread_mutex_unlock(&s->mu);
    fprintf(out, "ran %s\n", rq->argv[0]);
    fputs("note\n", errf);
    return 7;
}

static int calls(void)
{
    pthread_mutex_lock(&srv.mu);
    int n = srv.calls;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static void *run_engine(void *p)
{
    server *s = p;
    while (!s->stop)
        wg_engine_step(s->e, 10, NULL);
    return NULL;
}

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    dir = tu_tmpdir();
    atexit(cleanup_at_exit);
    memset(&srv, 0, sizeof srv);
    pthread_mutex_init(&srv.mu, NULL);
    char *d = tu_path(dir, "node");
    wg_node_info info;
    nu_node_info(&info, "n", "450224", WG_ROLE_OFFICE);
    wg_err err = { 0 };
    ck_assert_msg(wg_store_create(d, "pw", 2, WG_KDF_TEST, &info, &err) ==
                  WG_OK, "%s", err.msg);
    ck_assert_msg(wg_store_open(d, "pw", 2, &srv.st, &err) == WG_OK, "%s",
                  err.msg);
    ck_assert_int_eq(wg_engine_new(srv.st, &srv.e, &err), WG_OK);
    srv.path = tu_path(d, "wings.ctl");
    free(d);
    ck_assert_msg(wg_ctl_open(srv.e, srv.path, on_request, &srv, &srv.ctl,
                              &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(pthread_create(&srv.thread, NULL, run_engine, &srv), 0);
}

static void teardown(void)
{
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    wg_ctl_close(&srv.ctl);
    ck_assert_int_ne(access(srv.path, F_OK), 0); /* its file is gone */
    wg_engine_destroy(&srv.e);
    wg_store_close(&srv.st);
    free(srv.path);
    tu_rmtree(&dir);
}

static wg_rc call(char **argv, int argc, wg_ctl_reply *rep, wg_err *err)
{
    wg_ctl_request rq = { .cwd = "/some/where", .dir = "node", .json = 1,
                          .argc = argc, .argv = argv };
    return wg_ctl_call(srv.path, &rq, NULL, NULL, rep, err);
}

/* ---- the raw client, a child process ---------------------------------------- */

/* Send one well-formed request to PATH and wait SILENCE_MS for an answer:
 * exit 0 when none came, 3 when one did, 4 when it could not even try. */
static int raw_request(const char *path)
{
    char ep[4200];
    snprintf(ep, sizeof ep, "ipc://%s", path);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) != 0)
        return 4;
    const char *fr[] = { "wings-ctl/1", "/", "0", "node", "id" };
    for (int i = 0; i < 5; i++)
        zmq_send(s, fr[i], strlen(fr[i]), i < 4 ? ZMQ_SNDMORE : 0);
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    int r = zmq_poll(&it, 1, SILENCE_MS);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return r > 0 ? 3 : 0;
}

/* Run raw_request() in a child, as UID when UID >= 0; its exit status.
 * Another user runs a copy of this executable in the test's folder: the
 * build tree may lie where only its owner can reach (a checkout inside a
 * private temporary folder), and exec would fail there (exit 6). */
static int raw_child(long uid)
{
    char *exe = uid >= 0 ? tu_path(dir, "raw-client") : NULL;
    if (exe && access(exe, X_OK) != 0) {
        tu_copy(self_exe, exe);
        ck_assert_int_eq(chmod(exe, 0755), 0);
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (uid >= 0 && (setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0))
            _exit(5);
        char *run = exe ? exe : self_exe;
        char *args[] = { run, "--raw-request", srv.path, NULL };
        execv(run, args);
        _exit(6);
    }
    free(exe);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* ---- tests ---------------------------------------------------------------------- */

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_socket = {"socket", setup, teardown, 60};
static const tu_case case_address = {"address", NULL, NULL, 0};

START_TEST(test_ctl_request_and_answer_cross_whole)
{
    char *argv[] = { "list", "person", "--search", "\xe9\x9f\xa6 x", NULL };
    wg_ctl_reply rep;
    wg_err err = { 0 };
    ck_assert_msg(call(argv, 4, &rep, &err) == WG_OK, "%s", err.msg);
    ck_assert_int_eq(rep.code, 7);
    ck_assert_uint_eq(rep.outlen, strlen("ran list\n"));
    ck_assert_str_eq(rep.out, "ran list\n");
    ck_assert_str_eq(rep.errb, "note\n");
    wg_ctl_reply_release(&rep);
    ck_assert_int_eq(calls(), 1);
    ck_assert_str_eq(srv.cwd, "/some/where");
    ck_assert_str_eq(srv.dir, "node");
    ck_assert_int_eq(srv.json, 1);
    ck_assert_int_eq(srv.argc, 4);
    ck_assert_str_eq(srv.args, "list|person|--search|\xe9\x9f\xa6 x|");
    /* The same user's raw client is answered too (the control for the
     * refusals below). */
    ck_assert_int_eq(raw_child(-1), 3);
    ck_assert_int_eq(calls(), 2);
}
END_TEST

START_TEST(test_ctl_request_past_the_limits_is_not_sent)
{
    char *argv[WG_CTL_MAX_ARGS + 2];
    for (int i = 0; i <= WG_CTL_MAX_ARGS; i++)
        argv[i] = "x";
    argv[WG_CTL_MAX_ARGS + 1] = NULL;
    wg_ctl_reply rep;
    wg_err err = { 0 };
    ck_assert_int_eq(call(argv, WG_CTL_MAX_ARGS + 1, &rep, &err),
                     WG_ERR_INVALID);
    ck_assert_int_eq(call(argv, 0, &rep, &err), WG_ERR_INVALID);
    ck_assert_int_eq(calls(), 0);
    ck_assert_msg(call(argv, WG_CTL_MAX_ARGS, &rep, &err) == WG_OK, "%s",
                  err.msg);
    ck_assert_int_eq(srv.argc, WG_CTL_MAX_ARGS);
    wg_ctl_reply_release(&rep);
}
END_TEST

START_TEST(test_ctl_malformed_request_is_answered_as_such)
{
    char ep[4200];
    snprintf(ep, sizeof ep, "ipc://%s", srv.path);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    ck_assert_int_eq(zmq_connect(s, ep), 0);
    const char *bad[][5] = {
        { "wings-ctl/2", "/", "0", "node", "id" },   /* wrong magic */
        { "wings-ctl/1", "/", "", "node", "id" },    /* no json flag */
        { "wings-ctl/1", "/", "0", "node", NULL },   /* no command */
    };
    for (int k = 0; k < 3; k++) {
        int n = bad[k][4] ? 5 : 4;
        for (int i = 0; i < n; i++)
            zmq_send(s, bad[k][i], strlen(bad[k][i]),
                     i + 1 < n ? ZMQ_SNDMORE : 0);
        zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
        ck_assert_int_eq(zmq_poll(&it, 1, 5000), 1);
        char code[8] = "", errb[64] = "";
        int more = 0;
        size_t ml = sizeof more;
        ck_assert_int_eq(zmq_recv(s, code, sizeof code - 1, 0), 1);
        ck_assert_str_eq(code, "9");
        ck_assert_int_eq(zmq_recv(s, errb, sizeof errb, 0), 0);
        ck_assert_int_eq(zmq_recv(s, errb, sizeof errb - 1, 0), 10);
        ck_assert_str_eq(errb, "malformed\n");
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &ml);
        ck_assert_int_eq(more, 0);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    ck_assert_int_eq(srv.malformed, 3);
}
END_TEST

START_TEST(test_ctl_client_sends_nothing_to_a_socket_others_may_write)
{
    char *argv[] = { "id", NULL };
    wg_ctl_reply rep;
    wg_err err = { 0 };
    static const mode_t modes[] = { 0660, 0620, 0606, 0602, 0666 };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ck_assert_int_eq(chmod(srv.path, modes[i]), 0);
        ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_AUTH);
        ck_assert_msg(strstr(err.msg, "is writable by others"), "%s",
                      err.msg);
        ck_assert_msg(strstr(err.msg, "nothing was sent"), "%s", err.msg);
    }
    ck_assert_int_eq(calls(), 0);
    /* Readable by others does not let them plant anything. */
    ck_assert_int_eq(chmod(srv.path, 0644), 0);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_OK);
    wg_ctl_reply_release(&rep);
    ck_assert_int_eq(calls(), 1);
}
END_TEST

START_TEST(test_ctl_client_sends_nothing_into_a_folder_others_may_write)
{
    char *argv[] = { "id", NULL };
    char *node = tu_path(dir, "node");
    wg_ctl_reply rep;
    wg_err err = { 0 };
    ck_assert_int_eq(chmod(node, 0770), 0);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_AUTH);
    ck_assert_msg(strstr(err.msg, "can be written by another user"), "%s",
                  err.msg);
    ck_assert_int_eq(chmod(node, 0777), 0);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_AUTH);
    ck_assert_int_eq(calls(), 0);
    /* A sticky folder (as /tmp): others cannot replace our socket. */
    ck_assert_int_eq(chmod(node, 01777), 0);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_OK);
    wg_ctl_reply_release(&rep);
    ck_assert_int_eq(chmod(node, 0700), 0);
    ck_assert_int_eq(calls(), 1);
    free(node);
}
END_TEST

/* A listening Unix socket planted at PATH in place of the daemon's. */
static int plant(const char *path)
{
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    ck_assert_uint_lt(strlen(path), sizeof a.sun_path);
    strcpy(a.sun_path, path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    return fd;
}

/* Nobody connected to the planted socket FD. */
static void nobody_came(int fd)
{
    int c = accept(fd, NULL, NULL);
    ck_assert_msg(c < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
                  "a client connected to the planted socket");
}

START_TEST(test_ctl_client_sends_nothing_to_a_planted_socket)
{
    char *argv[] = { "passwd", NULL };
    wg_ctl_reply rep;
    wg_err err = { 0 };
    /* Planted by its own user, then left open to everyone. */
    int fd = plant(srv.path);
    ck_assert_int_eq(chmod(srv.path, 0666), 0);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_AUTH);
    nobody_came(fd);
    /* Planted by another user: refused by owner whatever its mode. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chmod(srv.path, 0600), 0);
        ck_assert_int_eq(lchown(srv.path, NOBODY, NOBODY), 0);
        ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_AUTH);
        ck_assert_msg(strstr(err.msg, "belongs to uid 65534, not to you"),
                      "%s", err.msg);
        nobody_came(fd);
    } else {
        fprintf(stderr, "check_ctl: not root, the planted socket of another "
                "user is not tried\n");
    }
    /* Not a socket at all: there is no daemon to talk to. */
    close(fd);
    unlink(srv.path);
    tu_write(srv.path, "x", 1);
    ck_assert_int_eq(call(argv, 1, &rep, &err), WG_ERR_NOTFOUND);
    ck_assert_int_eq(calls(), 0);
}
END_TEST

START_TEST(test_ctl_server_answers_no_other_user)
{
    if (geteuid() != 0) {
        fprintf(stderr, "check_ctl: not root, another uid is not tried\n");
        return;
    }
    /* Open the way to the socket for everyone: only the server's check of
     * the peer's uid is left to refuse. */
    char *node = tu_path(dir, "node");
    ck_assert_int_eq(chmod(dir, 0755), 0);
    ck_assert_int_eq(chmod(node, 0755), 0);
    ck_assert_int_eq(chmod(srv.path, 0666), 0);
    free(node);
    ck_assert_int_eq(raw_child(NOBODY), 0);    /* silence */
    ck_assert_int_eq(calls(), 0);
    ck_assert_int_eq(raw_child(-1), 3);        /* its owner is answered */
    ck_assert_int_eq(calls(), 1);
    ck_assert_int_eq(raw_child(NOBODY), 0);
    ck_assert_int_eq(calls(), 1);
}
END_TEST

START_TEST(test_ctl_peer_uid_is_read_from_the_end_of_the_address)
{
    unsigned long uid = 99;
    ck_assert(wg_ctl__peer_uid(":1000:1000:4242", 15, &uid));
    ck_assert_uint_eq(uid, 1000);
    ck_assert(wg_ctl__peer_uid("/tmp/x:0:0:1", 12, &uid));
    ck_assert_uint_eq(uid, 0);
    uid = 99;
    ck_assert(!wg_ctl__peer_uid("", 0, &uid));
    ck_assert(!wg_ctl__peer_uid("127.0.0.1", 9, &uid));
    ck_assert(!wg_ctl__peer_uid("0:0:1", 5, &uid));       /* no leading ':' */
    ck_assert(!wg_ctl__peer_uid(":1000::4242", 11, &uid));
    ck_assert(!wg_ctl__peer_uid(":1000:1000:", 11, &uid));
    ck_assert(!wg_ctl__peer_uid(":99999999999:0:1", 16, &uid)); /* 11 digits */
    ck_assert_uint_eq(uid, 99);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

static const tu_test tests[] = {
    TU_TEST(case_socket, test_ctl_request_and_answer_cross_whole),
    TU_TEST(case_socket, test_ctl_request_past_the_limits_is_not_sent),
    TU_TEST(case_socket, test_ctl_malformed_request_is_answered_as_such),
    TU_TEST(case_socket, test_ctl_client_sends_nothing_to_a_socket_others_may_write),
    TU_TEST(case_socket, test_ctl_client_sends_nothing_into_a_folder_others_may_write),
    TU_TEST(case_socket, test_ctl_client_sends_nothing_to_a_planted_socket),
    TU_TEST(case_socket, test_ctl_server_answers_no_other_user),
    TU_TEST(case_address, test_ctl_peer_uid_is_read_from_the_end_of_the_address),
};

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--raw-request"))
        return raw_request(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        return EXIT_FAILURE;
    self_exe[n] = 0;
    return tu_run(TU_SUITE("ctl", tests));
}
