/* cmd_fairness.c - `audit fairness` (SPEC section 1). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int aud_cmd_fairness(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: audit fairness [options]\n\nnot implemented yet\n");
            return AUD_EXIT_OK;
        }
    }
    fprintf(stderr, "audit: %s: not implemented yet\n", argv[0]);
    return AUD_EXIT_INTERNAL;
}
