/* test_csv.c - the CSV reader: RFC 4180 quoting, line endings, BOM, missing tokens, type
 * inference, exact number parsing, located errors, limits, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/table.h"

static aud_table *parse_ok(const char *text)
{
    aud_table *t = NULL;
    aud_error err;
    aud_error_clear(&err);
    int rc = aud_table_parse_csv(&t, text, strlen(text), "t.csv", NULL, &err);
    if (rc != AUD_OK)
        fail_msg("unexpected error: %s (line %ld col %ld)", err.msg, err.line, err.column);
    return t;
}

static aud_error parse_err(const char *text, int want_code)
{
    aud_table *t = NULL;
    aud_error err;
    aud_error_clear(&err);
    int rc = aud_table_parse_csv(&t, text, strlen(text), "t.csv", NULL, &err);
    assert_int_equal(rc, want_code);
    assert_null(t);
    assert_string_equal(err.file, "t.csv");
    return err;
}

static void test_csv_basic_types(void **state)
{
    (void)state;
    aud_table *t = parse_ok("x,name,y\n1,a,2.5\n-3e2,b,\n4,a,7\n");
    assert_int_equal(t->n_rows, 3);
    assert_int_equal(t->n_cols, 3);
    assert_int_equal(t->cols[0].type, AUD_COL_NUMERIC);
    assert_true(t->cols[0].num[1] == -300.0);
    assert_int_equal(t->cols[1].type, AUD_COL_CATEGORICAL);
    assert_int_equal(t->cols[1].n_levels, 2);
    assert_int_equal(t->cols[1].codes[0], 0);
    assert_int_equal(t->cols[1].codes[1], 1);
    assert_int_equal(t->cols[1].codes[2], 0);
    assert_true(isnan(t->cols[2].num[1]));
    assert_int_equal(t->cols[2].n_missing, 1);
    assert_int_equal(aud_table_find(t, "y"), 2);
    assert_int_equal(aud_table_find(t, "nope"), -1);
    aud_table_free(t);
}

static void test_csv_quoted_newline_and_escapes(void **state)
{
    (void)state;
    aud_table *t = parse_ok("id,text\n1,\"line one\nline two\"\n2,\"say \"\"hi\"\", ok\"\n");
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(t->cols[1].levels[0], "line one\nline two");
    assert_string_equal(t->cols[1].levels[1], "say \"hi\", ok");
    aud_table_free(t);
}

static void test_csv_crlf_bom_and_no_final_newline(void **state)
{
    (void)state;
    aud_table *t = parse_ok("\xEF\xBB\xBF" "a,b\r\n1,2\r\n3,4");
    assert_string_equal(t->cols[0].name, "a");
    assert_int_equal(t->n_rows, 2);
    assert_true(t->cols[1].num[1] == 4.0);
    aud_table_free(t);
}

static void test_csv_missing_tokens(void **state)
{
    (void)state;
    aud_table *t = parse_ok("a,b\nNA,x\nNaN,?\nnan,null\n,\"\"\n5,y\n");
    assert_int_equal(t->cols[0].type, AUD_COL_NUMERIC);
    assert_int_equal(t->cols[0].n_missing, 4);
    assert_int_equal(t->cols[1].type, AUD_COL_CATEGORICAL);
    assert_int_equal(t->cols[1].n_missing, 3);
    assert_int_equal(t->cols[1].n_levels, 2);
    aud_table_free(t);
}

static void test_csv_custom_delimiter_and_na(void **state)
{
    (void)state;
    static const char *const na[] = {"-", NULL};
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.delimiter = ';';
    o.na_tokens = na;
    aud_table *t = NULL;
    aud_error err;
    const char *text = "a;b\n1,5;-\nNA;2\n";
    assert_int_equal(aud_table_parse_csv(&t, text, strlen(text), "t.csv", &o, &err), AUD_OK);
    assert_int_equal(t->cols[0].type, AUD_COL_CATEGORICAL); /* "1,5" and "NA" are text here */
    assert_int_equal(t->cols[1].type, AUD_COL_NUMERIC);
    assert_true(isnan(t->cols[1].num[0]));
    aud_table_free(t);
}

static void test_csv_numbers_are_exact_and_locale_free(void **state)
{
    (void)state;
    /* a locale with a decimal comma must not change parsing */
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    const char *vals[] = {"0.1", "1e-320", "123456789012345678901234567890", "-0.0",
                          "2.2250738585072011e-308", "9007199254740993", "0.30000000000000004",
                          "1.7976931348623157e308", " 42 ", "+.5", "5.", "inf", "-Infinity",
                          "+INF"};
    char buf[512] = "v\n";
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        strcat(buf, vals[i]);
        strcat(buf, "\n");
    }
    aud_table *t = parse_ok(buf);
    setlocale(LC_NUMERIC, "C");
    assert_int_equal(t->cols[0].type, AUD_COL_NUMERIC);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        double want = strtod(vals[i], NULL);
        assert_memory_equal(&t->cols[0].num[i], &want, sizeof want);
    }
    aud_table_free(t);
}

