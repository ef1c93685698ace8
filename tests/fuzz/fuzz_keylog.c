/* fuzz_keylog.c: libFuzzer target for key log text, pcapng Decryption Secrets Blocks and the decryptor (tlsdec.c).
 * The first byte picks the input: 0 a key log file, 1 a pcapng file, 2 key
 * log lines added one by one, 3 handshake messages, ChangeCipherSpecs and
 * records ("dir kind len16 bytes" chunks) fed to a decryptor with secrets. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lyncflow/cursor.h"
#include "lyncflow/tlsdec.h"

static int to_file(const uint8_t *data, size_t size, char *path)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, size) == (ssize_t)size;
    close(fd);
    if (!ok)
        unlink(path);
    return ok ? 0 : -1;
}

static void drive(struct lf_keystore *ks, struct lf_cur c)
{
    static const char *lines[] = {
        "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000000 "
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET 0000000000000000000000000000000000000000000000000000000000000000 "
        "0000000000000000000000000000000000000000000000000000000000000001",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET 0000000000000000000000000000000000000000000000000000000000000000 "
        "0000000000000000000000000000000000000000000000000000000000000002",
        "CLIENT_TRAFFIC_SECRET_0 0000000000000000000000000000000000000000000000000000000000000000 "
        "0000000000000000000000000000000000000000000000000000000000000003",
        "SERVER_TRAFFIC_SECRET_0 0000000000000000000000000000000000000000000000000000000000000000 "
        "0000000000000000000000000000000000000000000000000000000000000004",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        lf_keystore_add_line(ks, lines[i], strlen(lines[i]));
    struct lf_tlsdec *d = lf_tlsdec_new(ks);
    while (lf_cur_ok(&c) && lf_cur_left(&c) >= 4) {
        uint8_t dir = lf_cur_u8(&c) & 1, kind = lf_cur_u8(&c);
        size_t len = lf_cur_u16(&c);
        if (len > lf_cur_left(&c))
            len = lf_cur_left(&c);
        /* each chunk in its own allocation, so overreads are caught */
        uint8_t *p = malloc(len ? len : 1), *out = malloc(len ? len : 1);
        lf_cur_copy(&c, p, len);
        if (kind % 3 == 0)
            lf_tlsdec_handshake(d, dir, p, len);
        else if (kind % 3 == 1)
            lf_tlsdec_ccs(d, dir);
        else {
            size_t outlen;
            uint8_t inner, type = (uint8_t)(21 + kind % 3);
            if (lf_tlsdec_encrypted(d, dir, type))
                lf_tlsdec_record(d, dir, type, 0x0303, p, len, out, &outlen, &inner);
        }
        free(p);
        free(out);
    }
    lf_tlsdec_has_keys(d);
    lf_tlsdec_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    uint8_t mode = data[0] & 3;
    data++;
    size--;
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    struct lf_keystore *ks = lf_keystore_new();
    char err[256];
    if (mode <= 1) {
        char path[] = "/tmp/fuzz-keylog-XXXXXX";
        if (to_file(data, size, path) == 0) {
            if (mode == 0)
                lf_keystore_load_keylog(ks, path, err, sizeof err);
            else
                lf_keystore_load_pcapng_secrets(ks, path, err, sizeof err);
            unlink(path);
        }
    } else if (mode == 2) {
        struct lf_cur c = lf_cur_make(data, size);
        while (lf_cur_left(&c)) {
            long nl = lf_cur_find(&c, '\n');
            size_t k = nl < 0 ? lf_cur_left(&c) : (size_t)nl;
            char *line = malloc(k ? k : 1);
            lf_cur_copy(&c, line, k);
            lf_keystore_add_line(ks, line, k);
            free(line);
            if (nl >= 0)
                lf_cur_skip(&c, 1);
        }
    } else
        drive(ks, lf_cur_make(data, size));
    lf_keystore_bad_lines(ks);
    lf_keystore_free(ks);
    fclose(stderr);
    stderr = saved;
    return 0;
}
