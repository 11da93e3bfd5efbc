/* natural.c - the natural order of group names (core/table.h aud_natural_cmp): numeric bands
 * by their leading number ("<25", "25-35", ">=65"), other text with digit runs compared as
 * numbers. One order for results.json, the CLI tables and both reports (issue 14 item 8). */
#include "core/table.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The number a name leads with ("25-35", "<25", ">= 65", "[25, 35)", "65+") and its bias: open
 * lower bands (<, <=) just before the number, open upper ones (>=, >, a trailing '+') after. */
static int lead_number(const char *s, double *v, int *bias)
{
    char *end;
    *bias = 0;
    while (*s == ' ' || *s == '[' || *s == '(')
        s++;
    if (strncmp(s, "\xe2\x89\xa4", 3) == 0) {          /* U+2264 */
        *bias = -1;
        s += 3;
    } else if (strncmp(s, "\xe2\x89\xa5", 3) == 0) {   /* U+2265 */
        *bias = 1;
        s += 3;
    } else if (s[0] == '<') {
        *bias = s[1] == '=' ? -1 : -2;
        s += s[1] == '=' ? 2 : 1;
    } else if (s[0] == '>') {
        *bias = s[1] == '=' ? 1 : 2;
        s += s[1] == '=' ? 2 : 1;
    }
    while (*s == ' ')
        s++;
    if (!(isdigit((unsigned char)s[0]) ||
          ((s[0] == '-' || s[0] == '+' || s[0] == '.') && isdigit((unsigned char)s[1]))))
        return 0;
    *v = strtod(s, &end);
    if (end == s || !isfinite(*v))
        return 0;
    if (*bias == 0 && *end == '+' && end[1] == '\0')
        *bias = 1;
    return 1;
}

/* Text with digit runs compared as numbers, case-insensitively. */
static int text_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c != 0)
                return c;
            a += la;
            b += lb;
            continue;
        }
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        a++;
        b++;
    }
    return (*a != '\0') - (*b != '\0');
}

int aud_natural_cmp(const char *a, const char *b)
{
    double va, vb;
    int ba, bb;
    int na = lead_number(a, &va, &ba), nb = lead_number(b, &vb, &bb);
    int c;
    if (na && nb) {
        if (va != vb)
            return va < vb ? -1 : 1;
        if (ba != bb)
            return ba < bb ? -1 : 1;
    } else if (na != nb) {
        return na ? -1 : 1;
    }
    c = text_cmp(a, b);
    return c != 0 ? c : strcmp(a, b);
}
