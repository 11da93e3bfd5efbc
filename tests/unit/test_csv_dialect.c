/* test_csv_dialect.c - files as people have them (SPEC section 2): no header row, given names,
 * banner lines, comment lines, spaces around fields trimmed for every type (and kept on
 * request), the same on the parallel first pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/table.h"

static aud_table *parse_with(const char *text, const aud_csv_opts *o)
{
    aud_table *t = NULL;
    aud_error err;
    aud_error_clear(&err);
    int rc = aud_table_parse_csv(&t, text, strlen(text), "t.csv", o, &err);
    if (rc != AUD_OK)
        fail_msg("unexpected error: %s (line %ld col %ld)", err.msg, err.line, err.column);
    return t;
}

static aud_error parse_err_with(const char *text, const aud_csv_opts *o, int want)
{
    aud_table *t = NULL;
    aud_error err;
    aud_error_clear(&err);
    assert_int_equal(aud_table_parse_csv(&t, text, strlen(text), "t.csv", o, &err), want);
    assert_null(t);
    return err;
}

static void assert_levels(const aud_column *c, const char *const *want, size_t n)
{
    assert_int_equal(c->type, AUD_COL_CATEGORICAL);
    assert_int_equal(c->n_levels, n);
    for (size_t k = 0; k < n; k++)
        assert_string_equal(c->levels[k], want[k]);
}

/* An Adult-like raw file: banner, no header, ", " separators, " ?" missing, a comment line. */
static const char adult[] =
    "| This data was extracted from the census bureau database\n"
    "39, State-gov, 77516, Bachelors, Male, <=50K.\n"
    "50, Self-emp-not-inc, 83311, ?, Female, >50K.\n"
    "# a comment line\n"
    "\n"
    "38, Private,215646 , HS-grad, Male, <=50K.\n";

static void test_no_header_banner_comment_trim(void **state)
{
    (void)state;
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.header = 0;
    o.skip_rows = 1;
    o.comment = '#';
    aud_table *t = parse_with(adult, &o);
    assert_int_equal(t->n_cols, 6);
    assert_int_equal(t->n_rows, 3);
    assert_string_equal(t->cols[0].name, "col1");
    assert_string_equal(t->cols[5].name, "col6");
    assert_int_equal(t->cols[0].type, AUD_COL_NUMERIC);
    assert_true(t->cols[2].num[2] == 215646);
    static const char *const work[] = {"State-gov", "Self-emp-not-inc", "Private"};
    assert_levels(&t->cols[1], work, 3);
    static const char *const edu[] = {"Bachelors", "HS-grad"};
    assert_levels(&t->cols[3], edu, 2);   /* " ?" is missing after trimming */
    assert_int_equal(t->cols[3].n_missing, 1);
    assert_int_equal(t->cols[3].codes[1], -1);
    static const char *const sex[] = {"Male", "Female"};
    assert_levels(&t->cols[4], sex, 2);
    static const char *const inc[] = {"<=50K.", ">50K."};
    assert_levels(&t->cols[5], inc, 2);
    aud_table_free(t);
}

static void test_names_given(void **state)
{
    (void)state;
    static const char *const names[] = {"age", "workclass", "fnlwgt", "education", "sex",
                                        "income", NULL};
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.names = names;
    o.skip_rows = 1;
    o.comment = '#';
    aud_table *t = parse_with(adult, &o);   /* names imply no header row, as pandas' names= */
    assert_int_equal(t->n_rows, 3);
    assert_string_equal(t->cols[5].name, "income");
    assert_int_equal(aud_table_find(t, "sex"), 4);
    aud_table_free(t);
    static const char *const few[] = {"a", "b", NULL};
    o.names = few;
    aud_error e = parse_err_with(adult, &o, AUD_E_SCHEMA);
    assert_int_equal(e.line, 2);
    assert_string_equal(e.msg, "2 column names given, but the first row has 6 fields");
    static const char *const dup[] = {"a", "a", NULL};
    o.names = dup;
    o.skip_rows = 0;
    t = parse_with("1,2\n3,4\n", &o);
    assert_int_equal(t->cols[0].n_same, 1);
    assert_int_equal(aud_table_find(t, "a"), -2);
    aud_table_free(t);
}