static void test_csv_non_numbers_make_categorical(void **state)
{
    (void)state;
    const char *bad[] = {"1e", "0x10", "1.2.3", "infin", "--1", "1e5x", ".", "nan5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "v\n1\n%s\n", bad[i]);
        aud_table *t = parse_ok(buf);
        assert_int_equal(t->cols[0].type, AUD_COL_CATEGORICAL);
        aud_table_free(t);
    }
}

static void test_csv_column_turning_categorical(void **state)
{
    (void)state;
    /* numbers first, then text: encoded in a second pass, levels in first-appearance order */
    aud_table *t = parse_ok("v,w\n1,a\nNA,b\n2.0,c\nx,d\n1,e\n");
    const aud_column *c = &t->cols[0];
    assert_int_equal(c->type, AUD_COL_CATEGORICAL);
    assert_int_equal(c->n_levels, 3);
    assert_string_equal(c->levels[0], "1");
    assert_string_equal(c->levels[1], "2.0");
    assert_string_equal(c->levels[2], "x");
    int32_t want[] = {0, -1, 1, 2, 0};
    assert_memory_equal(c->codes, want, sizeof want);
    assert_int_equal(c->n_missing, 1);
    assert_int_equal(t->cols[1].n_levels, 5);
    aud_table_free(t);
    /* only missing values before the first text: encoded in the first pass */
    t = parse_ok("v,w\nNA,1\n,2\nx,3\ny,4\nx,5\n");
    c = &t->cols[0];
    assert_int_equal(c->type, AUD_COL_CATEGORICAL);
    int32_t want2[] = {-1, -1, 0, 1, 0};
    assert_memory_equal(c->codes, want2, sizeof want2);
    assert_int_equal(c->n_missing, 2);
    aud_table_free(t);
}

static void test_csv_long_missing_run_then_text(void **state)
{
    (void)state;
    /* 3000 missing values, then text: encoded in the first pass from row 3000 on */
    size_t n = 3000;
    char *buf = malloc(n * 8 + 64);
    size_t len = (size_t)snprintf(buf, 16, "a,b\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, 16, "%zu,\n", i);
    len += (size_t)snprintf(buf + len, 16, "1,x\n");
    aud_table *t = parse_ok(buf);
    const aud_column *c = &t->cols[1];
    assert_int_equal(c->type, AUD_COL_CATEGORICAL);
    assert_int_equal(c->n_missing, n);
    assert_int_equal(c->codes[0], -1);
    assert_int_equal(c->codes[n - 1], -1);
    assert_int_equal(c->codes[n], 0);
    aud_table_free(t);
    free(buf);
}

static void test_csv_out_of_range_only_matters_for_numbers(void **state)
{
    (void)state;
    aud_table *t = parse_ok("a\n1e400\nabc\n");   /* text column: 1e400 is a category */
    assert_int_equal(t->cols[0].type, AUD_COL_CATEGORICAL);
    aud_table_free(t);
    t = parse_ok("a\nabc\n1e400\n");
    assert_int_equal(t->cols[0].type, AUD_COL_CATEGORICAL);
    aud_table_free(t);
    aud_error e = parse_err("a,b\n1,\"x\ny\"\n1e400,z\n", AUD_E_DOMAIN);
    assert_int_equal(e.line, 4);
    assert_string_equal(e.field, "a");
}

static void test_csv_error_lines_are_physical(void **state)
{
    (void)state;
    aud_error e = parse_err("\n\na,\n1,2\n", AUD_E_SCHEMA);   /* header on line 3 */
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 2);
    /* a field after a quoted newline is on the next line */
    e = parse_err("a,b,c\n\"x\ny\",1e999,3\n", AUD_E_DOMAIN);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 2);
}

/* Columns sharing a name are kept apart (n_same); using the name is an error that lists them. */
static void test_csv_duplicate_names_kept_apart(void **state)
{
    (void)state;
    aud_table *t = parse_ok("a,b,c,b,a,b\n1,2,3,4,5,x\n");
    assert_int_equal(t->n_cols, 6);
    size_t same[] = {1, 2, 0, 2, 1, 2};
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(t->cols[k].n_same, same[k]);
    assert_int_equal(t->cols[5].type, AUD_COL_CATEGORICAL);
    assert_true(t->cols[3].num[0] == 4);
    assert_int_equal(aud_table_find(t, "b"), -2);
    assert_int_equal(aud_table_find(t, "c"), 2);
    assert_int_equal(aud_table_find(t, "z"), -1);
    long j = -7;
    aud_error e;
    assert_int_equal(aud_table_lookup(t, "b", NULL, &j, &e), AUD_E_SCHEMA);
    assert_int_equal(j, -7);
    assert_string_equal(e.field, "b");
    assert_non_null(strstr(e.msg, "columns 2, 4, 6 of the data have that name"));
    assert_int_equal(aud_table_lookup(t, "A", "label", &j, &e), AUD_E_SCHEMA);
    assert_string_equal(e.msg, "label: no column \"A\" in the data (did you mean \"a\"?); "
                               "columns: a, b, c, b, a, b");
    assert_int_equal(aud_table_lookup(t, "c", NULL, &j, &e), AUD_OK);
    assert_int_equal(j, 2);
    aud_table_free(t);
}

