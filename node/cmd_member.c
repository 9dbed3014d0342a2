/*
 * cmd_member.c - `wings enrol`, `join`, `revoke`, `members`: the network's
 * membership (CLI.md "Membership"), and the root certificate of
 * `init --root`
 *
 * Certificates and revocations are written as changes of this node's own
 * feed (store/member.c), so they travel with sync; the chain above a node
 * comes in its join token and is kept locally.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg_cert.h"
#include "wg_node.h"

#define DAY 86400ULL
#define ROOT_DAYS (20 * 366)

static int fail_rc(wg_cli *cli, wg_rc code, const char *fmt, const char *a)
    __attribute__((format(printf, 3, 0)));
static int fail_rc(wg_cli *cli, wg_rc code, const char *fmt, const char *a)
{
    wg_err err;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    wg_err_set(&err, code, fmt, a);
#pragma GCC diagnostic pop
    return wg_cli_fail(cli, &err);
}

static wg_rc put_cert(wg_store *st, const wg_cert *c, wg_err *err)
{
    wg_buf b;
    wg_buf_init(&b, WG_CERT_MAX_BYTES);
    wg_rc rc = wg_cert_encode(c, &b, err);
    if (rc == WG_OK)
        rc = wg_store_member_put(st, b.data, b.len, c->scope, err);
    wg_buf_release(&b);
    return rc;
}

/* The self-signed certificate of a network's root, and its pin. */
wg_rc wg_member_make_root(wg_store *st, wg_err *err)
{
    const wg_node_info *me = wg_store_info(st);
    wg_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, me->pk, WG_SIGN_PK_BYTES);
    snprintf(c.name, sizeof c.name, "%s", me->name);
    snprintf(c.scope, sizeof c.scope, "%s", me->county);
    c.role = 1;
    c.may_enrol = 1;
    uint64_t now = (uint64_t)time(NULL);
    c.not_before = now - DAY;
    c.not_after = now + ROOT_DAYS * DAY;
    c.serial = 1;
    wg_rc rc = wg_cert_sign(&c, wg_store_secret_key(st), err);
    if (rc == WG_OK)
        rc = put_cert(st, &c, err);
    if (rc == WG_OK)
        rc = wg_store_set_root(st, me->pk, err);
    return rc;
}

/* The key of NAME (a peer) or KEY (64 hex digits). */
static int resolve(wg_store *st, const char *who, uint8_t key[WG_SIGN_PK_BYTES])
{
    wg_peer p;
    if (strlen(who) == WG_KEY_HEX_CHARS &&
        wg_hex_decode(key, WG_SIGN_PK_BYTES, who, NULL) == WG_OK)
        return 1;
    if (wg_store_peer_get(st, who, &p, NULL) == WG_OK) {
        memcpy(key, p.key, WG_SIGN_PK_BYTES);
        return 1;
    }
    return 0;
}

