/*
 * web_int.h - what the web page's files share (web.c, web_html.c,
 * web_pages.c) and nobody else sees
 *
 * web.c speaks HTTP (libmicrohttpd, run from the daemon's one loop: no
 * thread touches the store but the daemon's own), keeps sessions, checks
 * CSRF tokens and the sign-in rate; web_pages.c builds each page; web_html.c
 * escapes every value into HTML. Nothing from a record, a peer or a form
 * reaches a page except through h_text()/h_attr().
 */
#ifndef WG_WEB_INT_H
#define WG_WEB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wg_buf.h"
#include "wg_node.h"
#include "wg_users.h"

#define WEB_MAX_BODY (64 * 1024)     /* a form post; larger is refused */
#define WEB_MAX_FORM 48              /* fields in one post */
#define WEB_MAX_PAGE (8 << 20)       /* one page's HTML */
#define WEB_TOKEN_HEX 64             /* 32 random bytes */
#define WEB_PAGE_ROWS 50
#define WEB_MAX_UPLOAD (16u << 20)   /* a file posted to /import */

typedef struct wg_web_asset {
    const char *path;
    const char *ctype;
    const unsigned char *data;
    size_t len;
} wg_web_asset;
extern const wg_web_asset wg_web_assets[];

typedef struct web_session {
    char token[WEB_TOKEN_HEX + 1];
    char csrf[WEB_TOKEN_HEX + 1];
    char user[WG_USER_NAME_MAX + 1];
    wg_user_role role;
    time_t created, last;
} web_session;

/* One request, from its first byte to its answer. */
typedef struct web_req {
    struct MHD_Connection *conn;
    char method[8];
    int is_post;
    struct MHD_PostProcessor *pp;
    size_t body_len;
    int too_large;
    int nform;
    char *keys[WEB_MAX_FORM];
    char *vals[WEB_MAX_FORM];
    size_t max_body;               /* WEB_MAX_BODY, or WEB_MAX_UPLOAD */
    unsigned char *upload;         /* the file posted as "file" (/import) */
    size_t upload_len;
    char upload_name[256];         /* as the browser named it */
    /* filled by web.c before a page runs */
    const char *url;
    const char *lang;              /* "zh_CN" or "en" */
    web_session *sess;             /* NULL when not signed in */
    /* the answer */
    unsigned status;
    wg_buf body;
    const char *ctype;
    char location[512];
    char disposition[160];         /* Content-Disposition, or "" */
    int no_cache;                  /* not a page, yet never kept */
    char cookies[3][300];
    int ncookies;
} web_req;

typedef struct wg_web_ctx {
    wg_store *st;
    wg_engine *e;
    int port;
    int public_ok;
    char host[80];                 /* the address served, for Host checks */
} wg_web_ctx;

/* ---- web_html.c ---------------------------------------------------------- */

void h_raw(wg_buf *b, const char *s);                 /* trusted literal */
void h_text(wg_buf *b, const char *s);                /* escaped */
void h_printf(wg_buf *b, const char *fmt, ...)        /* numbers only */
    __attribute__((format(printf, 2, 3)));
void h_url(wg_buf *b, const char *s);                 /* %-encoded, escaped */

/* ---- web.c: what pages may ask of the request ------------------------------- */

const char *web_arg(web_req *r, const char *name);    /* query string */
const char *web_form(web_req *r, const char *name);   /* posted field */
void web_redirect(web_req *r, const char *to);        /* 303 */
/* Start a page: doctype, head, header with navigation (when signed in). */
void web_page_begin(wg_web_ctx *w, web_req *r, const char *title);
void web_page_end(web_req *r);
/* A whole refusal page with STATUS, a heading and one sentence. */
void web_refuse(wg_web_ctx *w, web_req *r, unsigned status,
                const char *heading, const char *text);
/* The hidden CSRF field of a form. */
void web_csrf_field(web_req *r);
/* End every session of user NAME (removed, or a new password). */
void web_end_sessions(const char *name);
/* "NAME@NODE" of the signed-in user. */
void web_actor(wg_web_ctx *w, web_req *r, char *out, size_t cap);
/* Run the command line ARGV (argv[0] the command, as `wings` takes it)
 * inside this daemon on its store, as a forwarded command runs, in the
 * page's language: one path for every write. Its output into *OUT and
 * its diagnostics into *ERRS (NUL-terminated; caller frees both). Returns
 * the exit code. */
int web_run(wg_web_ctx *w, web_req *r, int argc, char **argv, char **out,
            char **errs);

/* ---- web_pages.c ----------------------------------------------------------- */

/* A field's label and a table's title in the page's language; a value as
 * people read it (enum labels, yes/no), escaped into the page. */
const char *web_field_label(web_req *r, const wg_field *f);
const char *web_table_title(web_req *r, const wg_table *t, int plural);
void web_value(web_req *r, const wg_field *f, const char *v);

void page_persons(wg_web_ctx *w, web_req *r);
void page_record(wg_web_ctx *w, web_req *r, const wg_table *t,
                 const char *id);
void page_form(wg_web_ctx *w, web_req *r, const wg_table *t,
               const char *id);                       /* id NULL: new */
void page_sync(wg_web_ctx *w, web_req *r);
void page_sync_now(wg_web_ctx *w, web_req *r);        /* POST /sync */
void page_audit(wg_web_ctx *w, web_req *r);           /* admins only */
/* /users (list, and POST: add) and POST /users/remove (ACTION "remove"). */
void page_users(wg_web_ctx *w, web_req *r, const char *action);

/* ---- web_tools.c ------------------------------------------------------------ */

void page_review(wg_web_ctx *w, web_req *r);          /* GET /review */
void page_review_merge(wg_web_ctx *w, web_req *r);    /* POST /review/merge */
void page_import(wg_web_ctx *w, web_req *r);          /* GET, POST /import */
void page_report(wg_web_ctx *w, web_req *r);          /* GET /report */
void page_report_file(wg_web_ctx *w, web_req *r, int xlsx); /* .svg .xlsx */

#endif