static void test_csv_nul_byte_is_an_error(void **state)
{
    (void)state;
    static const char text[] = "x\na\na\0b\n";
    aud_table *t = NULL;
    aud_error err;
    assert_int_equal(aud_table_parse_csv(&t, text, sizeof text - 1, "t.csv", NULL, &err),
                     AUD_E_PARSE);
    assert_int_equal(err.line, 3);
    /* "a\0404040" hashes to the slot of "a" (64 slots): the lookup must not read past "a" */
    static const char collide[] = "x\na\na\0" "404040\n";
    assert_int_equal(aud_table_parse_csv(&t, collide, sizeof collide - 1, "t.csv", NULL, &err),
                     AUD_E_PARSE);
    assert_int_equal(err.line, 3);
}

static void test_csv_ragged_row_is_located(void **state)
{
    (void)state;
    aud_error e = parse_err("a,b,c\n1,2,3\n4,5\n", AUD_E_PARSE);
    assert_int_equal(e.line, 3);
    assert_string_equal(e.msg, "expected 3 fields, found 2");
    e = parse_err("a,b\n\"x\ny\",1\n1,2,3\n", AUD_E_PARSE);
    assert_int_equal(e.line, 4); /* the quoted newline counts as a line */
    assert_int_equal(e.column, 3);
}

static void test_csv_unterminated_quote(void **state)
{
    (void)state;
    aud_error e = parse_err("a,b\n1,\"open\n2,3\n", AUD_E_PARSE);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 2);
    assert_string_equal(e.msg, "unterminated quoted field");
}

static void test_csv_garbage_after_quote(void **state)
{
    (void)state;
    aud_error e = parse_err("a,b\n\"x\"y,1\n", AUD_E_PARSE);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 1);
}

static void test_csv_header_errors(void **state)
{
    (void)state;
    aud_error e = parse_err("", AUD_E_PARSE);
    assert_string_equal(e.msg, "empty file: a header row is required");
    e = parse_err("\n\n", AUD_E_PARSE);
    e = parse_err("a,,c\n1,2,3\n", AUD_E_SCHEMA);
    assert_int_equal(e.column, 2);
    e = parse_err("a,b\xff\n1,2\n", AUD_E_PARSE);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 2);
}

static void test_csv_invalid_utf8_value(void **state)
{
    (void)state;
    aud_error e = parse_err("a,b\nx,1\n\xc3\x28,2\n", AUD_E_PARSE);
    assert_int_equal(e.line, 3);
    assert_string_equal(e.field, "a");
    aud_table *t = parse_ok("a\nZ\xc3\xbcrich\n\xe2\x82\xac\n");
    assert_string_equal(t->cols[0].levels[0], "Zürich");
    aud_table_free(t);
}

static void test_csv_huge_number_is_error(void **state)
{
    (void)state;
    aud_error e = parse_err("a,b\n1,2\n3,1e400\n", AUD_E_DOMAIN);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 2);
    assert_string_equal(e.field, "b");
}

static void test_csv_limits(void **state)
{
    (void)state;
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.max_field_bytes = 8;
    aud_table *t = NULL;
    aud_error err;
    const char *text = "a\nshort\nmuch-too-long-field\n";
    assert_int_equal(aud_table_parse_csv(&t, text, strlen(text), "t.csv", &o, &err),
                     AUD_E_DOMAIN);
    assert_int_equal(err.line, 3);
    aud_csv_opts_default(&o);
    o.max_columns = 2;
    text = "a,b,c\n1,2,3\n";
    assert_int_equal(aud_table_parse_csv(&t, text, strlen(text), "t.csv", &o, &err),
                     AUD_E_DOMAIN);
    aud_csv_opts_default(&o);
    o.max_rows = 1;
    text = "a\n1\n2\n";
    assert_int_equal(aud_table_parse_csv(&t, text, strlen(text), "t.csv", &o, &err),
                     AUD_E_DOMAIN);
    assert_null(t);
}

static void test_csv_header_only_and_blank_lines(void **state)
{
    (void)state;
    aud_table *t = parse_ok("a,b\n");
    assert_int_equal(t->n_rows, 0);
    aud_table_free(t);
    t = parse_ok("a,b\n\n1,2\n\n\n3,4\n\n");
    assert_int_equal(t->n_rows, 2);
    aud_table_free(t);
}