static int code_ok(const char *s)
{
    if (strlen(s) != WG_COUNTY_CHARS)
        return 0;
    for (int i = 0; s[i]; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* ---- enrol --------------------------------------------------------------------- */

typedef struct heads_ctx {
    const uint8_t *key;
    wg_revoke *r;
} heads_ctx;

static int on_head(void *p, const wg_feed_head *h)
{
    heads_ctx *c = p;
    if (memcmp(h->origin, c->key, WG_SIGN_PK_BYTES) ||
        c->r->ncut >= WG_CERT_MAX_CUTS)
        return 0;
    wg_cut *cut = &c->r->cut[c->r->ncut++];
    snprintf(cut->partition, sizeof cut->partition, "%s", h->partition);
    cut->head = h->head;
    return 0;
}

/* Revoke SUBJECT's certificate C, the cut-off its feeds' heads as this
 * node knows them. */
static wg_rc revoke_cert(wg_store *st, const wg_cert *c, const char *reason,
                         wg_err *err)
{
    wg_revoke r;
    memset(&r, 0, sizeof r);
    memcpy(r.subject, c->subject, WG_SIGN_PK_BYTES);
    r.serial = c->serial;
    r.time = (uint64_t)time(NULL);
    snprintf(r.reason, sizeof r.reason, "%s", reason ? reason : "");
    heads_ctx hc = { c->subject, &r };
    wg_rc rc = wg_store_feeds(st, on_head, &hc, err);
    if (rc == WG_OK)
        rc = wg_revoke_sign(&r, wg_store_secret_key(st), err);
    wg_buf b;
    wg_buf_init(&b, WG_REVOKE_MAX_BYTES);
    if (rc == WG_OK)
        rc = wg_revoke_encode(&r, &b, err);
    if (rc == WG_OK)
        rc = wg_store_member_put(st, b.data, b.len, c->scope, err);
    wg_buf_release(&b);
    return rc;
}

/* The node's store into *ST and its membership into *M, released as every
 * command here does (wg_members_destroy, wg_cli_close_store); 0, or the exit
 * code of what failed, with nothing left open. */
static int members_open(wg_cli *cli, wg_store **st, wg_members **m)
{
    int code = wg_cli_open_store(cli, st);
    if (code)
        return code;
    wg_err err = { 0 };
    if (wg_members_load(*st, m, &err) != WG_OK) {
        code = wg_cli_fail(cli, &err);
        wg_members_destroy(m);
        wg_cli_close_store(cli, st);
    }
    return code;
}

/* This node's own valid certificate, or an exit code. */
static int my_cert(wg_cli *cli, wg_store *st, wg_members *m,
                   uint8_t root[WG_SIGN_PK_BYTES], const wg_cert **out)
{
    wg_err err = { 0 };
    if (!wg_store_root(st, root))
        return fail_rc(cli, WG_ERR_INVALID, "this node has joined no network "
                       "(a closed group)%s", "");
    if (wg_members_check(m, root, wg_store_info(st)->pk, (uint64_t)time(NULL),
                         out, &err) != WG_OK) {
        err.code = WG_ERR_INVALID;
        return wg_cli_fail(cli, &err);
    }
    return 0;
}

int cmd_enrol(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "county", required_argument, NULL, 'c' },
        { "role", required_argument, NULL, 'r' },
        { "valid-days", required_argument, NULL, 'v' },
        { "replaces", required_argument, NULL, 'x' },
        { 0, 0, 0, 0 } };
    const char *county = NULL, *role = "office", *replaces = NULL;
    long days = 3 * 366;
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'c': county = optarg; break;
        case 'r': role = optarg; break;
        case 'v': {
            char *end;
            days = strtol(optarg, &end, 10);
            if (*end || days < 1 || days > 20 * 366)
                return wg_cli_usage(cli, "enrol", "--valid-days must be 1 to "
                                    "%d", 20 * 366);
            break;
        }
        case 'x': replaces = optarg; break;
        case 'h': return wg_cli_help(cli, "enrol", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 3)
        return wg_cli_usage(cli, "enrol", "enrol needs NAME KEY ENDPOINT");
    const char *name = argv[optind], *keyhex = argv[optind + 1],
               *endpoint = argv[optind + 2];
    if (strcmp(role, "office") && strcmp(role, "hq"))
        return wg_cli_usage(cli, "enrol", "role must be office or hq, not "
                            "'%s'", role);
    wg_store *st = NULL;
    wg_members *m = NULL;
    int code = members_open(cli, &st, &m);
    if (code)
        return code;
    wg_err err = { 0 };
    uint8_t root[WG_SIGN_PK_BYTES], key[WG_SIGN_PK_BYTES];
    const wg_cert *mine = NULL, *old = NULL;
    wg_rc rc = WG_OK;
    if ((code = my_cert(cli, st, m, root, &mine)))
        goto out;
    if (strlen(keyhex) != WG_KEY_HEX_CHARS ||
        wg_hex_decode(key, sizeof key, keyhex, NULL) != WG_OK) {
        code = fail_rc(cli, WG_ERR_INVALID, "key '%.80s' is not 64 hex digits",
                       keyhex);
        goto out;
    }
    if (replaces) {
        uint8_t okey[WG_SIGN_PK_BYTES];
        if (!resolve(st, replaces, okey) ||
            !(old = wg_members_lookup(m, okey))) {
            code = fail_rc(cli, WG_ERR_NOTFOUND, "no certified node '%.64s' "
                           "to replace", replaces);
            goto out;
        }
        if (!county)
            county = old->scope;
        if (strcmp(county, old->scope)) {
            code = fail_rc(cli, WG_ERR_INVALID, "a replacement is certified "
                           "for the county of the node it replaces (%s)",
                           old->scope);
            goto out;
        }
    }
    if (!county) {
        code = wg_cli_usage(cli, "enrol", "enrol needs --county CODE");
        goto out;
    }
    int as_hq = !strcmp(role, "hq");
    if (!code_ok(county)) {
        code = fail_rc(cli, WG_ERR_INVALID, "county '%.16s' is not a 6-digit "
                       "code", county);
        goto out;
    }
    if (mine->role != 1 || !mine->may_enrol) {
        code = fail_rc(cli, WG_ERR_INVALID, "an office cannot enrol%s", "");
        goto out;
    }
    if (!wg_cert_area_within(county, as_hq, mine->scope, 1)) {
        code = fail_rc(cli, WG_ERR_INVALID, "%s is outside this node's area",
                       county);
        goto out;
    }
    wg_cert nc;
    memset(&nc, 0, sizeof nc);
    memcpy(nc.subject, key, WG_SIGN_PK_BYTES);
    if (strlen(name) > WG_CERT_NAME_MAX) {
        code = fail_rc(cli, WG_ERR_INVALID, "name '%.64s...' is too long",
                       name);
        goto out;
    }
    snprintf(nc.name, sizeof nc.name, "%s", name);
    snprintf(nc.scope, sizeof nc.scope, "%s", county);
    nc.role = (uint8_t)as_hq;
    nc.may_enrol = (uint8_t)as_hq;
    uint64_t now = (uint64_t)time(NULL);
    nc.not_before = now - 60 > mine->not_before ? now - 60 : mine->not_before;
    nc.not_after = now + (uint64_t)days * DAY;
    if (nc.not_after > mine->not_after)
        nc.not_after = mine->not_after;
    /* Serials grow with the issuer's clock (milliseconds, then 16 random
     * bits): a key enrolled again holds the newest certificate under the
     * highest serial, which is the one every node judges it by. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint16_t low;
    wg_random(&low, sizeof low);
    nc.serial = (((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000)
                 << 16 | low) & INT64_MAX;
    if ((rc = wg_cert_sign(&nc, wg_store_secret_key(st), &err))) {
        err.code = WG_ERR_INVALID;
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    if (old) {
        char why[64];
        snprintf(why, sizeof why, "replaced by %s", name);
        wg_cert oc = *old;
        if ((rc = revoke_cert(st, &oc, why, &err))) {
            code = wg_cli_fail(cli, &err);
            goto out;
        }
    }
    if ((rc = put_cert(st, &nc, &err))) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    if (old && replaces) {
        wg_peer p;
        if (wg_store_peer_get(st, replaces, &p, NULL) == WG_OK)
            wg_store_peer_remove(st, replaces, NULL);
    }
    wg_peer have;
    if (wg_store_peer_get(st, name, &have, NULL) != WG_OK &&
        (rc = wg_store_peer_add(st, name, keyhex, endpoint, &err))) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    if (cli->engine)
        wg_engine_peers_changed(cli->engine);
    /* The token: the chain from the root down to the new node. */
    wg_token t;
    memset(&t, 0, sizeof t);
    const wg_cert *up[WG_CERT_MAX_DEPTH];
    int n = 0;
    for (const wg_cert *x = mine; x && n < WG_CERT_MAX_DEPTH - 1;) {
        up[n++] = x;
        if (!memcmp(x->issuer, x->subject, WG_SIGN_PK_BYTES))
            break;
        x = wg_members_lookup(m, x->issuer);
    }
    for (int i = n - 1; i >= 0; i--)
        t.certs[t.ncerts++] = *up[i];
    t.certs[t.ncerts++] = nc;
    snprintf(t.name, sizeof t.name, "%s", wg_store_info(st)->name);
    snprintf(t.endpoint, sizeof t.endpoint, "%s", wg_store_info(st)->endpoint);
    wg_buf b;
    wg_buf_init(&b, WG_TOKEN_MAX_BYTES);
    rc = wg_token_encode(&t, &b, &err);
    if (rc == WG_OK) {
        char *hex = wg_xmalloc(2 * b.len + 1);
        wg_hex_encode(hex, b.data, b.len);
        if (cli->json) {
            fputs("{\"name\":", cli->out);
            wg_json_str(cli->out, name);
            fprintf(cli->out, ",\"key\":\"%s\",\"county\":\"%s\",\"role\":"
                    "\"%s\",\"token\":\"%s%s\"}\n", keyhex, county, role,
                    WG_TOKEN_PREFIX, hex);
        } else {
            fprintf(cli->out, "%s%s\n", WG_TOKEN_PREFIX, hex);
        }
        free(hex);
    } else {
        code = wg_cli_fail(cli, &err);
    }
    wg_buf_release(&b);
out:
    wg_members_destroy(&m);
    wg_cli_close_store(cli, &st);
    return code;
}