static void test_trimming_and_keep_spaces(void **state)
{
    (void)state;
    static const char text[] = "a , b,c\n x , 1 , NA \n\"  y \",2,\" q\"\n  \"z\"  , 3 ,?\n";
    aud_table *t = parse_with(text, NULL);
    assert_string_equal(t->cols[0].name, "a");
    assert_string_equal(t->cols[1].name, "b");
    static const char *const a[] = {"x", "  y ", "z"};   /* quoted text keeps its spaces */
    assert_levels(&t->cols[0], a, 3);
    assert_int_equal(t->cols[1].type, AUD_COL_NUMERIC);
    static const char *const c[] = {" q"};
    assert_levels(&t->cols[2], c, 1);
    assert_int_equal(t->cols[2].n_missing, 2);   /* " NA " and "?" */
    aud_table_free(t);
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.keep_spaces = 1;
    t = parse_with("a , b\n x , 1 \n y, NA\n", &o);
    assert_string_equal(t->cols[0].name, "a ");
    static const char *const ka[] = {" x ", " y"};
    assert_levels(&t->cols[0], ka, 2);
    assert_int_equal(t->cols[1].type, AUD_COL_CATEGORICAL);   /* " NA" is a category then */
    aud_table_free(t);
    t = parse_with("a, b\n1, 2\n", &o);   /* numbers parse with spaces either way */
    assert_int_equal(t->cols[1].type, AUD_COL_NUMERIC);
    aud_table_free(t);
    /* a tab delimiter is not trimmed away; spaces around it are */
    aud_csv_opts_default(&o);
    o.delimiter = '\t';
    t = parse_with("a\tb\n x \t \n", &o);
    assert_int_equal(t->n_cols, 2);
    assert_string_equal(t->cols[0].levels[0], "x");
    assert_int_equal(t->cols[1].n_missing, 1);
    aud_table_free(t);
}

static void test_dialect_errors(void **state)
{
    (void)state;
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.skip_rows = 5;
    aud_error e = parse_err_with("a\n1\n", &o, AUD_E_PARSE);
    assert_string_equal(e.msg, "empty file: a header row is required");
    o.header = 0;
    e = parse_err_with("a\n1\n", &o, AUD_E_PARSE);
    assert_string_equal(e.msg, "empty file: no data rows");
    aud_csv_opts_default(&o);
    o.comment = ',';
    e = parse_err_with("a\n1\n", &o, AUD_E_USAGE);
    assert_string_equal(e.msg, "invalid comment character");
    /* errors keep physical line numbers after skipped and comment lines */
    aud_csv_opts_default(&o);
    o.skip_rows = 2;
    o.comment = '#';
    e = parse_err_with("banner\nbanner 2\na,b\n# c\n1,2\n3\n", &o, AUD_E_PARSE);
    assert_int_equal(e.line, 6);
    assert_string_equal(e.msg, "expected 2 fields, found 1");
}