static void test_csv_many_levels(void **state)
{
    (void)state;
    size_t n = 5000;
    char *buf = malloc(n * 16 + 8);
    size_t len = (size_t)snprintf(buf, 8, "c\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, 16, "k%zu\n", i % 3000);
    aud_table *t = parse_ok(buf);
    assert_int_equal(t->cols[0].n_levels, 3000);
    assert_int_equal(t->cols[0].codes[4999], 1999);
    assert_string_equal(t->cols[0].levels[1999], "k1999");
    aud_table_free(t);
    free(buf);
}

static void test_csv_allocation_failures_are_clean(void **state)
{
    (void)state;
    const char *text = "a,b,c\n1,x,\"q\"\"q\"\n2,y,z\n";
    for (long n = 1; n < 200; n++) {
        aud_table *t = NULL;
        aud_error err;
        aud_alloc_fail_after(n);
        int rc = aud_table_parse_csv(&t, text, strlen(text), "t.csv", NULL, &err);
        aud_alloc_fail_after(0);
        if (rc == AUD_OK) {
            assert_int_equal(t->n_rows, 2);
            aud_table_free(t);
            return;
        }
        assert_int_equal(rc, AUD_E_NOMEM);
        assert_null(t);
    }
    fail_msg("parse never succeeded");
}

/* The parallel first pass must give exactly the sequential result: same status and error, or the
 * same table bit for bit. */
static void assert_same_table(aud_table *a, aud_table *b);

/* The same error at the same place. */
static void assert_same_error(const aud_error *a, const aud_error *b)
{
    assert_int_equal(a->line, b->line);
    assert_int_equal(a->column, b->column);
    assert_string_equal(a->msg, b->msg);
}

static void assert_same_parse(const char *buf, size_t len)
{
    aud_csv_opts seq, par;
    aud_csv_opts_default(&seq);
    seq.threads = 1;
    aud_csv_opts_default(&par);
    par.threads = 3;
    par.chunk_bytes = 1;
    aud_table *a = NULL, *b = NULL;
    aud_error ea, eb;
    aud_error_clear(&ea);
    aud_error_clear(&eb);
    int ra = aud_table_parse_csv(&a, buf, len, "f.csv", &seq, &ea);
    int rb = aud_table_parse_csv(&b, buf, len, "f.csv", &par, &eb);
    assert_int_equal(ra, rb);
    if (ra != AUD_OK) {
        assert_same_error(&ea, &eb);
        return;
    }
    assert_same_table(a, b);
    aud_table_free(a);
    aud_table_free(b);
}

/* Two tables with the same shape, types, values, levels and codes. */
static void assert_same_table(aud_table *a, aud_table *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_cols, b->n_cols);
    for (size_t j = 0; j < a->n_cols; j++) {
        const aud_column *x = &a->cols[j], *y = &b->cols[j];
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->n_missing, y->n_missing);
        if (x->type == AUD_COL_NUMERIC) {
            if (a->n_rows > 0)
                assert_memory_equal(x->num, y->num, a->n_rows * sizeof *x->num);
            continue;
        }
        assert_int_equal(x->n_levels, y->n_levels);
        for (size_t l = 0; l < x->n_levels; l++)
            assert_string_equal(x->levels[l], y->levels[l]);
        if (a->n_rows > 0)
            assert_memory_equal(x->codes, y->codes, a->n_rows * sizeof *x->codes);
    }
}

static void test_csv_parallel_equals_sequential(void **state)
{
    (void)state;
    const char *cases[] = {
        "a,b,c\n1,x,2\n2,y,\n3,\"q\nr\",4\n4,x,5\n5,z,NA\n6,\"\"\"\",7\n",
        "a,b\n1,2\n3,4\n5,x\n7,8\n",              /* numbers then text in a late chunk */
        "a,b\nNA,1\n,2\nx,3\ny,4\n",                /* missing, then text */
        "a\n5\" screen\nb\n\"c\nd\"\ne\n",       /* a stray quote misleads the cut */
        "a,b\n1,2\n3\n4,5\n",                        /* an error in a later chunk */
        "a,b\n1,1e400\n2,3\nx,4\n",                  /* out of range, then text elsewhere */
        "a,b\r\n1,2\r\n\r\n3,4\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_same_parse(cases[i], strlen(cases[i]));
}

/* buf parsed with the default options but threads and chunk_bytes (0: the default). */
static int parse_at(const char *buf, size_t len, const char *name, int threads,
                    size_t chunk_bytes, aud_table **out, aud_error *e)
{
    aud_csv_opts o;
    aud_csv_opts_default(&o);
    o.threads = threads;
    if (chunk_bytes > 0)
        o.chunk_bytes = chunk_bytes;
    *out = NULL;
    aud_error_clear(e);
    return aud_table_parse_csv(out, buf, len, name, &o, e);
}

/* buf parsed on `threads` threads in chunks as small as they come (must succeed). */
static aud_table *parse_chunked(const char *buf, size_t len, int threads)
{
    aud_table *t = NULL;
    aud_error err;
    assert_int_equal(parse_at(buf, len, "f.csv", threads, 1, &t, &err), AUD_OK);
    return t;
}

/* A quoted field with newlines across the middle of the file: the cut at the first newline
 * after the half falls inside it (an odd count of quotes before it), so the chunks are cut again
 * by walking the quotes - and the pass still runs on two chunks, equal to the sequential one. */
static void test_csv_parallel_recuts_inside_quotes(void **state)
{
    (void)state;
    static char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof buf, "a,b\n");
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,x%d\n", i, i % 3);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "20,\"");
    for (int i = 0; i < 60; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "line %d\n", i);
    len += (size_t)snprintf(buf + len, sizeof buf - len, "\"\n");
    for (int i = 21; i < 30; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,x%d\n", i, i % 3);
    aud_table *t = parse_chunked(buf, len, 2);
    assert_true(t->n_chunks >= 2);   /* parallel, not the sequential fallback (0) */
    assert_int_equal(t->n_rows, 30);
    assert_int_equal(t->cols[1].n_levels, 4);
    aud_table_free(t);
    assert_same_parse(buf, len);
}

/* Cases the parallel pass must take itself (no fallback): gaps left by a blank line and a
 * quoted newline, levels met in another order in a later chunk (codes remapped), a column that
 * is all missing in the first chunks and text later, a numeric column with missing values. */
