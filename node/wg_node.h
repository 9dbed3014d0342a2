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
    char *pass_cache;         /* the passphrase once read, for this command
                                 only (secret memory; wg_passphrase_forget) */
    size_t pass_cache_len;
    const char *actor;        /* who asked: a web user's name, or NULL for
                                 the node's operator (see ops.c) */
    const char *listen;       /* inside the daemon: the endpoint it serves */
} wg_cli;

typedef int (*wg_cmd_fn)(wg_cli *cli, int argc, char **argv);

typedef struct wg_cmd {
    const char *name;
    wg_cmd_fn fn;
    const char *summary;     /* one line, for `wings --help` */
    const char *usage;       /* "init --name NAME --county CODE ..." */
    const char *help;        /* options and an example, for `wings help CMD` */
    int forward;             /* carried out by the daemon when one serves;
                                WG_FORWARD_SELF: the command runs here and
                                forwards itself (it reads a secret first) */
} wg_cmd;

#define WG_FORWARD_SELF 2

/* Run the wings command line; returns the process exit code. */
int wg_node_main(int argc, char **argv);

/* `wings --version`; the man page (roff) and bash completion generated from
 * the command table, which the build installs (cli.c). */
void wg_cli_print_version(FILE *to);
void wg_cli_print_man(FILE *to);
void wg_cli_print_completion(FILE *to);

/* The systemd credential a unit passes the passphrase in, read from
 * $CREDENTIALS_DIRECTORY (passphrase.c). */
#define WG_CREDENTIAL_NAME "wings.passphrase"

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
/* A secret other than the passphrase: $ENV (removed once read), else a
 * prompt asked twice on the terminal. *OUT is guarded memory: release with
 * wg_secret_free(). */
wg_rc wg_secret_get(wg_cli *cli, const char *env, const char *prompt,
                    char **out, size_t *len, wg_err *err);
/* The new passphrase for `passwd`: $WINGS_NEW_PASSPHRASE, else a prompt. */
wg_rc wg_passphrase_get_new(wg_cli *cli, char **out, size_t *len, wg_err *err);
/* Wipe and drop the passphrase CLI kept (wg_cli_dispatch() does this when a
 * command returns). */
void wg_passphrase_forget(wg_cli *cli);

/* Open the node's store with its passphrase (inside the daemon: borrow its
 * store); prints the error and returns the exit code (4) on failure, 0 on
 * success. Release with wg_cli_close_store(). */
int wg_cli_open_store(wg_cli *cli, wg_store **out);
/* Say on stderr what the store noticed at open: a rollback, a damaged
 * rollback mark (wg_store_life_notice). */
void wg_cli_life_notice(wg_cli *cli, wg_store *st);
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
/* The endpoint the daemon listens on (serve --listen, or the node's own),
 * shown by forwarded `id` and `status`. Copied. */
void wg_control_set_listen(wg_control *c, const char *endpoint);

/* The identity line `NAME KEY ENDPOINT`, or its JSON object. */
void wg_cli_print_identity(wg_cli *cli, const wg_node_info *info);

/* JSON output helpers. */
void wg_json_str(FILE *f, const char *s);

/* The log sink for store/ and sync/: stderr, level from $WINGS_LOG. */
void wg_log_sink(void *ctx, int level, const char *module, const char *msg);
int wg_log_level(void);
/* The level when $WINGS_LOG is unset; call before the first line. */
void wg_log_set_default(int level);

/* ---- records (records_io.c) ---------------------------------------------- */

/* The table NAME, or NULL after printing "no table" (exit 5). */
const wg_table *wg_cli_table(wg_cli *cli, const char *cmd, const char *name);
/* Split ARGV's FIELD=VALUE words in place into NAMES and VALUES (at most
 * MAX). Returns the count, or -1 after printing a usage error. */
int wg_cli_assignments(wg_cli *cli, const char *cmd, int argc, char **argv,
                       const char **names, const char **values, int max);
/* 0 if every one of the N NAMES is "id" or a field of T; else prints the
 * field list ("hukou: no such field in person (fields: ...)") and returns 3. */
int wg_cli_known_fields(wg_cli *cli, const wg_table *t,
                        const char *const *names, int n);
/* When the N pairs give an id_number but no birth_date, append birth_date
 * as the id number encodes it (text in BIRTH, borrowed by the new pair):
 * NAMES and VALUES need room for N + 1. Returns the new count. */
int wg_cli_fill_birth(const wg_table *t, const char **names,
                      const char **values, int n, char birth[11]);
void wg_cli_record_json(FILE *out, const wg_record *r);
/* Field I of R as people read it (an amount in yuan with two decimals,
 * exactly, from its fen field); BUF holds it when made. */
const char *wg_cli_cell(const wg_record *r, int i, char buf[32]);
/* SECS since the epoch in the machine's zone (TZ honoured): HUMAN
 * "YYYY-MM-DD HH:MM:SS", ISO "YYYY-MM-DDTHH:MM:SS+08:00" (either NULL). */
void wg_cli_local_time(int64_t secs, char human[32], char iso[40]);
/* "YYYY-MM-DDTHH:MM:SSZ" (as the audit trail writes times) into *SECS;
 * 0 when S is not that. */
int wg_cli_parse_utc(const char *s, int64_t *secs);
/* How history and review name a writer: "CLERK@NODE" when a clerk made
 * it, else the node's name where this node knows it, else the start of
 * its key (16 hex digits). Names may come from peers: print with
 * wg_term_put or as JSON. NODE_OUT (may be NULL) gets the name alone, ""
 * when unknown. */
