/* table.c - the in-memory table's accessors (table.h). */
#include "core/table.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
            return (long)j;
    }
    return -1;
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