static void test_csv_parallel_merges_in_place(void **state)
{
    (void)state;
    static char buf[4096];
    static const char *const lv[3] = {"x", "y", "z"};
    size_t len = (size_t)snprintf(buf, sizeof buf, "a,b,c\n");
    for (int i = 0; i < 60; i++) {
        const char *b = i < 30 ? lv[i % 3] : lv[2 - i % 3];
        if (i == 35)
            b = "w";   /* a level only the last chunk has */
        char c[16] = "";
        if (i >= 45)
            snprintf(c, sizeof c, "t%d", i % 4);
        if (i % 7 == 3)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "NA,%s,%s\n", b, c);
        else if (i == 10 || i == 40)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,\"%s\nq\",%s\n\n", i, b, c);
        else
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,%s,%s\n", i, b, c);
    }
    aud_table *t = parse_chunked(buf, len, 3);
    assert_true(t->n_chunks >= 3);   /* parallel (the fallback leaves 0) */
    assert_int_equal(t->n_rows, 60);
    assert_int_equal(t->cols[0].type, AUD_COL_NUMERIC);
    assert_int_equal(t->cols[1].type, AUD_COL_CATEGORICAL);
    assert_int_equal(t->cols[2].type, AUD_COL_CATEGORICAL);
    assert_int_equal(t->cols[1].n_levels, 5);   /* x y z "y\nq" w, in first-appearance order */
    assert_string_equal(t->cols[1].levels[0], "x");
    assert_int_equal(t->cols[2].codes[44], -1);
    assert_string_equal(t->cols[2].levels[t->cols[2].codes[45]], "t1");
    assert_string_equal(t->cols[1].levels[t->cols[1].codes[59]], "x");
    assert_string_equal(t->cols[1].levels[t->cols[1].codes[35]], "w");
    assert_true(isnan(t->cols[0].num[3]));
    assert_true(t->cols[0].num[58] == 58.0);
    aud_table_free(t);
    assert_same_parse(buf, len);
}

/* The last chunk is not counted: its slice is sized by the bound of one record per n_cols
 * bytes. Rows of bare delimiters meet that bound exactly (with and without a final newline, one
 * and several columns); more chunks than two make the counting threads' shares span cuts. Each
 * run must stay parallel (no fallback) and equal the sequential pass. */
static void test_csv_parallel_last_chunk_bound(void **state)
{
    (void)state;
    static char buf[8192];
    for (int cols = 1; cols <= 4; cols++) {
        for (int end_nl = 0; end_nl <= 1; end_nl++) {
            for (int threads = 2; threads <= 7; threads++) {
                size_t len = 0;
                for (int c = 0; c < cols; c++)
                    len += (size_t)snprintf(buf + len, sizeof buf - len, "%sc%d",
                                            c ? "," : "", c);
                buf[len++] = '\n';
                for (int r = 0; r < 300; r++) {
                    if ((r == 3 || r == 5) && cols > 1) {   /* values in the first chunk only */
                        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d", r);
                    } else if (cols == 1) {
                        buf[len++] = (char)('a' + r % 3);   /* one column: one byte and '\n' */
                    }
                    for (int c = 1; c < cols; c++)
                        buf[len++] = ',';
                    buf[len++] = '\n';
                }
                if (!end_nl)
                    len--;
                aud_table *t = parse_chunked(buf, len, threads);
                assert_true(t->n_chunks >= (size_t)threads);   /* parallel */
                assert_int_equal(t->n_rows, 300);
                aud_table_free(t);
                assert_same_parse(buf, len);
            }
        }
    }
}

/* Each allocation of the parallel pass failing in turn (the column arrays among them: the last
 * chunk is then counted and its arrays asked for again at their exact size): the parse either
 * runs out of memory cleanly or gives the sequential result. */
static void test_csv_parallel_alloc_failures(void **state)
{
    (void)state;
    static char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof buf, "a,b,c\n");
    for (int i = 0; i < 90; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,x%d,%d.5\n", i, i % 4, i * 3);
    aud_csv_opts par;
    aud_csv_opts_default(&par);
    par.threads = 3;
    par.chunk_bytes = 1;
    int ok = 0;
    for (long n = 1; n < 400 && ok < 20; n++) {
        aud_table *t = NULL;
        aud_error err;
        aud_alloc_fail_after(n);
        int rc = aud_table_parse_csv(&t, buf, len, "f.csv", &par, &err);
        aud_alloc_fail_after(0);
        if (rc != AUD_OK) {
            assert_int_equal(rc, AUD_E_NOMEM);
            assert_null(t);
            continue;
        }
        ok++;
        assert_int_equal(t->n_rows, 90);
        assert_int_equal(t->cols[1].n_levels, 4);
        assert_true(t->cols[2].num[89] == 267.5);
        aud_table_free(t);
    }
    assert_true(ok > 0);
}

/* Files are read on several threads at once (audit drift reads both files together): the reader
 * must keep no shared state. Wide headers exercise the duplicate-name sort. */
