/* csvopt.c - parsing of the shared CSV command-line options. */
#include "audit/csvopt_int.h"
#include "audit/cli_int.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

void aud_csv_cli_init(aud_csv_cli *c)
{
    memset(c, 0, sizeof *c);
    aud_csv_opts_default(&c->opts);
}

int aud_csv_cli_load(const aud_csv_cli *c, aud_table **out, const char *path, aud_error *err)
{
    char what[300];
    snprintf(what, sizeof what, "reading %.280s", path);
    aud_cli_progress prog;
    aud_cli_progress_start(&prog, what);
    aud_csv_opts o = c->opts;
    o.progress = aud_cli_progress_report;
    o.progress_ctx = &prog;
    int rc = aud_table_load_csv(out, path, &o, err);
    if (rc == AUD_OK)
        aud_cli_progress_report(&prog, 1.0);
    aud_cli_progress_end(&prog);
    return rc;
}

int aud_csv_cli_split(const char *arg, char **buf, const char ***list)
{
    size_t n = 1;
    for (const char *p = arg; *p; p++)
        n += *p == ',';
    aud_free(*buf);
    aud_free(*list);
    *buf = aud_strdup(arg);
    *list = aud_calloc(n + 1, sizeof **list);
    if (*buf == NULL || *list == NULL)
        return -1;
    size_t k = 0;
    char *s = *buf;
    for (;;) {
        char *comma = strchr(s, ',');
        (*list)[k++] = s;
        if (comma == NULL)
            break;
        *comma = '\0';
        s = comma + 1;
    }
    (*list)[k] = NULL;
    return 0;
}

void aud_csv_cli_free(aud_csv_cli *c)
{
    aud_free(c->na_buf);
    aud_free(c->na_list);
    aud_free(c->names_buf);
    aud_free(c->names);
    memset(c, 0, sizeof *c);
}

int aud_csv_cli_option(aud_csv_cli *c, const char *cmd, int ch, const char *arg)
{
    long v = 0;
    switch (ch) {
    case 0x100:
        if (strcmp(arg, "tab") == 0 || strcmp(arg, "\\t") == 0)
            c->opts.delimiter = '\t';
        else if (strlen(arg) == 1 && arg[0] != '"' && arg[0] != '\n' && arg[0] != '\r')
            c->opts.delimiter = arg[0];
        else
            return aud_cli_usage(cmd, "--delimiter expects one character or 'tab', got \"%s\"",
                                 arg);
        return 0;
    case 0x101:
        if (aud_csv_cli_split(arg, &c->na_buf, &c->na_list) != 0)
            return aud_cli_usage(cmd, "out of memory");
        c->opts.na_tokens = c->na_list;
        return 0;
    case 0x102:
        if (aud_cli_parse_long(cmd, "--max-field-bytes", arg, 1, 1L << 30, &v) != 0)
            return AUD_EXIT_INPUT;
        c->opts.max_field_bytes = (size_t)v;
        return 0;
    case 0x103:
        return aud_cli_parse_threads(cmd, arg, &c->opts.threads) != 0 ? AUD_EXIT_INPUT : 0;
    case 0x104:
        c->opts.header = 0;
        return 0;
    case 0x105:
        if (aud_csv_cli_split(arg, &c->names_buf, &c->names) != 0)
            return aud_cli_usage(cmd, "out of memory");
        for (size_t k = 0; c->names[k] != NULL; k++)
            if (c->names[k][0] == '\0')
                return aud_cli_usage(cmd, "--names has an empty name (name %zu)", k + 1);
        c->opts.names = c->names;
        return 0;
    case 0x106:
        if (aud_cli_parse_long(cmd, "--skip-rows", arg, 0, 1L << 40, &v) != 0)
            return AUD_EXIT_INPUT;
        c->opts.skip_rows = (size_t)v;
        return 0;
    case 0x107:
        if (strlen(arg) != 1 || arg[0] == '"' || arg[0] == '\n' || arg[0] == '\r')
            return aud_cli_usage(cmd, "--comment expects one character other than a quote, "
                                 "got \"%s\"", arg);
        c->opts.comment = arg[0];
        return 0;
    case 0x108:
        c->opts.keep_spaces = 1;
        return 0;
    case 0x109:
        aud_cli_verbose_on();
        return 0;
    default:
        return -1;
    }
}

/* ---- a model file loaded beside the data ----------------------------------------------------- */

typedef struct model_job {
    const char *path, *format, *categories;
    aud_model *model;
    aud_error err;
    int rc;
    int threads;
} model_job;

static void *model_job_main(void *arg)
{
    model_job *j = arg;
    j->rc = aud_model_load_threads(&j->model, j->path, j->format, j->threads, &j->err);
    if (j->rc == AUD_OK && j->categories != NULL)
        j->rc = aud_model_set_categories(j->model, j->categories, &j->err);
    return NULL;
}

int aud_csv_cli_load_with_model(const aud_csv_cli *c, aud_table **out, const char *path,
                                const char *model, const char *format, const char *categories,
                                int threads, int data_first, aud_model **m, aud_error *err)
{
    if (model == NULL)
        return aud_csv_cli_load(c, out, path, err);
    model_job j = {model, format, categories, NULL, {0}, AUD_OK, threads};
    aud_error_clear(&j.err);
    pthread_t th;
    int threaded = threads != 1 && aud_thread_start(&th, model_job_main, &j) == 0;
    if (!threaded)
        model_job_main(&j);
    aud_error derr;
    aud_error_clear(&derr);
    int drc = aud_csv_cli_load(c, out, path, &derr);
    if (threaded)
        pthread_join(th, NULL);
    *m = j.model;
    if (drc != AUD_OK && (data_first || j.rc == AUD_OK)) {
        *err = derr;
        return drc;
    }
    if (j.rc != AUD_OK)
        *err = j.err;
    return j.rc;
}
