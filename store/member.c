/*
 * member.c - the membership a node knows: its network's root, and the
 * certificates and revocations held in table `member`
 *
 * Certificates and revocations are written as changes of the issuer's own
 * feed (partition: the subject's code), so they replicate and relay like
 * that county's records and every node can judge an origin it never met.
 * Only the signed body counts: each row is decoded and its signature
 * checked on every read; the root is pinned in meta ('root') by
 * `init --root` or `join`, never learnt from a peer.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_cert.h"

/* ---- the root ----------------------------------------------------------------- */

int wg_store_root(wg_store *st, uint8_t root[WG_SIGN_PK_BYTES])
{
    sqlite3_stmt *s;
    if (wg_store__prepare(st, "SELECT v FROM meta WHERE k = 'root'", &s, NULL))
        return 0;
    int ok = sqlite3_step(s) == SQLITE_ROW &&
             sqlite3_column_bytes(s, 0) == WG_SIGN_PK_BYTES;
    if (ok && root)
        memcpy(root, sqlite3_column_blob(s, 0), WG_SIGN_PK_BYTES);
    sqlite3_finalize(s);
    return ok;
}

wg_rc wg_store_set_root(wg_store *st, const uint8_t root[WG_SIGN_PK_BYTES],
                        wg_err *err)
{
    wg_store__own_forget(st);
    st->member_gen++;
    return wg_store__run(st, "pinning the network's root", err,
                         "INSERT OR REPLACE INTO meta(k, v) VALUES ('root', ?)",
                         "b", root, WG_SIGN_PK_BYTES);
}

wg_rc wg_store_set_chain(wg_store *st, const uint8_t *blob, size_t n,
                         wg_err *err)
{
    wg_store__own_forget(st);
    return wg_store__run(st, "keeping the certificate chain", err,
                         "INSERT OR REPLACE INTO meta(k, v) VALUES ('chain', ?)",
                         "b", blob, (int)n);
}

/* ---- this node's own rights ---------------------------------------------------- */

void wg_store__own_forget(wg_store *st)
{
    st->own_known = 0;
}

uint64_t wg_store_members_generation(const wg_store *st)
{
    return st->member_gen;
}

