/* table.c - the in-memory table's accessors (table.h). */
#include "core/table.h"
#include "core/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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
    aud_free(t);
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
