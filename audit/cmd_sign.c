/* cmd_sign.c - `audit sign DIR --key PRIV.pem` and `audit verify DIR --key PUB.pem` (SPEC
 * section 8): an Ed25519-signed manifest of an audit's outputs and input hashes. */
#include "audit/audit.h"
#include "audit/cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char sign_help[] =
    "usage: audit sign DIR --key PRIV.pem [--file NAME]... [--created TIME]\n"
    "\n"
    "Writes DIR/" AUD_MANIFEST_NAME " (SHA-256 and size of results.json, report.pdf and\n"
    "report.xlsx when present, the input hashes of results.json's provenance, the key's\n"
    "fingerprint) and DIR/" AUD_SIGNATURE_NAME " (the 64-byte Ed25519 signature of the\n"
    "manifest). The key is never copied anywhere; `openssl genpkey -algorithm ed25519 -out\n"
    "PRIV.pem` makes one and `openssl pkey -in PRIV.pem -pubout -out PUB.pem` its public half.\n"
    "\n"
    "options:\n"
    "  --key PRIV.pem   Ed25519 private key (PEM, unencrypted)\n"
    "  --file NAME      sign these files of DIR instead (repeatable; results.json is still read\n"
    "                   for the input hashes)\n"
    "  --created TIME   the manifest's time, UTC YYYY-MM-DDTHH:MM:SSZ (default: now)\n"
    "  --quiet          errors only\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit codes: 0 signed; 2 usage or input error; 3 internal error\n";

static const char verify_help[] =
    "usage: audit verify DIR --key PUB.pem\n"
    "\n"
    "Checks the signature of DIR/" AUD_MANIFEST_NAME " with the public key and the SHA-256 of\n"
    "every file it lists. Prints one line per file (ok, changed, missing) and the signature's\n"
    "state on stdout.\n"
    "\n"
    "options:\n"
    "  --key PUB.pem    Ed25519 public key (PEM; a private key file also works)\n"
    "  --quiet          no per-file lines, errors and changed files only\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit codes: 0 the signature and every file match; 1 the signature does not verify with\n"
    "            this key or a file changed or is missing (each is named); 2 usage or input\n"
    "            error (no manifest, unreadable key); 3 internal error\n";

typedef struct sign_args {
    const char *dir, *key, *created;
    const char *files[64];
    size_t n_files;
} sign_args;

static int parse(int argc, char **argv, int is_sign, sign_args *a)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"file", required_argument, NULL, 'f'},
                                         {"created", required_argument, NULL, 'c'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (!is_sign && (c == 'f' || c == 'c'))
            return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        switch (c) {
        case 'k': a->key = optarg; break;
        case 'f':
            if (a->n_files == sizeof a->files / sizeof a->files[0])
                return aud_cli_usage(argv[0], "at most 64 --file options");
            a->files[a->n_files++] = optarg;
            break;
        case 'c':
            if (aud_cli_parse_created(argv[0], optarg, &a->created) != 0)
                return AUD_EXIT_INPUT;
            break;
        case 'q': aud_cli_quiet = 1; break;
        case 'h': fputs(is_sign ? sign_help : verify_help, stdout); return -1;
        case ':': return aud_cli_usage(argv[0], "option '%s' needs a value", argv[optind - 1]);
        default: return aud_cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return aud_cli_usage(argv[0], "the output folder is required");
    if (optind + 1 < argc)
        return aud_cli_usage(argv[0], "unexpected argument '%s'", argv[optind + 1]);
    if (a->key == NULL)
        return aud_cli_usage(argv[0], "--key is required");
    a->dir = argv[optind];
    return AUD_EXIT_OK;
}

int aud_cmd_sign(int argc, char **argv)
{
    sign_args a;
    int rc = parse(argc, argv, 1, &a);
    if (rc != AUD_EXIT_OK)
        return rc < 0 ? AUD_EXIT_OK : rc;
    aud_error err;
    aud_error_clear(&err);
    char fp[80];
    if (aud_sign_dir(a.dir, a.key, a.files, a.n_files, a.created, fp, &err) != AUD_OK)
        return aud_cli_fail(&err);
    aud_cli_info("signed %s/%s with key %s", a.dir, AUD_MANIFEST_NAME, fp);
    return AUD_EXIT_OK;
}

int aud_cmd_verify(int argc, char **argv)
{
    sign_args a;
    int rc = parse(argc, argv, 0, &a);
    if (rc != AUD_EXIT_OK)
        return rc < 0 ? AUD_EXIT_OK : rc;
    aud_error err;
    aud_error_clear(&err);
    aud_verify_report rep;
    if (aud_verify_dir(a.dir, a.key, &rep, &err) != AUD_OK)
        return aud_cli_fail(&err);
    if (!aud_cli_quiet || !rep.signature_ok)
        printf("signature: %s\n", rep.signature_ok ? "ok" : "does not verify with this key");
    for (size_t i = 0; i < rep.n_bad; i++)
        printf("%s\n", rep.bad[i]);
    if (!aud_cli_quiet)
        printf("%zu of %zu files unchanged\n", rep.n_files - rep.n_bad, rep.n_files);
    int ok = rep.signature_ok && rep.n_bad == 0;
    aud_verify_report_free(&rep);
    if (fflush(stdout) != 0)
        return AUD_EXIT_INTERNAL;
    return ok ? AUD_EXIT_OK : AUD_EXIT_CHECK;
}
