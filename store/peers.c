/*
 * peers.c - the nodes this node trusts: local settings, never replicated
 */
#include "store_int.h"
#include "wg_validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static wg_rc check_name(const char *name, wg_err *err)
{
    if (!wg_ident_name_ok(name, strlen(name)))
        return wg_err_set(err, WG_ERR_INVALID,
                          "peer name '%.64s' may hold only letters, digits, "
                          "'-', '_' and '.' (1 to %d)", name, WG_NAME_MAX);
    return WG_OK;
}

wg_rc wg_store_peer_add(wg_store *st, const char *name, const char *key_hex,
                        const char *endpoint, wg_err *err)
{
    uint8_t key[WG_SIGN_PK_BYTES], curve[WG_CURVE_KEY_BYTES];
    wg_rc rc = check_name(name, err);
    if (rc)
        return rc;
    if (wg_hex_decode(key, sizeof key, key_hex, NULL) != WG_OK ||
        wg_sign_pk_to_curve(curve, key, NULL) != WG_OK)
        return wg_err_set(err, WG_ERR_INVALID,
                          "key '%.80s' is not a node key (64 hex digits, as "
                          "'wings id' prints)", key_hex);
    if (!memcmp(key, st->info.pk, WG_SIGN_PK_BYTES))
        return wg_err_set(err, WG_ERR_INVALID, "that key is this node's own");
    if (!wg_ident_endpoint_ok(endpoint))
        return wg_err_set(err, WG_ERR_INVALID,
                          "endpoint '%.80s' is not of the form tcp://HOST:PORT",
                          endpoint);
    sqlite3_stmt *s;
    if ((rc = wg_store__prepare(st, "INSERT INTO peer(name, key, endpoint) "
                                    "VALUES(?, ?, ?)", &s, err)))
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, key, sizeof key, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, endpoint, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if ((r & 0xff) == SQLITE_CONSTRAINT)
        return wg_err_set(err, WG_ERR_EXISTS,
                          "a peer with that name or key exists already "
                          "(see 'wings peer list')");
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "adding a peer", err);
    /* A new peer is known to hold nothing of this node's own feeds. */
    return wg_store__run(st, "adding a peer", err, "DELETE FROM own_seen "
                         "WHERE peer = ?", "t", name);
}

wg_rc wg_store_peer_remove(wg_store *st, const char *name, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "DELETE FROM peer WHERE name = ?", &s,
                                 err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "removing a peer", err);
    if (sqlite3_changes(st->db) == 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no peer named '%.64s'", name);
    if ((rc = wg_store__run(st, "removing a peer", err, "DELETE FROM own_seen "
                            "WHERE peer = ?", "t", name)))
        return rc;
    /* A peer gone for good no longer keeps held writes waiting. */
    return wg_store_life_check(st, NULL, err);
}

wg_rc wg_store_peer_set_endpoint(wg_store *st, const char *name,
                                 const char *endpoint, wg_err *err)
{
    if (strncmp(endpoint, "tcp://", 6) != 0 || strlen(endpoint) <= 6 ||
        strlen(endpoint) > WG_ENDPOINT_MAX ||
        strcspn(endpoint, " \t\r\n") != strlen(endpoint))
        return wg_err_set(err, WG_ERR_INVALID,
                          "endpoint '%.80s' is not of the form tcp://HOST:PORT",
                          endpoint);
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "UPDATE peer SET endpoint = ? "
                                     "WHERE name = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, endpoint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "changing a peer's endpoint", err);
    if (sqlite3_changes(st->db) == 0)
        return wg_err_set(err, WG_ERR_NOTFOUND, "no peer named '%.64s'", name);
    return WG_OK;
}

static void fill_peer(sqlite3_stmt *s, wg_peer *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(s, 0));
    if (sqlite3_column_bytes(s, 1) == WG_SIGN_PK_BYTES)
        memcpy(p->key, sqlite3_column_blob(s, 1), WG_SIGN_PK_BYTES);
    wg_hex_encode(p->key_hex, p->key, WG_SIGN_PK_BYTES);
    snprintf(p->endpoint, sizeof p->endpoint, "%s",
             (const char *)sqlite3_column_text(s, 2));
    p->last_time = sqlite3_column_int64(s, 3);
    snprintf(p->last_result, sizeof p->last_result, "%s",
             (const char *)sqlite3_column_text(s, 4));
    snprintf(p->last_error, sizeof p->last_error, "%s",
             (const char *)sqlite3_column_text(s, 5));
    p->last_sent = sqlite3_column_int64(s, 6);
    p->last_received = sqlite3_column_int64(s, 7);
}

#define PEER_COLUMNS "name, key, endpoint, last_time, last_result, " \
                     "last_error, last_sent, last_received"

wg_rc wg_store_peers(wg_store *st, wg_peer_fn fn, void *ctx, wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT " PEER_COLUMNS " FROM peer "
                                     "ORDER BY name", &s, err);
    if (rc)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        wg_peer p;
        fill_peer(s, &p);
        if (fn(ctx, &p))
            break;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = wg_store__sqlerr(st, r, "listing peers", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_peer_get(wg_store *st, const char *name, wg_peer *p,
                        wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(st, "SELECT " PEER_COLUMNS " FROM peer "
                                     "WHERE name = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        fill_peer(s, p);
    else if (r == SQLITE_DONE)
        rc = wg_err_set(err, WG_ERR_NOTFOUND, "no peer named '%.64s' (see "
                        "'wings peer list')", name);
    else
        rc = wg_store__sqlerr(st, r, "reading a peer", err);
    sqlite3_finalize(s);
    return rc;
}

wg_rc wg_store_peer_result(wg_store *st, const char *name, int ok,
                           const char *error, int64_t sent, int64_t received,
                           wg_err *err)
{
    sqlite3_stmt *s;
    wg_rc rc = wg_store__prepare(
        st, "UPDATE peer SET last_time = ?, last_result = ?, last_error = ?, "
            "last_sent = ?, last_received = ? WHERE name = ?", &s, err);
    if (rc)
        return rc;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_text(s, 2, ok ? "ok" : "failed", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, error ? error : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, sent);
    sqlite3_bind_int64(s, 5, received);
    sqlite3_bind_text(s, 6, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_DONE)
        return wg_store__sqlerr(st, r, "recording a session", err);
    return WG_OK;
}
