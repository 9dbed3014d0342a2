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
#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"
#include "wg_wire.h"

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
      "                     its area by the level of its code: 450000 every\n"
      "                     45xxxx, 451000 every 4510xx (default office)\n"
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
      "passwd [--rekey]",
      "Rewraps the data key under a new passphrase, taken from\n"
      "$WINGS_NEW_PASSPHRASE or asked for twice on the terminal. The old\n"
      "passphrase stops working; no record is rewritten.\n"
      "--rekey also re-encrypts the whole store under a new data key, so an\n"
      "old copy of wings.key with the old passphrase opens nothing written\n"
      "since (stop 'serve' first: it holds the store).\n"
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
      "--json prints the whole record. 'wings help add TABLE' lists the\n"
      "table's fields: type, required or not, allowed values.\n"
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
    { "review", cmd_review, "what needs a person's eye: persons held twice, "
      "overwritten edits",
      "review",
      "Lists the persons this node holds twice under one id_number (each\n"
      "registered at an office before they synced), with the command that\n"
      "joins them; and fields two places edited at once, each not knowing\n"
      "the other's edit: the value kept, the value overwritten, and who\n"
      "wrote each (CLERK@NODE). --json: an array of\n"
      "{\"kind\",\"table\",\"ids\",\"fields\"} (kind \"duplicate\" or\n"
      "\"overwritten\"; an overwritten edit adds \"edits\", the kept first).\n"
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
      "When (local time; TZ is honoured), who (CLERK@NODE for a clerk's\n"
      "edit on the page, else the node by the name this node knows, else\n"
      "its key's start), and which fields each change wrote, including\n"
      "values that lost a conflict to a later write. --json: an array of\n"
      "{\"hlc\",\"time\",\"origin\",\"fields\"} (\"deleted\" on a delete)\n"
      "with \"time_local\" (ISO 8601, with its offset), \"node\", \"clerk\".\n"
      "\n"
      "Example:\n"
      "  wings history person 3f2a...e1\n", 1 },
    { "import", cmd_import, "add or update records from CSV or .xlsx",
      "import TABLE FILE [--update] [--skip-invalid] "
      "[--encoding auto|utf-8|gb18030] [--ignore-column NAME]...",
      "FILE is CSV (RFC 4180) or an .xlsx workbook with a header row of\n"
      "field names or the Chinese column titles export --excel writes. CSV\n"
      "as Chinese Excel and WPS save it is read: UTF-8 with or without BOM\n"
      "or GB18030/GBK (detected; --encoding to say which), CRLF, cells over\n"
      "several lines, dates like 1985/3/7 or 1985年3月7日, Chinese labels\n"
      "(男, 肢体, ...). An id column keeps each record's id: a row whose id\n"
      "(for a person without one, whose id_number) this node holds with the\n"
      "same values is skipped (a file imported twice\n"
      "writes nothing the second time); with other values it is an error,\n"
      "or, with --update, applied as an update (an edited export comes back).\n"
      "An unknown column is refused (--ignore-column NAME skips it). Every\n"
      "row is checked first: if any fails, each failing row is listed (line,\n"
      "field, reason) and nothing is written (exit 3). --skip-invalid writes\n"
      "the valid rows and lists the rest.\n"
      "\n"
      "Example:\n"
      "  wings import person 登记表.xlsx --ignore-column 备注\n", 1 },
    { "export", cmd_export, "write a table as CSV or .xlsx",
      "export TABLE [--out FILE] [--excel]",
      "CSV with a header row (id and every field), readable by import on\n"
      "another node. Without --out it goes to standard output. --excel: CSV\n"
      "that Excel and WPS open correctly (UTF-8 BOM, CRLF, Chinese column\n"
      "titles and labels, id numbers kept as text). A FILE ending in .xlsx\n"
      "is written as a workbook. A cell starting with = + - or @ gets an\n"
      "apostrophe so no spreadsheet runs it; import takes it off.\n"
      "\n"
      "Example:\n"
      "  wings export person --excel --out persons.csv\n", 1 },
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
      "peer add NAME KEY ENDPOINT | peer set NAME ENDPOINT | peer list | "
      "peer remove NAME | peer unfreeze NAME|KEY [PARTITION]",
      "add: trust the node whose key is KEY (as its 'wings id' prints),\n"
      "reachable at ENDPOINT, under NAME. Both sides must add each other.\n"
      "set: reach peer NAME at a new ENDPOINT; it stays trusted, with its\n"
      "history.\n"
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
      "when every session succeeded, else 6 (also when there is no peer).\n"
      "--timeout (default 30) bounds\n"
      "how long a silent or unreachable peer is waited for.\n"
      "\n"
      "Example:\n"
      "  wings sync hq --timeout 10\n", 1 },
    { "serve", cmd_serve, "run the node: accept peers, sync on a timer",
      "serve [--listen ENDPOINT] [--interval SECONDS] [--http ADDR:PORT "
      "[--http-public]]",
      "Runs in the foreground: accepts sessions from trusted peers and every\n"
      "interval (default 30 s) starts one with each peer, backing off from\n"
      "peers that fail. While it runs, other wings commands for this folder\n"
      "are carried out by it. SIGINT/SIGTERM stop it cleanly (exit 0).\n"
      "--http ADDR:PORT also serves the clerk's web page there (loopback\n"
      "only unless --http-public); people sign in with 'wings user' accounts.\n"
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
    { "report", cmd_report, "employment rate, training, income: tables, workbook, chart",
      "report [--by DIM[,DIM]] [--as-of DATE] [--from DATE --to DATE]\n"
      "              [--ages MIN-MAX] [--csv | --xlsx FILE | --svg FILE] [--recount]",
      "The federation's figures over the records this node holds, one row\n"
      "per group and a total row. Definitions:\n"
      "  report date   --as-of DATE, else today.\n"
      "  persons       live person records (with --as-of: registered on or\n"
      "                before the date; a record without the date is left out).\n"
      "  working_age   persons aged 16 to 59 in full years on the report date\n"
      "                (--ages MIN-MAX); no birth date: not of working age.\n"
      "  employed      persons holding an active placement: now, status active;\n"
      "                with --as-of, started by the date and not ended by its\n"
      "                end (end_date after it, or none and status active).\n"
      "  working_age_employed  working-age persons who are employed.\n"
      "  employment_rate  working_age_employed / working_age, in percent,\n"
      "                two decimals, as the federation publishes it.\n"
      "  trained, certified  persons with a training completed or certified\n"
      "                (with --as-of: whose end_date is by the date).\n"
      "  placements, median_monthly_income  active placements of the row's\n"
      "                persons and the median of their incomes.\n"
      "  --from/--to   adds newly_trained (persons completing a training in the\n"
      "                period), newly_placed (persons starting a placement in\n"
      "                it) and placements_ended (placements ending in it).\n"
      "Each person is counted once in every table, so every total is the sum\n"
      "of its rows. --by county (default), township, gender,\n"
      "disability_category, disability_grade, rural, employment_type (of the\n"
      "placement started last), category (of the course started last), or\n"
      "two at once (--by county,gender: cells, subtotals both ways, total).\n"
      "County rows carry the area's name (see 'wings area').\n"
      "Output: a table; --csv; --json; --xlsx FILE, a workbook (one sheet per\n"
      "table; every table when --by is not given); --svg FILE, a bar chart of\n"
      "the rate by one dimension. --recount computes from the records, not\n"
      "the kept aggregates (the same figures, slower).\n"
      "\n"
      "Example:\n"
      "  wings report --as-of 2026-06-30 --from 2026-01-01 --to 2026-06-30\n"
      "  wings report --by county,gender --xlsx report.xlsx\n", 1 },
    { "area", cmd_area, "name areas: set, import or list",
      "area set CODE NAME | area import FILE | area list",
      "Names of administrative areas (6-digit codes), shown by reports and\n"
      "charts. An HQ names the areas inside its scope. import reads CSV\n"
      "code,name (a header row 'code,name' is skipped); every row is checked\n"
      "first and nothing is written if one fails. Sync carries the names to\n"
      "every node whose scope holds the area.\n"
      "\n"
      "Example:\n"
      "  wings area set 450224 融安县\n", 1 },
    { "demo", cmd_demo, "watch two offices and an HQ sync, in a minute",
      "demo [--dir DIR]",
      "Builds a small network on this machine: two county offices and their\n"
      "prefecture HQ, the network's root, which enrols them. They write\n"
      "records while apart, one edit conflicts, they sync, the HQ prints its\n"
      "report, revokes an office whose next sync is then refused, and shows\n"
      "the audit trail; each step is narrated with the command that does it.\n"
      "Uses a temporary folder (removed afterwards) unless --dir names one to\n"
      "keep: then the nodes' passphrase (also in DIR/passphrase), a clerk's\n"
      "account at the HQ's page and the command that serves it are printed.\n"
      "\n"
      "Example:\n"
      "  wings demo\n", 0 },
    { "user", cmd_user, "accounts for the web page",
      "user add NAME [--role clerk|viewer|admin] | user list | "
      "user remove NAME | user passwd NAME",
      "The people who sign in to the page that 'serve --http' offers. A\n"
      "clerk writes records, a viewer reads them, an admin also manages\n"
      "users and sees the audit trail (default role: clerk). The password\n"
      "comes from $WINGS_USER_PASSWORD, else it is asked twice on the\n"
      "terminal; at least 8 characters. Only its Argon2id hash is kept, in\n"
      "the encrypted store of this node alone (accounts are not synced).\n"
      "\n"
      "Example:\n"
      "  WINGS_USER_PASSWORD=... wings --dir ronan user add wei --role clerk\n",
      WG_FORWARD_SELF },
    { "audit", cmd_audit, "show sync history, or verify the store",
      "audit [--peer NAME] [--verify]",
      "Without --verify: the sync history known to this node, newest last.\n"
      "With --verify: reads and authenticates every page of the database and\n"
      "every frame of its WAL and prints each problem; exit 0 when all hold,\n"
      "4 when anything fails.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan audit --verify\n", 1 },
    { "backup", cmd_backup, "write a sealed, consistent copy of the node",
      "backup FILE",
      "Writes FILE: the node's key file and a copy of its database taken in\n"
      "one read (consistent while 'serve' runs: the daemon takes it), every\n"
      "page sealed as on the node, and a sealed manifest of what it holds.\n"
      "Without the node's passphrase the file is useless; a changed byte\n"
      "makes restore refuse it. Prints what it holds.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan backup /media/usb/ronan-2026-12-06.wingsbak\n", 1 },
    { "restore", cmd_restore, "restore a backup into an empty --dir",
      "restore FILE",
      "Checks FILE whole with the node's passphrase (exit 4 if it was altered\n"
      "or the passphrase is wrong, 3 if it is not a wings backup), writes it\n"
      "into --dir, which must be new or empty (exit 3 otherwise), verifies\n"
      "every page and feed as 'audit --verify' does, and prints what it\n"
      "holds.\n"
      "\n"
      "Example:\n"
      "  wings --dir ronan restore /media/usb/ronan-2026-12-06.wingsbak\n", 0 },
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
    vfprintf(cli->errf, _(fmt), ap);
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
    vfprintf(cli->errf, _(fmt), ap);
    va_end(ap);
    if (cmd)
        fprintf(cli->errf, _(" (see 'wings help %s')\n"), cmd);
    else
        fputs(_(" (see 'wings --help')\n"), cli->errf);
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
    enum { OPT_JSON = 1000, OPT_DIR, OPT_PASSFILE, OPT_HELP, OPT_VERSION,
           OPT_MAN, OPT_COMPLETION };
    struct option all[34];
    size_t n = 0;
    for (; longopts && longopts[n].name && n < 27; n++)
        all[n] = longopts[n];
    all[n++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
    all[n++] = (struct option){ "dir", required_argument, NULL, OPT_DIR };
    all[n++] = (struct option){ "passphrase-file", required_argument, NULL,
                                OPT_PASSFILE };
    all[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
    if (!cli->in_command) {
        /* --version; the man page and shell completion the build makes
         * from the command table (not for people: not in --help). */
        all[n++] = (struct option){ "version", no_argument, NULL,
                                    OPT_VERSION };
        all[n++] = (struct option){ "man-page", no_argument, NULL, OPT_MAN };
        all[n++] = (struct option){ "bash-completion", no_argument, NULL,
                                    OPT_COMPLETION };
    }
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
        case OPT_VERSION: return 'V';
        case OPT_MAN: return 'M';
        case OPT_COMPLETION: return 'B';
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
    fputs(_("usage: wings [--dir DIR] [--json] [--passphrase-file FILE] COMMAND "
          "[ARGS...]\n\n"
          "wings keeps a county office's records of disabled persons'\n"
          "training and employment in an encrypted store, and exchanges\n"
          "signed changes with trusted peers.\n\ncommands:\n"), to);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, "  %-8s %s\n", commands[i].name, _(commands[i].summary));
    fputs(_("  help     explain a command: wings help COMMAND\n\n"
          "global options:\n"
          "  --dir DIR               the node's folder (default $WINGS_DIR, "
          "else ./wings-node)\n"
          "  --json                  machine-readable output\n"
          "  --passphrase-file FILE  read the passphrase from FILE's first "
          "line\n"
          "                          (else $WINGS_PASSPHRASE, else the "
          "systemd\n"
          "                          credential wings.passphrase, else a "
          "prompt)\n"
          "  --version               the version, and the store and protocol "
          "versions\n\n"
          "exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input,\n"
          "4 store cannot be opened, 5 not found, 6 sync failed\n"), to);
}

int wg_cli_help(wg_cli *cli, const char *name, FILE *to)
{
    const wg_cmd *c = find_cmd(name);
    if (!c)
        return wg_cli_usage(cli, NULL, "unknown command '%s'", name);
    fprintf(to, _("usage: wings %s\n\n%s"), c->usage, _(c->help));
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

    wg_i18n_init();
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
    if (c == 'V' || c == 'M' || c == 'B') {
        if (c == 'V')
            wg_cli_print_version(cli.out);
        else if (c == 'M')
            wg_cli_print_man(cli.out);
        else
            wg_cli_print_completion(cli.out);
        fflush(cli.out);
        return ferror(cli.out) ? WG_EXIT_INTERNAL : WG_EXIT_OK;
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
    if (cmd->forward != 1 || !wg_daemon_forward(&cli, argc - first,
                                                 argv + first, &rc))
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
    int code = cmd->fn(cli, argc, argv);
    wg_passphrase_forget(cli);
    return code;
}

/* ---- version, man page and shell completion, from the table above ---------- */

#ifndef WG_VERSION
#define WG_VERSION "0.0.0"
#endif

void wg_cli_print_version(FILE *to)
{
    fprintf(to, "wings %s (store schema %d, store layout %d, sync protocol "
            "%d, backup format 1)\n", WG_VERSION, WG_SCHEMA_VERSION,
            wg_store_layout_version(), WG_WIRE_VERSION);
}

/* Text as roff: no request or escape of ours can come from it. */
static void roff_text(FILE *to, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", to);
        bol = *s == '\n';
        if (*s == '\\')
            fputs("\\e", to);
        else if (*s == '-')
            fputs("\\-", to);
        else
            fputc(*s, to);
    }
}

void wg_cli_print_man(FILE *to)
{
    fprintf(to, ".TH WINGS 1 \"\" \"wings %s\" \"User Commands\"\n"
            ".SH NAME\nwings \\- records of disabled persons' training and "
            "employment, kept encrypted and synced between offices\n"
            ".SH SYNOPSIS\n.B wings\n[\\-\\-dir DIR] [\\-\\-json] "
            "[\\-\\-passphrase\\-file FILE] COMMAND [ARGS...]\n.br\n"
            ".B wings \\-\\-version\n.br\n.B wings help\n[COMMAND]\n"
            ".SH DESCRIPTION\n", WG_VERSION);
    roff_text(to, "wings keeps a county office's records of disabled persons' "
                  "training and employment in an encrypted store, and "
                  "exchanges signed changes with trusted peers.\n");
    fputs(".SH GLOBAL OPTIONS\n.TP\n.B \\-\\-dir DIR\nthe node's folder "
          "(default $WINGS_DIR, else ./wings\\-node); it must belong to the "
          "user running wings and be closed to others (mode 0700)\n"
          ".TP\n.B \\-\\-json\nmachine\\-readable output\n"
          ".TP\n.B \\-\\-passphrase\\-file FILE\nread the passphrase from "
          "FILE's first line\n"
          ".TP\n.B \\-\\-version\nprint the version, and the store and "
          "protocol versions it speaks\n"
          ".SH PASSPHRASE\nTaken from $WINGS_PASSPHRASE, else the first line "
          "of \\-\\-passphrase\\-file, else the systemd credential "
          "$CREDENTIALS_DIRECTORY/" WG_CREDENTIAL_NAME ", else a prompt on "
          "the terminal.\n.SH COMMANDS\n", to);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fputs(".SS \"", to);
        roff_text(to, commands[i].name);
        fputs(" \\(em ", to);
        roff_text(to, commands[i].summary);
        fputs("\"\n.B wings\n", to);
        roff_text(to, commands[i].usage);
        fputs("\n.PP\n.nf\n", to);
        roff_text(to, commands[i].help);
        fputs(".fi\n", to);
    }
    fputs(".SH EXIT STATUS\n0 ok, 1 internal error, 2 usage, 3 invalid "
          "input, 4 store cannot be opened, 5 not found, 6 sync failed.\n"
          ".SH FILES\n.TP\n.I DIR/wings.key\nthe data key, wrapped under the "
          "passphrase\n.TP\n.I DIR/wings.db\nthe database, every page "
          "sealed\n.TP\n.I wings@.service\nthe systemd unit: one instance "
          "per node, in /var/lib/wings/NAME\n"
          ".SH ENVIRONMENT\nWINGS_DIR, WINGS_PASSPHRASE, WINGS_NEW_PASSPHRASE, "
          "WINGS_LOG (error, warn, info, debug), CREDENTIALS_DIRECTORY, "
          "LANG.\n", to);
}

