/* The CSV reader's fast numeric path (aud_csv_fast_number) against the general one: for random
 * fields of every shape - numbers near each limit of the fast path (19 digits, 2^53, 22
 * decimals), signs, leading zeros, ".5", "5.", exponents, missing-value tokens, blanks, quotes -
 * followed by each terminator, the fast path either declines and consumes nothing, or gives the
 * bit-identical value aud_csv_parse_number gives and leaves the lexer exactly where
 * aud_csv_lex_field leaves it (position, line, more/last). */
#define _GNU_SOURCE   /* strtod_l */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv_int.h"
#include "core/io.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)   /* xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dU;
}

static size_t pick(size_t n)
{
    return (size_t)(next() % n);
}

static size_t random_field(char *b)
{
    static const char *odd[] = {"", "NA", "nan", "-inf", "inf", "1e5", "2E-3", " 7", "7 ",
                                "\"3\"", "+4", "-", ".", "1.2.3", "0x10", "12a", "?", "--1"};
    size_t n = 0;
    if (pick(8) == 0) {
        const char *s = odd[pick(sizeof odd / sizeof *odd)];
        n = strlen(s);
        memcpy(b, s, n);
        return n;
    }
    if (pick(3) == 0)
        b[n++] = '-';
    size_t ints = pick(4) ? pick(12) : pick(22), decs = pick(3) ? (pick(4) ? pick(12) : pick(26)) : 0;
    for (size_t i = 0; i < ints; i++)
        b[n++] = (char)('0' + (pick(4) == 0 ? 0 : pick(10)));
    if (decs > 0 || pick(6) == 0) {
        b[n++] = '.';
        for (size_t i = 0; i < decs; i++)
            b[n++] = (char)('0' + pick(10));
    }
    if (pick(5) == 0) {   /* near 2^53 = 9007199254740992 */
        static const char *edge[] = {"9007199254740992", "9007199254740993", "900719925474099.3",
                                     "9999999999999999999", "10000000000000000000",
                                     "0.0000000000000000000001", "0.00000000000000000000001"};
        const char *s = edge[pick(sizeof edge / sizeof *edge)];
        n = strlen(s);
        memcpy(b, s, n);
    }
    return n;
}

static void test_fast_equals_general(void **state)
{
    (void)state;
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    assert_non_null(cloc);
    static const char *const na_tokens[] = {"", "NA", "nan", "?", NULL};
    na_set na;
    assert_int_equal(aud_csv_na_init(&na, na_tokens), 0);
    static const char *const ends[] = {",", "\n", "\r\n", "", ",x", "\r", ";", " "};
    aud_error err;
    size_t fast_taken = 0;
    for (int iter = 0; iter < 400000; iter++) {
        char buf[128];
        size_t n = random_field(buf);
        const char *e = ends[pick(sizeof ends / sizeof *ends)];
        memcpy(buf + n, e, strlen(e));
        size_t len = n + strlen(e);
        csv_lexer a = {.p = buf, .end = buf + len, .name = "t", .delim = ',', .max_field = 1 << 20,
                       .line = 5, .err = &err, .base = buf};
        csv_lexer b = a;
        assert_true(aud_csv_fast_ok(&a));
        double fv = 0.0;
        int fr = aud_csv_fast_number(&a, &na, &fv);
        if (fr == -2) {   /* declined: nothing consumed */
            assert_ptr_equal(a.p, buf);
            assert_int_equal(a.line, 5);
            continue;
        }
        fast_taken++;
        csv_field f;
        int lr = aud_csv_lex_field(&b, &f, 1);
        assert_int_equal(fr, lr);
        assert_ptr_equal(a.p, b.p);
        assert_int_equal(a.line, b.line);
        assert_false(is_na(&na, f.s, f.len));
        double gv = 0.0;
        assert_int_equal(aud_csv_parse_number(f.s, f.len, cloc, &gv), NUM_OK);
        if (memcmp(&fv, &gv, sizeof fv) != 0)
            fail_msg("field \"%.*s\": fast %.17g, general %.17g", (int)n, buf, fv, gv);
        char text[128];   /* and both are strtod's double */
        memcpy(text, f.s, f.len);
        text[f.len] = '\0';
        double sv = strtod_l(text, NULL, cloc);
        if (memcmp(&fv, &sv, sizeof fv) != 0)
            fail_msg("field \"%s\": fast %.17g, strtod %.17g", text, fv, sv);
    }
    assert_true(fast_taken > 100000);   /* the path was exercised */
    freelocale(cloc);
}

