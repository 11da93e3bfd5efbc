/* bench_shap_cells.c - microbenchmark of aud_shap_cells (explainers/shap_cells.c), the per-cell
 * TreeSHAP sums behind the fairness drivers. Not built by make (it is a C program, not one of
 * bench/bench_*.py); build and run it against a libaudit.a:
 *
 *   cc -O2 -I. bench/bench_shap_cells.c build/libaudit.a $(pkg-config --libs gsl libcjson) -lm \
 *      -lpthread -o build/bench_shap_cells
 *   build/bench_shap_cells MODEL X.bin CELL.bin ROWS N_CELLS THREADS [SUMS.bin]
 *
 * X.bin: ROWS x n_features doubles (model feature order, NaN missing), CELL.bin: ROWS int32 cell
 * numbers (-1 skipped). The rows go in blocks of 2^18 as audit/fair_why.c adds them. Prints the
 * CPU time (user + sys of the process) of aud_shap_cells_new and of the adds, and writes the
 * sums (n_cells x (n_features + 1) doubles) to SUMS.bin when given (to compare two builds). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "explainers/shap.h"
#include "models/model_api.h"

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void *read_all(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "rb");
    void *p = malloc(bytes ? bytes : 1);
    if (f == NULL || p == NULL || fread(p, 1, bytes, f) != bytes) {
        fprintf(stderr, "bench_shap_cells: cannot read %zu bytes of %s\n", bytes, path);
        exit(2);
    }
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: bench_shap_cells MODEL X.bin CELL.bin ROWS N_CELLS THREADS "
                        "[SUMS.bin]\n");
        return 2;
    }
    aud_model *m = NULL;
    aud_error err;
    if (aud_model_load(&m, argv[1], NULL, &err) != AUD_OK) {
        fprintf(stderr, "bench_shap_cells: %s\n", err.msg);
        return 2;
    }
    size_t n = strtoul(argv[4], NULL, 10), nc = strtoul(argv[5], NULL, 10);
    size_t M = aud_model_features(m);
    int threads = atoi(argv[6]);
    double *X = read_all(argv[2], n * M * sizeof *X);
    int32_t *cell = read_all(argv[3], n * sizeof *cell);
    aud_shap_cells *c = NULL;
    double t0 = cpu_now();
    if (aud_shap_cells_new(&c, m, nc, 1, threads, &err) != AUD_OK) {
        fprintf(stderr, "bench_shap_cells: %s\n", err.msg);
        return 2;
    }
    double t1 = cpu_now();
    size_t blk = (size_t)1 << 18;
    for (size_t b0 = 0; b0 < n; b0 += blk) {
        size_t k = n - b0 < blk ? n - b0 : blk;
        if (aud_shap_cells_add(c, X + b0 * M, k, cell + b0, NULL, &err) != AUD_OK) {
            fprintf(stderr, "bench_shap_cells: %s\n", err.msg);
            return 2;
        }
    }
    double t2 = cpu_now();
    const double *s = aud_shap_cells_sums(c);
    double check = 0.0;
    for (size_t q = 0; q < nc * (M + 1); q++)
        check += s[q];
    printf("rows %zu cells %zu threads %d: new %.3f s CPU, add %.3f s CPU, sum of sums %.17g\n",
           n, nc, threads, t1 - t0, t2 - t1, check);
    if (argc > 7) {
        FILE *f = fopen(argv[7], "wb");
        if (f == NULL || fwrite(s, sizeof *s, nc * (M + 1), f) != nc * (M + 1)) {
            fprintf(stderr, "bench_shap_cells: cannot write %s\n", argv[7]);
            return 2;
        }
        fclose(f);
    }
    aud_shap_cells_free(c);
    aud_model_free(m);
    free(X);
    free(cell);
    return 0;
}
