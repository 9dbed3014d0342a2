/*
 * cli.c - the command table, global options, help, and exit codes
 *
 * `wings [--dir DIR] [--json] [--passphrase-file FILE] COMMAND [ARGS...]`.
 * One table lists every subcommand; `wings --help` and `wings help CMD` are
 * generated from it. Each cmd_<name> parses its own options.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wg_crypto.h"
#include "wg_node.h"

static const wg_cmd commands[] = {
    { "init", cmd_init, "create a node in --dir",
      "init --name NAME --county CODE [--role office|hq] [--listen ENDPOINT] "
      "[--kdf interactive|moderate|sensitive]",
      "Creates the node folder with a fresh identity and an encrypted store,\n"
      "and prints the identity line NAME KEY ENDPOINT. KEY is all a peer\n"
      "needs to trust this node. Refuses (exit 3) if the folder holds a node.\n"
      "\n"
      "  --name NAME        letters, digits, '-', '_' and '.'\n"
      "  --county CODE      6-digit administrative division code\n"
      "  --role office|hq   an office writes its own county; an hq receives\n"
      "                     every county under its code prefix (default office)\n"
      "  --listen ENDPOINT  where peers reach it (default tcp://127.0.0.1:7400)\n"
      "  --kdf COST         Argon2id cost of unlocking: interactive, moderate\n"
      "                     (default, about 0.8 s and 256 MiB) or sensitive\n"
      "\n"
      "Example:\n"
      "  WINGS_PASSPHRASE=... wings --dir ronan init --name ronan --county 450224\n" },
    { "id", cmd_id, "print this node's identity line",
      "id",
      "Prints NAME KEY ENDPOINT; --json adds county and role.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan id\n" },
    { "passwd", cmd_passwd, "change the passphrase",
      "passwd",
      "Rewraps the data key under a new passphrase, taken from\n"
      "$WINGS_NEW_PASSPHRASE or asked for twice on the terminal. The old\n"
      "passphrase stops working; no record is rewritten.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan passwd\n" },
    { "audit", cmd_audit, "show sync history, or verify the store",
      "audit [--peer NAME] [--verify]",
      "Without --verify: the sync history known to this node, newest last.\n"
      "With --verify: reads and authenticates every page of the database and\n"
      "every frame of its WAL and prints each problem; exit 0 when all hold,\n"
      "4 when anything fails.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan audit --verify\n" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const wg_cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

int wg_exit_code(wg_rc rc)
{
    switch (rc) {
    case WG_OK: return WG_EXIT_OK;
    case WG_ERR_INVALID:
    case WG_ERR_EXISTS: return WG_EXIT_INVALID;
    case WG_ERR_NOTFOUND: return WG_EXIT_NOTFOUND;
    case WG_ERR_AUTH:
    case WG_ERR_CORRUPT: return WG_EXIT_STORE;
    case WG_ERR_PROTO:
    case WG_ERR_PEER: return WG_EXIT_SYNC;
    case WG_ERR_IO:
    case WG_ERR_NOSPACE:
    case WG_ERR_INTERNAL: return WG_EXIT_INTERNAL;
    }
    return WG_EXIT_INTERNAL;
}

int wg_cli_failf(wg_cli *cli, int code, const char *fmt, ...)
{
    va_list ap;
    fputs("wings: ", cli->errf);
    va_start(ap, fmt);
    vfprintf(cli->errf, fmt, ap);
    va_end(ap);
    fputc('\n', cli->errf);
    return code;
}

int wg_cli_fail(wg_cli *cli, const wg_err *err)
{
    return wg_cli_failf(cli, wg_exit_code(err->code), "%s", err->msg);
}

int wg_cli_usage(wg_cli *cli, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("wings: ", cli->errf);
    va_start(ap, fmt);
    vfprintf(cli->errf, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(cli->errf, " (see 'wings help %s')\n", cmd);
    else
        fputs(" (see 'wings --help')\n", cli->errf);
    return WG_EXIT_USAGE;
}

void wg_cli_reset_getopt(void)
{
    optind = 0; /* glibc: full reinitialisation */
    opterr = 0;
}