/* aud_csv_parse_number (Clinger, Eisel-Lemire, strtod fallback) gives strtod_l's double for
 * decimal text of every kind: shortest and 15-20 significant digit forms of random doubles of
 * every exponent (normal and subnormal), exact midpoints between two doubles (ties to even),
 * exponent forms, exponents at the ends of the power table and beyond. */
static void check_like_strtod(const char *s, locale_t cloc)
{
    double want = strtod_l(s, NULL, cloc), got = 0.0;
    int r = aud_csv_parse_number(s, strlen(s), cloc, &got);
    if (isinf(want)) {
        assert_int_equal(r, NUM_RANGE);
        return;
    }
    if (r != NUM_OK || memcmp(&got, &want, sizeof got) != 0)
        fail_msg("\"%s\": parse %d %.17g (%a), strtod %.17g (%a)", s, r, got, got, want, want);
}

static void test_parse_number_equals_strtod(void **state)
{
    (void)state;
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    assert_non_null(cloc);
    char s[160];
    for (int iter = 0; iter < 150000; iter++) {
        uint64_t bits = next();
        if (pick(8) == 0)
            bits &= UINT64_C(0x800FFFFFFFFFFFFF);   /* subnormal */
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        static const char *const fmt[] = {"%.15g", "%.16g", "%.17g", "%.18g", "%.20g", "%.6e",
                                          "%.17e"};
        snprintf(s, sizeof s, fmt[pick(sizeof fmt / sizeof *fmt)], d);
        check_like_strtod(s, cloc);
    }
    for (int iter = 0; iter < 100000; iter++) {   /* midpoints: ties to even */
        int top = 50 + (int)pick(14);                /* the value has top + 1 bits */
        uint64_t u = (next() >> (63 - top)) | (UINT64_C(1) << top);
        if (top >= 53) {                             /* integer midpoint, q = 0 or more */
            uint64_t ulp = UINT64_C(1) << (top - 52);
            uint64_t mid = (u & ~(ulp - 1)) + ulp / 2;
            snprintf(s, sizeof s, pick(2) ? "%llu" : "%llu.000", (unsigned long long)mid);
        } else {                                     /* n + k / 2^j: q = -1 .. -3 */
            int j = 53 - top;                        /* ulp 2^-(j-1), midpoint offset 2^-j */
            static const char *const frac[4][8] = {
                {"5"}, {"25", "75"}, {"125", "375", "625", "875"}};
            int fr = (int)pick((size_t)1 << (j - 1));
            snprintf(s, sizeof s, "%llu.%s", (unsigned long long)(u >> 1), frac[j - 1][fr]);
        }
        check_like_strtod(s, cloc);
    }
    for (int iter = 0; iter < 200000; iter++) {   /* w e q over the whole power table */
        uint64_t w = next() >> pick(64);
        long q = (long)pick(700) - 360;
        snprintf(s, sizeof s, pick(2) ? "%llue%ld" : "-%llue%ld", (unsigned long long)w, q);
        check_like_strtod(s, cloc);
        double v;
        if (w != 0 && aud_csv_eisel_lemire(w, q, &v) == 0) {   /* decided: strtod's double */
            snprintf(s, sizeof s, "%llue%ld", (unsigned long long)w, q);
            double want = strtod_l(s, NULL, cloc);
            if (memcmp(&v, &want, sizeof v) != 0)
                fail_msg("Eisel-Lemire %s: %a, strtod %a", s, v, want);
        }
    }
    static const char *const edge[] = {
        "9007199254740993", "9007199254740995", "18446744073709551615", "9999999999999999999",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
        "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309", "1e-342",
        "1e-343", "1e-400", "123456789012345678e-360", "0.1", "0.30000000000000004",
        "1e23", "8.41e21", "5e-324", "1.00000000000000011102230246251565404236316680908203125",
        "7.038531e-26", "9223372036854775807", "9223372036854775808", "4503599627370496.5",
        "4503599627370497.5", "2251799813685248.25", "1125899906842624.125"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++)
        check_like_strtod(edge[i], cloc);
    freelocale(cloc);
}