int wg_store__own_scope_ok(wg_store *st, const char *county, wg_err *why)
{
    if (!st->own_known) {
        uint8_t root[WG_SIGN_PK_BYTES];
        st->own_net = wg_store_root(st, root);
        st->own_has = 0;
        wg_members *m = NULL;
        if (st->own_net && wg_members_load(st, &m, NULL) == WG_OK) {
            const wg_cert *c = wg_members_lookup(m, st->info.pk);
            if (c) {
                snprintf(st->own_scope, sizeof st->own_scope, "%s", c->scope);
                st->own_role = c->role;
                st->own_has = 1;
            }
        }
        wg_members_destroy(&m);
        st->own_known = 1;
    }
    if (!st->own_net)
        return 1;
    if (!st->own_has) {
        wg_err_set(why, WG_ERR_INVALID, "this node holds no certificate of "
                   "its network: it writes nothing until it joins again");
        return 0;
    }
    if (wg_cert_area_holds(st->own_scope, st->own_role, county))
        return 1;
    wg_err_set(why, WG_ERR_INVALID, "county: %s is outside this node's "
               "certified scope (%s %s)", county, st->own_role ? "hq" : "office",
               st->own_scope);
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

static void put_text(wg_change *c, const wg_table *t, const char *name,
                     const char *v)
{
    wg_change_field *f = &c->fields[c->nfields++];
    f->index = (uint8_t)wg_schema_field_index(t, name);
    f->type = WG_VAL_TEXT;
    f->text = v;
    f->len = (uint16_t)strlen(v);
}

static void put_int(wg_change *c, const wg_table *t, const char *name,
                    int64_t v)
{
    wg_change_field *f = &c->fields[c->nfields++];
    f->index = (uint8_t)wg_schema_field_index(t, name);
    f->type = WG_VAL_INT;
    f->i = v;
}

wg_rc wg_store_member_put(wg_store *st, const uint8_t *body, size_t len,
                          const char *partition, wg_err *err)
{
    const wg_table *t = wg_schema_by_wire(WG_TABLE_MEMBER);
    if (!t)
        return wg_err_set(err, WG_ERR_INTERNAL, "no member table");
    wg_cert c;
    wg_revoke r;
    int is_cert = len && body[0] == WG_CERT_KIND;
    wg_rc rc = is_cert ? wg_cert_decode(body, len, &c, err)
                       : wg_revoke_decode(body, len, &r, err);
    if (rc)
        return rc;
    char subject[WG_KEY_HEX_CHARS + 1], issuer[WG_KEY_HEX_CHARS + 1];
    char hex[2 * WG_REVOKE_MAX_BYTES + 1];
    wg_hex_encode(subject, is_cert ? c.subject : r.subject, WG_SIGN_PK_BYTES);
    wg_hex_encode(issuer, is_cert ? c.issuer : r.issuer, WG_SIGN_PK_BYTES);
    wg_hex_encode(hex, body, len);
    uint8_t h[WG_HASH_BYTES];
    wg_hash(h, body, len);
    wg_change ch;
    memset(&ch, 0, sizeof ch);
    ch.table = WG_TABLE_MEMBER;
    memcpy(ch.rowid, h, WG_ROWID_BYTES); /* one row per statement, for ever */
    snprintf(ch.partition, sizeof ch.partition, "%s", partition);
    put_text(&ch, t, "kind", is_cert ? "cert" : "revoke");
    put_text(&ch, t, "subject", subject);
    put_text(&ch, t, "issuer", issuer);
    if (is_cert) {
        put_text(&ch, t, "name", c.name);
        put_text(&ch, t, "role", c.role ? "hq" : "office");
        put_int(&ch, t, "serial", (int64_t)(c.serial & INT64_MAX));
        put_int(&ch, t, "not_after", (int64_t)(c.not_after & INT64_MAX));
    } else {
        put_int(&ch, t, "serial", (int64_t)(r.serial & INT64_MAX));
    }
    put_text(&ch, t, "body", hex);
    put_text(&ch, t, "county", partition);
    if ((rc = wg_store_begin(st, err)))
        return rc;
    wg_store__own_forget(st);
    if ((rc = wg_store__local_change(st, &ch, 1, err))) {
        wg_store_rollback(st);
        return rc;
    }
    st->member_gen++;
    return wg_store_commit(st, err);
}

/* ---- reading ------------------------------------------------------------------ */

struct wg_members {
    wg_cert *certs;
    int ncerts;
    wg_revoke *revs;
    int nrevs;
};

static void add_cert(wg_members *m, const wg_cert *c, int *cap)
{
    if (m->ncerts == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        m->certs = wg_xrealloc(m->certs, (size_t)*cap * sizeof *c);
    }
    m->certs[m->ncerts++] = *c;
}

static int hexbody(sqlite3_stmt *s, int col, uint8_t *out, size_t cap,
                   size_t *n)
{
    const char *h = (const char *)sqlite3_column_text(s, col);
    size_t hl = h ? strlen(h) : 0;
    if (!h || hl % 2 || hl / 2 > cap ||
        wg_hex_decode(out, hl / 2, h, NULL) != WG_OK)
        return 0;
    *n = hl / 2;
    return 1;
}

wg_rc wg_members_load(wg_store *st, wg_members **out, wg_err *err)
{
    wg_members *m = wg_xcalloc(1, sizeof *m);
    *out = m;
    if (!wg_schema_by_wire(WG_TABLE_MEMBER))
        return WG_OK;
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT kind, body FROM member WHERE "
                                     "deleted = 0", &s, err);
    if (rc)
        return rc;
    int capc = 0, capr = 0, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        uint8_t b[WG_REVOKE_MAX_BYTES];
        size_t n;
        if (!hexbody(s, 1, b, sizeof b, &n))
            continue;
        if (n && b[0] == WG_CERT_KIND) {
            wg_cert c;
            if (wg_cert_decode(b, n, &c, NULL) || wg_cert_verify(&c, NULL))
                continue;
            add_cert(m, &c, &capc);
        } else {
            wg_revoke v;
            if (wg_revoke_decode(b, n, &v, NULL) || wg_revoke_verify(&v, NULL))
                continue;
            if (m->nrevs == capr) {
                capr = capr ? 2 * capr : 16;
                m->revs = wg_xrealloc(m->revs, (size_t)capr * sizeof v);
            }
            m->revs[m->nrevs++] = v;
        }
    }
    if (r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "reading certificates", err);
    sqlite3_finalize(s);
    /* The chain above this node, from its join token: kept locally (its
     * partitions may lie outside this node's scope). */
    if (rc == WG_OK &&
        wg_store__prepare(st, "SELECT v FROM meta WHERE k = 'chain'", &s,
                          NULL) == WG_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            wg_reader rd;
            uint16_t len;
            const uint8_t *b;
            wg_reader_init(&rd, sqlite3_column_blob(s, 0),
                           (size_t)sqlite3_column_bytes(s, 0));
            while (wg_reader_u16(&rd, &len) && wg_reader_bytes(&rd, len, &b)) {
                wg_cert c;
                if (wg_cert_decode(b, len, &c, NULL) == WG_OK &&
                    wg_cert_verify(&c, NULL) == WG_OK)
                    add_cert(m, &c, &capc);
            }
        }
        sqlite3_finalize(s);
    }
    return rc;
}

