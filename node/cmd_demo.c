/*
 * cmd_demo.c - `wings demo`: a small network on loopback, narrated
 *
 * Two county offices and a prefecture HQ, each a real node folder driven by
 * this same executable in child processes: the HQ is the network's root
 * and enrols the offices, they write records while apart, one edit
 * conflicts, they sync, the HQ prints its report, revokes an office whose
 * next sync is then refused, and shows the audit trail. The passphrase
 * reaches the children through the environment only. Synthetic names
 * throughout.
 *
 * With --dir the network is kept for the newcomer to explore: the
 * passphrase is printed and written to DIR/passphrase (0600), a clerk
 * account is made at the HQ, and the one command that serves the HQ's web
 * page on this data is printed last.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wg_crypto.h"
#include "wg_node.h"
#include "wg_validate.h"

/* File statics only because the signal handler must reach them (the
 * children to stop when the demo itself is interrupted) or every helper
 * would take them: cmd_demo() sets each one afresh when it starts. */
static char exe[4096];
static FILE *out;
static volatile pid_t current_child, daemon_child;
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    interrupted = 1;
    if (current_child > 0)
        kill(current_child, SIGTERM);
    if (daemon_child > 0)
        kill(daemon_child, SIGTERM);
    (void)sig;
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

/* 1 if nothing listens on 127.0.0.1:PORT now. */
static int port_free(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/* Run wings with ARGS (NULL-terminated); its output is shown indented, and
 * the first line kept in FIRST (if non-NULL). Returns the exit code. */
static int run(char *first, size_t cap, const char *const *args)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fprintf(out, "  $ wings");
    for (int i = 0; args[i]; i++)   /* as one would type it */
        fprintf(out, strchr(args[i], '\'') ? " \"%s\""
                     : strpbrk(args[i], " &;|<>()$`\\\"*?!#") ? " '%s'"
                                                             : " %s",
                args[i]);
    fputc('\n', out);
    fflush(out);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        const char *argv[40];
        int n = 0;
        argv[n++] = "wings";
        for (int i = 0; args[i] && n < 39; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    current_child = pid;
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[4096];
    int lineno = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (lineno++ == 0 && first && cap) {
            size_t l = strcspn(line, "\n");
            if (l >= cap)
                l = cap - 1;
            memcpy(first, line, l);
            first[l] = 0;
        }
        fprintf(out, "    %s", line);
    }
    if (f)
        fclose(f);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    current_child = 0;
    fflush(out);
    if (interrupted)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A step that must fail (a refusal the demo shows): CODE is its exit. */
#define RUN_REFUSED(code, first, ...)                                         \
    do {                                                                      \
        const char *a_[] = { __VA_ARGS__, NULL };                            \
        if (run(first, sizeof(first), a_) != (code)) {                        \
            fprintf(out, "demo: that step should have been refused; "         \
                         "stopping\n");                                       \
            goto fail;                                                        \
        }                                                                     \
    } while (0)

#define RUN(first, ...)                                                       \
    do {                                                                      \
        const char *a_[] = { __VA_ARGS__, NULL };                            \
        if (run(first, sizeof(first), a_) != 0) {                             \
            fprintf(out, "demo: that step failed; stopping\n");               \
            goto fail;                                                        \
        }                                                                     \
    } while (0)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    fputs("\n==> ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

/* A valid resident id number for region 4502xx and birth date YMD. */
static void idnum(char out18[19], const char *region, const char *ymd,
                  int serial)
{
    snprintf(out18, 19, "%s%s%03d", region, ymd, serial % 1000);
    out18[17] = (char)wg_validate_idnum_check(out18);
    out18[18] = 0;
}

typedef struct person {
    const char *name, *gender, *birth, *category;
} person;

static int add_person(const char *dir, const char *region, int serial,
                      const person *p, char id[64])
{
    char num[19], a1[128], a2[64], a3[64], a4[64], a5[64];
    /* The id number's 17th digit is odd for a man, even for a woman. */
    idnum(num, region, p->birth, serial * 2 + !strcmp(p->gender, "male"));
    char birth[11];
    snprintf(birth, sizeof birth, "%.4s-%.2s-%.2s", p->birth, p->birth + 4,
             p->birth + 6);
    snprintf(a1, sizeof a1, "name=%s", p->name);
    snprintf(a2, sizeof a2, "id_number=%s", num);
    snprintf(a3, sizeof a3, "birth_date=%s", birth);
    snprintf(a4, sizeof a4, "disability_category=%s", p->category);
    snprintf(a5, sizeof a5, "gender=%s", p->gender);
    const char *args[] = { "--dir", dir, "add", "person", a1, a2, a3, a4, a5,
                           "disability_grade=3", "rural=1",
                           "registered_on=2025-03-01", NULL };
    return run(id, 64, args);
}

int cmd_demo(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = { { 0, 0, 0, 0 } };
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "demo", cli->out);
        return WG_EXIT_USAGE;
    }
    out = cli->out;
    current_child = daemon_child = 0;
    interrupted = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot find this program");
    exe[n] = 0;

    /* --dir given: build there and keep it; otherwise a temporary folder. */
    char base[4096];
    int keep = cli->dir_given;
    if (keep) {
        if (mkdir(cli->dir, 0700) != 0 && errno != EEXIST)
            return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot create '%s': %m",
                                cli->dir);
        snprintf(base, sizeof base, "%s", cli->dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/wings-demo-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(base))
            return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot create a "
                                "temporary folder: %m");
    }
    char rongan[4200], sanjiang[4200], hq[4200];
    snprintf(rongan, sizeof rongan, "%s/rongan", base);
    snprintf(sanjiang, sizeof sanjiang, "%s/sanjiang", base);
    snprintf(hq, sizeof hq, "%s/liuzhou-hq", base);

    /* A fresh passphrase for the demo, handed to children by environment. */
    uint8_t raw[16];
    char pass[33], clerk_pw[17];
    wg_random(raw, sizeof raw);
    wg_hex_encode(pass, raw, sizeof raw);
    setenv("WINGS_PASSPHRASE", pass, 1);
    wg_random(raw, 8);
    wg_hex_encode(clerk_pw, raw, 8);
    wg_wipe(raw, sizeof raw);
    char passfile[4200];
    snprintf(passfile, sizeof passfile, "%s/passphrase", base);
    if (keep) {
        /* Kept for the newcomer: the folder's own passphrase file. */
        int fd = open(passfile, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
                                    O_CLOEXEC, 0600);
        char line_[40];
        int len = snprintf(line_, sizeof line_, "%s\n", pass);
        if (fd < 0 || write(fd, line_, (size_t)len) != len) {
            if (fd >= 0)
                close(fd);
            wg_wipe(pass, sizeof pass);
            return wg_cli_failf(cli, WG_EXIT_INTERNAL, "cannot write '%s': %m",
                                passfile);
        }
        close(fd);
    } else {
        wg_wipe(pass, sizeof pass);
    }
    /* The daemons' journal lines would interleave with the narration:
     * warnings only, unless the caller asked for more. */
    setenv("WINGS_LOG", "warn", 0);

    char e1[64], e2[64], e3[64];
    snprintf(e1, sizeof e1, "tcp://127.0.0.1:%d", free_port());
    snprintf(e2, sizeof e2, "tcp://127.0.0.1:%d", free_port());
    snprintf(e3, sizeof e3, "tcp://127.0.0.1:%d", free_port());
    char id1[512], id2[512], id3[512], line[512];
    pid_t daemon = 0;
    int code = WG_EXIT_INTERNAL;

    fprintf(out, "wings demo: two county offices and their prefecture HQ, "
                 "on this machine, in %s\n", base);
    say("1. Each office and the HQ creates its node: an encrypted store and "
        "a signing key.");
    RUN(id1, "--dir", rongan, "init", "--name", "rongan", "--county",
        "450224", "--listen", e1, "--kdf", "interactive");
    RUN(id2, "--dir", sanjiang, "init", "--name", "sanjiang", "--county",
        "450226", "--listen", e2, "--kdf", "interactive");
    RUN(id3, "--dir", hq, "init", "--name", "liuzhou-hq", "--county",
        "450200", "--role", "hq", "--root", "--listen", e3, "--kdf",
        "interactive");

    say("2. The HQ is the network's root: it enrols each office (its key, "
        "address and county) and gives it a token; the office joins with "
        "it.");
    char k1[80], k2[80], tok[2048], scratch[8];
    if (sscanf(id1, "%*s %79s", k1) != 1 || sscanf(id2, "%*s %79s", k2) != 1)
        goto fail;
    RUN(tok, "--dir", hq, "enrol", "rongan", k1, e1, "--county", "450224");
    RUN(line, "--dir", rongan, "join", tok);
    RUN(tok, "--dir", hq, "enrol", "sanjiang", k2, e2, "--county", "450226");
    RUN(line, "--dir", sanjiang, "join", tok);
    /* The names of these three codes, and nothing more: GB/T 2260 codes as
     * the Ministry of Civil Affairs publishes them ("中华人民共和国县以上
     * 行政区划代码", www.mca.gov.cn): 450200 柳州市, 450224 融安县,
     * 450226 三江侗族自治县. */
    fprintf(out, "  The HQ names its prefecture and counties; sync carries "
                 "the names to the offices.\n");
    char areas[4200];
    snprintf(areas, sizeof areas, "%s/areas.csv", base);
    FILE *af = fopen(areas, "w");
    if (!af || fputs("code,name\n450200,柳州市\n450224,融安县\n"
                     "450226,三江侗族自治县\n", af) < 0 || fclose(af) != 0)
        goto fail;
    RUN(line, "--dir", hq, "area", "import", areas);

    say("3. Offline, Rong'an County runs an e-commerce live-streaming class "
        "and places graduates with a food company.");
    static const person ra[] = {
        { "韦小梅", "female", "19960412", "physical" },
        { "覃建国", "male", "19890923", "hearing" },
        { "龙秀英", "female", "20010117", "visual" },
    };
    char pid[3][64], tid[64], plc[64], v1[256], v2[256];
    for (int i = 0; i < 3; i++)
        if (add_person(rongan, "450224", 11 + i, &ra[i], pid[i]) != 0)
            goto fail;
    for (int i = 0; i < 3; i++) {
        snprintf(v1, sizeof v1, "person_id=%s", pid[i]);
        RUN(tid, "--dir", rongan, "add", "training", v1,
            "course=E-commerce live streaming, level 1",
            "category=ecommerce_live", "provider=County training centre",
            "start_date=2026-03-02", "end_date=2026-05-29", "hours=160",
            i == 2 ? "outcome=completed" : "outcome=certified");
    }
    snprintf(v1, sizeof v1, "person_id=%s", pid[0]);
    RUN(plc, "--dir", rongan, "add", "placement", v1,
        "employer=Rong'an Mountain Foods Co.", "employment_type=enterprise",
        "position=Live-stream host", "start_date=2026-06-15",
        "monthly_income=3200", "status=active");
    snprintf(v2, sizeof v2, "person_id=%s", pid[1]);
    RUN(line, "--dir", rongan, "add", "placement", v2,
        "employer=Rong'an Mountain Foods Co.", "employment_type=enterprise",
        "position=Packing line", "start_date=2026-06-15",
        "monthly_income=2600", "status=active");

    say("4. Offline, Sanjiang County runs an online customer-service "
        "employment base.");
    static const person sj[] = {
        { "杨丽娟", "female", "19980305", "physical" },
        { "吴志强", "male", "19920718", "speech" },
    };
    char sid[2][64];
    for (int i = 0; i < 2; i++)
        if (add_person(sanjiang, "450226", 21 + i, &sj[i], sid[i]) != 0)
            goto fail;
    for (int i = 0; i < 2; i++) {
        snprintf(v1, sizeof v1, "person_id=%s", sid[i]);
        RUN(line, "--dir", sanjiang, "add", "training", v1,
            "course=Online customer service", "category=customer_service",
            "start_date=2026-04-06", "end_date=2026-05-15", "hours=120",
            "outcome=certified");
        RUN(line, "--dir", sanjiang, "add", "placement", v1,
            "employer=Sanjiang Online Service Base",
            "employment_type=online", "position=Customer service agent",
            "start_date=2026-06-01", i ? "monthly_income=2900"
                                       : "monthly_income=3100",
            "status=active");
    }

    say("5. The HQ starts serving; each office syncs when its link "
        "comes up.");
    fprintf(out, "  $ wings --dir %s serve --interval 3600 &\n", hq);
    fflush(out);
    daemon = fork();
    if (daemon == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(exe, "wings", "--dir", hq, "serve", "--interval", "3600",
              (char *)NULL);
        _exit(127);
    }
    daemon_child = daemon;
    /* Wait until the daemon answers through its control socket. */
    char ctl[4300];
    snprintf(ctl, sizeof ctl, "%s/%s", hq, WG_CONTROL_FILE);
    for (int i = 0; i < 100 && access(ctl, F_OK) != 0; i++)
        usleep(50000);
    RUN(line, "--dir", rongan, "sync");
    RUN(line, "--dir", sanjiang, "sync");

    say("6. A conflict: Rong'an corrects a wage offline; a moment later the "
        "HQ enters a different figure for the same placement.");
    RUN(line, "--dir", rongan, "update", "placement", plc,
        "monthly_income=3300");
    sleep(1);
    RUN(line, "--dir", hq, "update", "placement", plc, "monthly_income=3500");
    RUN(line, "--dir", rongan, "sync");
    fprintf(out, "  The later write wins on every node; history keeps the "
                 "other value:\n");
    RUN(line, "--dir", rongan, "history", "placement", plc);
    RUN(line, "--dir", rongan, "get", "placement", plc);

    say("7. The HQ's report, over every county that synced.");
    RUN(line, "--dir", hq, "report");
    RUN(line, "--dir", hq, "report", "--by", "employment_type");

    say("8. Sanjiang's PC is reported stolen: the HQ revokes its certificate. "
        "From now on every node that learns of it refuses that key.");
    RUN(line, "--dir", hq, "revoke", "sanjiang", "--reason",
        "PC reported stolen");
    RUN(line, "--dir", hq, "members");
    fprintf(out, "  Whoever holds the stolen PC tries to sync: refused "
                 "(exit 6), and the HQ audits the refusal.\n");
    RUN_REFUSED(WG_EXIT_SYNC, line, "--dir", sanjiang, "sync", "--timeout",
                "10");

    say("9. The audit trail at the HQ: every session, written and signed by "
        "the node that took part, and the refusal.");
    RUN(line, "--dir", hq, "audit");
    RUN(line, "--dir", hq, "audit", "--verify");
    if (keep) {
        say("10. A clerk's account at the HQ's web page (the network is kept "
            "for you to explore).");
        /* Made through the serving HQ: only its hash travels. */
        setenv("WINGS_USER_PASSWORD", clerk_pw, 1);
        RUN(line, "--dir", hq, "user", "add", "clerk", "--role", "clerk");
        unsetenv("WINGS_USER_PASSWORD");
    }
    (void)scratch;
    code = WG_EXIT_OK;
