/*
 * i18n.c - which language the command line and the page speak
 *
 * The locale's language decides: LANGUAGE, LC_ALL, LC_MESSAGES, then LANG;
 * zh* gives Chinese (zh_CN), anything else English. Only LC_CTYPE and
 * LC_MESSAGES follow the environment: numbers in reports, CSV and JSON keep
 * the C locale's decimal point in every language. A machine without the
 * zh_CN locale generated still gets Chinese: messages are chosen through
 * LANGUAGE over C.UTF-8 (glibc ignores LANGUAGE only under plain "C") and
 * always come out as UTF-8.
 *
 * The catalogue (wings.mo) is looked for in $WINGS_LOCALEDIR, beside the
 * executable (the build tree's locale/), in ../share/locale from it (an
 * installed tree), then in the configured install prefix.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wg_i18n.h"
#include "wg_node.h"

#ifndef WG_LOCALEDIR
#define WG_LOCALEDIR "/usr/local/share/locale"
#endif

/* glibc drops its cached translations when this counter moves. */
extern int _nl_msg_cat_cntr;

static char process_lang[8] = "en";
static char current_lang[8] = "en";
static char localedir[PATH_MAX];

const char *wg_i18n_lang_of(const char *tag)
{
    if (!tag)
        return NULL;
    /* "zh_CN.UTF-8", "zh-CN", "zh", "zh_CN:en", "zh-Hans" */
    if ((tag[0] == 'z' || tag[0] == 'Z') && (tag[1] == 'h' || tag[1] == 'H') &&
        (tag[2] == 0 || tag[2] == '_' || tag[2] == '-' || tag[2] == '.' ||
         tag[2] == ':' || tag[2] == ';' || tag[2] == ','))
        return "zh_CN";
    return "en";
}

static const char *env_lang(void)
{
    static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    const char *v = getenv("LANGUAGE");
    /* LANGUAGE counts only when the locale is not C, as in glibc. */
    const char *loc = NULL;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0] && !loc; i++)
        if (getenv(vars[i]) && *getenv(vars[i]))
            loc = getenv(vars[i]);
    if (!loc || !strcmp(loc, "C") || !strcmp(loc, "POSIX"))
        return "en";
    if (v && *v)
        return wg_i18n_lang_of(v);
    return wg_i18n_lang_of(loc);
}

static int has_catalogue(const char *dir)
{
    char p[PATH_MAX + 64];
    if (snprintf(p, sizeof p, "%s/zh_CN/LC_MESSAGES/%s.mo", dir,
                 WG_TEXTDOMAIN) >= (int)sizeof p)
        return 0;
    return access(p, R_OK) == 0;
}

static void find_localedir(void)
{
    const char *env = getenv("WINGS_LOCALEDIR");
    if (env && *env && strlen(env) < sizeof localedir) {
        snprintf(localedir, sizeof localedir, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char cand[PATH_MAX];
            if (snprintf(cand, sizeof cand, "%s/locale", exe) <
                    (int)sizeof cand && has_catalogue(cand)) {
                snprintf(localedir, sizeof localedir, "%s", cand);
                return;
            }
            if (snprintf(cand, sizeof cand, "%s/../share/locale", exe) <
                    (int)sizeof cand && has_catalogue(cand)) {
                snprintf(localedir, sizeof localedir, "%s", cand);
                return;
            }
        }
    }
    snprintf(localedir, sizeof localedir, "%s", WG_LOCALEDIR);
}

void wg_i18n_init(void)
{
    /* Decide before touching LANGUAGE: it is rewritten below. */
    snprintf(process_lang, sizeof process_lang, "%s", env_lang());
    if (!setlocale(LC_CTYPE, ""))
        setlocale(LC_CTYPE, "C.UTF-8");
    const char *m = setlocale(LC_MESSAGES, "");
    if (!m || !strcmp(m, "C") || !strcmp(m, "POSIX"))
        setlocale(LC_MESSAGES, "C.UTF-8");
    find_localedir();
    bindtextdomain(WG_TEXTDOMAIN, localedir);
    bind_textdomain_codeset(WG_TEXTDOMAIN, "UTF-8");
    wg_i18n_use(NULL);
}

const char *wg_i18n_lang(void)
{
    return process_lang;
}

const char *wg_i18n_current(void)
{
    return current_lang;
}

void wg_i18n_use(const char *lang)
{
    const char *l = lang ? wg_i18n_lang_of(lang) : process_lang;
    if (!strcmp(l, current_lang) && getenv("LANGUAGE") &&
        !strcmp(getenv("LANGUAGE"), l))
        return;
    snprintf(current_lang, sizeof current_lang, "%s", l);
    setenv("LANGUAGE", l, 1);
    ++_nl_msg_cat_cntr;
}