/* The --long options named in a usage line, space-separated. */
static void usage_options(FILE *to, const char *usage)
{
    for (const char *p = usage; (p = strstr(p, "--")); ) {
        size_t n = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
        fprintf(to, " %.*s", (int)n, p);
        p += n;
    }
}

void wg_cli_print_completion(FILE *to)
{
    fputs("# bash completion for wings, made from its command table\n"
          "_wings()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local i cmd=\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        case ${COMP_WORDS[i]} in\n"
          "        --dir|--passphrase-file) ((i++)) ;;\n"
          "        -*) ;;\n"
          "        *) cmd=${COMP_WORDS[i]}; break ;;\n"
          "        esac\n"
          "    done\n"
          "    case $prev in\n"
          "    --dir) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
          "    --passphrase-file|--out|--svg|--xlsx)\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
          "    esac\n"
          "    local opts=\"--dir --json --passphrase-file --help\"\n"
          "    case $cmd in\n"
          "    '')\n"
          "        COMPREPLY=($(compgen -W \"help --version $opts", to);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, " %s", commands[i].name);
    fputs("\" -- \"$cur\")); return ;;\n", to);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fprintf(to, "    %s) opts=\"$opts", commands[i].name);
        usage_options(to, commands[i].usage);
        fputs("\" ;;\n", to);
    }
    fputs("    esac\n"
          "    case $cur in\n"
          "    -*) COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")) ;;\n"
          "    *)\n"
          "        case $cmd in\n"
          "        backup|restore|import) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
          "        help) COMPREPLY=($(compgen -W \"", to);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(to, "%s%s", i ? " " : "", commands[i].name);
    fputs("\" -- \"$cur\")) ;;\n"
          "        *) COMPREPLY=($(compgen -W \"", to);
    for (int i = 0; wg_schema_table_at(i); i++)
        fprintf(to, "%s%s", i ? " " : "", wg_schema_table_at(i)->name);
    fputs(" add set list remove\" -- \"$cur\")) ;;\n"
          "        esac ;;\n"
          "    esac\n"
          "}\n"
          "complete -F _wings wings\n", to);
}
