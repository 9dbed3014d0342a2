/*
 * cmd_status.c - `wings status`: identity, records, feeds, peers
 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "wg_i18n.h"
#include "wg_life.h"
#include "wg_node.h"

typedef struct feed_ctx {
    long feeds, changes, frozen;
} feed_ctx;

static int on_feed(void *p, const wg_feed_head *h)
{
    feed_ctx *f = p;
    f->feeds++;
    f->changes += (long)h->head;
    f->frozen += h->frozen != 0;
    return 0;
}

typedef struct peer_ctx {
    wg_cli *cli;
    int first;
} peer_ctx;

static int on_peer(void *p, const wg_peer *peer)
{
    peer_ctx *c = p;
    FILE *out = c->cli->out;
    char when[WG_TIME_CHARS + 1] = "never";
    if (peer->last_time)
        wg_ident_time_utc(peer->last_time, when);
    if (c->cli->json) {
        fputs(c->first ? "" : ",", out);
        fputs("{\"name\":", out);
        wg_json_str(out, peer->name);
        fputs(",\"last_sync\":", out);
        if (peer->last_time)
            wg_json_str(out, when);
        else
            fputs("null", out);
        fputs(",\"last_result\":", out);
        wg_json_str(out, peer->last_result);
        fputs(",\"last_error\":", out);
        wg_json_str(out, peer->last_error);
        fputc('}', out);
    } else {
        fprintf(out, "  %-16s last sync %s%s%s%s\n", peer->name, when,
                peer->last_time ? " " : "", peer->last_result,
                peer->last_error[0] ? ": " : "");
        if (peer->last_error[0])
            fprintf(out, "    %s\n", peer->last_error);
    }
    c->first = 0;
    return 0;
}

/* A proof of equivocation: which origin, where, the two hashes (short). */
static int on_proof(void *p, const wg_proof *pr)
{
    peer_ctx *c = p;
    FILE *out = c->cli->out;
    char key[WG_KEY_HEX_CHARS + 1], held[17], other[17], when[32];
    wg_hex_encode(key, pr->origin, WG_SIGN_PK_BYTES);
    wg_hex_encode(held, pr->held, 8);
    wg_hex_encode(other, pr->other, 8);
    time_t t = (time_t)pr->at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *state = pr->frozen ? "frozen" : pr->resolved ? "unfrozen"
                                                             : "recorded";
    if (c->cli->json) {
        fputs(c->first ? "" : ",", out);
        fputs("{\"origin\":", out);
        wg_json_str(out, key);
        fputs(",\"partition\":", out);
        wg_json_str(out, pr->partition);
        fprintf(out, ",\"seq\":%llu,\"held\":\"%s\",\"other\":\"%s\","
                "\"signed_chain\":%d,\"found\":\"%s\",\"state\":\"%s\"}",
                (unsigned long long)pr->seq, held, other, pr->chain_len, when,
                state);
    } else {
        fprintf(out, "  %.16s %s#%llu: two signed changes (held %s, other "
                "%s), found %s, %s\n", key, pr->partition,
                (unsigned long long)pr->seq, held, other, when, state);
    }
    c->first = 0;
    return 0;
}

