/*
 * web.c - the clerk's web page: HTTP, sessions, CSRF, sign-in
 *
 * libmicrohttpd in its external-loop epoll mode: its one epoll descriptor is
 * watched by the daemon's engine loop, so requests are answered on the
 * daemon's own thread, between sync steps, exactly as forwarded commands
 * are, and the store keeps one user at a time.
 *
 * A request's way through:
 *
 *   Host check ─► language ─► /static/... (no session needed)
 *                     │
 *                     ▼
 *   session cookie (idle timeout) ─► POST: Origin, then CSRF token
 *                     │                (double-submit cookie on /signin,
 *                     ▼                 the session's token elsewhere)
 *   route ─► page (web_pages.c) ─► headers (CSP, no-store) ─► answer
 *
 * Sessions live in memory only (a restart signs everyone out): a random
 * 256-bit token in an HttpOnly SameSite=Strict cookie, a CSRF token per
 * session, 15 minutes idle (WINGS_WEB_IDLE seconds overrides), 12 hours at
 * most. Failed sign-ins are counted per name and per address; past the
 * limit the next attempt waits, doubling up to 15 minutes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg_crypto.h"
#include "wg_i18n.h"
#include "wg_validate.h"
#include "web_int.h"

#define MAX_SESSIONS 128
#define SESSION_MAX_S (12 * 3600)
#define IDLE_DEFAULT_S (15 * 60)
#define MAX_FAILS_NAME 5
#define MAX_FAILS_ADDR 20
#define FAIL_FORGET_S (15 * 60)
#define LOCK_MAX_S (15 * 60)
#define MAX_THROTTLE 512
#define MAX_FIELD_BYTES (WG_FIELD_MAX_BYTES * 2)

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";

struct wg_web {
    wg_web_ctx ctx;
    struct MHD_Daemon *d;
    int epfd;
};

typedef struct throttle {
    char key[WG_USER_NAME_MAX + 48];
    int fails;
    time_t last, until;
} throttle;

static web_session sessions[MAX_SESSIONS];
static throttle throttles[MAX_THROTTLE];

static long idle_s(void)
{
    const char *v = getenv("WINGS_WEB_IDLE");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 && n <= 86400 ? n : IDLE_DEFAULT_S;
}

static void random_hex(char out[WEB_TOKEN_HEX + 1])
{
    uint8_t raw[WEB_TOKEN_HEX / 2];
    wg_random(raw, sizeof raw);
    wg_hex_encode(out, raw, sizeof raw);
    wg_wipe(raw, sizeof raw);
}

static int token_eq(const char *a, const char *b)
{
    return a && b && strlen(a) == WEB_TOKEN_HEX && strlen(b) == WEB_TOKEN_HEX &&
           wg_equal(a, b, WEB_TOKEN_HEX);
}

/* ---- addresses ------------------------------------------------------------ */

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

/* ADDR:PORT into SS; HOST is an IPv4 address, [IPv6], or localhost. */
static wg_rc parse_addr(const char *addr, int public_ok,
                        struct sockaddr_storage *ss, socklen_t *sslen,
                        char *host, size_t hostcap, int *port, wg_err *err)
{
    char h[80];
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    char *end;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hl == 0 || hl >= sizeof h || !colon[1] || *end || p < 1 ||
        p > 65535)
        return wg_err_set(err, WG_ERR_INVALID, "--http takes ADDR:PORT (such "
                          "as 127.0.0.1:8080), not '%.80s'", addr);
    memcpy(h, addr, hl);
    h[hl] = 0;
    if (h[0] == '[' && h[hl - 1] == ']') {
        memmove(h, h + 1, hl - 2);
        h[hl - 2] = 0;
    }
    if (!strcmp(h, "localhost"))
        snprintf(h, sizeof h, "127.0.0.1");
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                              .ai_socktype = SOCK_STREAM }, *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%ld", p);
    if (getaddrinfo(h, ps, &hints, &res) != 0 || !res)
        return wg_err_set(err, WG_ERR_INVALID, "--http: '%.80s' is not an IP "
                          "address", h);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    if (!public_ok && !is_loopback((struct sockaddr *)ss))
        return wg_err_set(err, WG_ERR_INVALID, "--http %.80s is not a loopback "
                          "address: the page would be open to the network; "
                          "add --http-public to mean it", addr);
    if (host)
        snprintf(host, hostcap, "%s", h);
    if (port)
        *port = (int)p;
    return WG_OK;
}

