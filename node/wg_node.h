/*
 * wg_node.h - the wings command line, as a library
 *
 * node/ wires everything together and is the only place that parses command
 * lines or prints for people. main.c only calls wg_node_main(), so every
 * command can be reached from a test without a process.
 */
#ifndef WG_NODE_H
#define WG_NODE_H

#include <stdio.h>

#include "wg_err.h"
#include "wg_store.h"
#include "wg_sync.h"

/* Exit codes: the contract of ../shared/CLI.md. */
enum {
    WG_EXIT_OK = 0,
    WG_EXIT_INTERNAL = 1,
    WG_EXIT_USAGE = 2,
    WG_EXIT_INVALID = 3,
    WG_EXIT_STORE = 4,
    WG_EXIT_NOTFOUND = 5,
    WG_EXIT_SYNC = 6
};

/* Options every command shares. */
typedef struct wg_cli {
    const char *dir;          /* --dir, $WINGS_DIR, or ./wings-node */
    int dir_given;            /* --dir was on the command line */
    const char *pass_file;    /* --passphrase-file */
    int json;                 /* --json */
    const char *prog;         /* "wings" */
    FILE *out;                /* data: stdout */
    FILE *errf;               /* diagnostics: stderr */
    int in_command;           /* parsing a command's options, not global */
    wg_store *shared_store;   /* inside the daemon: its open store */
    wg_engine *engine;        /* inside the daemon: its sync engine */
    const char *cwd;          /* inside the daemon: the caller's folder */
} wg_cli;

typedef int (*wg_cmd_fn)(wg_cli *cli, int argc, char **argv);

typedef struct wg_cmd {
    const char *name;
    wg_cmd_fn fn;
    const char *summary;     /* one line, for `wings --help` */
    const char *usage;       /* "init --name NAME --county CODE ..." */
    const char *help;        /* options and an example, for `wings help CMD` */
    int forward;             /* carried out by the daemon when one serves */
} wg_cmd;

/* Run the wings command line; returns the process exit code. */
int wg_node_main(int argc, char **argv);

/* ---- helpers shared by the cmd_*.c files -------------------------------- */

/* Map a wg_rc to its exit code. */
int wg_exit_code(wg_rc rc);