static void *parse_wide_many(void *arg)
{
    const char *text = arg;
    for (int i = 0; i < 200; i++) {
        aud_table *t = NULL;
        aud_error err;
        if (aud_table_parse_csv(&t, text, strlen(text), "w.csv", NULL, &err) != AUD_OK ||
            t->n_cols != 300) {
            aud_table_free(t);
            return (void *)1;
        }
        aud_table_free(t);
    }
    return NULL;
}

static void test_csv_concurrent_readers(void **state)
{
    (void)state;
    static char text[8192];
    size_t len = 0;
    for (int j = 0; j < 300; j++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%scol%03d", j ? "," : "",
                                (j * 7919) % 300);
    len += (size_t)snprintf(text + len, sizeof text - len, "\n");
    for (int j = 0; j < 300; j++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%d", j ? "," : "", j);
    snprintf(text + len, sizeof text - len, "\n");
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, parse_wide_many, text), 0);
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
}

/* path loaded with seq's options on `threads` threads, in chunks as small as they come. */
static int load_chunked(const char *path, const aud_csv_opts *seq, int threads, aud_table **got,
                        aud_error *eg)
{
    aud_csv_opts o = *seq;
    o.threads = threads;
    o.chunk_bytes = 1;
    *got = NULL;
    aud_error_clear(eg);
    return aud_table_load_csv(got, path, &o, eg);
}

typedef struct progress_log {
    double    last;
    int       calls, down, out_of_range;
    pthread_t caller;
    int       other_thread;
} progress_log;

static void log_progress(void *ctx, double done)
{
    progress_log *l = ctx;
    l->down |= done < l->last;
    l->out_of_range |= !(done >= 0.0 && done <= 1.0);
    l->other_thread |= !pthread_equal(pthread_self(), l->caller);
    l->last = done;
    l->calls++;
}

/* A 9 MB file on 2, 3 and 5 threads with 1 MiB chunks at least: more chunks than threads (the
 * threads take them from a shared counter, the largest first), each read through buffers of 1
 * MiB that the threads keep from chunk to chunk. The table equals the sequential pass; the
 * progress of the first pass is reported from the calling thread only, only grows, stays in
 * [0, 1] and counts the chunks other threads finished (it gets past the share of the body the
 * calling thread's own chunks could make). */
static void test_csv_many_chunks_progress_grows(void **state)
{
    (void)state;
    enum { ROWS = 400000 };
    size_t cap = (size_t)ROWS * 48 + 64, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    len += (size_t)snprintf(buf + len, cap - len, "id,group,x,y\n");
    for (int i = 0; i < ROWS; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%d,g%d,%d.%04d,%s\n", i, (i * 7) % 13,
                                i % 977, (i * 37) % 10000, i % 11 == 0 ? "NA" : "2.5");
    char path[] = "/tmp/audit-test-chunks-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
    close(fd);
    aud_table *want = NULL;
    aud_error e;
    assert_int_equal(parse_at(buf, len, path, 1, 0, &want, &e), AUD_OK);
    const int threads[] = {2, 3, 5};
    for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
        aud_csv_opts o;
        aud_csv_opts_default(&o);   /* chunks of 1 MiB at least */
        o.threads = threads[k];
        progress_log log = {.caller = pthread_self()};
        o.progress = log_progress;
        o.progress_ctx = &log;
        aud_table *got = NULL;
        assert_int_equal(aud_table_load_csv(&got, path, &o, &e), AUD_OK);
        assert_true(got->n_chunks > (size_t)threads[k]);
        assert_same_table(got, want);
        assert_true(log.calls > 0);
        assert_false(log.down);
        assert_false(log.out_of_range);
        assert_false(log.other_thread);
        aud_table_free(got);
    }
    aud_table_free(want);
    unlink(path);
    free(buf);
}

/* Errors found after a chunked scan are those of one thread. Column sx has text first in the
 * file (so one thread checks its levels as it scans) but a chunk that starts at "0,0" sees a
 * number first and defers it to the second pass; column wp holds a number out of range, which
 * is reported once the scan is over. One thread meets the invalid UTF-8 on line 5 first; the
 * chunks used to report the range on line 2 (found by fuzz_csv). Without the bad byte both
 * report the range error. */
static void test_csv_chunked_errors_are_one_threads(void **state)
{
    (void)state;
    static const char bad[] = "sx,wp\n1.0abcdefgh,11e308\n0,0\n\n\xec" "1.0,1\n2,3\n";
    static const char range[] = "sx,wp\n1.0abcdefgh,11e308\n0,0\n\nq1.0,1\n2,3\n";
    const char *const texts[2] = {bad, range};
    const size_t lens[2] = {sizeof bad - 1, sizeof range - 1};
    const int want_rc[2] = {AUD_E_PARSE, AUD_E_DOMAIN};
    const long want_line[2] = {5, 2};
    for (int i = 0; i < 2; i++) {
        aud_table *a = NULL;
        aud_error ea;
        assert_int_equal(parse_at(texts[i], lens[i], "f.csv", 1, 0, &a, &ea), want_rc[i]);
        assert_int_equal(ea.line, want_line[i]);
        for (int threads = 2; threads <= 4; threads++) {
            aud_table *b = NULL;
            aud_error eb;
            assert_int_equal(parse_at(texts[i], lens[i], "f.csv", threads, 8, &b, &eb),
                             want_rc[i]);
            assert_null(b);
            assert_same_error(&eb, &ea);
        }
    }
}

