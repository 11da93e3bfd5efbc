/* csv_load.c - loading a CSV file: regular files are memory-mapped; pipes, devices and stdin are
 * read whole. gzip (RFC 1952, zlib) and Zstandard (RFC 8878, libzstd) data, recognised by its
 * magic bytes whatever the file is called, is decompressed into memory first. */
#include "core/csv_int.h"
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Room for at least one more byte after *len in *buf (of *cap bytes), doubling. */
static int grow(char **buf, size_t *cap, size_t len, aud_error *err)
{
    if (len < *cap)
        return AUD_OK;
    if (*cap > ((size_t)-1) / 4)
        return aud_error_nomem(err);
    size_t ncap = *cap * 2;
    char *nb = aud_realloc(*buf, ncap);
    if (nb == NULL)
        return aud_error_nomem(err);
    *buf = nb;
    *cap = ncap;
    return AUD_OK;
}

/* gzip members (one after another, as `cat a.gz b.gz` makes them) into *out. */
static int gunzip(const unsigned char *in, size_t len, const char *path, char **out,
                  size_t *out_len, size_t cap, aud_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return aud_error_set(err, AUD_E_INTERNAL, path, 0, 0, "cannot start zlib");
    char *buf = aud_malloc(cap);
    size_t n = 0;
    int rc = buf == NULL ? aud_error_nomem(err) : AUD_OK;
    size_t done = 0;   /* input consumed */
    while (rc == AUD_OK) {
        rc = grow(&buf, &cap, n, err);
        if (rc != AUD_OK)
            break;
        size_t in_chunk = len - done < (1u << 30) ? len - done : (1u << 30);
        size_t out_chunk = cap - n < (1u << 30) ? cap - n : (1u << 30);
        zs.next_in = (unsigned char *)(uintptr_t)(in + done);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = (unsigned char *)buf + n;
        zs.avail_out = (uInt)out_chunk;
        int z = inflate(&zs, Z_NO_FLUSH);
        done += in_chunk - zs.avail_in;
        n += out_chunk - zs.avail_out;
        if (z == Z_STREAM_END) {
            if (done == len)
                break;
            inflateReset(&zs);   /* another member follows */
        } else if (z == Z_BUF_ERROR && done == len && zs.avail_out > 0) {
            rc = aud_error_set(err, AUD_E_PARSE, path, 0, 0, "truncated gzip data");
        } else if (z == Z_MEM_ERROR) {
            rc = aud_error_nomem(err);
        } else if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = aud_error_set(err, AUD_E_PARSE, path, 0, 0, "corrupt gzip data: %s",
                               zs.msg != NULL ? zs.msg : "inflate failed");
        }
    }
    inflateEnd(&zs);
    if (rc != AUD_OK) {
        aud_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return AUD_OK;
}

/* Zstandard frames into *out. */
static int unzstd(const unsigned char *in, size_t len, const char *path, char **out,
                  size_t *out_len, size_t cap, aud_error *err)
{
    unsigned long long size = ZSTD_getFrameContentSize(in, len);
    if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR && size < (1ull << 40))
        cap = (size_t)size + 1;
    ZSTD_DStream *zs = ZSTD_createDStream();
    if (zs == NULL)
        return aud_error_nomem(err);
    char *buf = aud_malloc(cap);
    size_t n = 0;
    int rc = buf == NULL ? aud_error_nomem(err) : AUD_OK;
    ZSTD_inBuffer ib = {in, len, 0};
    size_t last = 1;
    while (rc == AUD_OK && (ib.pos < ib.size || last != 0)) {
        rc = grow(&buf, &cap, n, err);
        if (rc != AUD_OK)
            break;
        ZSTD_outBuffer ob = {buf + n, cap - n, 0};
        size_t before = ib.pos;
        last = ZSTD_decompressStream(zs, &ob, &ib);
        n += ob.pos;
        if (ZSTD_isError(last))
            rc = aud_error_set(err, AUD_E_PARSE, path, 0, 0, "corrupt zstd data: %s",
                               ZSTD_getErrorName(last));
        else if (last != 0 && ib.pos == ib.size && ob.pos < ob.size && ib.pos == before)
            rc = aud_error_set(err, AUD_E_PARSE, path, 0, 0, "truncated zstd data");
    }
    ZSTD_freeDStream(zs);
    if (rc != AUD_OK) {
        aud_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n;
    return AUD_OK;
}

/* Parse data, decompressing it first when it starts with the gzip or zstd magic bytes. */
/* src: data is a read-only mapping of that file (never a buffer of ours: giving back its
 * pages would zero them) */
static int parse_bytes(aud_table **out, const char *data, size_t len, const char *path,
                       const aud_csv_opts *opts, const csv_source *src, aud_error *err)
{
    const unsigned char *u = (const unsigned char *)data;
    int gz = len >= 2 && u[0] == 0x1f && u[1] == 0x8b;
    int zst = len >= 4 && u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd;
    if (!gz && !zst && src != NULL)   /* its pages may be given back as they are read */
        return aud_csv_parse_mapped(out, data, len, path, opts, src, err);
    if (!gz && !zst)
        return aud_table_parse_csv(out, data, len, path, opts, err);
    char *text = NULL;
    size_t n = 0, cap = len < ((size_t)1 << 40) ? len * 4 + 4096 : len;
    int rc = gz ? gunzip(u, len, path, &text, &n, cap, err)
                : unzstd(u, len, path, &text, &n, cap, err);
    if (rc != AUD_OK)
        return rc;
    rc = aud_table_parse_csv(out, text, n, path, opts, err);
    aud_free(text);
    return rc;
}

int aud_table_load_csv(aud_table **out, const char *path, const aud_csv_opts *opts,
                       aud_error *err)
{
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size_t len = (size_t)st.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot map: %s", strerror(e));
        }
        madvise(map, len, MADV_SEQUENTIAL);
        /* the descriptor stays open while the data is parsed: the parallel reader reads its
         * chunks with pread (csv_parallel.c) */
        csv_source src = {fd, map};
        int rc = parse_bytes(out, map, len, path, opts, &src, err);
        munmap(map, len);
        close(fd);
        return rc;
    }
    char *buf = NULL;
    size_t len = 0;
    int rc;
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(fd);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "is a directory");
        }
        /* a pipe, device or empty file: read the descriptor already open (a pipe cannot be
         * opened a second time: its writer may be gone) */
        FILE *f = fdopen(fd, "rb");
        if (f == NULL) {
            close(fd);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot read: %s", strerror(errno));
        }
        rc = aud_stream_read(f, path, &buf, &len, 0, err);
        fclose(f);
    } else if (strcmp(path, "-") != 0) {
        return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    } else {
        rc = aud_file_read(path, &buf, &len, 0, err);
    }
    if (rc != AUD_OK)
        return rc;
    rc = parse_bytes(out, buf, len, path, opts, NULL, err);
    aud_free(buf);
    return rc;
}
