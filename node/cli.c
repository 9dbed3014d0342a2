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
      "init --name NAME --county CODE [--role office|hq] [--root] "
      "[--listen ENDPOINT] [--kdf interactive|moderate|sensitive]",
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
      "  WINGS_PASSPHRASE=... wings --dir ronan init --name ronan --county 450224\n", 0 },
    { "id", cmd_id, "print this node's identity line",
      "id",
      "Prints NAME KEY ENDPOINT; --json adds county and role.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan id\n", 1 },
    { "passwd", cmd_passwd, "change the passphrase",
      "passwd",
      "Rewraps the data key under a new passphrase, taken from\n"
      "$WINGS_NEW_PASSPHRASE or asked for twice on the terminal. The old\n"
      "passphrase stops working; no record is rewritten.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan passwd\n", 0 },
    { "add", cmd_add, "add a record, print its id",
      "add TABLE FIELD=VALUE...",
      "TABLE is person, training or placement. Integers in decimal, dates\n"
      "YYYY-MM-DD, booleans 0/1; county defaults to the node's own. The\n"
      "record is checked first (required fields, enums, calendar dates, the\n"
      "resident id number's check digit, references to an existing person,\n"
      "the node's scope); a rejected record changes nothing (exit 3).\n"
      "--json prints the whole record.\n"
      "\n"
      "Example:\n"
      "  wings add person name=韦小宝 id_number=11010519491231002X \\\n"
      "      disability_category=physical disability_grade=2\n", 1 },
    { "update", cmd_update, "change fields of a record",
      "update TABLE ID FIELD=VALUE...",
      "Changes the named fields; an empty value (FIELD=) clears one. The\n"
      "record as it would be afterwards is checked as add checks it.\n"
      "\n"
      "Example:\n"
      "  wings update placement 3f2a...e1 status=ended end_date=2026-10-31\n", 1 },
    { "delete", cmd_delete, "delete a record (history keeps it)",
      "delete TABLE ID",
      "Marks the record deleted; it leaves list and get, and history still\n"
      "shows every change to it.\n"
      "\n"
      "Example:\n"
      "  wings delete training 3f2a...e1\n", 1 },
    { "undelete", cmd_undelete, "bring a deleted record back",
      "undelete TABLE ID",
      "Undoes a delete with a later change; a person's trainings and\n"
      "placements, hidden while the person was deleted, show again.\n"
      "\n"
      "Example:\n"
      "  wings undelete person 3f2a1b4c\n", 1 },
    { "review", cmd_review, "what needs a person's eye: persons held twice",
      "review",
      "Lists the persons this node holds twice under one id_number (each\n"
      "registered at an office before they synced), with the command that\n"
      "joins them. --json: an array of {\"kind\",\"table\",\"ids\",\"fields\"}.\n"
      "\n"
      "Example:\n"
      "  wings review\n", 1 },
    { "merge", cmd_merge, "join a record held twice into one",
      "merge TABLE KEEP DUPLICATE",
      "Moves every training and placement of DUPLICATE to KEEP, then\n"
      "deletes DUPLICATE, in one transaction; history keeps both. Every\n"
      "node that syncs takes the same result.\n"
      "\n"
      "Example:\n"
      "  wings merge person 3f2a...e1 9b07...c4\n", 1 },
    { "get", cmd_get, "show one record",
      "get TABLE ID",
      "Prints every field of the record; --json prints one object. Exit 5\n"
      "when there is no such record.\n"
      "\n"
      "Example:\n"
      "  wings --json get person 3f2a...e1\n", 1 },
    { "list", cmd_list, "list records of a table",
      "list TABLE [--where FIELD=VALUE]... [--search TEXT] [--sort FIELD]\n"
      "           [--limit N] [--offset N] [--csv]",
      "Live records sorted by id, as an aligned table, CSV (--csv) or a JSON\n"
      "array (--json). --where keeps records whose FIELD equals VALUE\n"
      "(FIELD= keeps those where it is empty); several --where must all hold.\n"
      "--search keeps records any of whose text fields (names, id numbers)\n"
      "holds TEXT anywhere. --sort orders by FIELD (-FIELD: descending), then\n"
      "id; --limit and --offset take one page. A deleted person's trainings\n"
      "and placements are left out with it.\n"
      "\n"
      "Example:\n"
      "  wings list placement --where status=active --where county=450224\n"
      "  wings list person --search 小梅 --sort -registered_on --limit 50\n", 1 },
    { "history", cmd_history, "every change to a record, oldest first",
      "history TABLE ID",
      "When, which node (its key), and which fields each change wrote,\n"
      "including values that lost a conflict to a later write.\n"
      "\n"
      "Example:\n"
      "  wings history person 3f2a...e1\n", 1 },
    { "import", cmd_import, "add records from a CSV file",
      "import TABLE FILE [--skip-invalid]",
      "FILE is CSV (RFC 4180, UTF-8) with a header row of field names; an\n"
      "id column keeps each record's id, so a record exported on one node\n"
      "stays the same record on another. Every row is checked first: if any\n"
      "fails, each failing row is listed (line, field, reason) and nothing\n"
      "is written (exit 3). --skip-invalid writes the valid rows and lists\n"
      "the rest.\n"
      "\n"
      "Example:\n"
      "  wings import person persons.csv\n", 1 },
    { "export", cmd_export, "write a table as CSV",
      "export TABLE [--out FILE]",
      "CSV with a header row (id and every field), readable by import on\n"
      "another node. Without --out it goes to standard output.\n"
      "\n"
      "Example:\n"
      "  wings export person --out persons.csv\n", 1 },
    { "enrol", cmd_enrol, "certify a node for a county and print its token",
      "enrol NAME KEY ENDPOINT --county CODE [--role office|hq] "
      "[--valid-days N] [--replaces NAME]",
      "On the network's root, or an HQ whose certificate covers CODE:\n"
      "certify the node with KEY for CODE and ROLE, add it as a peer, and\n"
      "print one line, the join token to give it. An office cannot enrol;\n"
      "CODE outside this node's area is refused (exit 3). --replaces NAME\n"
      "revokes the node it replaces (a lost or stolen PC) and certifies the\n"
      "new one for the same county. --json: name, key, county, role, token.\n"
      "\n"
      "Example:\n"
      "  wings enrol rongan 5c1e...9a tcp://10.8.0.5:7400 --county 450224\n", 1 },
    { "join", cmd_join, "join a network with a token from its enroller",
      "join TOKEN",
      "Install this node's certificate chain and add its enroller as a\n"
      "peer. A token made for another key, county or role is refused\n"
      "(exit 3). Prints 'joined NETWORK as ROLE for CODE'.\n", 1 },
    { "revoke", cmd_revoke, "revoke a node's certificate",
      "revoke NAME|KEY [--reason TEXT]",
      "On the issuer of that node's certificate or an HQ above it. Every\n"
      "node that learns of it (revocations travel with sync) refuses the\n"
      "revoked node's connections. Exit 5 if unknown.\n", 1 },
    { "members", cmd_members, "every certificate this node knows",
      "members",
      "name, key, role, county, issuer, valid until and state (valid,\n"
      "expired, revoked). --json: objects with name, key, role, county,\n"
      "issuer, valid_until, state.\n", 1 },
    { "peer", cmd_peer, "trust, list or forget peers",
      "peer add NAME KEY ENDPOINT | peer list | peer remove NAME | "
      "peer unfreeze NAME|KEY [PARTITION]",
      "add: trust the node whose key is KEY (as its 'wings id' prints),\n"
      "reachable at ENDPOINT, under NAME. Both sides must add each other.\n"
      "list: every peer with its last session (--json: objects with name,\n"
      "key, endpoint, last_sync, last_result, last_error, sent, received).\n"
      "remove: forget a peer; its live sessions are closed.\n"
      "unfreeze: once the cause of an equivocation is known (see 'wings\n"
      "status'), let the feeds of that origin (a peer's name or any key)\n"
      "continue from the changes this node holds; the other side of the\n"
      "proven conflict stays refused. Exit 5 if none is frozen.\n"
      "\n"
      "Example:\n"
      "  wings peer add hechi 5c1e...9a tcp://10.8.0.2:7400\n", 1 },
    { "sync", cmd_sync, "exchange changes with peers now",
      "sync [PEER...] [--timeout SECONDS]",
      "One session with each named peer (default: all), then exit. Prints\n"
      "'PEER ok sent=N received=M' or 'PEER failed: REASON' per peer; exit 0\n"
      "when every session succeeded, else 6. --timeout (default 30) bounds\n"
      "how long a silent or unreachable peer is waited for.\n"
      "\n"
      "Example:\n"
      "  wings sync hq --timeout 10\n", 1 },
    { "serve", cmd_serve, "run the node: accept peers, sync on a timer",
      "serve [--listen ENDPOINT] [--interval SECONDS]",
      "Runs in the foreground: accepts sessions from trusted peers and every\n"
      "interval (default 30 s) starts one with each peer, backing off from\n"
      "peers that fail. While it runs, other wings commands for this folder\n"
      "are carried out by it. SIGINT/SIGTERM stop it cleanly (exit 0).\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan serve --interval 60\n", 0 },
    { "status", cmd_status, "identity, record counts, feeds, peers",
      "status",
      "Shows who this node is, how many records and feeds it holds, and per\n"
      "peer when the last session ran and how it ended.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan status\n", 1 },
    { "report", cmd_report, "employment, training and income figures",
      "report [--by county|employment_type|category] [--csv] [--svg FILE]",
      "Aggregates the records this node holds, with a total row. By county\n"
      "(default): persons registered, persons with an active placement,\n"
      "employment rate (%, one decimal), persons trained (a course completed\n"
      "or certified), persons certified, median monthly income of active\n"
      "placements. --by employment_type: persons, active placements, median\n"
      "income. --by category: persons enrolled, trained, certified.\n"
      "--json, --csv, or --svg FILE for a bar chart of employment rate by\n"
      "county that opens in any browser.\n"
      "\n"
      "Example:\n"
      "  wings report --svg rates.svg\n", 1 },
    { "demo", cmd_demo, "watch two offices and an HQ sync, in a minute",
      "demo [--dir DIR]",
      "Builds a small network on this machine: two county offices and their\n"
      "prefecture HQ. They write records while apart, one edit conflicts,\n"
      "they sync, and the HQ prints its report and the audit trail; each\n"
      "step is narrated with the command that does it. Uses a temporary\n"
      "folder (removed afterwards) unless --dir names one to keep.\n"
      "\n"
      "Example:\n"
      "  wings demo\n", 0 },
    { "audit", cmd_audit, "show sync history, or verify the store",
      "audit [--peer NAME] [--verify]",
      "Without --verify: the sync history known to this node, newest last.\n"
      "With --verify: reads and authenticates every page of the database and\n"
      "every frame of its WAL and prints each problem; exit 0 when all hold,\n"
      "4 when anything fails.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan audit --verify\n", 1 },
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
    case WG_ERR_AMBIGUOUS: return WG_EXIT_USAGE;
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
        case OPT_DIR:
            cli->dir = optarg;
            cli->dir_given = 1;
            continue;
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
        /* `help add TABLE` (or update, import): the table's fields too. */
        const wg_table *t = NULL;
        if (first + 2 < argc &&
            !(t = wg_cli_table(&cli, argv[first + 1], argv[first + 2])))
            return WG_EXIT_NOTFOUND;
        int rc = wg_cli_help(&cli, argv[first + 1], cli.out);
        if (rc == WG_EXIT_OK && t)
            wg_cli_fields_help(cli.out, t);
        return rc;
    }
    const wg_cmd *cmd = find_cmd(name);
    if (!cmd)
        return wg_cli_usage(&cli, NULL, "unknown command '%s'", name);
    int rc;
    if (!cmd->forward || !wg_daemon_forward(&cli, argc - first, argv + first,
                                             &rc))
        rc = wg_cli_dispatch(&cli, argc - first, argv + first);
    fflush(cli.out);
    if (ferror(cli.out))
        return wg_cli_failf(&cli, WG_EXIT_INTERNAL, "cannot write output");
    return rc;
}

int wg_cli_dispatch(wg_cli *cli, int argc, char **argv)
{
    const wg_cmd *cmd = argc > 0 ? find_cmd(argv[0]) : NULL;
    if (!cmd)
        return wg_cli_usage(cli, NULL, "unknown command '%s'",
                            argc > 0 ? argv[0] : "");
    if (cli->shared_store && !cmd->forward)
        return wg_cli_failf(cli, WG_EXIT_USAGE, "'%s' cannot run through the "
                            "daemon", argv[0]);
    wg_cli_reset_getopt();
    cli->in_command = 1;
    return cmd->fn(cli, argc, argv);
}