/* Seeded mutation fuzz: every mutant of a valid file parses or fails with a located error; the
 * sanitizer build (CI) turns any memory error into a failure. */
static void test_csv_mutation_fuzz(void **state)
{
    (void)state;
    static const char seed[] = "id,name,score,flag\r\n1,\"Zo\xc3\xab, M\"\"x\",0.5,1\n"
                               "2,,NA,0\n3,\"multi\nline\",1e-3,\n4,b,-inf,1\n";
    static const char alphabet[] = ",\"\n\r\\0x9e-+.NA \xc3\xff";
    size_t n = sizeof seed - 1;
    char buf[256];
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int edits = 1 + (int)(r % 4);
        for (int e = 0; e < edits; e++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            size_t at = (size_t)(r % len);
            char ch = alphabet[(r >> 20) % (sizeof alphabet - 1)];
            switch ((r >> 40) % 3) {
            case 0: buf[at] = ch; break;                                  /* replace */
            case 1: if (len < sizeof buf) {                               /* insert */
                        memmove(buf + at + 1, buf + at, len - at);
                        buf[at] = ch;
                        len++;
                    }
                    break;
            default: memmove(buf + at, buf + at + 1, len - at - 1);      /* delete */
                     len--;
            }
        }
        if (iter % 4 == 0)
            assert_same_parse(buf, len);
        aud_table *t = NULL;
        aud_error err;
        aud_error_clear(&err);
        int rc = aud_table_parse_csv(&t, buf, len, "f.csv", NULL, &err);
        if (rc == AUD_OK) {
            assert_non_null(t);
            for (size_t j = 0; j < t->n_cols; j++) {
                const aud_column *c = &t->cols[j];
                for (size_t i = 0; i < t->n_rows; i++) {
                    if (c->type == AUD_COL_CATEGORICAL)
                        assert_true(c->codes[i] >= -1 && c->codes[i] < (int32_t)c->n_levels);
                }
            }
            aud_table_free(t);
        } else {
            assert_null(t);
            assert_true(rc == AUD_E_PARSE || rc == AUD_E_SCHEMA || rc == AUD_E_DOMAIN);
            assert_string_equal(err.file, "f.csv");
        }
    }
}

static void test_csv_load_missing_file(void **state)
{
    (void)state;
    aud_table *t = NULL;
    aud_error err;
    assert_int_equal(aud_table_load_csv(&t, "/nonexistent/x.csv", NULL, &err), AUD_E_IO);
    assert_string_equal(err.file, "/nonexistent/x.csv");
    assert_int_equal(aud_table_load_csv(&t, "/tmp", NULL, &err), AUD_E_IO);
}

/* A file read in chunks through pread buffers of 1 MiB (csv_parallel.c, csv_window) equals the
 * same bytes parsed from memory in one sequential pass: quoted fields with newlines and ""
 * across the buffers' ends (the buffer ends at the last newline outside quotes, so the chunks
 * take them without falling back), a record longer than a buffer, blank lines, CRLF lines, a
 * column that turns to text late; and an error in the file is the same error. */
static void test_csv_file_windows_equal_memory(void **state)
{
    (void)state;
    size_t cap = 8u << 20, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    len += (size_t)snprintf(buf, cap, "id,txt,x,late\n");
    for (int i = 0; len < (4u << 20); i++) {
        char late[16] = "";
        if (i % 5 != 0)
            snprintf(late, sizeof late, i > 60000 ? "t%d" : "%d", i % 9);
        if (i % 97 == 0)
            len += (size_t)snprintf(buf + len, cap - len, "%d,\"line one\nline \"\"two\"\"\n\",%d.%d,%s\n",
                                    i, i % 1000, i % 7, late);
        else if (i % 101 == 0)
            len += (size_t)snprintf(buf + len, cap - len, "%d, spaced ,%d,%s\r\n\n", i, -i, late);
        else
            len += (size_t)snprintf(buf + len, cap - len, "%d,w%d,%d.%02d,%s\n", i, i % 13,
                                    i % 500, i % 100, late);
        if (i == 20000) {   /* a record of 1.5 MiB: a buffer grows for it */
            len += (size_t)snprintf(buf + len, cap - len, "%d,\"", i);
            memset(buf + len, 'z', 3u << 19);
            len += 3u << 19;
            len += (size_t)snprintf(buf + len, cap - len, "\",1,2\n");
        }
    }
    char path[] = "/tmp/audit-test-windows-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)   /* an error near the end: a record with a field too many */
            len += (size_t)snprintf(buf + len, cap - len, "1,a,2,3,4\n5,b,6,7\n");
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
        aud_csv_opts seq;
        aud_csv_opts_default(&seq);
        seq.threads = 1;
        seq.max_field_bytes = 4u << 20;
        aud_table *want = NULL;
        aud_error ew;
        aud_error_clear(&ew);
        int rw = aud_table_parse_csv(&want, buf, len, path, &seq, &ew);
        assert_int_equal(rw, pass == 0 ? AUD_OK : AUD_E_PARSE);
        for (int threads = 1; threads <= 3; threads++) {
            aud_table *got = NULL;
            aud_error eg;
            int rg = load_chunked(path, &seq, threads, &got, &eg);
            assert_int_equal(rg, rw);
            if (rw != AUD_OK) {
                assert_same_error(&eg, &ew);
                continue;
            }
            assert_true(got->n_chunks >= (size_t)threads);   /* no fallback (0) */
            assert_int_equal(got->cols[3].type, AUD_COL_CATEGORICAL);
            for (size_t r = 0; r < 50; r++) {   /* line numbers of rows survive the buffers */
                size_t row = r * (want->n_rows / 50);
                assert_int_equal(aud_table_row_line(got, row), aud_table_row_line(want, row));
            }
            assert_same_table(got, want);
            aud_table_free(got);
        }
        aud_table_free(want);
    }
    close(fd);
    unlink(path);
    free(buf);
}