void wg_members_destroy(wg_members **mp)
{
    if (!mp || !*mp)
        return;
    free((*mp)->certs);
    free((*mp)->revs);
    free(*mp);
    *mp = NULL;
}

int wg_members_count(const wg_members *m) { return m->ncerts; }
const wg_cert *wg_members_at(const wg_members *m, int i)
{
    return i >= 0 && i < m->ncerts ? &m->certs[i] : NULL;
}

const wg_cert *wg_members_lookup(const wg_members *m,
                                 const uint8_t subject[WG_SIGN_PK_BYTES])
{
    const wg_cert *best = NULL;
    for (int i = 0; i < m->ncerts; i++)
        if (!memcmp(m->certs[i].subject, subject, WG_SIGN_PK_BYTES) &&
            (!best || m->certs[i].serial > best->serial))
            best = &m->certs[i];
    return best;
}

/* A revocation counts when its issuer issued the revoked certificate or
 * holds a certificate whose area holds it (an HQ above). */
const wg_revoke *wg_members_revoked(const wg_members *m,
                                    const uint8_t subject[WG_SIGN_PK_BYTES],
                                    uint64_t serial)
{
    const wg_cert *c = NULL;
    for (int i = 0; i < m->ncerts; i++)
        if (!memcmp(m->certs[i].subject, subject, WG_SIGN_PK_BYTES) &&
            m->certs[i].serial == serial)
            c = &m->certs[i];
    for (int i = 0; i < m->nrevs; i++) {
        const wg_revoke *v = &m->revs[i];
        if (memcmp(v->subject, subject, WG_SIGN_PK_BYTES) || v->serial != serial)
            continue;
        if (c && !memcmp(v->issuer, c->issuer, WG_SIGN_PK_BYTES))
            return v;
        const wg_cert *up = wg_members_lookup(m, v->issuer);
        if (c && up && up->role == 1 &&
            wg_cert_area_within(c->scope, c->role, up->scope, up->role))
            return v;
    }
    return NULL;
}

static const wg_cert *src_lookup(void *ctx, const uint8_t *subject)
{
    return wg_members_lookup(ctx, subject);
}

static int src_revoked(void *ctx, const uint8_t *subject, uint64_t serial)
{
    return wg_members_revoked(ctx, subject, serial) != NULL;
}

wg_rc wg_members_check(const wg_members *m, const uint8_t root[WG_SIGN_PK_BYTES],
                       const uint8_t key[WG_SIGN_PK_BYTES], uint64_t now,
                       const wg_cert **out, wg_err *err)
{
    const wg_cert *c = wg_members_lookup(m, key);
    if (out)
        *out = c;
    if (!c) {
        char who[9];
        wg_hex_encode(who, key, 4);
        return wg_err_set(err, WG_ERR_AUTH, "%s holds no certificate of this "
                          "network", who);
    }
    wg_cert_source src = { src_lookup, src_revoked, (void *)m };
    return wg_cert_chain_verify(c, root, &src, now, err);
}
