/* fuzz_topology.c: libFuzzer target for the topology file parser (topology.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lyncflow/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz-topology-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    static struct lf_topology t;
    char err[512];
    if (lf_topology_load(path, &t, err, sizeof err) == 0) {
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            lf_topology_print(&t, null);
            fclose(null);
        }
    }
    unlink(path);
    return 0;
}