/* Small files read through buffers sized to their chunks (no larger than the chunk): random
 * files of 0 to about 3,000 bytes - quoted fields with newlines and doubled quotes, long
 * fields, blank lines, a missing final newline - loaded from disk on 1 to 3 threads in chunks as
 * small as they come, must equal the same bytes parsed in memory (status, error, table). */
static void test_csv_small_files_through_small_buffers(void **state)
{
    (void)state;
    char path[] = "/tmp/audit-test-small-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static char buf[4096];
    uint64_t r = 0x243F6A8885A308D3ULL;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "a,b,c\n");
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        int rows = (int)(r % 60);
        for (int i = 0; i < rows && len < sizeof buf - 200; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            switch (r % 5) {
            case 0:
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,\"x\ny\"\"z\",%u\n", i,
                                        (unsigned)(r >> 40) % 1000);
                break;
            case 1: {
                size_t w = (size_t)(r >> 20) % 150;
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,", i);
                memset(buf + len, 'q', w);
                len += w;
                len += (size_t)snprintf(buf + len, sizeof buf - len, ",1.5\n");
                break;
            }
            case 2:
                len += (size_t)snprintf(buf + len, sizeof buf - len, "\n%d,t%d,NA\n", i, i % 3);
                break;
            default:
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%d,t%d,%d.25\n", i, i % 4,
                                        i * 7);
            }
        }
        if (r & 1 && len > 6)
            len--;   /* no final newline */
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
        aud_csv_opts seq;
        aud_csv_opts_default(&seq);
        seq.threads = 1;
        aud_table *want = NULL;
        aud_error ew;
        aud_error_clear(&ew);
        int rw = aud_table_parse_csv(&want, buf, len, path, &seq, &ew);
        for (int threads = 1; threads <= 3; threads++) {
            aud_table *got = NULL;
            aud_error eg;
            int rg = load_chunked(path, &seq, threads, &got, &eg);
            assert_int_equal(rg, rw);
            if (rw != AUD_OK)
                assert_same_error(&eg, &ew);
            else
                assert_same_table(got, want);
            aud_table_free(got);
        }
        aud_table_free(want);
    }
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_basic_types),
        cmocka_unit_test(test_csv_quoted_newline_and_escapes),
        cmocka_unit_test(test_csv_crlf_bom_and_no_final_newline),
        cmocka_unit_test(test_csv_missing_tokens),
        cmocka_unit_test(test_csv_custom_delimiter_and_na),
        cmocka_unit_test(test_csv_numbers_are_exact_and_locale_free),
        cmocka_unit_test(test_csv_non_numbers_make_categorical),
        cmocka_unit_test(test_csv_column_turning_categorical),
        cmocka_unit_test(test_csv_long_missing_run_then_text),
        cmocka_unit_test(test_csv_out_of_range_only_matters_for_numbers),
        cmocka_unit_test(test_csv_error_lines_are_physical),
        cmocka_unit_test(test_csv_duplicate_names_kept_apart),
        cmocka_unit_test(test_csv_nul_byte_is_an_error),
        cmocka_unit_test(test_csv_ragged_row_is_located),
        cmocka_unit_test(test_csv_unterminated_quote),
        cmocka_unit_test(test_csv_garbage_after_quote),
        cmocka_unit_test(test_csv_header_errors),
        cmocka_unit_test(test_csv_invalid_utf8_value),
        cmocka_unit_test(test_csv_huge_number_is_error),
        cmocka_unit_test(test_csv_limits),
        cmocka_unit_test(test_csv_header_only_and_blank_lines),
        cmocka_unit_test(test_csv_many_levels),
        cmocka_unit_test(test_csv_allocation_failures_are_clean),
        cmocka_unit_test(test_csv_parallel_equals_sequential),
        cmocka_unit_test(test_csv_parallel_recuts_inside_quotes),
        cmocka_unit_test(test_csv_parallel_merges_in_place),
        cmocka_unit_test(test_csv_parallel_last_chunk_bound),
        cmocka_unit_test(test_csv_parallel_alloc_failures),
        cmocka_unit_test(test_csv_concurrent_readers),
        cmocka_unit_test(test_csv_mutation_fuzz),
        cmocka_unit_test(test_csv_load_missing_file),
        cmocka_unit_test(test_csv_file_windows_equal_memory),
        cmocka_unit_test(test_csv_many_chunks_progress_grows),
        cmocka_unit_test(test_csv_chunked_errors_are_one_threads),
        cmocka_unit_test(test_csv_small_files_through_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