/* aud_json_number (the XGBoost model reader's numbers): RFC 8259's grammar exactly, and
 * strtod's double for every number it takes. */
static void test_json_number(void **state)
{
    (void)state;
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    assert_non_null(cloc);
    static const char *const good[] = {
        "0", "-0", "1", "-1", "0.5", "5E-1", "-15e-1", "0.225e+1", "1e-400", "10", "-120.5e0",
        "123456789.123456789", "2.2250738585072011e-308", "9007199254740993", "1E+308"};
    static const char *const bad[] = {
        "", "-", "+1", "01", "-01", ".5", "1.", "1e", "1e+", "0x10", "inf", "-Infinity", "NaN",
        " 1", "1 ", "1,", "--1", "1e999", "-1e400", "1.5.2", "1e5.5", "0e", "00"};
    char s[64];
    double d;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        if (aud_json_number(good[i], strlen(good[i]), &d) != 0)
            fail_msg("refused %s", good[i]);
        double want = strtod_l(good[i], NULL, cloc);
        if (memcmp(&d, &want, sizeof d) != 0)
            fail_msg("%s: %a, strtod %a", good[i], d, want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (aud_json_number(bad[i], strlen(bad[i]), &d) == 0)
            fail_msg("took %s", bad[i]);
    for (int iter = 0; iter < 50000; iter++) {   /* what printf writes (JSON but for inf) */
        uint64_t bits = next();
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d))
            continue;
        static const char *const fmt[] = {"%.9g", "%.17g", "%.6e", "%.17E"};
        snprintf(s, sizeof s, fmt[pick(sizeof fmt / sizeof *fmt)], d);
        double got, want = strtod_l(s, NULL, cloc);
        if (aud_json_number(s, strlen(s), &got) != 0 || memcmp(&got, &want, sizeof got) != 0)
            fail_msg("%s: %a, strtod %a", s, got, want);
    }
    freelocale(cloc);
}

static void test_fast_declines_numeric_na_and_odd_delimiters(void **state)
{
    (void)state;
    static const char *const na_tokens[] = {"-999", NULL};
    na_set na;
    assert_int_equal(aud_csv_na_init(&na, na_tokens), 0);
    aud_error err;
    char text[] = "-999,1";
    csv_lexer lx = {.p = text, .end = text + 6, .name = "t", .delim = ',', .max_field = 1 << 20,
                    .line = 1, .err = &err, .base = text};
    double v;
    assert_int_equal(aud_csv_fast_number(&lx, &na, &v), -2);   /* may be the token: general */
    lx.delim = '.';
    assert_false(aud_csv_fast_ok(&lx));
    lx.delim = ',';
    lx.max_field = 10;
    assert_false(aud_csv_fast_ok(&lx));
}

/* Dictionaries: levels that share their first 8 bytes, short ones, the empty one, 20000 of
 * them (the table grows), codes in first-appearance order, every later lookup finds its code. */
static void test_dict_codes(void **state)
{
    (void)state;
    csv_dict d = {NULL, 0};
    aud_column c;
    memset(&c, 0, sizeof c);
    enum { N = 20000 };
    char text[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            int len = i % 3 == 0 ? snprintf(text, sizeof text, "same_pre%d", i)
                    : i % 3 == 1 ? snprintf(text, sizeof text, "%d", i)
                                 : snprintf(text, sizeof text, "%.*s", i % 8, "abcdefgh");
            int added = -1;
            int32_t code = aud_csv_dict_code(&d, &c, text, (size_t)len, &added);
            assert_true(code >= 0);
            int32_t again = aud_csv_dict_code_w(&d, &c, text, (size_t)len,
                                                aud_csv_prefix_word(text, (size_t)len), &added);
            assert_int_equal(again, code);
            assert_int_equal(added, 0);
            assert_string_equal(c.levels[code], text);
        }
    }
    /* 6667 "same_pre" levels, 6667 numbers, the 8 prefixes of "abcdefgh" ("" included) */
    assert_int_equal(c.n_levels, 6667 + 6667 + 8);
    assert_string_equal(c.levels[0], "same_pre0");
    assert_string_equal(c.levels[1], "1");
    assert_string_equal(c.levels[2], "ab");
    for (size_t l = 0; l < c.n_levels; l++)
        aud_free(c.levels[l]);
    aud_free(c.levels);
    aud_csv_dict_free(&d);
}

