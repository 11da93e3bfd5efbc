/* fair_levels.c - group a numeric sensitive column (e.g. 0/1) by value, named with "%g". */
#include "metrics/fairness.h"
#include "core/io.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Index of v in the sorted array u[0..m) (v is known to be there). */
static size_t find_sorted(const double *u, size_t m, double v)
{
    size_t lo = 0, hi = m;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (u[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int aud_fair_codes_from_numeric(const double *x, size_t n, int32_t **codes, char ***levels,
                                size_t *n_levels, aud_error *err)
{
    int rc = AUD_OK;
    double *u = aud_malloc((n ? n : 1) * sizeof *u);
    int32_t *lev_of = NULL, *c = aud_malloc((n ? n : 1) * sizeof *c);
    char **names = NULL;
    size_t m = 0, nl = 0;
    /* "%g" must print a '.', whatever LC_NUMERIC the program runs with */
    locale_t cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = cloc != (locale_t)0 ? uselocale(cloc) : (locale_t)0;
    if (u == NULL || c == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            u[m++] = x[i];
    qsort(u, m, sizeof *u, cmp_double);
    size_t w = 0;
    for (size_t i = 0; i < m; i++)
        if (w == 0 || u[i] != u[w - 1])
            u[w++] = u[i];
    m = w;
    lev_of = aud_malloc((m ? m : 1) * sizeof *lev_of);
    names = aud_calloc(m ? m : 1, sizeof *names);
    if (lev_of == NULL || names == NULL) {
        rc = aud_error_nomem(err);
        goto done;
    }
    /* each distinct value is its own group, named by its shortest round-trip text (so 1234567
     * and 1234568 stay apart); -0 and 0 compare equal and are one group "0" */
    for (size_t i = 0; i < m; i++) {
        char buf[64];
        if (u[i] == 0.0)
            snprintf(buf, sizeof buf, "0");
        else
            aud_fmt_double(u[i], buf);
        if (nl == 0 || strcmp(buf, names[nl - 1]) != 0) {
            names[nl] = aud_strdup(buf);
            if (names[nl] == NULL) {
                rc = aud_error_nomem(err);
                goto done;
            }
            nl++;
        }
        lev_of[i] = (int32_t)(nl - 1);
    }
    for (size_t i = 0; i < n; i++)
        c[i] = isnan(x[i]) ? -1 : lev_of[find_sorted(u, m, x[i])];
    *codes = c;
    *levels = names;
    *n_levels = nl;
    c = NULL;
    names = NULL;
done:
    if (cloc != (locale_t)0) {
        uselocale(old);
        freelocale(cloc);
    }
    aud_fair_levels_free(names, nl);
    aud_free(u);
    aud_free(lev_of);
    aud_free(c);
    return rc;
}
