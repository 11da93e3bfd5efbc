/* table.c - the in-memory table's accessors (table.h). */
#define _GNU_SOURCE
#include "core/table.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aud_table_free(aud_table *t)
{
    if (t == NULL)
        return;
    for (size_t j = 0; j < t->n_cols; j++) {
        aud_column *c = &t->cols[j];
        aud_free(c->name);
        aud_free(c->num);
        aud_free(c->codes);
        for (size_t k = 0; k < c->n_levels; k++)
            aud_free(c->levels[k]);
        aud_free(c->levels);
    }
    aud_free(t->cols);
    aud_free(t->path);
    aud_free(t->line_marks);
    aud_free(t);
}

long aud_table_row_line(const aud_table *t, size_t row)
{
    if (t == NULL || t->n_line_marks == 0 || row >= t->n_rows)
        return 0;
    size_t lo = 0, hi = t->n_line_marks;   /* last mark with .row <= row */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->line_marks[mid].row <= row)
            lo = mid;
        else
            hi = mid;
    }
    const aud_line_mark *m = &t->line_marks[lo];
    return m->row <= row ? m->line + (long)(row - m->row) : 0;
}

const char *aud_table_row_text(const aud_table *t, size_t row, char *buf, size_t size)
{
    long line = aud_table_row_line(t, row);
    if (line > 0)
        snprintf(buf, size, "data row %zu (CSV line %ld)", row, line);
    else
        snprintf(buf, size, "data row %zu", row);
    return buf;
}

long aud_table_find(const aud_table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        if (strcmp(t->cols[j].name, name) == 0)
            return t->cols[j].n_same > 0 ? -2 : (long)j;
    }
    return -1;
}

/* Append printf text to buf (of size `size`, holding *len bytes); stops quietly when full. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 ? *len : (*len + (size_t)n < size ? *len + (size_t)n : size - 1);
}

int aud_table_lookup(const aud_table *t, const char *name, const char *what, long *index,
                     aud_error *err)
{
    const char *file = t->path != NULL && t->path[0] != '\0' ? t->path : "data";
    long j = aud_table_find(t, name);
    if (j >= 0) {
        *index = j;
        return AUD_OK;
    }
    char list[400];
    size_t len = 0, shown = 0;
    list[0] = '\0';
    if (j == -2) {   /* the positions of every column of that name */
        for (size_t k = 0; k < t->n_cols; k++)
            if (strcmp(t->cols[k].name, name) == 0)
                append(list, sizeof list, &len, "%s%zu", shown++ ? ", " : "", k + 1);
        aud_error_set(err, AUD_E_SCHEMA, file, 0, 0,
                      "%s%scolumn \"%s\" is ambiguous: columns %s of the data have that name "
                      "(rename them, or name the columns with --names)",
                      what ? what : "", what ? ": " : "", name, list);
        return aud_error_field(err, name);
    }
    const char *near = NULL;
    for (size_t k = 0; k < t->n_cols && near == NULL; k++)
        if (strcasecmp(t->cols[k].name, name) == 0)
            near = t->cols[k].name;
    for (size_t k = 0; k < t->n_cols; k++) {
        size_t before = len;
        append(list, sizeof list, &len, "%s%s", shown ? ", " : "", t->cols[k].name);
        if (len + 24 >= sizeof list) {   /* full: cut back to whole names */
            len = before;
            list[len] = '\0';
            append(list, sizeof list, &len, ", ... (%zu in all)", t->n_cols);
            break;
        }
        shown++;
    }
    char hint[160] = "";
    if (near != NULL)
        snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", near);
    aud_error_set(err, AUD_E_SCHEMA, file, 0, 0, "%s%sno column \"%s\" in the data%s; columns: %s",
                  what ? what : "", what ? ": " : "", name, hint, list);
    return aud_error_field(err, name);
}

/* Compare two texts with surrounding blanks dropped and ASCII letters folded. */
static int folded_cmp(const char *a, const char *b)
{
    while (*a == ' ' || *a == '\t')
        a++;
    while (*b == ' ' || *b == '\t')
        b++;
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && (a[na - 1] == ' ' || a[na - 1] == '\t'))
        na--;
    while (nb > 0 && (b[nb - 1] == ' ' || b[nb - 1] == '\t'))
        nb--;
    for (size_t i = 0; i < na && i < nb; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];   /* ASCII fold, any locale */
        x += x >= 'A' && x <= 'Z' ? 'a' - 'A' : 0;
        y += y >= 'A' && y <= 'Z' ? 'a' - 'A' : 0;
        if (x != y)
            return x - y;
    }
    return (na > nb) - (na < nb);
}

static int by_folded(const void *x, const void *y, void *ctx)
{
    const char *const *lv = ctx;
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    int c = folded_cmp(lv[i], lv[j]);
    return c != 0 ? c : (i > j) - (i < j);
}

long aud_similar_levels(const char *const *levels, size_t n, char *buf, size_t size)
{
    if (size > 0)
        buf[0] = '\0';
    size_t *idx = aud_malloc((n ? n : 1) * sizeof *idx);
    if (idx == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, by_folded, (void *)levels);
    size_t len = 0;
    long pairs = 0;
    for (size_t i = 1; i < n; i++) {
        if (folded_cmp(levels[idx[i - 1]], levels[idx[i]]) != 0)
            continue;
        size_t first = i - 1;   /* each later one of a run is paired with the run's first */
        while (first > 0 && folded_cmp(levels[idx[first - 1]], levels[idx[i]]) == 0)
            first--;
        append(buf, size, &len, "%s\"%s\" ~ \"%s\"", pairs ? ", " : "", levels[idx[first]],
               levels[idx[i]]);
        pairs++;
    }
    if (size > 4 && len + 1 >= size)
        strcpy(buf + size - 4, "...");
    aud_free(idx);
    return pairs;
}

const char *aud_table_cell_text(const aud_table *t, size_t row, size_t col, char *buf, size_t size)
{
    const aud_column *c = &t->cols[col];
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (c->type == AUD_COL_NUMERIC) {
        if (!isnan(c->num[row])) {
            char tmp[32];
            snprintf(buf, size, "%s", aud_fmt_double(c->num[row], tmp));
        }
    } else if (c->codes[row] >= 0) {
        snprintf(buf, size, "%s", c->levels[c->codes[row]]);
    }
    return buf;
}