/* Whole records of random numeric fields (as above: every shape, missing-value tokens, blanks,
 * quoted numbers, CRLF lines) read by the table reader - which indexes each record's separators
 * and parses its fields from their known bounds (csv.c, index_record) where it can - give, field
 * by field, strtod's double of the field's text (NaN when missing), sequentially and in chunks. */
static void test_indexed_records_equal_strtod(void **state)
{
    (void)state;
    enum { ROWS = 3000, COLS = 4 };
    locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    assert_non_null(cloc);
    static const char *const na_tokens[] = {"", "NA", "NaN", "nan", "null", "?", NULL};
    na_set na;
    assert_int_equal(aud_csv_na_init(&na, na_tokens), 0);
    size_t cap = (size_t)ROWS * COLS * 48 + 64, len = 0;
    char *csv = malloc(cap);
    double *want = malloc((size_t)ROWS * COLS * sizeof *want);
    assert_non_null(csv);
    assert_non_null(want);
    len += (size_t)snprintf(csv, cap, "a,b,c,d\n");
    for (size_t i = 0; i < ROWS; i++) {
        for (size_t k = 0; k < COLS; k++) {
            char f[128], text[128];
            size_t n, tn;
            double v;
            for (;;) {   /* a field that keeps the column numeric */
                n = random_field(f);
                const char *s = f;
                tn = n;
                if (tn >= 2 && s[0] == '"') {   /* the lexer's text of a quoted field */
                    s++;
                    tn -= 2;
                }
                while (tn > 0 && (*s == ' ' || *s == '\t')) {
                    s++;
                    tn--;
                }
                while (tn > 0 && (s[tn - 1] == ' ' || s[tn - 1] == '\t'))
                    tn--;
                memcpy(text, s, tn);
                text[tn] = '\0';
                if (is_na(&na, text, tn)) {
                    v = NAN;
                    break;
                }
                if (aud_csv_parse_number(text, tn, cloc, &v) == NUM_OK) {
                    v = strtod_l(text, NULL, cloc);
                    break;
                }
            }
            want[i * COLS + k] = v;
            memcpy(csv + len, f, n);
            len += n;
            if (k + 1 < COLS)
                csv[len++] = ',';
        }
        if (pick(10) == 0)
            csv[len++] = '\r';
        csv[len++] = '\n';
    }
    for (int threads = 1; threads <= 3; threads += 2) {
        aud_error err;
        aud_error_clear(&err);
        aud_csv_opts o;
        aud_csv_opts_default(&o);
        o.chunk_bytes = 1;   /* chunks as small as they come */
        o.threads = threads;
        aud_table *t = NULL;
        assert_int_equal(aud_table_parse_csv(&t, csv, len, "f.csv", &o, &err), AUD_OK);
        assert_int_equal(t->n_rows, ROWS);
        for (size_t k = 0; k < COLS; k++) {
            assert_int_equal(t->cols[k].type, AUD_COL_NUMERIC);
            for (size_t i = 0; i < ROWS; i++) {
                double g = t->cols[k].num[i], w = want[i * COLS + k];
                if (!(isnan(g) && isnan(w)) && memcmp(&g, &w, sizeof g) != 0)
                    fail_msg("row %zu column %zu: read %.17g, strtod %.17g", i + 1, k + 1, g, w);
            }
        }
        aud_table_free(t);
    }
    free(csv);
    free(want);
    freelocale(cloc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_general),
        cmocka_unit_test(test_indexed_records_equal_strtod),
        cmocka_unit_test(test_parse_number_equals_strtod),
        cmocka_unit_test(test_json_number),
        cmocka_unit_test(test_dict_codes),
        cmocka_unit_test(test_fast_declines_numeric_na_and_odd_delimiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
