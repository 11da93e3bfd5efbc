/* csv_range.c - the rows of one byte range of a CSV file (core/table.h,
 * aud_table_load_csv_range): each process of a distributed run (build/audit-mpi) reads the
 * header and its own part of the body, not the whole file.
 *
 * The body (after --skip-rows, blank and comment lines and the header record, found with the
 * reader's own lexer) is cut into `count` ranges of about equal size, each cut moved forward to
 * just after a newline. Like the parallel reader's chunks (csv_parallel.c), a cut is only proved
 * to be a record boundary by the parse: a cut inside a quoted field leaves the range before it
 * ending inside quotes ("unterminated quoted field") or the range after it with a ragged or
 * broken first record, so a caller that combines the ranges must check that every one of them
 * loaded, and read the whole file otherwise (audit/run.c does). The range is parsed as the
 * header followed by the range's bytes, with the reader's parse (aud_table_parse_csv). */
#include "core/csv_int.h"
#include "core/io.h"
#include "core/provenance.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Offset of the first data record: after the skipped lines, blank and comment lines and the
 * header record (when the file has one). */
static size_t body_start(const char *data, size_t len, const char *path,
                         const aud_csv_opts *o, aud_error *err)
{
    size_t bom = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    csv_lexer lx = {.p = data + bom, .end = data + len, .name = path, .delim = o->delimiter,
                    .max_field = o->max_field_bytes, .line = 1, .err = err, .base = data,
                    .trim = !o->keep_spaces, .comment = o->comment};
    aud_csv_skip_lines(&lx, o->skip_rows);
    aud_csv_skip_blank(&lx);
    if (o->header) {
        csv_field f;
        int r;
        long col = 0;
        while ((r = aud_csv_lex_field(&lx, &f, col++)) == FIELD_MORE)
            ;
        if (r == FIELD_ERROR)
            return (size_t)-1;
    }
    return (size_t)(lx.p - data);
}

/* Just after the first newline at or after p - 1 (p itself when p - 1 is a newline); len when
 * there is none. */
static size_t cut_at(const char *data, size_t len, size_t from, size_t p)
{
    if (p <= from)
        return from;
    const char *nl = memchr(data + p - 1, '\n', len - (p - 1));
    return nl != NULL ? (size_t)(nl - data) + 1 : len;
}

static size_t newlines(const char *p, size_t n)
{
    size_t k = 0;
    for (const char *e = p + n; p < e; p++) {
        p = memchr(p, '\n', (size_t)(e - p));
        if (p == NULL)
            break;
        k++;
    }
    return k;
}

int aud_table_load_csv_range(aud_table **out, const char *path, const aud_csv_opts *opts,
                             size_t index, size_t count, aud_csv_range *info, aud_error *err)
{
    aud_csv_opts dflt;
    if (opts == NULL) {
        aud_csv_opts_default(&dflt);
        opts = &dflt;
    }
    memset(info, 0, sizeof *info);
    info->whole = 1;
    if (count == 0 || index >= count)
        return aud_error_set(err, AUD_E_USAGE, path, 0, 0, "part %zu of %zu", index, count);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4) {
        close(fd);
        return AUD_OK;   /* not a regular file: the caller reads it whole */
    }
    size_t len = (size_t)st.st_size;
    const char *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED)
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot map: %s", strerror(errno));
    const unsigned char *u = (const unsigned char *)data;
    int packed = (u[0] == 0x1f && u[1] == 0x8b) ||
                 (u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd);
    size_t b0 = packed ? (size_t)-1 : body_start(data, len, path, opts, err);
    int rc = AUD_OK;
    if (b0 != (size_t)-1) {   /* else compressed, or a broken header: read whole */
        size_t span = len - b0;
        size_t a = index == 0 ? b0 : cut_at(data, len, b0, b0 + span / count * index +
                                                             span % count * index / count);
        size_t b = index + 1 == count ? len
                                      : cut_at(data, len, b0, b0 + span / count * (index + 1) +
                                                               span % count * (index + 1) / count);
        if (b < a)
            b = a;
        char *buf = aud_malloc(b0 + (b - a) + 1);
        if (buf == NULL) {
            rc = aud_error_nomem(err);
        } else {
            memcpy(buf, data, b0);
            memcpy(buf + b0, data + a, b - a);
            info->whole = 0;
            info->begin = a;
            info->end = b;
            info->newlines = newlines(data + a, b - a);
            rc = aud_sha256_mem(data + a, b - a, info->sha256, err);
            if (rc == AUD_OK)
                rc = aud_table_parse_csv(out, buf, b0 + (b - a), path, opts, err);
            aud_free(buf);
        }
    }
    munmap((void *)data, len);
    return rc;
}
