/* The CSV reader's fast numeric path (aud_csv_fast_number) against the general one: for random
 * fields of every shape - numbers near each limit of the fast path (19 digits, 2^53, 22
 * decimals), signs, leading zeros, ".5", "5.", exponents, missing-value tokens, blanks, quotes -
 * followed by each terminator, the fast path either declines and consumes nothing, or gives the
 * bit-identical value aud_csv_parse_number gives and leaves the lexer exactly where
 * aud_csv_lex_field leaves it (position, line, more/last). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "core/csv_int.h"

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
    }
    assert_true(fast_taken > 100000);   /* the path was exercised */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_general),
        cmocka_unit_test(test_fast_declines_numeric_na_and_odd_delimiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
