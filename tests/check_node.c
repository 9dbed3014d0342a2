/*
 * check_node.c - unit suite for node/: commands run in-process through
 * wg_cli_dispatch(), as the daemon runs them
 *
 * What a command keeps must last for that command only: a second `serve` in
 * the same process serves again (it used to find the first one's stop flag
 * still set), and a passphrase read for one command is not used by the
 * next. The daemon's control socket is reached with wg_ctl_call() from a
 * thread while `serve` runs in the test's own.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "nodeutil.h"
#include "wg_ctl.h"
#include "wg_node.h"

#define PASS "check-node-pass"
#define WAIT_MS 10000

static char *dir;

static void cleanup_at_exit(void)
{
    tu_rmtree(&dir);
}

/* Run one command line in-process; its stdout and stderr into OUT and ERR
 * (each at most CAP bytes, NUL-terminated). */
static int run(char **argv, int argc, const char *pass, char *out,
               char *errb, size_t cap)
{
    if (pass)
        setenv("WINGS_PASSPHRASE", pass, 1);
    else
        unsetenv("WINGS_PASSPHRASE");
    wg_cli cli = { 0 };
    cli.prog = "wings";
    cli.dir = dir;
    cli.dir_given = 1;
    cli.out = tmpfile();
    cli.errf = tmpfile();
    int code = wg_cli_dispatch(&cli, argc, argv);
    ck_assert_ptr_null(cli.pass_cache); /* forgotten when it returned */
    FILE *f[2] = { cli.out, cli.errf };
    char *dst[2] = { out, errb };
    for (int i = 0; i < 2; i++) {
        rewind(f[i]);
        size_t n = fread(dst[i], 1, cap - 1, f[i]);
        dst[i][n] = 0;
        fclose(f[i]);
    }
    return code;
}

static void setup(void)
{
    ck_assert_int_eq(wg_crypto_init(NULL), WG_OK);
    char *base = tu_tmpdir();
    atexit(cleanup_at_exit);
    dir = tu_path(base, "node");
    free(base);
    setenv("WINGS_TEST_KDF", "1", 1);
    char out[512], errb[512], listen[64];
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", nu_free_port());
    char *argv[] = { "init", "--name", "nanning", "--county", "450103",
                     "--kdf", "test", "--listen", listen, NULL };
    ck_assert_msg(run(argv, 9, PASS, out, errb, sizeof out) == 0, "%s", errb);
}

static void teardown(void)
{
    char *base = strdup(dir);
    char *slash = strrchr(base, '/');
    *slash = 0;
    free(dir);
    dir = base;
    tu_rmtree(&dir);
}

/* ---- serve, twice ---------------------------------------------------------- */

typedef struct asker {
    pthread_t thread;
    int64_t deadline;
    int code;              /* the forwarded command's exit code; -1 none */
    char out[256];
    char why[256];
} asker;

static int before_deadline(void *p)
{
    return nu_now_ms() < ((asker *)p)->deadline;
}

/* Wait for the daemon's control socket, have it run `id`, then stop it
 * as a SIGTERM would. */
static void *ask_then_stop(void *p)
{
    asker *a = p;
    char *path = tu_path(dir, WG_CONTROL_FILE);
    struct stat sb;
    a->code = -1;
    while ((stat(path, &sb) != 0 || !S_ISSOCK(sb.st_mode)) &&
           before_deadline(a))
        usleep(20000);
    char *argv[] = { "id", NULL };
    wg_ctl_request rq = { .cwd = "/", .dir = dir, .json = 0, .argc = 1,
                          .argv = argv };
    wg_ctl_reply rep;
    wg_err err = { 0 };
    if (wg_ctl_call(path, &rq, before_deadline, a, &rep, &err) == WG_OK) {
        a->code = rep.code;
        snprintf(a->out, sizeof a->out, "%s", rep.out);
        wg_ctl_reply_release(&rep);
    } else {
        snprintf(a->why, sizeof a->why, "%s", err.msg);
    }
    free(path);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_state = {"state", setup, teardown, 60};

START_TEST(test_node_serve_runs_again_in_the_same_process)
{
    /* SIGTERM stays blocked in every thread: serve reads it through its
     * signalfd. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    for (int round = 1; round <= 2; round++) {
        char listen[64];
        snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", nu_free_port());
        asker a = { .deadline = nu_now_ms() + WAIT_MS };
        ck_assert_int_eq(pthread_create(&a.thread, NULL, ask_then_stop, &a),
                         0);
        char *argv[] = { "serve", "--listen", listen, "--interval", "3600",
                         NULL };
        char out[4096], errb[4096];
        int code = run(argv, 5, PASS, out, errb, sizeof out);
        pthread_join(a.thread, NULL);
        ck_assert_msg(code == 0, "serve %d: exit %d: %s", round, code, errb);
        ck_assert_msg(a.code == 0, "serve %d did not run `id` for a client: "
                      "%s", round, a.why);
        ck_assert_msg(!strncmp(a.out, "nanning ", 8), "serve %d: id said %s",
                      round, a.out);
        ck_assert_msg(strstr(out, "serving nanning on ") == out, "%s", out);
        ck_assert_msg(strstr(out, "\nstopped\n"), "%s", out);
        /* The control socket and pid file went with it. */
        char *ctl = tu_path(dir, WG_CONTROL_FILE);
        ck_assert_int_ne(access(ctl, F_OK), 0);
        free(ctl);
    }
}
END_TEST

/* ---- the passphrase, per command ----------------------------------------------- */

START_TEST(test_node_passphrase_is_not_kept_for_the_next_command)
{
    char out[4096], errb[4096];
    char *argv[] = { "status", NULL };
    ck_assert_msg(run(argv, 1, PASS, out, errb, sizeof out) == 0, "%s", errb);
    /* The next command gives a wrong one: it must not open the store with
     * the passphrase the one before it read. */
    ck_assert_int_eq(run(argv, 1, "wrong", out, errb, sizeof out),
                     WG_EXIT_STORE);
    ck_assert_msg(strstr(errb, "wings: cannot open store"), "%s", errb);
    ck_assert_int_eq(run(argv, 1, NULL, out, errb, sizeof out),
                     WG_EXIT_STORE);
    ck_assert_msg(strstr(errb, "no passphrase"), "%s", errb);
    ck_assert_msg(run(argv, 1, PASS, out, errb, sizeof out) == 0, "%s", errb);
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_state, test_node_serve_runs_again_in_the_same_process),
    TU_TEST(case_state, test_node_passphrase_is_not_kept_for_the_next_command),
};

int main(void)
{
    return tu_run(TU_SUITE("node", tests));
}
