/*
 * audit.c - the audit trail: entries are changes in the node's own feed
 *
 * Each entry is a change to the audit table in the node's own partition,
 * signed and chained like a record, so it replicates upwards and an HQ sees
 * every office's sync history signed by the office that wrote it.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void put_text(wg_change *c, int idx, const char *v, size_t max)
{
    if (!v)
        return;
    wg_change_field *f = &c->fields[c->nfields++];
    size_t n = strlen(v);
    f->index = (uint8_t)idx;
    f->type = WG_VAL_TEXT;
    f->text = v;
    f->len = (uint16_t)(n > max ? max : n);
}

static void put_int(wg_change *c, int idx, int64_t v)
{
    wg_change_field *f = &c->fields[c->nfields++];
    f->index = (uint8_t)idx;
    f->type = WG_VAL_INT;
    f->i = v;
}

wg_rc wg_store__audit_add(wg_store *st, const wg_audit_entry *e, wg_err *err)
{
    const wg_table *t = wg_schema_audit();
    char now[WG_TIME_CHARS + 1];
    wg_ident_time_utc((int64_t)time(NULL), now);
    /* A reason may quote a peer's words: keep only printable bytes. */
    char reason[257] = "";
    if (e->reason) {
        size_t j = 0;
        for (size_t i = 0; e->reason[i] && j < sizeof reason - 1; i++) {
            unsigned char ch = (unsigned char)e->reason[i];
            reason[j++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
        }
        reason[j] = 0;
    }
    /* Every audited event is also one log line (journald keeps the
     * daemon's stderr): names, a key's first 16 hex digits, counts and the
     * cleaned reason; never a record's contents. At info, so a one-shot
     * command's stderr stays its own unless $WINGS_LOG asks. */
    wg_store_logf(st, WG_LOG_INFO, "sync",
                  "%s %s %s peer=%s key=%.16s sent=%lld received=%lld "
                  "refused=%lld%s%s", e->event ? e->event : "event",
                  e->direction ? e->direction : "-",
                  e->result ? e->result : "-", e->peer ? e->peer : "-",
                  e->peer_key ? e->peer_key : "-", (long long)e->sent,
                  (long long)e->received, (long long)e->refused,
                  reason[0] ? ": " : "", reason);
    wg_change c;
    memset(&c, 0, sizeof c);
    c.table = WG_TABLE_AUDIT;
    wg_random(c.rowid, sizeof c.rowid);
    snprintf(c.partition, sizeof c.partition, "%s", st->info.county);
    put_text(&c, wg_schema_field_index(t, "time"), e->time ? e->time : now, 32);
    put_text(&c, wg_schema_field_index(t, "event"), e->event, 32);
    put_text(&c, wg_schema_field_index(t, "node"), st->info.name, 64);
    put_text(&c, wg_schema_field_index(t, "peer"), e->peer, 64);
    put_text(&c, wg_schema_field_index(t, "peer_key"), e->peer_key, 64);
    put_text(&c, wg_schema_field_index(t, "direction"), e->direction, 8);
    put_int(&c, wg_schema_field_index(t, "sent"), e->sent);
    put_int(&c, wg_schema_field_index(t, "received"), e->received);
    put_int(&c, wg_schema_field_index(t, "refused"), e->refused);
    put_text(&c, wg_schema_field_index(t, "result"),
             e->result ? e->result : "ok", 16);
    if (e->reason)
        put_text(&c, wg_schema_field_index(t, "reason"), reason, 256);
    return wg_store__local_change(st, &c, 1, err);
}

wg_rc wg_store_audit(wg_store *st, const wg_audit_entry *e, wg_err *err)
{
    wg_rc rc = wg_store_begin(st, err);
    if (rc)
        return rc;
    if ((rc = wg_store__audit_add(st, e, err))) {
        wg_store_rollback(st);
        return rc;
    }
    return wg_store_commit(st, err);
}

wg_rc wg_store_audit_list(wg_store *st, wg_audit_fn fn, void *ctx,
                          wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(
        st, "SELECT time, event, node, peer, peer_key, direction, sent, "
            "received, refused, result, reason FROM audit WHERE deleted = 0 "
            "ORDER BY time, node, id", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_audit_entry e;
        e.time = (const char *)sqlite3_column_text(s, 0);
        e.event = (const char *)sqlite3_column_text(s, 1);
        e.node = (const char *)sqlite3_column_text(s, 2);
        e.peer = (const char *)sqlite3_column_text(s, 3);
        e.peer_key = (const char *)sqlite3_column_text(s, 4);
        e.direction = (const char *)sqlite3_column_text(s, 5);
        e.sent = sqlite3_column_int64(s, 6);
        e.received = sqlite3_column_int64(s, 7);
        e.refused = sqlite3_column_int64(s, 8);
        e.result = (const char *)sqlite3_column_text(s, 9);
        e.reason = (const char *)sqlite3_column_text(s, 10);
        if (fn(ctx, &e))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading the audit trail", err);
    sqlite3_finalize(s);
    return rc;
}
