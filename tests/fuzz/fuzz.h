/* fuzz.h - shared helpers of the libFuzzer harnesses (tests/fuzz/README.md). Each harness defines
 * LLVMFuzzerTestOneInput; built with -fsanitize=fuzzer it is a fuzzer, linked with replay.c it
 * replays files (the committed corpora and regression inputs, in `make check`). */
#ifndef AUD_FUZZ_H
#define AUD_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (the parsers' contract); aborts when out of memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (t == NULL)
        abort();
    if (size > 0)
        memcpy(t, data, size);
    t[size] = '\0';
    return t;
}

/* An invariant the parser promises does not hold: a bug, reported as a crash. */
#define FUZZ_ASSERT(cond)                                                                     \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

/* A failure must say what failed: a status in range and a message. */
static inline void fuzz_check_error(int rc, const aud_error *err)
{
    FUZZ_ASSERT(rc > AUD_OK && rc < AUD_STATUS_MAX);
    FUZZ_ASSERT(err->code == rc);
    FUZZ_ASSERT(err->msg[0] != '\0');
    char line[1024];
    aud_error_format(err, line, sizeof line);
    if (getenv("FUZZ_VERBOSE") != NULL)   /* replay: say why each input was refused */
        fprintf(stderr, "refused: %s\n", line);
}

#endif
