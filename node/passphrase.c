/*
 * passphrase.c - where a passphrase comes from, and opening the store
 *
 * $WINGS_PASSPHRASE, else the first line of --passphrase-file, else the
 * systemd credential $CREDENTIALS_DIRECTORY/wings.passphrase, else a prompt
 * on the terminal with echo off, else exit 4 saying how to give one. The
 * passphrase lives in guarded memory; the environment variable is removed
 * once read so no child process inherits it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "wg_crypto.h"
#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"

#define PASS_MAX 1024

static wg_rc from_file(const char *path, char *buf, size_t *len, wg_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wg_err_set(err, WG_ERR_AUTH, "cannot read passphrase file "
                          "'%s': %s", path, strerror(errno));
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, PASS_MAX - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf, '\n', n) || n == PASS_MAX)
            break;
    }
    close(fd);
    char *nl = memchr(buf, '\n', n);
    if (nl)
        n = (size_t)(nl - buf);
    else if (n == PASS_MAX)
        return wg_err_set(err, WG_ERR_AUTH, "passphrase in '%s' is longer "
                          "than %d bytes", path, PASS_MAX - 1);
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    *len = n;
    return WG_OK;
}

static wg_rc prompt(const char *text, char *buf, size_t *len, wg_err *err)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return wg_err_set(err, WG_ERR_AUTH, "cannot open the terminal");
    struct termios old, quiet;
    int have = tcgetattr(fileno(tty), &old) == 0;
    if (have) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    fprintf(tty, "%s", text);
    fflush(tty);
    char *got = fgets(buf, PASS_MAX, tty);
    if (have)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (!got)
        return wg_err_set(err, WG_ERR_AUTH, "no passphrase entered");
    size_t n = strcspn(buf, "\r\n");
    buf[n] = 0;
    *len = n;
    return WG_OK;
}

static wg_rc from_prompt(const char *text, int confirm, char *buf, size_t *len,
                         wg_err *err)
{
    wg_rc rc = prompt(text, buf, len, err);
    if (rc || !confirm)
        return rc;
    char *again = wg_secret_alloc(PASS_MAX + 1);
    size_t n2 = 0;
    rc = prompt("repeat passphrase: ", again, &n2, err);
    if (rc == WG_OK && (n2 != *len || !wg_equal(again, buf, n2)))
        rc = wg_err_set(err, WG_ERR_INVALID, "the passphrases differ");
    wg_secret_free(again);
    return rc;
}

static wg_rc take_env(const char *name, char *buf, size_t *len, int *found)
{
    const char *v = getenv(name);
    *found = 0;
    if (!v)
        return WG_OK;
    size_t n = strlen(v);
    if (n >= PASS_MAX)
        n = PASS_MAX - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    *len = n;
    *found = 1;
    /* Wipe the copy in the environment too, then drop it, so no child
     * process inherits it. */
    wg_wipe((char *)v, strlen(v));
    unsetenv(name);
    return WG_OK;
}

static wg_rc finish(char *buf, size_t len, char **out, size_t *outlen,
                    wg_rc rc)
{
    if (rc) {
        wg_secret_free(buf);
        return rc;
    }
    *out = buf;
    *outlen = len;
    return WG_OK;
}

/* The passphrase, once read, is kept in CLI for the rest of the command:
 * commands such as init and passwd may need it twice, and the environment
 * is emptied after the first read. wg_cli_dispatch() forgets it when the
 * command returns. */
void wg_passphrase_forget(wg_cli *cli)
{
    wg_secret_free(cli->pass_cache);
    cli->pass_cache = NULL;
    cli->pass_cache_len = 0;
}