int cmd_status(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "status", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind < argc)
        return wg_cli_usage(cli, "status", "unexpected argument '%s'",
                            argv[optind]);
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    wg_err err = { 0 };
    wg_node_info here = *wg_store_info(st);
    if (cli->listen) /* the endpoint in use: serve --listen */
        snprintf(here.endpoint, sizeof here.endpoint, "%s", cli->listen);
    const wg_node_info *me = &here;
    long counts[3] = { 0 };
    feed_ctx f = { 0 };
    wg_rc rc = WG_OK;
    for (int i = 0; rc == WG_OK && i < 3; i++)
        rc = wg_store_count(st, wg_schema_table_at(i), &counts[i], &err);
    if (rc == WG_OK)
        rc = wg_store_feeds(st, on_feed, &f, &err);
    if (rc) {
        code = wg_cli_fail(cli, &err);
        wg_cli_close_store(cli, &st);
        return code;
    }
    wg_life_state ls;
    if ((rc = wg_store_life_state(st, &ls, &err))) {
        code = wg_cli_fail(cli, &err);
        wg_cli_close_store(cli, &st);
        return code;
    }
    const char *role = me->role == WG_ROLE_HQ ? "hq" : "office";
    FILE *out = cli->out;
    if (cli->json) {
        fputs("{\"name\":", out);
        wg_json_str(out, me->name);
        fputs(",\"key\":", out);
        wg_json_str(out, me->key_hex);
        fputs(",\"endpoint\":", out);
        wg_json_str(out, me->endpoint);
        fputs(",\"county\":", out);
        wg_json_str(out, me->county);
        fputs(",\"role\":", out);
        wg_json_str(out, role);
        fprintf(out, ",\"serving\":%s,\"records\":{\"person\":%ld,"
                "\"training\":%ld,\"placement\":%ld},\"feeds\":%ld,"
                "\"changes\":%ld,\"frozen_feeds\":%ld,",
                cli->shared_store ? "true" : "false", counts[0], counts[1],
                counts[2], f.feeds, f.changes, f.frozen);
        if (ls.held) {
            fputs("\"held\":{\"reason\":", out);
            wg_json_str(out, ls.reason);
            fprintf(out, ",\"writes\":%llu,\"own_changes\":%llu,"
                    "\"own_before\":%llu,\"waiting_for\":",
                    (unsigned long long)ls.writes, (unsigned long long)ls.own,
                    (unsigned long long)ls.hw);
            wg_json_str(out, ls.waiting);
            fputs("},", out);
        } else {
            fputs("\"held\":null,", out);
        }
        fputs("\"peers\":[", out);
    } else {
        fprintf(out, "%s %s %s\n", me->name, me->key_hex, me->endpoint);
        fprintf(out, "role %s, county %s%s\n", role, me->county,
                cli->shared_store ? ", serving" : "");
        fprintf(out, "records: %ld persons, %ld trainings, %ld placements\n",
                counts[0], counts[1], counts[2]);
        fprintf(out, "feeds held: %ld (%ld changes)%s\n", f.feeds, f.changes,
                f.frozen ? ", some frozen after an equivocation" : "");
        if (ls.held)
            fprintf(out, !strcmp(ls.reason, "rollback")
                             ? _("writes held since the rollback: %llu wait "
                                 "until every peer has synced (waiting for: "
                                 "%s)\n")
                         : !strcmp(ls.reason, "fork")
                             ? _("writes held since this node's own feed was "
                                 "repaired from a peer (an old copy of its "
                                 "folder put back): %llu wait until every "
                                 "peer has synced (waiting for: %s)\n")
                             : _("writes held since the restore: %llu wait "
                                 "until every peer has synced (waiting for: "
                                 "%s)\n"),
                    (unsigned long long)ls.writes,
                    ls.npeers_waiting ? ls.waiting : "-");
        fputs("trust: a closed group (no network joined): this node trusts "
              "exactly its peer list\n", out);
        fputs("peers:\n", out);
    }
    peer_ctx pc = { cli, 1 };
    rc = wg_store_peers(st, on_peer, &pc, &err);
    if (cli->json)
        fputs("],\"closed_group\":true,\"equivocations\":[", out);
    else if (pc.first)
        fputs("  none\n", out);
    peer_ctx qc = { cli, 1 };
    if (!cli->json && rc == WG_OK)
        fputs("equivocations:\n", out);
    if (rc == WG_OK)
        rc = wg_store_proofs(st, on_proof, &qc, &err);
    if (cli->json)
        fputs("]}\n", out);
    else if (qc.first)
        fputs("  none\n", out);
    if (rc)
        code = wg_cli_fail(cli, &err);
    wg_cli_close_store(cli, &st);
    return code;
}
