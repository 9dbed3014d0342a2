/*
 * wg_i18n.h - the one place messages are marked for translation
 *
 * gettext, domain "wings": English is the msgid and the fallback; po/LANG.po
 * hold the translations, compiled by the build. Usable from every module
 * (glibc carries libintl). Until node/ binds the domain and picks a
 * language (wg_i18n_init), _() returns its argument unchanged, so the
 * libraries and their tests speak English.
 *
 * wg_err_set() translates its format string itself, so an error message is
 * translated wherever it is made without a _() around it; xgettext finds
 * those through its keyword list (po/CMakeLists.txt).
 */
#ifndef WG_I18N_H
#define WG_I18N_H

#include <libintl.h>

#define WG_TEXTDOMAIN "wings"
#define _(s) dgettext(WG_TEXTDOMAIN, s)
#define N_(s) (s)

#endif
