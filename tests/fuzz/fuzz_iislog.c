/* fuzz_iislog.c: libFuzzer target for IIS W3C log lines (iislog.c).
 * The input is a whole log file; the first byte picks whether a field list
 * is given up front, as --iis-fields does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lyncflow/iislog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz-iislog-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t skip = size ? 1 : 0;
    if (size > skip && write(fd, data + skip, size - skip) != (ssize_t)(size - skip)) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    const char *fields = size && (data[0] & 1) ? "date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                                                 "cs-username c-ip cs(User-Agent) sc-status sc-substatus "
                                                 "sc-win32-status time-taken"
                                               : NULL;
    char err[256];
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    struct lf_iislog *r = lf_iislog_open(path, "fuzz", fields, NULL, err, sizeof err);
    if (r) {
        struct lf_event ev;
        while (lf_iislog_next(r, &ev) == 1)
            ;
        lf_iislog_close(r);
    }
    fclose(stderr);
    stderr = saved;
    unlink(path);
    return 0;
}