wg_rc wg_passphrase_get(wg_cli *cli, const char *text, int confirm,
                        char **out, size_t *len, wg_err *err)
{
    char *buf = wg_secret_alloc(PASS_MAX + 1);
    size_t n = 0;
    int found = 0;
    wg_rc rc = WG_OK;
    if (cli->pass_cache) {
        memcpy(buf, cli->pass_cache, cli->pass_cache_len + 1);
        return finish(buf, cli->pass_cache_len, out, len, WG_OK);
    }
    take_env("WINGS_PASSPHRASE", buf, &n, &found);
    if (!found && cli->pass_file) {
        rc = from_file(cli->pass_file, buf, &n, err);
        found = rc == WG_OK;
    }
    if (!found && rc == WG_OK) {
        /* A systemd unit's LoadCredential=: systemd reads the root-only
         * file and hands the service a private copy. */
        const char *cd = getenv("CREDENTIALS_DIRECTORY");
        char path[4096];
        if (cd && *cd &&
            snprintf(path, sizeof path, "%s/%s", cd, WG_CREDENTIAL_NAME) <
                (int)sizeof path &&
            access(path, F_OK) == 0) {
            rc = from_file(path, buf, &n, err);
            found = rc == WG_OK;
        }
    }
    if (!found && rc == WG_OK) {
        if (isatty(STDIN_FILENO))
            rc = from_prompt(text, confirm, buf, &n, err);
        else
            rc = wg_err_set(err, WG_ERR_AUTH,
                            "no passphrase: set WINGS_PASSPHRASE, use "
                            "--passphrase-file FILE, or run on a terminal");
    }
    if (rc == WG_OK) {
        cli->pass_cache = wg_secret_alloc(PASS_MAX + 1);
        memcpy(cli->pass_cache, buf, n + 1);
        cli->pass_cache_len = n;
    }
    return finish(buf, n, out, len, rc);
}

wg_rc wg_passphrase_get_new(wg_cli *cli, char **out, size_t *len, wg_err *err)
{
    char *buf = wg_secret_alloc(PASS_MAX + 1);
    size_t n = 0;
    int found = 0;
    wg_rc rc = WG_OK;
    take_env("WINGS_NEW_PASSPHRASE", buf, &n, &found);
    if (!found) {
        if (isatty(STDIN_FILENO))
            rc = from_prompt("new passphrase: ", 1, buf, &n, err);
        else
            rc = wg_err_set(err, WG_ERR_INVALID,
                            "no new passphrase: set WINGS_NEW_PASSPHRASE or "
                            "run on a terminal");
    }
    if (rc == WG_OK && n == 0)
        rc = wg_err_set(err, WG_ERR_INVALID, "the new passphrase is empty");
    return finish(buf, n, out, len, rc);
}

void wg_cli_life_notice(wg_cli *cli, wg_store *st)
{
    uint64_t missing, own;
    (void)cli;
    switch (wg_store_life_notice(st, &missing, &own)) {
    case WG_LIFE_ROLLED_BACK:
        fprintf(stderr, _("wings: warning: the store went back in time (an "
                          "older wings.db, or a cut or older WAL): it holds "
                          "%llu changes fewer than it did, %llu of them its "
                          "own; new writes are held until every peer has "
                          "synced with it, which brings back what they "
                          "hold (see 'wings status')\n"),
                (unsigned long long)missing, (unsigned long long)own);
        break;
    case WG_LIFE_MARK_DAMAGED:
        fputs(_("wings: warning: the rollback mark beside the store "
                "(wings.mark) is damaged: made afresh from the store as it "
                "is\n"), stderr);
        break;
    default:
        break;
    }
}

void wg_cli_close_store(wg_cli *cli, wg_store **st)
{
    if (*st && *st == cli->shared_store)
        *st = NULL;
    else
        wg_store_close(st);
}

int wg_cli_open_store(wg_cli *cli, wg_store **out)
{
    if (cli->shared_store) {
        *out = cli->shared_store;
        return WG_EXIT_OK;
    }
    wg_err err = { 0 };
    char *pass = NULL;
    size_t len = 0;
    wg_rc rc = wg_passphrase_get(cli, "passphrase: ", 0, &pass, &len, &err);
    if (rc == WG_OK)
        rc = wg_store_open(cli->dir, pass, len, out, &err);
    wg_secret_free(pass);
    if (rc == WG_OK) {
        wg_store_set_log(*out, wg_log_sink, NULL);
        wg_cli_life_notice(cli, *out);
        return WG_EXIT_OK;
    }
    /* Whatever the cause, a store that will not open is exit 4. */
    return wg_cli_failf(cli, WG_EXIT_STORE, "cannot open store '%s': %s",
                        cli->dir, err.msg);
}

wg_rc wg_secret_get(wg_cli *cli, const char *env, const char *text,
                    char **out, size_t *len, wg_err *err)
{
    char *buf = wg_secret_alloc(PASS_MAX + 1);
    size_t n = 0;
    int found = 0;
    wg_rc rc = WG_OK;
    take_env(env, buf, &n, &found);
    if (!found) {
        if (isatty(STDIN_FILENO))
            rc = from_prompt(text, 1, buf, &n, err);
        else
            rc = wg_err_set(err, WG_ERR_INVALID, "no password: set %s or run "
                            "on a terminal", env);
    }
    return finish(buf, n, out, len, rc);
}