/* ---- join ----------------------------------------------------------------------- */

typedef struct tok_src {
    const wg_token *t;
} tok_src;

static const wg_cert *tok_lookup(void *ctx, const uint8_t *subject)
{
    const wg_token *t = ((tok_src *)ctx)->t;
    for (int i = 0; i < t->ncerts; i++)
        if (!memcmp(t->certs[i].subject, subject, WG_SIGN_PK_BYTES))
            return &t->certs[i];
    return NULL;
}

int cmd_join(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "join", cli->out);
        return WG_EXIT_USAGE;
    }
    if (argc - optind != 1)
        return wg_cli_usage(cli, "join", "join needs TOKEN");
    const char *tok = argv[optind];
    size_t pl = strlen(WG_TOKEN_PREFIX), tl = strlen(tok);
    uint8_t *raw = NULL;
    wg_token t;
    wg_err err = { 0 };
    if (tl <= pl || strncmp(tok, WG_TOKEN_PREFIX, pl) || (tl - pl) % 2 ||
        (tl - pl) / 2 > WG_TOKEN_MAX_BYTES)
        return fail_rc(cli, WG_ERR_INVALID, "not a join token%s", "");
    raw = wg_xmalloc((tl - pl) / 2);
    if (wg_hex_decode(raw, (tl - pl) / 2, tok + pl, NULL) != WG_OK ||
        wg_token_decode(raw, (tl - pl) / 2, &t, &err) != WG_OK) {
        free(raw);
        return fail_rc(cli, WG_ERR_INVALID, "not a join token (%s)",
                       err.msg[0] ? err.msg : "not hex");
    }
    free(raw);
    wg_store *st = NULL;
    int code = wg_cli_open_store(cli, &st);
    if (code)
        return code;
    const wg_node_info *me = wg_store_info(st);
    const wg_cert *mine = &t.certs[t.ncerts - 1], *root = &t.certs[0];
    wg_rc rc;
    if (memcmp(mine->subject, me->pk, WG_SIGN_PK_BYTES)) {
        code = fail_rc(cli, WG_ERR_INVALID, "this token was made for another "
                       "key%s", "");
    } else if (strcmp(mine->scope, me->county)) {
        code = fail_rc(cli, WG_ERR_INVALID, "this token was made for county "
                       "%s", mine->scope);
    } else if (mine->role != (me->role == WG_ROLE_HQ)) {
        code = fail_rc(cli, WG_ERR_INVALID, "this token was made for role %s",
                       mine->role ? "hq" : "office");
    } else if (memcmp(root->issuer, root->subject, WG_SIGN_PK_BYTES)) {
        code = fail_rc(cli, WG_ERR_INVALID, "the token's chain does not start "
                       "at a root%s", "");
    } else {
        tok_src ts = { &t };
        wg_cert_source src = { tok_lookup, NULL, &ts };
        if ((rc = wg_cert_chain_verify(mine, root->subject, &src,
                                       (uint64_t)time(NULL), &err))) {
            err.code = WG_ERR_INVALID;
            code = wg_cli_fail(cli, &err);
        }
    }
    if (code)
        goto out;
    wg_buf chain;
    wg_buf_init(&chain, WG_TOKEN_MAX_BYTES);
    rc = WG_OK;
    for (int i = 0; rc == WG_OK && i < t.ncerts - 1; i++) {
        wg_buf one;
        wg_buf_init(&one, WG_CERT_MAX_BYTES);
        rc = wg_cert_encode(&t.certs[i], &one, &err);
        if (rc == WG_OK)
            rc = wg_buf_append_u16(&chain, (uint16_t)one.len, &err);
        if (rc == WG_OK)
            rc = wg_buf_append(&chain, one.data, one.len, &err);
        wg_buf_release(&one);
    }
    if (rc == WG_OK)
        rc = wg_store_set_chain(st, chain.data, chain.len, &err);
    wg_buf_release(&chain);
    if (rc == WG_OK)
        rc = put_cert(st, mine, &err);
    if (rc == WG_OK)
        rc = wg_store_set_root(st, root->subject, &err);
    char ikey[WG_KEY_HEX_CHARS + 1];
    wg_hex_encode(ikey, mine->issuer, WG_SIGN_PK_BYTES);
    wg_peer have;
    if (rc == WG_OK && wg_store_peer_get(st, t.name, &have, NULL) != WG_OK)
        rc = wg_store_peer_add(st, t.name, ikey, t.endpoint, &err);
    if (rc) {
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    if (cli->json) {
        fputs("{\"network\":", cli->out);
        wg_json_str(cli->out, root->name);
        fprintf(cli->out, ",\"role\":\"%s\",\"county\":\"%s\"}\n",
                mine->role ? "hq" : "office", mine->scope);
    } else {
        fprintf(cli->out, "joined %s as %s for %s\n", root->name,
                mine->role ? "hq" : "office", mine->scope);
    }
out:
    wg_cli_close_store(cli, &st);
    return code;
}