wg_rc wg_web_check_addr(const char *addr, int public_ok, wg_err *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    return parse_addr(addr, public_ok, &ss, &len, NULL, 0, NULL, err);
}

/* ---- sessions and throttling ---------------------------------------------- */

static web_session *session_find(const char *token, int *expired)
{
    time_t now = time(NULL);
    *expired = 0;
    if (!token || strlen(token) != WEB_TOKEN_HEX)
        return NULL;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        web_session *s = &sessions[i];
        if (!s->token[0] || !token_eq(s->token, token))
            continue;
        if (now - s->last > idle_s() || now - s->created > SESSION_MAX_S) {
            wg_wipe(s, sizeof *s);
            *expired = 1;
            return NULL;
        }
        s->last = now;
        return s;
    }
    return NULL;
}

static web_session *session_new(const wg_user *u)
{
    web_session *slot = &sessions[0];
    for (int i = 0; i < MAX_SESSIONS; i++) {
        if (!sessions[i].token[0]) {
            slot = &sessions[i];
            break;
        }
        if (sessions[i].last < slot->last)
            slot = &sessions[i];
    }
    memset(slot, 0, sizeof *slot);
    random_hex(slot->token);
    random_hex(slot->csrf);
    snprintf(slot->user, sizeof slot->user, "%s", u->name);
    slot->role = u->role;
    slot->created = slot->last = time(NULL);
    return slot;
}

void web_end_sessions(const char *name)
{
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].token[0] && !strcmp(sessions[i].user, name))
            wg_wipe(&sessions[i], sizeof sessions[i]);
}

static throttle *throttle_get(const char *key, int make)
{
    throttle *free_slot = NULL, *oldest = &throttles[0];
    time_t now = time(NULL);
    for (int i = 0; i < MAX_THROTTLE; i++) {
        throttle *t = &throttles[i];
        if (t->key[0] && !strcmp(t->key, key)) {
            if (now - t->last > FAIL_FORGET_S && t->until <= now)
                t->fails = 0;
            return t;
        }
        if (!t->key[0] && !free_slot)
            free_slot = t;
        if (t->last < oldest->last)
            oldest = t;
    }
    if (!make)
        return NULL;
    throttle *t = free_slot ? free_slot : oldest;
    memset(t, 0, sizeof *t);
    snprintf(t->key, sizeof t->key, "%s", key);
    return t;
}

/* Seconds until KEY may try again, 0 when it may now. */
static long throttle_wait(const char *key)
{
    throttle *t = throttle_get(key, 0);
    time_t now = time(NULL);
    return t && t->until > now ? (long)(t->until - now) : 0;
}

static void throttle_fail(const char *key, int limit)
{
    throttle *t = throttle_get(key, 1);
    time_t now = time(NULL);
    t->fails++;
    t->last = now;
    if (t->fails >= limit) {
        int shift = t->fails - limit;
        long wait = shift > 4 ? LOCK_MAX_S : 60L << shift;
        t->until = now + (wait > LOCK_MAX_S ? LOCK_MAX_S : wait);
    }
}

static void throttle_clear(const char *key)
{
    throttle *t = throttle_get(key, 0);
    if (t)
        memset(t, 0, sizeof *t);
}

/* ---- request helpers ---------------------------------------------------------- */

