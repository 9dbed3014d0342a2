/*
 * textin.c - a CSV file as UTF-8, whatever Chinese Excel or WPS saved
 *
 * Chinese Excel saves "CSV (comma delimited)" in the ANSI code page, which
 * on a Chinese Windows is GBK (a subset of GB18030); "CSV UTF-8" and WPS
 * save UTF-8 with a byte order mark. A file that is valid UTF-8 throughout
 * (BOM or not) is read as it is, streaming; anything else is taken as
 * GB18030 and converted with iconv(3) into memory, within
 * WG_TEXT_MAX_CONVERT bytes.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wg_node.h"
#include "wg_validate.h"

#define WG_TEXT_MAX_CONVERT (256u << 20)
#define SCAN_CHUNK 65536

/* 1 if everything FP holds from here on is well-formed UTF-8 (leaves FP at
 * the end); *BAD_AT gets the offset of the first bad byte otherwise. */
static int all_utf8(FILE *fp, size_t *bad_at)
{
    unsigned char buf[SCAN_CHUNK + 8];
    size_t carry = 0, base = 0;
    for (;;) {
        size_t got = fread(buf + carry, 1, SCAN_CHUNK, fp);
        size_t n = carry + got, i = 0;
        int last = got == 0;
        buf[n] = 0;
        while (i < n) {
            if (buf[i] < 0x80) {
                i++;
                continue;
            }
            /* a sequence cut by the chunk's end waits for the next one */
            if (!last && n - i < 4) {
                size_t need = buf[i] >= 0xf0 ? 4 : buf[i] >= 0xe0 ? 3 : 2;
                if (n - i < need)
                    break;
            }
            size_t k = wg_validate_utf8_char((const char *)buf + i);
            if (k == 0) {
                *bad_at = base + i;
                return 0;
            }
            i += k;
        }
        if (last)
            return i >= n;
        carry = n - i;
        memmove(buf, buf + i, carry);
        base += i;
    }
}

static wg_rc gb18030_to_utf8(FILE *fp, const char *path, int guessed,
                             char **mem, size_t *mlen, wg_err *err)
{
    size_t cap = 1 << 16, n = 0;
    char *in = wg_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap >= WG_TEXT_MAX_CONVERT) {
                free(in);
                return wg_err_set(err, WG_ERR_INVALID, "'%s' is larger than "
                                  "%u MiB: save it as CSV UTF-8 to import it",
                                  path, WG_TEXT_MAX_CONVERT >> 20);
            }
            cap *= 2;
            in = wg_xrealloc(in, cap);
        }
        size_t got = fread(in + n, 1, cap - n, fp);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(fp)) {
        free(in);
        return wg_err_set(err, WG_ERR_IO, "cannot read '%s'", path);
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        free(in);
        return wg_err_set(err, WG_ERR_INTERNAL, "iconv cannot convert "
                          "GB18030: %s", strerror(errno));
    }
    /* GB18030 takes 1, 2 or 4 bytes for what UTF-8 takes 1, 3 or 4. */
    size_t ocap = n + n / 2 + 16;
    char *out = wg_xmalloc(ocap);
    char *ip = in, *op = out;
    size_t il = n, ol = ocap;
    wg_rc rc = WG_OK;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
        size_t at = (size_t)(ip - in);
        rc = guessed
                 ? wg_err_set(err, WG_ERR_INVALID, "'%s' is neither UTF-8 nor "
                              "GB18030 text (byte %zu): save it from Excel as "
                              "'CSV UTF-8', or give --encoding", path, at + 1)
                 : wg_err_set(err, WG_ERR_INVALID, "'%s' is not GB18030 text "
                              "(byte %zu): try --encoding utf-8", path,
                              at + 1);
    }
    iconv_close(cd);
    free(in);
    if (rc) {
        free(out);
        return rc;
    }
    *mem = out;
    *mlen = (size_t)(op - out);
    return WG_OK;
}

wg_rc wg_text_open(const char *path, const char *encoding, FILE **out,
                   char **mem, const char **used, wg_err *err)
{
    int guess = !encoding || !strcmp(encoding, "auto");
    int gb = !guess && (!strcasecmp(encoding, "gb18030") ||
                        !strcasecmp(encoding, "gbk") ||
                        !strcasecmp(encoding, "gb2312"));
    if (!guess && !gb && strcasecmp(encoding, "utf-8") &&
        strcasecmp(encoding, "utf8"))
        return wg_err_set(err, WG_ERR_INVALID, "--encoding: '%.40s' is not "
                          "one of auto, utf-8, gb18030", encoding);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return wg_err_set(err, WG_ERR_NOTFOUND, "cannot read '%s': %s", path,
                          strerror(errno));
    *mem = NULL;
    if (guess) {
        size_t bad = 0;
        if (all_utf8(fp, &bad)) {
            if (fseek(fp, 0, SEEK_SET) != 0) {
                fclose(fp);
                return wg_err_set(err, WG_ERR_IO, "cannot read '%s' twice: "
                                  "give --encoding", path);
            }
            *out = fp;
            *used = "utf-8";
            return WG_OK;
        }
        if (fseek(fp, 0, SEEK_SET) != 0) {
            fclose(fp);
            return wg_err_set(err, WG_ERR_IO, "cannot read '%s' twice: give "
                              "--encoding", path);
        }
        gb = 1;
    }
    if (!gb) {
        *out = fp;
        *used = "utf-8";
        return WG_OK;
    }
    size_t mlen = 0;
    wg_rc rc = gb18030_to_utf8(fp, path, guess, mem, &mlen, err);
    fclose(fp);
    if (rc)
        return rc;
    /* fmemopen() of nothing is refused by some libcs: read one NUL then. */
    *out = fmemopen(*mem, mlen ? mlen : 1, "rb");
    if (!*out) {
        free(*mem);
        *mem = NULL;
        return wg_err_set(err, WG_ERR_INTERNAL, "fmemopen: %s",
                          strerror(errno));
    }
    if (!mlen)
        fgetc(*out);
    *used = "gb18030";
    return WG_OK;
}