/* ---- revoke ------------------------------------------------------------------------ */

int cmd_revoke(wg_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        { "reason", required_argument, NULL, 'r' },
        { 0, 0, 0, 0 } };
    const char *reason = "";
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", opts, &help)) != -1) {
        switch (c) {
        case 'r': reason = optarg; break;
        case 'h': return wg_cli_help(cli, "revoke", cli->out);
        default: return WG_EXIT_USAGE;
        }
    }
    if (argc - optind != 1)
        return wg_cli_usage(cli, "revoke", "revoke needs NAME or KEY");
    if (strlen(reason) > WG_CERT_REASON_MAX)
        return fail_rc(cli, WG_ERR_INVALID, "the reason is longer than %s "
                       "bytes", "120");
    wg_store *st = NULL;
    wg_members *m = NULL;
    int code = members_open(cli, &st, &m);
    if (code)
        return code;
    wg_err err = { 0 };
    uint8_t root[WG_SIGN_PK_BYTES], key[WG_SIGN_PK_BYTES];
    const wg_cert *mine = NULL, *theirs = NULL;
    wg_rc rc;
    if ((code = my_cert(cli, st, m, root, &mine)))
        goto out;
    if (!resolve(st, argv[optind], key) ||
        !(theirs = wg_members_lookup(m, key))) {
        code = fail_rc(cli, WG_ERR_NOTFOUND, "no certified node '%.64s'",
                       argv[optind]);
        goto out;
    }
    if (memcmp(theirs->issuer, mine->subject, WG_SIGN_PK_BYTES) &&
        !(mine->role == 1 &&
          wg_cert_area_within(theirs->scope, theirs->role, mine->scope, 1))) {
        code = fail_rc(cli, WG_ERR_INVALID, "only the issuer of %s's "
                       "certificate or an HQ above it may revoke it",
                       theirs->name);
        goto out;
    }
    wg_cert copy = *theirs;
    if ((rc = revoke_cert(st, &copy, reason, &err))) {
        err.code = rc == WG_ERR_INVALID ? WG_ERR_INVALID : rc;
        code = wg_cli_fail(cli, &err);
        goto out;
    }
    if (cli->engine)
        wg_engine_peers_changed(cli->engine);
    fprintf(cli->out, cli->json ? "{\"revoked\":\"%s\"}\n" : "revoked %s\n",
            copy.name);