int wg_cli_getopt(wg_cli *cli, int argc, char **argv, const char *shortopts,
                  const struct option *longopts, int *done_help)
{
    enum { OPT_JSON = 1000, OPT_DIR, OPT_PASSFILE, OPT_HELP };
    struct option all[32];
    size_t n = 0;
    for (; longopts && longopts[n].name && n < 27; n++)
        all[n] = longopts[n];
    all[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
    all[n++] = (struct option){ "dir", required_argument, NULL, OPT_DIR };
    all[n++] = (struct option){ "passphrase-file", required_argument, NULL,
                                OPT_PASSFILE };
    all[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
    all[n] = (struct option){ 0, 0, 0, 0 };
    char so[64];
    /* Global options stop at the command name; a command's own options may
     * come anywhere among its arguments. */
    snprintf(so, sizeof so, "%s:%s", cli->in_command ? "" : "+",
             shortopts ? shortopts : "");
    for (;;) {
        int c = getopt_long(argc, argv, so, all, NULL);
        switch (c) {
        case OPT_JSON: cli->json = 1; continue;
        case OPT_DIR: cli->dir = optarg; continue;
        case OPT_PASSFILE: cli->pass_file = optarg; continue;
        case OPT_HELP:
            *done_help = 1;
            return 'h';
        case ':':
            wg_cli_usage(cli, cli->in_command ? argv[0] : NULL,
                         "option '%s' needs a value", argv[optind - 1]);
            return '?';
        case '?':
            wg_cli_usage(cli, cli->in_command ? argv[0] : NULL,
                         "unknown option '%s'", argv[optind - 1]);
            return '?';
        default:
            return c;
        }
    }
}

static void print_overview(FILE *to)
{
    fputs("usage: wings [--dir DIR] [--json] [--passphrase-file FILE] COMMAND "
          "[ARGS...]\n\n"
          "wings keeps a county office's records of disabled persons'\n"
          "training and employment in an encrypted store, and exchanges\n"
          "signed changes with trusted peers.\n\ncommands:\n", to);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("  help     explain a command: wings help COMMAND\n\n"
          "global options:\n"
          "  --dir DIR               the node's folder (default $WINGS_DIR, "
          "else ./wings-node)\n"
          "  --json                  machine-readable output\n"
          "  --passphrase-file FILE  read the passphrase from FILE's first "
          "line\n"
          "                          (else $WINGS_PASSPHRASE, else a "
          "prompt)\n\n"
          "exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input,\n"
          "4 store cannot be opened, 5 not found, 6 sync failed\n", to);
}

int wg_cli_help(wg_cli *cli, const char *name, FILE *to)
{
    const wg_cmd *c = find_cmd(name);
    if (!c)
        return wg_cli_usage(cli, NULL, "unknown command '%s'", name);
    fprintf(to, "usage: wings %s\n\n%s", c->usage, c->help);
    return WG_EXIT_OK;
}

int wg_node_main(int argc, char **argv)
{
    wg_cli cli = { 0 };
    cli.prog = "wings";
    cli.out = stdout;
    cli.errf = stderr;
    cli.dir = getenv("WINGS_DIR");
    if (!cli.dir || !*cli.dir)
        cli.dir = "./wings-node";

    wg_err err = { 0 };
    if (wg_crypto_init(&err) != WG_OK)
        return wg_cli_fail(&cli, &err);

    /* Global options stop at the command name. */
    wg_cli_reset_getopt();
    int help = 0;
    int c = wg_cli_getopt(&cli, argc, argv, "", NULL, &help);
    if (c == '?')
        return WG_EXIT_USAGE;
    if (help) {
        print_overview(cli.out);
        return WG_EXIT_OK;
    }
    if (c != -1)
        return wg_cli_usage(&cli, NULL, "unexpected option");
    if (optind >= argc) {
        print_overview(cli.errf);
        return WG_EXIT_USAGE;
    }
    int first = optind;
    const char *name = argv[first];
    if (!strcmp(name, "help")) {
        if (first + 1 >= argc) {
            print_overview(cli.out);
            return WG_EXIT_OK;
        }
        return wg_cli_help(&cli, argv[first + 1], cli.out);
    }
    const wg_cmd *cmd = find_cmd(name);
    if (!cmd)
        return wg_cli_usage(&cli, NULL, "unknown command '%s'", name);
    wg_cli_reset_getopt();
    cli.in_command = 1;
    int rc = cmd->fn(&cli, argc - first, argv + first);
    fflush(cli.out);
    if (ferror(cli.out))
        return wg_cli_failf(&cli, WG_EXIT_INTERNAL, "cannot write output");
    return rc;
}
