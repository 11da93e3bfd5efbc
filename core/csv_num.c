/* csv_num.c - field values: missing-value tokens, and numbers parsed without the locale: decimal
 * text with <= 19 significant digits and a small exponent is converted exactly with Clinger's fast
 * path (W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990); anything else
 * goes to strtod_l in the "C" locale, which glibc rounds correctly. */
#define _GNU_SOURCE
#include "core/csv_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int aud_csv_na_init(na_set *na, const char *const *tokens)
{
    memset(na, 0, sizeof *na);
    for (size_t i = 0; tokens[i] != NULL; i++) {
        if (na->n == NA_MAX_TOKENS)
            return -1;
        na->tok[na->n] = tokens[i];
        na->len[na->n] = strlen(tokens[i]);
        if (na->len[na->n] == 0)
            na->has_empty = 1;
        else
            na->first[(unsigned char)tokens[i][0]] = 1;
        if (na->len[na->n] > na->max_len)
            na->max_len = na->len[na->n];
        na->n++;
    }
    return 0;
}

static const double pow10_exact[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                       1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                       1e20, 1e21, 1e22};

int aud_csv_parse_number(const char *s, size_t n, locale_t cloc, double *out)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    size_t start = i;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if ((n - i == 3 || n - i == 8) && (s[i] == 'i' || s[i] == 'I')) {   /* "inf" / "infinity",
                                                        * any case, as strtod and pandas */
        if (strncasecmp(s + i, "infinity", n - i) == 0) {
            *out = neg ? -HUGE_VAL : HUGE_VAL;
            return NUM_OK;
        }
    }
    uint64_t m = 0;
    int digits = 0, sig = 0, dropped = 0;
    long e10 = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (sig < 19) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (m != 0)
                sig++;
        } else {
            e10++;
            dropped |= s[i] != '0';
        }
        digits++;
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (sig < 19) {
                m = m * 10 + (uint64_t)(s[i] - '0');
                if (m != 0)
                    sig++;
                e10--;
            } else {
                dropped |= s[i] != '0';
            }
            digits++;
            i++;
        }
    }
    if (digits == 0)
        return NUM_NOT;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        long ev = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i == n || s[i] < '0' || s[i] > '9')
            return NUM_NOT;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (ev < 100000)
                ev = ev * 10 + (s[i] - '0');
            i++;
        }
        e10 += eneg ? -ev : ev;
    }
    if (i != n)
        return NUM_NOT;
    double v;
    if (m == 0) {
        v = 0.0;
    } else if (!dropped && m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        v = (double)m;
        v = e10 >= 0 ? v * pow10_exact[e10] : v / pow10_exact[-e10];
    } else {
        char small[128];
        size_t len = n - start;
        char *buf = len < sizeof small ? small : aud_malloc(len + 1);
        if (buf == NULL)
            return NUM_NOMEM;
        memcpy(buf, s + start, len);
        buf[len] = '\0';
        v = strtod_l(buf, NULL, cloc);
        if (buf != small)
            aud_free(buf);
        v = fabs(v);
    }
    if (isinf(v))
        return NUM_RANGE;
    *out = neg ? -v : v;
    return NUM_OK;
}

int aud_csv_fast_ok(const csv_lexer *lx)
{
    char d = lx->delim;
    return !(d >= '0' && d <= '9') && d != '.' && d != '-' && d != '\n' && d != '\r' &&
           lx->max_field >= 64;   /* a field this path takes is at most 40 bytes long */
}

int aud_csv_fast_number(csv_lexer *lx, const na_set *na, double *out)
{
    const char *p = lx->p, *end = lx->end;
    if (p == end || na->first[(unsigned char)*p])
        return -2;
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int digits = 0;
    while (p < end && (unsigned)(*p - '0') < 10u && digits < 20) {
        m = m * 10 + (uint64_t)(*p - '0');
        digits++;
        p++;
    }
    int decimals = 0;
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10u && digits < 20) {
            m = m * 10 + (uint64_t)(*p - '0');
            digits++;
            decimals++;
            p++;
        }
    }
    if (digits == 0 || digits > 19 || m > ((uint64_t)1 << 53) || decimals > 22)
        return -2;
    int r;
    if (p == end) {
        r = FIELD_LAST;
    } else if (*p == lx->delim) {
        r = FIELD_MORE;
        p++;
    } else if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
        r = FIELD_LAST;
        p += *p == '\r' ? 2 : 1;
        lx->line++;
    } else {
        return -2;
    }
    double v = (double)m / pow10_exact[decimals];   /* Clinger's fast path, as above */
    *out = neg ? -v : v;
    lx->p = p;
    return r;
}
