/* gen_data.c - the thread-scaling workloads' large CSV files, generated where they are run (a lent
 * device machine has no Python): bench/device/run.sh. Deterministic (SplitMix64, Steele, Lea and
 * Flood 2014); shapes as bench_csv.py, bench_drift.py and bench_fairness.py, not their bytes.
 *   DIR/prof.csv       1,000,000 x 32: 28 numbers (6 decimals, 1% missing in 7), 4 categories
 *   DIR/ref.csv/cur.csv 1,000,000 x 30 numbers each; cur shifted in 8 columns
 *   DIR/fair.csv       1,000,000 rows: sex, race (one group under 2%), label, score (4 decimals)
 * The four files are written by four processes at once, each from a seed of its own.
 * Usage: gen_data DIR [ROWS] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t state = 20261206u;

static uint64_t next64(void)
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unif(void)
{
    return (double)(next64() >> 11) * 0x1.0p-53;
}

static double normal(void)   /* Irwin-Hall: near enough for benchmark data */
{
    return unif() + unif() + unif() + unif() - 2.0;
}

static FILE *open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

static void numbers(FILE *f, int cols, long rows, int shifted)
{
    for (int c = 0; c < cols; c++)
        fprintf(f, "%sf%02d", c ? "," : "", c);
    fputc('\n', f);
    for (long r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            double v = normal() * (1.0 + c % 5) + c;
            if (shifted && c % 4 == 0)
                v += 0.6 * (1.0 + c % 5);
            if (c % 4 == 1 && unif() < 0.01)
                fputc(',', f);   /* c % 4 == 1: never the first column */
            else
                fprintf(f, "%s%.6f", c ? "," : "", v);
        }
        fputc('\n', f);
    }
}

static void write_file(const char *dir, int which, long rows)
{
    state = 20261206u + 1000003u * (uint64_t)which;
    FILE *f;
    if (which == 0) {
        f = open_out(dir, "prof.csv");
        for (int c = 0; c < 32; c++)
            fprintf(f, "%sc%02d", c ? "," : "", c);
        fputc('\n', f);
        for (long r = 0; r < rows; r++) {
            for (int c = 0; c < 32; c++) {
                if (c >= 28)
                    fprintf(f, ",level_%d", (int)(unif() * (5 + 15 * (c - 28))));
                else if (c % 4 == 3 && unif() < 0.01)
                    fputc(',', f);
                else
                    fprintf(f, "%s%.6f", c ? "," : "", normal() * (1 + c) + 10.0 * c);
            }
            fputc('\n', f);
        }
    } else if (which == 1 || which == 2) {
        f = open_out(dir, which == 1 ? "ref.csv" : "cur.csv");
        numbers(f, 30, rows, which == 2);
    } else {
        f = open_out(dir, "fair.csv");
        fputs("sex,race,label,score\n", f);
        for (long r = 0; r < rows; r++) {
            int female = unif() < 0.48;
            double u = unif();
            char race = u < 0.6 ? 'A' : u < 0.835 ? 'B' : u < 0.985 ? 'C' : 'D';
            double z = normal() * 1.5 - 0.2 * female - 0.6 * (race == 'B');
            double s = 1.0 / (1.0 + exp(-z));
            fprintf(f, "%s,%c,%d,%.4f\n", female ? "female" : "male", race, unif() < s, s);
        }
    }
    if (fclose(f) != 0) {
        perror(dir);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_data DIR [ROWS]\n");
        return 2;
    }
    long rows = argc > 2 ? atol(argv[2]) : 1000000;
    for (int which = 0; which < 4; which++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            write_file(argv[1], which, rows);
            _exit(0);
        }
    }
    int failed = 0, st;
    while (wait(&st) > 0)
        failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    return failed;
}