const char *web_arg(web_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_form(web_req *r, const char *name)
{
    for (int i = 0; i < r->nform; i++)
        if (!strcmp(r->keys[i], name))
            return r->vals[i];
    return NULL;
}

static const char *header(web_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *cookie(web_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static void add_cookie(web_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_cookie(web_req *r, const char *fmt, ...)
{
    if (r->ncookies >= 3)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->cookies[r->ncookies++], sizeof r->cookies[0], fmt, ap);
    va_end(ap);
}

void web_redirect(web_req *r, const char *to)
{
    r->status = MHD_HTTP_SEE_OTHER;
    snprintf(r->location, sizeof r->location, "%s", to);
    wg_buf_reset(&r->body);
}

void web_csrf_field(web_req *r)
{
    h_raw(&r->body, "<input type=\"hidden\" name=\"csrf\" value=\"");
    h_text(&r->body, r->sess ? r->sess->csrf : "");
    h_raw(&r->body, "\">");
}

void web_actor(wg_web_ctx *w, web_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s@%s", r->sess ? r->sess->user : "?",
             wg_store_info(w->st)->name);
}

int web_run(wg_web_ctx *w, web_req *r, int argc, char **argv, char **out,
            char **errs)
{
    size_t olen = 0, elen = 0;
    *out = *errs = NULL;
    FILE *o = open_memstream(out, &olen), *e = open_memstream(errs, &elen);
    if (!o || !e) {
        if (o)
            fclose(o);
        if (e)
            fclose(e);
        free(*out);
        free(*errs);
        *out = wg_xstrdup("");
        *errs = wg_xstrdup("wings: out of memory\n");
        return WG_EXIT_INTERNAL;
    }
    wg_cli cli = { 0 };
    cli.prog = "wings";
    cli.out = o;
    cli.errf = e;
    cli.json = 1;
    cli.shared_store = w->st;
    cli.engine = w->e;
    cli.actor = r->sess ? r->sess->user : NULL;
    int code = wg_cli_dispatch(&cli, argc, argv);
    fclose(o);
    fclose(e);
    return code;
}

static const char *html_lang(web_req *r)
{
    return strcmp(r->lang, "zh_CN") ? "en" : "zh-CN";
}

void web_page_begin(wg_web_ctx *w, web_req *r, const char *title)
{
    wg_buf *b = &r->body;
    r->ctype = "text/html; charset=utf-8";
    h_raw(b, "<!DOCTYPE html>\n<html lang=\"");
    h_raw(b, html_lang(r));
    h_raw(b, "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
             "content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" "
             "href=\"/static/icon.svg\" type=\"image/svg+xml\"><title>");
    h_text(b, title);
    h_raw(b, " · wings</title><link rel=\"stylesheet\" "
             "href=\"/static/style.css\"><script src=\"/static/app.js\" "
             "defer></script></head><body><a class=\"skip\" href=\"#main\">");
    h_text(b, _("Skip to the main content"));
    h_raw(b, "</a><header class=\"top\"><p class=\"brand\">wings · ");
    h_text(b, wg_store_info(w->st)->name);
    h_raw(b, "</p>");
    if (r->sess) {
        h_raw(b, "<nav aria-label=\"");
        h_text(b, _("Main menu"));
        h_raw(b, "\"><ul><li><a href=\"/persons\">");
        h_text(b, _("Persons"));
        h_raw(b, "</a></li>");
        if (r->sess->role != WG_USER_VIEWER) {
            h_raw(b, "<li><a href=\"/new/person\">");
            h_text(b, _("Register a person"));
            h_raw(b, "</a></li>");
        }
        h_raw(b, "<li><a href=\"/review\">");
        h_text(b, _("Review"));
        h_raw(b, "</a></li>");
        if (r->sess->role != WG_USER_VIEWER) {
            h_raw(b, "<li><a href=\"/import\">");
            h_text(b, _("Import"));
            h_raw(b, "</a></li>");
        }
        h_raw(b, "<li><a href=\"/report\">");
        h_text(b, _("Report"));
        h_raw(b, "</a></li><li><a href=\"/sync\">");
        h_text(b, _("Sync status"));
        h_raw(b, "</a></li>");
        if (r->sess->role == WG_USER_ADMIN) {
            h_raw(b, "<li><a href=\"/audit\">");
            h_text(b, _("Audit trail"));
            h_raw(b, "</a></li><li><a href=\"/users\">");
            h_text(b, _("Accounts"));
            h_raw(b, "</a></li>");
        }
        h_raw(b, "</ul></nav><div class=\"who\"><span>");
        char who[128];
        web_actor(w, r, who, sizeof who);
        h_text(b, who);
        h_raw(b, "</span><form method=\"post\" action=\"/signout\">");
        web_csrf_field(r);
        h_raw(b, "<button type=\"submit\" class=\"link\">");
        h_text(b, _("Sign out"));
        h_raw(b, "</button></form>");
    } else {
        h_raw(b, "<div class=\"who\">");
    }
    /* The switch names each language in itself. */
    int zh = !strcmp(r->lang, "zh_CN");
    h_raw(b, zh ? "<a href=\"/lang?to=en&amp;back=" :
                  "<a href=\"/lang?to=zh_CN&amp;back=");
    h_url(b, r->url);
    h_raw(b, zh ? "\" lang=\"en\" hreflang=\"en\">English</a>" :
                  "\" lang=\"zh-CN\" hreflang=\"zh-CN\">中文</a>");
    h_raw(b, "</div></header><main id=\"main\" tabindex=\"-1\">");
}

void web_page_end(web_req *r)
{
    h_raw(&r->body, "</main></body></html>\n");
}

void web_refuse(wg_web_ctx *w, web_req *r, unsigned status,
                const char *heading, const char *text)
{
    wg_buf_reset(&r->body);
    r->status = status;
    r->location[0] = 0;
    web_page_begin(w, r, heading);
    h_raw(&r->body, "<h1>");
    h_text(&r->body, heading);
    h_raw(&r->body, "</h1><p class=\"refusal\">");
    h_text(&r->body, text);
    h_raw(&r->body, "</p><p><a href=\"");
    h_raw(&r->body, r->sess ? "/persons\">" : "/signin\">");
    h_text(&r->body, r->sess ? _("Back to the persons") : _("Sign in"));
    h_raw(&r->body, "</a></p>");
    web_page_end(r);
}

/* ---- sign-in ---------------------------------------------------------------- */

static void signin_page(wg_web_ctx *w, web_req *r, const char *error,
                        const char *name)
{
    wg_buf *b = &r->body;
    /* The token of the form: the browser's own, if it has one, so a second
     * tab (or a request for an icon) does not void the first one's. */
    char pre[WEB_TOKEN_HEX + 1];
    const char *have = cookie(r, "wings_pre");
    if (have && strlen(have) == WEB_TOKEN_HEX &&
        strspn(have, "0123456789abcdef") == WEB_TOKEN_HEX)
        snprintf(pre, sizeof pre, "%s", have);
    else
        random_hex(pre);
    add_cookie(r, "wings_pre=%s; Path=/signin; HttpOnly; SameSite=Strict",
               pre);
    web_page_begin(w, r, _("Sign in"));
    h_raw(b, "<h1>");
    h_text(b, _("Sign in"));
    h_raw(b, "</h1>");
    const char *note = web_arg(r, "ended") ? _("You were signed out after a "
        "time without activity. Sign in again to go on.") :
        web_arg(r, "bye") ? _("You have signed out.") : NULL;
    if (note) {
        h_raw(b, "<p class=\"note\" role=\"status\">");
        h_text(b, note);
        h_raw(b, "</p>");
    }
    if (error) {
        h_raw(b, "<div class=\"errors\" id=\"errors\" role=\"alert\" "
                 "tabindex=\"-1\"><p id=\"signin-error\">");
        h_text(b, error);
        h_raw(b, "</p></div>");
    }
    h_raw(b, "<form method=\"post\" action=\"/signin\" class=\"signin\">"
             "<input type=\"hidden\" name=\"csrf\" value=\"");
    h_raw(b, pre);
    h_raw(b, "\"><div class=\"field\"><label for=\"f-user\">");
    h_text(b, _("User name"));
    h_raw(b, "</label><input id=\"f-user\" name=\"user\" "
             "autocomplete=\"username\" autocapitalize=\"none\" "
             "spellcheck=\"false\" maxlength=\"32\" value=\"");
    h_text(b, name ? name : "");
    h_raw(b, error ? "\" aria-describedby=\"signin-error\" "
                     "aria-invalid=\"true\">" : "\">");
    h_raw(b, "</div><div class=\"field\"><label for=\"f-password\">");
    h_text(b, _("Password"));
    h_raw(b, "</label><input id=\"f-password\" name=\"password\" "
             "type=\"password\" autocomplete=\"current-password\" "
             "maxlength=\"1024\"");
    h_raw(b, error ? " aria-describedby=\"signin-error\" "
                     "aria-invalid=\"true\">" : ">");
    h_raw(b, "</div><button type=\"submit\">");
    h_text(b, _("Sign in"));
    h_raw(b, "</button></form>");
    web_page_end(r);
    wg_wipe(pre, sizeof pre);
}

static void client_addr(web_req *r, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  out, (socklen_t)cap);
}

static void signin_post(wg_web_ctx *w, web_req *r)
{
    const char *name = web_form(r, "user"), *pass = web_form(r, "password");
    char addr[64], kname[WG_USER_NAME_MAX + 48], kaddr[80];
    client_addr(r, addr, sizeof addr);
    if (!name || !pass || !name[0] || strlen(name) > WG_USER_NAME_MAX) {
        r->status = MHD_HTTP_UNAUTHORIZED;
        signin_page(w, r, _("Enter your user name and password."), NULL);
        return;
    }
    snprintf(kname, sizeof kname, "u:%s", name);
    snprintf(kaddr, sizeof kaddr, "a:%s", addr);
    long wait = throttle_wait(kname);
    long wait2 = throttle_wait(kaddr);
    if (wait2 > wait)
        wait = wait2;
    if (wait) {
        char msg[256];
        snprintf(msg, sizeof msg, _("Too many failed sign-ins. Wait %ld "
                                    "minute(s) and try again."),
                 (wait + 59) / 60);
        r->status = MHD_HTTP_TOO_MANY_REQUESTS;
        signin_page(w, r, msg, name);
        return;
    }
    wg_user u;
    wg_err err = { 0 };
    wg_rc rc = wg_store_user_check(w->st, name, pass, strlen(pass), &u, &err);
    if (rc == WG_OK) {
        throttle_clear(kname);
        web_session *s = session_new(&u);
        add_cookie(r, "wings_session=%s; Path=/; HttpOnly; SameSite=Strict",
                   s->token);
        add_cookie(r, "wings_pre=; Path=/signin; Max-Age=0; HttpOnly; "
                      "SameSite=Strict");
        web_redirect(r, "/persons");
        return;
    }
    throttle_fail(kname, MAX_FAILS_NAME);
    throttle_fail(kaddr, MAX_FAILS_ADDR);
    r->status = rc == WG_ERR_AUTH ? MHD_HTTP_UNAUTHORIZED
                                  : MHD_HTTP_INTERNAL_SERVER_ERROR;
    signin_page(w, r, rc == WG_ERR_AUTH ? _("Wrong user name or password.")
                                        : err.msg, name);
}

/* ---- routing ------------------------------------------------------------------- */

static int host_ok(wg_web_ctx *w, web_req *r)
{
    if (w->public_ok)
        return 1;
    const char *h = header(r, "Host");
    if (!h)
        return 0;
    char ok[3][100];
    snprintf(ok[0], sizeof ok[0], "%s:%d", w->host, w->port);
    snprintf(ok[1], sizeof ok[1], "localhost:%d", w->port);
    snprintf(ok[2], sizeof ok[2], "[%s]:%d", w->host, w->port);
    for (int i = 0; i < 3; i++)
        if (!strcmp(h, ok[i]))
            return 1;
    return 0;
}

static int origin_ok(web_req *r)
{
    const char *o = header(r, "Origin"), *h = header(r, "Host");
    if (!o)
        return 1; /* an old browser or a script: the CSRF token decides */
    char want[200];
    snprintf(want, sizeof want, "http://%s", h ? h : "");
    return h && !strcmp(o, want);
}

static const char *pick_lang(web_req *r)
{
    const char *c = cookie(r, "wings_lang");
    if (c && (!strcmp(c, "en") || !strcmp(c, "zh_CN")))
        return c;
    /* Chinese first: English only when the browser prefers it to Chinese. */
    const char *al = header(r, "Accept-Language");
    for (const char *p = al; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!strncasecmp(p, "zh", 2))
            return "zh_CN";
        if (!strncasecmp(p, "en", 2))
            return "en";
        p = strchr(p, ',');
    }
    return "zh_CN";
}

