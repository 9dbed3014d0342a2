/*
 * cmd_user.c - `wings user add|list|remove|passwd`: who signs in to the page
 *
 * A password is read and hashed (Argon2id) here, in the command's own
 * process; when a daemon serves the folder only the hash travels to it over
 * the control socket (--password-hash, accepted only there), so a password
 * is never in an argument list, a log or the daemon's memory.
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "wg_crypto.h"
#include "wg_i18n.h"
#include "wg_node.h"
#include "wg_users.h"
#include "web_int.h"

typedef struct list_ctx {
    wg_cli *cli;
    wg_tabout *tab;
    int first;
} list_ctx;

static int on_user(void *p, const wg_user *u)
{
    list_ctx *l = p;
    char when[32];
    time_t t = (time_t)u->created;
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    if (l->cli->json) {
        fputs(l->first ? "[" : ",", l->cli->out);
        fputs("{\"name\":", l->cli->out);
        wg_json_str(l->cli->out, u->name);
        fputs(",\"role\":", l->cli->out);
        wg_json_str(l->cli->out, wg_user_role_name(u->role));
        fputs(",\"created\":", l->cli->out);
        wg_json_str(l->cli->out, when);
        fputc('}', l->cli->out);
    } else {
        const char *row[3] = { u->name, wg_user_role_name(u->role), when };
        wg_tabout_row(l->tab, row);
    }
    l->first = 0;
    return 0;
}

/* Read the password and hash it into HASH. Returns an exit code. */
static int read_hash(wg_cli *cli, char hash[WG_PW_HASH_MAX])
{
    wg_err err = { 0 };
    char *pw = NULL;
    size_t len = 0;
    wg_rc rc = wg_secret_get(cli, "WINGS_USER_PASSWORD", _("password: "),
                             &pw, &len, &err);
    if (rc == WG_OK)
        rc = wg_pw_hash(pw, len, hash, &err);
    wg_secret_free(pw);
    return rc ? wg_cli_fail(cli, &err) : WG_EXIT_OK;
}

int cmd_user(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "role", required_argument, NULL, 'r' },
        { "password-hash", required_argument, NULL, 'H' },
        { 0, 0, 0, 0 } };
    const char *role_s = "clerk", *given_hash = NULL;
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'r': role_s = optarg; break;
        case 'H': given_hash = optarg; break;
        case 'h': return wg_cli_help(cli, "user", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (given_hash && !cli->shared_store)
        return wg_cli_usage(cli, "user", "unknown option '--password-hash'");
    if (optind >= argc)
        return wg_cli_usage(cli, "user", "user needs add, list, remove or "
                            "passwd");
    const char *verb = argv[optind];
    int nargs = argc - optind - 1;
    const char *name = nargs >= 1 ? argv[optind + 1] : NULL;
    int role = wg_user_role_parse(role_s);
    if (role < 0)
        return wg_cli_usage(cli, "user", "--role takes clerk, viewer or "
                            "admin, not '%s'", role_s);
    int is_add = !strcmp(verb, "add"), is_pw = !strcmp(verb, "passwd");
    if (!strcmp(verb, "list")) {
        if (nargs != 0)
            return wg_cli_usage(cli, "user", "user list takes no argument");
    } else if (is_add || is_pw || !strcmp(verb, "remove")) {
        if (nargs != 1)
            return wg_cli_usage(cli, "user", "user %s needs NAME", verb);
    } else {
        return wg_cli_usage(cli, "user", "unknown user command '%s'", verb);
    }
    wg_err err = { 0 };
    if (name && wg_user_check_name(name, &err) != WG_OK)
        return wg_cli_fail(cli, &err);

    char hash[WG_PW_HASH_MAX] = "";
    if ((is_add || is_pw) && !cli->shared_store) {
        int code = read_hash(cli, hash);
        if (code)
            return code;
    } else if (is_add || is_pw) {
        if (!given_hash)
            return wg_cli_failf(cli, WG_EXIT_USAGE, "the daemon needs the "
                                "password's hash");
        snprintf(hash, sizeof hash, "%s", given_hash);
    }
    if (!cli->shared_store) {
        /* A daemon serving this folder holds the store: hand it the
         * command, with the hash in place of the password. */
        char *fwd[8];
        int n = 0, code;
        fwd[n++] = "user";
        fwd[n++] = (char *)verb;
        if (name)
            fwd[n++] = (char *)name;
        if (is_add) {
            fwd[n++] = "--role";
            fwd[n++] = (char *)wg_user_role_name((wg_user_role)role);
        }
        if (is_add || is_pw) {
            fwd[n++] = "--password-hash";
            fwd[n++] = hash;
        }
        if (wg_daemon_forward(cli, n, fwd, &code))
            return code;
    }

    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_rc rc = WG_OK;
    if (is_add) {
        rc = wg_store_user_add(st, name, (wg_user_role)role, hash, &err);
        if (rc == WG_OK && !cli->json)
            fprintf(cli->out, _("added %s (%s); they sign in to the page as "
                                "%s\n"), name,
                    wg_user_role_name((wg_user_role)role), name);
    } else if (is_pw) {
        rc = wg_store_user_set_hash(st, name, hash, &err);
        if (rc == WG_OK)
            web_end_sessions(name); /* inside the daemon: sign them out */
        if (rc == WG_OK && !cli->json)
            fprintf(cli->out, _("changed the password of %s\n"), name);
    } else if (!strcmp(verb, "remove")) {
        rc = wg_store_user_remove(st, name, &err);
        if (rc == WG_OK)
            web_end_sessions(name);
        if (rc == WG_OK && !cli->json)
            fprintf(cli->out, _("removed %s\n"), name);
    } else {
        list_ctx l = { .cli = cli, .first = 1 };
        if (!cli->json) {
            l.tab = wg_tabout_new(3);
            const char *head[3] = { "name", "role", "created" };
            wg_tabout_row(l.tab, head);
        }
        rc = wg_store_users(st, on_user, &l, &err);
        if (rc == WG_OK && cli->json)
            fputs(l.first ? "[]\n" : "]\n", cli->out);
        else if (rc == WG_OK)
            wg_tabout_print(l.tab, cli->out);
        wg_tabout_destroy(&l.tab);
    }
    if (rc)
        code = wg_cli_fail(cli, &err);
    wg_cli_close_store(cli, &st);
    wg_wipe(hash, sizeof hash);
    return code;
}
