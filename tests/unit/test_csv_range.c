/* test_csv_range.c - aud_table_load_csv_range (core/csv_range.c): the parts of a file, put
 * together, are the whole file's rows with its line numbers (banner lines, a comment, blank
 * lines, a BOM); a cut inside a quoted field is caught by a part that fails to load;
 * compressed files are left to a whole read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/table.h"

static char path[64];

static void write_file(const char *text, size_t len)
{
    snprintf(path, sizeof path, "/tmp/test_csv_range_%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Load every part of `count`; when all loaded, compare the rows, values and lines with the
 * whole file's (a part that loads after one that failed may hold anything: the caller reads the
 * whole file then). Returns the number of parts that failed to load. */
static int check_parts(const aud_csv_opts *o, size_t count)
{
    aud_error err;
    aud_table *whole = NULL;
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        aud_table *t = NULL;
        aud_csv_range r;
        failed += aud_table_load_csv_range(&t, path, o, i, count, &r, &err) != AUD_OK;
        aud_table_free(t);
    }
    if (failed > 0)
        return (int)failed;
    assert_int_equal(aud_table_load_csv(&whole, path, o, &err), AUD_OK);
    size_t row = 0, lines_before = 0, prev_end = 0;
    for (size_t i = 0; i < count; i++) {
        aud_table *t = NULL;
        aud_csv_range r;
        aud_error_clear(&err);
        int rc = aud_table_load_csv_range(&t, path, o, i, count, &r, &err);
        assert_int_equal(r.whole, 0);
        if (i > 0)
            assert_int_equal(r.begin, prev_end);   /* the parts tile the body */
        prev_end = r.end;
        if (rc != AUD_OK) {
            failed++;
            lines_before += r.newlines;
            continue;
        }
        assert_int_equal(t->n_cols, whole->n_cols);
        for (size_t k = 0; k < t->n_rows; k++, row++) {
            assert_int_equal(aud_table_row_line(t, k) + (long)lines_before,
                             aud_table_row_line(whole, row));
            for (size_t j = 0; j < t->n_cols; j++) {
                char a[64], b[64];
                aud_table_cell_text(t, k, j, a, sizeof a);
                aud_table_cell_text(whole, row, j, b, sizeof b);
                assert_string_equal(a, b);
            }
        }
        lines_before += r.newlines;
        aud_table_free(t);
    }
    if (failed == 0)
        assert_int_equal(row, whole->n_rows);
    aud_table_free(whole);
    return (int)failed;
}

static void test_parts_are_the_whole(void **state)
{
    (void)state;
    char *text = malloc(1 << 16);
    size_t n = (size_t)sprintf(text, "\xEF\xBB\xBF" "banner line\n# comment\nid,x,g\n");
    for (int i = 0; i < 500; i++) {
        n += (size_t)sprintf(text + n, "%d,%d.%d,%s\n", i, i * 7 % 13, i % 10, i % 3 ? "a" : "b");
        if (i % 97 == 5)
            n += (size_t)sprintf(text + n, "\n# note\n");
    }
    write_file(text, n);
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.skip_rows = 1;
    o.comment = '#';
    for (size_t count = 1; count <= 7; count++)
        assert_int_equal(check_parts(&o, count), 0);
    /* the last record without a newline */
    write_file(text, n - 1);
    assert_int_equal(check_parts(&o, 3), 0);
    free(text);
    unlink(path);
}

static void test_cut_inside_quotes_fails(void **state)
{
    (void)state;
    char *text = malloc(1 << 16);
    size_t n = (size_t)sprintf(text, "id,note\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(text + n, "%d,\"first\nsecond\nthird %d\"\n", i, i);
    write_file(text, n);
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    /* a cut lands inside quotes (then a part fails) or on a record boundary (then every part
     * loads and check_parts compares them with the whole file) */
    int failed = 0;
    for (size_t count = 2; count <= 9; count++)
        failed += check_parts(&o, count) > 0;
    assert_true(failed > 0);
    assert_int_equal(check_parts(&o, 1), 0);
    free(text);
    unlink(path);
}

static void test_compressed_is_read_whole(void **state)
{
    (void)state;
    static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00";
    write_file(gz, sizeof gz - 1);
    aud_table *t = NULL;
    aud_csv_range r;
    aud_error err;
    assert_int_equal(aud_table_load_csv_range(&t, path, NULL, 0, 2, &r, &err), AUD_OK);
    assert_int_equal(r.whole, 1);
    assert_null(t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_are_the_whole),
        cmocka_unit_test(test_cut_inside_quotes_fails),
        cmocka_unit_test(test_compressed_is_read_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
