/* fuzz_csv.c - the CSV reader (core/csv.c). Every input is read twice, in one sequential pass and
 * split into tiny chunks read on three threads; both must agree (same status, same table), and a
 * table must keep the invariants of core/table.h. A first byte below 0x08 selects options and is
 * not part of the CSV text: bit 0 delimiter ';', bit 1 missing-value tokens "-" and "x", bit 2
 * small limits (field 16 bytes, 4 columns, 5 rows). */
#include <math.h>

#include "core/table.h"
#include "tests/fuzz/fuzz.h"

static void check_table(const aud_table *t)
{
    FUZZ_ASSERT(t->n_cols > 0 && t->cols != NULL);
    for (size_t c = 0; c < t->n_cols; c++) {
        const aud_column *col = &t->cols[c];
        FUZZ_ASSERT(col->name != NULL && col->name[0] != '\0');
        /* a name the file gives twice is kept apart, and found by neither copy (issue 15) */
        FUZZ_ASSERT(aud_table_find(t, col->name) == (col->n_same > 0 ? -2 : (long)c));
        size_t missing = 0;
        if (col->type == AUD_COL_NUMERIC) {
            FUZZ_ASSERT(col->codes == NULL && col->levels == NULL);
            FUZZ_ASSERT(t->n_rows == 0 || col->num != NULL);
            for (size_t r = 0; r < t->n_rows; r++)
                missing += isnan(col->num[r]) != 0;
        } else {
            FUZZ_ASSERT(col->type == AUD_COL_CATEGORICAL && col->num == NULL);
            FUZZ_ASSERT(t->n_rows == 0 || col->codes != NULL);
            for (size_t r = 0; r < t->n_rows; r++) {
                FUZZ_ASSERT(col->codes[r] >= -1 && col->codes[r] < (int32_t)col->n_levels);
                missing += col->codes[r] == -1;
            }
            for (size_t l = 0; l < col->n_levels; l++) {
                FUZZ_ASSERT(col->levels[l] != NULL);
                for (size_t k = 0; k < l && col->n_levels <= 64; k++)
                    FUZZ_ASSERT(strcmp(col->levels[k], col->levels[l]) != 0);
            }
        }
        FUZZ_ASSERT(missing == col->n_missing);
        char buf[64];
        for (size_t r = 0; r < t->n_rows && r < 16; r++)
            aud_table_cell_text(t, r, c, buf, sizeof buf);
    }
}

static int same_number(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void check_same(const aud_table *a, const aud_table *b)
{
    FUZZ_ASSERT(a->n_rows == b->n_rows && a->n_cols == b->n_cols);
    for (size_t c = 0; c < a->n_cols; c++) {
        const aud_column *x = &a->cols[c], *y = &b->cols[c];
        FUZZ_ASSERT(strcmp(x->name, y->name) == 0 && x->type == y->type);
        FUZZ_ASSERT(x->n_levels == y->n_levels && x->n_missing == y->n_missing);
        for (size_t r = 0; r < a->n_rows; r++)
            FUZZ_ASSERT(x->type == AUD_COL_NUMERIC ? same_number(x->num[r], y->num[r])
                                                   : x->codes[r] == y->codes[r]);
        for (size_t l = 0; l < x->n_levels; l++)
            FUZZ_ASSERT(strcmp(x->levels[l], y->levels[l]) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const na[] = {"-", "x", NULL};
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    if (size > 0 && data[0] < 0x08) {
        unsigned sel = data[0];
        data++;
        size--;
        if (sel & 1)
            o.delimiter = ';';
        if (sel & 2)
            o.na_tokens = na;
        if (sel & 4) {
            o.max_field_bytes = 16;
            o.max_columns = 4;
            o.max_rows = 5;
        }
    }
    char *text = fuzz_text(data, size);
    aud_table *seq = NULL, *par = NULL;
    aud_error e1, e2;
    aud_error_clear(&e1);
    aud_error_clear(&e2);
    o.threads = 1;
    int rc1 = aud_table_parse_csv(&seq, text, size, "fuzz.csv", &o, &e1);
    o.threads = 3;
    o.chunk_bytes = 8;
    int rc2 = aud_table_parse_csv(&par, text, size, "fuzz.csv", &o, &e2);
    if (rc1 != AUD_OK) {
        fuzz_check_error(rc1, &e1);
        FUZZ_ASSERT(seq == NULL);
    } else {
        check_table(seq);
    }
    if (rc2 != AUD_OK)
        fuzz_check_error(rc2, &e2);
    else
        check_table(par);
    FUZZ_ASSERT(rc1 == rc2);
    if (rc1 == AUD_OK)
        check_same(seq, par);
    aud_table_free(seq);
    aud_table_free(par);
    free(text);
    return 0;
}