static int safe_path(const char *p)
{
    return p && p[0] == '/' && p[1] != '/' && strlen(p) < 200 &&
           strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789/_-") == strlen(p);
}

static void route(wg_web_ctx *w, web_req *r, const char *url)
{
    int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (!get && !r->is_post) {
        web_refuse(w, r, MHD_HTTP_METHOD_NOT_ALLOWED, _("Not allowed"),
                   _("This page answers only GET and POST."));
        return;
    }
    if (!strcmp(url, "/lang") && get) {
        const char *to = web_arg(r, "to"), *back = web_arg(r, "back");
        const char *l = to ? wg_i18n_lang_of(to) : "zh_CN";
        add_cookie(r, "wings_lang=%s; Path=/; SameSite=Strict; "
                      "Max-Age=31536000", l);
        web_redirect(r, safe_path(back) ? back : "/");
        return;
    }
    if (!strcmp(url, "/favicon.ico")) {
        web_refuse(w, r, MHD_HTTP_NOT_FOUND, _("Not found"),
                   _("There is no such page here."));
        return;
    }
    int expired = 0;
    r->sess = session_find(cookie(r, "wings_session"), &expired);
    if (r->is_post) {
        if (r->too_large) {
            web_refuse(w, r, 413, _("Too large"),
                       r->max_body > WEB_MAX_BODY
                           ? _("The file sent is larger than this page "
                               "accepts (16 MB). Nothing was written: split "
                               "it, or import it with 'wings import'.")
                           : _("The form sent is larger than this page "
                               "accepts."));
            return;
        }
        if (!origin_ok(r)) {
            web_refuse(w, r, MHD_HTTP_FORBIDDEN, _("Refused"),
                       _("This form was sent from another site, so it was "
                         "refused. Nothing was changed."));
            return;
        }
        const char *sent = web_form(r, "csrf");
        const char *want = !strcmp(url, "/signin") ? cookie(r, "wings_pre")
                         : r->sess ? r->sess->csrf : NULL;
        if (!token_eq(sent, want)) {
            web_refuse(w, r, MHD_HTTP_FORBIDDEN, _("Refused"),
                       r->sess || !strcmp(url, "/signin")
                           ? _("This form is out of date or did not come "
                               "from this page. Nothing was changed: open "
                               "the page again and repeat.")
                           : _("You are not signed in (or your session "
                               "ended). Nothing was changed: sign in and "
                               "repeat."));
            return;
        }
    }
    if (!strcmp(url, "/signin")) {
        if (r->is_post)
            signin_post(w, r);
        else if (r->sess)
            web_redirect(r, "/persons");
        else
            signin_page(w, r, NULL, NULL);
        return;
    }
    if (!r->sess) {
        web_redirect(r, expired ? "/signin?ended=1" : "/signin");
        if (expired)
            add_cookie(r, "wings_session=; Path=/; Max-Age=0; HttpOnly; "
                          "SameSite=Strict");
        return;
    }
    if (!strcmp(url, "/signout") && r->is_post) {
        wg_wipe(r->sess, sizeof *r->sess);
        r->sess = NULL;
        add_cookie(r, "wings_session=; Path=/; Max-Age=0; HttpOnly; "
                      "SameSite=Strict");
        web_redirect(r, "/signin?bye=1");
        return;
    }
    if (!strcmp(url, "/")) {
        web_redirect(r, "/persons");
        return;
    }
    if (!strcmp(url, "/persons") && get) {
        page_persons(w, r);
        return;
    }
    if (!strcmp(url, "/sync")) {
        if (r->is_post)
            page_sync_now(w, r);
        else
            page_sync(w, r);
        return;
    }
    if (!strcmp(url, "/review") && get) {
        page_review(w, r);
        return;
    }
    if (!strcmp(url, "/review/merge") && r->is_post) {
        page_review_merge(w, r);
        return;
    }
    if (!strcmp(url, "/import")) {
        page_import(w, r);
        return;
    }
    if (!strcmp(url, "/report") && get) {
        page_report(w, r);
        return;
    }
    if ((!strcmp(url, "/report.svg") || !strcmp(url, "/report.xlsx")) && get) {
        page_report_file(w, r, !strcmp(url, "/report.xlsx"));
        return;
    }
    if (!strcmp(url, "/audit") && get) {
        page_audit(w, r);
        return;
    }
    if (!strcmp(url, "/users")) {
        page_users(w, r, NULL);
        return;
    }
    if (!strcmp(url, "/users/remove") && r->is_post) {
        page_users(w, r, "remove");
        return;
    }
    if (!strncmp(url, "/new/", 5)) {
        const wg_table *t = wg_schema_table(url + 5);
        if (t) {
            page_form(w, r, t, NULL);
            return;
        }
    }
    if (!strncmp(url, "/edit/", 6)) {
        char tn[16];
        const char *slash = strchr(url + 6, '/');
        size_t n = slash ? (size_t)(slash - url - 6) : 0;
        if (slash && n < sizeof tn) {
            memcpy(tn, url + 6, n);
            tn[n] = 0;
            const wg_table *t = wg_schema_table(tn);
            if (t && wg_validate_record_id(slash + 1)) {
                page_form(w, r, t, slash + 1);
                return;
            }
        }
    }
    if (get) {
        for (int i = 0; wg_schema_table_at(i); i++) {
            const wg_table *t = wg_schema_table_at(i);
            size_t n = strlen(t->name);
            if (url[0] == '/' && !strncmp(url + 1, t->name, n) &&
                url[n + 1] == '/' && wg_validate_record_id(url + n + 2)) {
                page_record(w, r, t, url + n + 2);
                return;
            }
        }
    }
    web_refuse(w, r, MHD_HTTP_NOT_FOUND, _("Not found"),
               _("There is no such page here."));
}