/* Print "wings: MSG" to stderr and return the exit code for ERR. */
int wg_cli_fail(wg_cli *cli, const wg_err *err);
/* Print "wings: ..." and return CODE. */
int wg_cli_failf(wg_cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse a command's options. LONGOPTS is the command's own getopt_long
 * table (terminated by a zero entry); the shared --json, --dir,
 * --passphrase-file and --help are added. Returns the option character, -1
 * at the end of options, '?' after printing a usage error, or 'h' for
 * --help (the caller prints its help). */
struct option;
int wg_cli_getopt(wg_cli *cli, int argc, char **argv, const char *shortopts,
                  const struct option *longopts, int *done_help);
void wg_cli_reset_getopt(void);

/* Print the help of command NAME; returns 0, or 2 if unknown. */
int wg_cli_help(wg_cli *cli, const char *name, FILE *to);
/* Usage error for CMD: prints the message and a hint; returns 2. */
int wg_cli_usage(wg_cli *cli, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Get the passphrase: $WINGS_PASSPHRASE, else the first line of
 * --passphrase-file, else a prompt when stdin is a terminal (twice when
 * CONFIRM). *OUT is guarded memory: release with wg_secret_free(). */
wg_rc wg_passphrase_get(wg_cli *cli, const char *prompt, int confirm,
                        char **out, size_t *len, wg_err *err);
/* The new passphrase for `passwd`: $WINGS_NEW_PASSPHRASE, else a prompt. */
wg_rc wg_passphrase_get_new(wg_cli *cli, char **out, size_t *len, wg_err *err);

/* Open the node's store with its passphrase (inside the daemon: borrow its
 * store); prints the error and returns the exit code (4) on failure, 0 on
 * success. Release with wg_cli_close_store(). */
int wg_cli_open_store(wg_cli *cli, wg_store **out);
void wg_cli_close_store(wg_cli *cli, wg_store **st);

/* Run command ARGV[0] with CLI as given (the daemon calls this for each
 * forwarded command line). */
int wg_cli_dispatch(wg_cli *cli, int argc, char **argv);

/* ---- the daemon (daemon.c) ---------------------------------------------- */

#define WG_CONTROL_FILE "wings.ctl"
#define WG_PID_FILE "wings.pid"

/* If a daemon serves DIR, have it run ARGV and set *CODE to its exit code
 * (its output printed here); returns 1. Returns 0 when no daemon runs. */
int wg_daemon_forward(wg_cli *cli, int argc, char **argv, int *code);
/* Bind the control socket of DIR in E's context and serve forwarded
 * commands from the loop. Caller owns; release with wg_control_close(). */
typedef struct wg_control wg_control;
wg_rc wg_control_open(wg_engine *e, wg_store *st, const char *dir,
                      wg_control **out, wg_err *err);
void wg_control_close(wg_control **c);

/* Results of sync sessions, for whoever waits for them. */
void wg_sync_results_reset(void);
void wg_sync_on_done(void *ctx, const wg_sync_result *r);
const wg_sync_result *wg_sync_result_for(const char *peer);

/* The identity line `NAME KEY ENDPOINT`, or its JSON object. */
void wg_cli_print_identity(wg_cli *cli, const wg_node_info *info);

/* JSON output helpers. */
void wg_json_str(FILE *f, const char *s);

/* The log sink for store/ and sync/: stderr, level from $WINGS_LOG. */
void wg_log_sink(void *ctx, int level, const char *module, const char *msg);
int wg_log_level(void);

/* ---- records (records_io.c) ---------------------------------------------- */

/* The table NAME, or NULL after printing "no table" (exit 5). */
const wg_table *wg_cli_table(wg_cli *cli, const char *cmd, const char *name);
/* Split ARGV's FIELD=VALUE words in place into NAMES and VALUES (at most
 * MAX). Returns the count, or -1 after printing a usage error. */
int wg_cli_assignments(wg_cli *cli, const char *cmd, int argc, char **argv,
                       const char **names, const char **values, int max);
void wg_cli_record_json(FILE *out, const wg_record *r);
void wg_cli_record_text(FILE *out, const wg_record *r);
/* ARG as a whole record id of T: a unique prefix of 8 or more hex digits
 * is completed (exit 2 listing two matches when it is not unique, exit 5
 * when nothing matches); anything else is taken as given. 0 or an exit
 * code (the message printed). */
int wg_cli_record_id(wg_cli *cli, wg_store *st, const wg_table *t,
                     const char *arg, char id[WG_ID_HEX_CHARS + 1]);
/* The fields of T, one per line, for `help add TABLE`. */
void wg_cli_fields_help(FILE *out, const wg_table *t);
wg_rc wg_cli_record_csv_header(FILE *out, const wg_table *t, wg_err *err);
wg_rc wg_cli_record_csv(FILE *out, const wg_record *r, wg_err *err);

/* An aligned text table (table_out.c). Caller owns; release with
 * wg_tabout_destroy(). Cells are copied. */
typedef struct wg_tabout wg_tabout;
wg_tabout *wg_tabout_new(int ncols);
void wg_tabout_row(wg_tabout *t, const char *const *cells);
void wg_tabout_print(wg_tabout *t, FILE *out);
void wg_tabout_destroy(wg_tabout **t);

/* Subcommands. */
int cmd_init(wg_cli *cli, int argc, char **argv);
int cmd_id(wg_cli *cli, int argc, char **argv);
int cmd_passwd(wg_cli *cli, int argc, char **argv);
int cmd_audit(wg_cli *cli, int argc, char **argv);
int cmd_add(wg_cli *cli, int argc, char **argv);
int cmd_update(wg_cli *cli, int argc, char **argv);
int cmd_delete(wg_cli *cli, int argc, char **argv);
int cmd_review(wg_cli *cli, int argc, char **argv);
int cmd_undelete(wg_cli *cli, int argc, char **argv);
int cmd_merge(wg_cli *cli, int argc, char **argv);
int cmd_get(wg_cli *cli, int argc, char **argv);
int cmd_list(wg_cli *cli, int argc, char **argv);
int cmd_history(wg_cli *cli, int argc, char **argv);
int cmd_import(wg_cli *cli, int argc, char **argv);
int cmd_export(wg_cli *cli, int argc, char **argv);
int cmd_peer(wg_cli *cli, int argc, char **argv);
int cmd_sync(wg_cli *cli, int argc, char **argv);
int cmd_serve(wg_cli *cli, int argc, char **argv);
int cmd_status(wg_cli *cli, int argc, char **argv);
int cmd_report(wg_cli *cli, int argc, char **argv);
int cmd_demo(wg_cli *cli, int argc, char **argv);
int cmd_enrol(wg_cli *cli, int argc, char **argv);
int cmd_join(wg_cli *cli, int argc, char **argv);
int cmd_revoke(wg_cli *cli, int argc, char **argv);
int cmd_members(wg_cli *cli, int argc, char **argv);
/* cmd_member.c: the self-signed certificate of a network's root, and its
 * pin (init --root). */
wg_rc wg_member_make_root(wg_store *st, wg_err *err);

#endif
