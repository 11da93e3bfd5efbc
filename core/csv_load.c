/* csv_load.c - loading a CSV file: regular files are memory-mapped; pipes, devices and stdin are
 * read whole. */
#include "core/table.h"
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int aud_table_load_csv(aud_table **out, const char *path, const aud_csv_opts *opts,
                       aud_error *err)
{
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size_t len = (size_t)st.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "cannot map: %s", strerror(errno));
        madvise(map, len, MADV_SEQUENTIAL);
        int rc = aud_table_parse_csv(out, map, len, path, opts, err);
        munmap(map, len);
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
    rc = aud_table_parse_csv(out, buf, len, path, opts, err);
    aud_free(buf);
    return rc;
}