void wg_cli_writer(wg_store *st, const uint8_t key[WG_SIGN_PK_BYTES],
                   const char *clerk, char *out, size_t cap, char *node_out,
                   size_t node_cap);
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

/* ---- reading spreadsheets (textin.c, import_norm.c) ----------------------- */

/* Open the CSV file PATH as a stream of UTF-8 for the CSV reader. ENCODING
 * is "auto" (or NULL: UTF-8 when the whole file is, BOM or not; else
 * GB18030), "utf-8" or "gb18030" ("gbk" too). *USED names what was read.
 * GB18030 is converted into memory: *MEM, which the caller frees after
 * fclose(*OUT); NULL for UTF-8. WG_ERR_INVALID naming the byte where the
 * text is not what it should be, with what to do; WG_ERR_NOTFOUND. */
wg_rc wg_text_open(const char *path, const char *encoding, FILE **out,
                   char **mem, const char **used, wg_err *err);

/* ---- safe cells (cells.c) ------------------------------------------------ */

/* 1 if V, written into a spreadsheet cell, could be run as a formula (it
 * starts with = + - @, a tab or CR) or starts with the apostrophe that
 * marks one defused. */
int wg_cell_needs_quote(const char *v);
/* V with an apostrophe before it when wg_cell_needs_quote(V), else NULL.
 * Caller owns; release with free(). */
char *wg_cell_escape(const char *v);
/* What import reads from a cell: V without one leading apostrophe.
 * Borrowed from V. */
const char *wg_cell_unescape(const char *v);
/* S fit for a terminal: invalid UTF-8 bytes, control characters (C0, DEL,
 * C1) and bidirectional overrides written as visible \xNN or \uNNNN; NULL
 * gives "". Caller owns; release with free(). */
char *wg_term_safe(const char *s);
/* fputs(wg_term_safe(S), OUT). */
void wg_term_put(FILE *out, const char *s);

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
int cmd_area(wg_cli *cli, int argc, char **argv);
int cmd_demo(wg_cli *cli, int argc, char **argv);
int cmd_user(wg_cli *cli, int argc, char **argv);

/* ---- record writes (ops.c) ---------------------------------------------- */

/* Add, or update, one record in its own transaction: validated, written,
 * committed and signed before returning; on failure nothing is written.
 * ACTOR: who asked (a web account's name), NULL for the operator. */
wg_rc wg_ops_add(wg_store *st, const char *actor, const wg_table *t,
                 const char *const *names, const char *const *values, int n,
                 char id_out[WG_ID_HEX_CHARS + 1], wg_err *err);
wg_rc wg_ops_update(wg_store *st, const char *actor, const wg_table *t,
                    const char *id, const char *const *names,
                    const char *const *values, int n, wg_err *err);
/* Merge record DUP of T into KEEP (`wings merge`): references move to
 * KEEP, DUP is deleted, in one transaction; *MOVED counts what moved. */
wg_rc wg_ops_merge(wg_store *st, const char *actor, const wg_table *t,
                   const char *keep, const char *dup, int *moved, wg_err *err);

/* ---- language (i18n.c) ---------------------------------------------------- */

/* Pick the language from the environment, bind the catalogue. */
void wg_i18n_init(void);
/* The process's language ("zh_CN" or "en"), and the one in use now. */
const char *wg_i18n_lang(void);
const char *wg_i18n_current(void);
/* "zh_CN" for a tag naming Chinese (zh, zh-CN, zh_CN.UTF-8...), else "en". */
const char *wg_i18n_lang_of(const char *tag);
/* Speak LANG from now on (NULL: the process's own again). Not thread-safe:
 * the daemon is one thread. */
void wg_i18n_use(const char *lang);

/* ---- the web page (web*.c) ------------------------------------------------ */

/* Serve the clerk's page on ADDR:PORT (PUBLIC: any address allowed) from
 * E's loop over ST (borrowed). Caller owns; release with wg_web_close(). */
typedef struct wg_web wg_web;
wg_rc wg_web_open(wg_engine *e, wg_store *st, const char *addr, int public_ok,
                  wg_web **out, wg_err *err);
/* WG_ERR_INVALID unless ADDR is HOST:PORT with HOST an IP address (or
 * localhost) on the loopback, or any address when PUBLIC_OK. */
wg_rc wg_web_check_addr(const char *addr, int public_ok, wg_err *err);
/* Run timers (idle connections): call once per loop turn. */
void wg_web_tick(wg_web *w);
void wg_web_close(wg_web **w);
int cmd_backup(wg_cli *cli, int argc, char **argv);
int cmd_restore(wg_cli *cli, int argc, char **argv);

/* What a backup holds, for backup and restore (cmd_backup.c). Under --json
 * an object is opened and left open for the caller to finish. */
struct wg_backup_info;
void wg_cli_print_backup(wg_cli *cli, const struct wg_backup_info *bi,
                         const char *file, const char *verb);
int cmd_enrol(wg_cli *cli, int argc, char **argv);
int cmd_join(wg_cli *cli, int argc, char **argv);
int cmd_revoke(wg_cli *cli, int argc, char **argv);
int cmd_members(wg_cli *cli, int argc, char **argv);
/* cmd_member.c: the self-signed certificate of a network's root, and its
 * pin (init --root). */
wg_rc wg_member_make_root(wg_store *st, wg_err *err);

#endif
