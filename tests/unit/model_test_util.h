/* model_test_util.h - helpers for the model unit tests: read a numeric CSV (header row, comma
 * separated, empty field = NaN) into a row-major matrix. Test-only; does not depend on csv.c. */
#ifndef AUD_MODEL_TEST_UTIL_H
#define AUD_MODEL_TEST_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"
#include "core/io.h"

typedef struct test_matrix {
    size_t rows, cols;
    double *v;
} test_matrix;

/* Returns 0 on success. */
static inline int test_read_csv(const char *path, test_matrix *out)
{
    char *data = NULL;
    size_t len = 0;
    aud_error err;
    memset(out, 0, sizeof *out);
    if (aud_file_read(path, &data, &len, 0, &err) != AUD_OK)
        return -1;
    const char *p = data, *end = data + len;
    const char *nl = memchr(p, '\n', len);
    if (nl == NULL) {
        aud_free(data);
        return -1;
    }
    size_t cols = 1;
    for (const char *q = p; q < nl; q++)
        cols += *q == ',';
    size_t rows = 0;
    for (const char *q = nl + 1; q < end; q++)
        rows += *q == '\n';
    out->v = aud_malloc((rows * cols + 1) * sizeof *out->v);
    out->cols = cols;
    p = nl + 1;
    size_t r = 0;
    while (p < end && r < rows) {
        for (size_t c = 0; c < cols; c++) {
            if (*p == ',' || *p == '\n') {
                out->v[r * cols + c] = NAN;
            } else {
                char *q = NULL;
                out->v[r * cols + c] = strtod(p, &q);
                p = q;
            }
            p++; /* the ',' or '\n' */
        }
        r++;
    }
    out->rows = r;
    aud_free(data);
    return r == rows ? 0 : -1;
}

static inline void test_matrix_free(test_matrix *m)
{
    aud_free(m->v);
    m->v = NULL;
}

#endif