/* ---- libmicrohttpd's callbacks ------------------------------------------------- */

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *filename,
                                const char *ctype, const char *enc,
                                const char *data, uint64_t off, size_t size)
{
    web_req *r = cls;
    if (filename) {
        /* One file, on the import form only, within its bound. */
        if (r->max_body <= WEB_MAX_BODY || strcmp(key, "file") ||
            (off == 0 && r->upload)) {
            r->too_large = 1;
            return MHD_NO;
        }
        if (off == 0) {
            snprintf(r->upload_name, sizeof r->upload_name, "%s", filename);
            r->upload = wg_xmalloc(1);
        }
        if (r->upload_len + size > WEB_MAX_UPLOAD) {
            r->too_large = 1;
            return MHD_NO;
        }
        r->upload = wg_xrealloc(r->upload, r->upload_len + size + 1);
        memcpy(r->upload + r->upload_len, data, size);
        r->upload_len += size;
        return MHD_YES;
    }
    int i = r->nform - 1;
    if (off == 0 || i < 0 || strcmp(r->keys[i], key)) {
        if (r->nform >= WEB_MAX_FORM) {
            r->too_large = 1;
            return MHD_NO;
        }
        i = r->nform++;
        r->keys[i] = wg_xstrdup(key);
        r->vals[i] = wg_xstrdup("");
    }
    size_t have = strlen(r->vals[i]);
    if (have + size > MAX_FIELD_BYTES || memchr(data, 0, size)) {
        r->too_large = 1;
        return MHD_NO;
    }
    r->vals[i] = wg_xrealloc(r->vals[i], have + size + 1);
    memcpy(r->vals[i] + have, data, size);
    r->vals[i][have + size] = 0;
    return MHD_YES;
}