fail:
    if (interrupted)
        fprintf(out, "\ndemo interrupted; stopping the nodes\n");
    if (daemon > 0) {
        kill(daemon, SIGTERM);
        while (waitpid(daemon, NULL, 0) < 0 && errno == EINTR)
            ;
        daemon_child = 0;
    }
    unsetenv("WINGS_PASSPHRASE");
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "%s", base);
        pid_t rm = fork();
        if (rm == 0) {
            execlp("rm", "rm", "-rf", "--", cmd, (char *)NULL);
            _exit(127);
        }
        while (waitpid(rm, NULL, 0) < 0 && errno == EINTR)
            ;
        fprintf(out, "\ndemo %s; nothing left running, temporary folder "
                     "removed\n", code ? "failed" : "finished");
    } else {
        fprintf(out, "\ndemo %s; nothing left running, the nodes are in %s\n",
                code ? "failed" : "finished", base);
        if (!code) {
            int port = port_free(8080) ? 8080 : free_port();
            fprintf(out, "\nExplore the network the demo left:\n"
                         "  passphrase of every node: %s (also in %s)\n"
                         "  a clerk's account at the HQ's page: user clerk, "
                         "password %s\n"
                         "  serve the HQ's page on the demo's data, then open "
                         "http://127.0.0.1:%d/ :\n"
                         "    wings --dir %s --passphrase-file %s serve "
                         "--http 127.0.0.1:%d\n",
                    pass, passfile, clerk_pw, port, hq, passfile, port);
        }
    }
    wg_wipe(pass, sizeof pass);
    wg_wipe(clerk_pw, sizeof clerk_pw);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return interrupted ? 128 + SIGTERM : code;
}