out:
    wg_members_destroy(&m);
    wg_cli_close_store(cli, &st);
    return code;
}

/* ---- members ------------------------------------------------------------------------ */

int cmd_members(wg_cli *cli, int argc, char **argv)
{
    int help = 0, c;
    while ((c = wg_cli_getopt(cli, argc, argv, "", NULL, &help)) != -1) {
        if (c == 'h')
            return wg_cli_help(cli, "members", cli->out);
        return WG_EXIT_USAGE;
    }
    if (optind < argc)
        return wg_cli_usage(cli, "members", "unexpected argument '%s'",
                            argv[optind]);
    wg_store *st = NULL;
    wg_members *m = NULL;
    int code = members_open(cli, &st, &m);
    if (code)
        return code;
    uint8_t root[WG_SIGN_PK_BYTES];
    int net = wg_store_root(st, root);
    if (!net && !cli->json)
        fputs("no network joined: a closed group (this node trusts exactly "
              "its peer list)\n", cli->out);
    wg_tabout *tab = NULL;
    if (cli->json) {
        fputc('[', cli->out);
    } else if (net) {
        static const char *const head[] = { "name", "key", "role", "county",
                                            "issuer", "valid until", "state" };
        tab = wg_tabout_new(7);
        wg_tabout_row(tab, head);
    }
    uint64_t now = (uint64_t)time(NULL);
    int first = 1;
    for (int i = 0; net && i < wg_members_count(m); i++) {
        const wg_cert *x = wg_members_at(m, i);
        /* Only the newest certificate of each key; duplicates (the same
         * certificate held twice) once. */
        if (wg_members_lookup(m, x->subject) != x)
            continue;
        char key[WG_KEY_HEX_CHARS + 1], until[32];
        wg_hex_encode(key, x->subject, WG_SIGN_PK_BYTES);
        const wg_cert *iss = wg_members_lookup(m, x->issuer);
        char issuer[WG_CERT_NAME_MAX + 1];
        if (iss)
            snprintf(issuer, sizeof issuer, "%s", iss->name);
        else
            wg_hex_encode(issuer, x->issuer, 8);
        time_t tt = (time_t)x->not_after;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(until, sizeof until, "%Y-%m-%d", &tm);
        const char *state =
            wg_members_revoked(m, x->subject, x->serial) ? "revoked"
            : now > x->not_after || now < x->not_before  ? "expired"
            : wg_members_check(m, root, x->subject, now, NULL, NULL) == WG_OK
                ? "valid"
                : "invalid";
        const char *role = x->role ? "hq" : "office";
        if (cli->json) {
            fputs(first ? "{\"name\":" : ",{\"name\":", cli->out);
            wg_json_str(cli->out, x->name);
            fprintf(cli->out, ",\"key\":\"%s\",\"role\":\"%s\",\"county\":"
                    "\"%s\",\"issuer\":", key, role, x->scope);
            wg_json_str(cli->out, issuer);
            fprintf(cli->out, ",\"valid_until\":\"%s\",\"state\":\"%s\"}",
                    until, state);
        } else {
            const char *row[] = { x->name, key, role, x->scope, issuer, until,
                                  state };
            wg_tabout_row(tab, row);
        }
        first = 0;
    }
    if (cli->json)
        fputs("]\n", cli->out);
    else if (tab)
        wg_tabout_print(tab, cli->out);
    wg_tabout_destroy(&tab);
    wg_members_destroy(&m);
    wg_cli_close_store(cli, &st);
    return code;
}