static void req_free(web_req *r)
{
    if (!r)
        return;
    if (r->pp)
        MHD_destroy_post_processor(r->pp);
    for (int i = 0; i < r->nform; i++) {
        wg_wipe(r->vals[i], strlen(r->vals[i]));
        free(r->keys[i]);
        free(r->vals[i]);
    }
    if (r->upload) {
        wg_wipe(r->upload, r->upload_len);   /* personal records */
        free(r->upload);
    }
    wg_buf_release(&r->body);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result answer(web_req *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->body.len, r->body.data, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            r->ctype ? r->ctype : "text/html; charset=utf-8");
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control",
                            r->status == MHD_HTTP_OK && r->ctype &&
                                    !r->no_cache &&
                                    strncmp(r->ctype, "text/html", 9)
                                ? "private, max-age=300"
                                : "no-store");
    if (r->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->location[0])
        MHD_add_response_header(resp, "Location", r->location);
    for (int i = 0; i < r->ncookies; i++)
        MHD_add_response_header(resp, "Set-Cookie", r->cookies[i]);
    enum MHD_Result ok = MHD_queue_response(r->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    wg_web_ctx *w = cls;
    web_req *r = *con_cls;
    if (!r) {
        r = wg_xcalloc(1, sizeof *r);
        r->conn = c;
        snprintf(r->method, sizeof r->method, "%s", method);
        r->is_post = !strcmp(method, "POST");
        r->max_body = !strcmp(url, "/import") ? WEB_MAX_UPLOAD : WEB_MAX_BODY;
        wg_buf_init(&r->body, WEB_MAX_PAGE);
        if (r->is_post)
            r->pp = MHD_create_post_processor(c, 8192, on_field, r);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        r->body_len += *upload_size;
        if (r->body_len > r->max_body)
            r->too_large = 1;
        else if (r->pp && !r->too_large &&
                 MHD_post_process(r->pp, upload, *upload_size) != MHD_YES)
            r->too_large = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    r->url = url;
    r->status = MHD_HTTP_OK;
    r->lang = pick_lang(r);
    wg_i18n_use(r->lang);
    if (!host_ok(w, r)) {
        web_refuse(w, r, 421, _("Wrong address"),
                   _("This page answers only at the address it was started "
                     "on."));
    } else if (!strncmp(url, "/static/", 8)) {
        const wg_web_asset *a = wg_web_assets;
        while (a->path && strcmp(a->path, url))
            a++;
        if (a->path) {
            wg_buf_append(&r->body, a->data, a->len, NULL);
            r->ctype = a->ctype;
        } else {
            web_refuse(w, r, MHD_HTTP_NOT_FOUND, _("Not found"),
                       _("There is no such page here."));
        }
    } else {
        route(w, r, url);
    }
    enum MHD_Result ok = answer(r);
    wg_i18n_use(NULL);
    return ok;
}

/* ---- the daemon's side ------------------------------------------------------------ */

static void run(void *p)
{
    wg_web *w = p;
    /* Work MHD left ready (a request read whole) is done at once, not on
     * the loop's next turn. */
    for (int i = 0; i < 16; i++) {
        MHD_run(w->d);
        MHD_UNSIGNED_LONG_LONG t;
        if (MHD_get_timeout(w->d, &t) != MHD_YES || t > 0)
            break;
    }
}

void wg_web_tick(wg_web *w)
{
    if (w)
        run(w);
}

wg_rc wg_web_open(wg_engine *e, wg_store *st, const char *addr, int public_ok,
                  wg_web **out, wg_err *err)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    wg_web *w = wg_xcalloc(1, sizeof *w);
    wg_rc rc = parse_addr(addr, public_ok, &ss, &sslen, w->ctx.host,
                          sizeof w->ctx.host, &w->ctx.port, err);
    if (rc) {
        free(w);
        return rc;
    }
    w->ctx.st = st;
    w->ctx.e = e;
    w->ctx.public_ok = public_ok;
    unsigned flags = MHD_USE_EPOLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    w->d = MHD_start_daemon(flags, (uint16_t)w->ctx.port, NULL, NULL,
                            on_request, &w->ctx,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)(128 * 1024),
                            MHD_OPTION_END);
    if (!w->d) {
        int er = errno;
        free(w);
        return wg_err_set(err, WG_ERR_IO, "cannot serve the web page on "
                          "%.80s: %s", addr, strerror(er));
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
    w->epfd = di ? di->epoll_fd : -1;
    if (w->epfd < 0) {
        MHD_stop_daemon(w->d);
        free(w);
        return wg_err_set(err, WG_ERR_INTERNAL, "libmicrohttpd has no epoll");
    }
    wg_engine_watch(e, NULL, w->epfd, run, w);
    *out = w;
    return WG_OK;
}

void wg_web_close(wg_web **wp)
{
    if (!wp || !*wp)
        return;
    MHD_stop_daemon((*wp)->d);
    free(*wp);
    *wp = NULL;
    for (int i = 0; i < MAX_SESSIONS; i++)
        wg_wipe(&sessions[i], sizeof sessions[i]);
}