/* The parallel first pass skips comment lines and trims exactly as the sequential one. */
static void test_parallel_same_as_sequential(void **state)
{
    (void)state;
    char buf[1 << 16];
    size_t len = 0;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "banner\n");
    for (int i = 0; i < 1500; i++) {
        if (i % 97 == 0)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "# comment %d, \"x\n", i);
        len += (size_t)snprintf(buf + len, sizeof buf - len, " %d , %s , %s\n", i,
                                i % 3 ? "Male" : "Female", i % 11 ? " b" : "?");
    }
    aud_csv_opts seq, par;
    aud_csv_opts_default(&seq);
    seq.header = 0;
    seq.skip_rows = 1;
    seq.comment = '#';
    seq.threads = 1;
    par = seq;
    par.threads = 3;
    par.chunk_bytes = 1;
    aud_table *a = NULL, *b = NULL;
    aud_error e;
    assert_int_equal(aud_table_parse_csv(&a, buf, len, "f.csv", &seq, &e), AUD_OK);
    assert_int_equal(aud_table_parse_csv(&b, buf, len, "f.csv", &par, &e), AUD_OK);
    assert_int_equal(a->n_rows, 1500);
    assert_int_equal(b->n_rows, 1500);
    assert_memory_equal(a->cols[0].num, b->cols[0].num, 1500 * sizeof(double));
    for (size_t k = 1; k < 3; k++) {
        assert_int_equal(a->cols[k].n_levels, b->cols[k].n_levels);
        assert_int_equal(a->cols[k].n_missing, b->cols[k].n_missing);
        assert_memory_equal(a->cols[k].codes, b->cols[k].codes, 1500 * sizeof(int32_t));
    }
    static const char *const sex[] = {"Female", "Male"};
    assert_levels(&b->cols[1], sex, 2);
    assert_int_equal(b->cols[2].n_missing, 137);
    aud_table_free(a);
    aud_table_free(b);
}

/* Issue 14 item 3: every data row knows the physical line it starts on (banner, header,
 * comments, blank lines, quoted newlines, CRLF), sequential and on the parallel pass alike.
 * The expected lines are counted while the file is built. */
static void test_row_lines(void **state)
{
    (void)state;
    static char buf[200000];
    static long want[3000];
    size_t len = 0, rows = 0;
    long line = 1;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "banner one\nbanner two\n");
    line += 2;
    len += (size_t)snprintf(buf + len, sizeof buf - len, "id,note,x\n");
    line += 1;
    for (int i = 0; i < 3000; i++) {
        if (i % 7 == 3) {
            len += (size_t)snprintf(buf + len, sizeof buf - len, "# comment %d\n\n", i);
            line += 2;
        }
        want[rows++] = line;
        if (i % 5 == 1) {   /* a quoted field over three lines */
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,\"a\nb\r\nc\",%d\r\n", i, i);
            line += 3;
        } else {
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,plain,%d\n", i, i);
            line += 1;
        }
    }
    aud_csv_opts seq, par;
    aud_csv_opts_default(&seq);
    seq.skip_rows = 2;
    seq.comment = '#';
    seq.threads = 1;
    par = seq;
    par.threads = 3;
    par.chunk_bytes = 1;
    aud_table *a = NULL, *b = NULL;
    aud_error e;
    assert_int_equal(aud_table_parse_csv(&a, buf, len, "f.csv", &seq, &e), AUD_OK);
    assert_int_equal(aud_table_parse_csv(&b, buf, len, "f.csv", &par, &e), AUD_OK);
    assert_int_equal(a->n_rows, 3000);
    assert_true(b->n_chunks > 1);
    for (size_t r = 0; r < rows; r++) {
        assert_int_equal(aud_table_row_line(a, r), want[r]);
        assert_int_equal(aud_table_row_line(b, r), want[r]);
    }
    assert_int_equal(aud_table_row_line(a, 3000), 0);
    char text[64];
    assert_string_equal(aud_table_row_text(a, 0, text, sizeof text), "data row 0 (CSV line 4)");
    aud_table_free(a);
    aud_table_free(b);
    /* no header: data row 0 is the first line after the banner */
    aud_csv_opts nh;
    aud_csv_opts_default(&nh);
    nh.header = 0;
    nh.skip_rows = 1;
    static const char small[] = "banner\n1,2\n\n3,4\n";
    a = parse_with(small, &nh);
    assert_int_equal(aud_table_row_line(a, 0), 2);
    assert_int_equal(aud_table_row_line(a, 1), 4);
    aud_table_free(a);
}

int main(void)
{
    aud_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_header_banner_comment_trim),
        cmocka_unit_test(test_names_given),
        cmocka_unit_test(test_trimming_and_keep_spaces),
        cmocka_unit_test(test_dialect_errors),
        cmocka_unit_test(test_parallel_same_as_sequential),
        cmocka_unit_test(test_row_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
