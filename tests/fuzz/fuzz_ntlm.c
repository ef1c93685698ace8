/* fuzz_ntlm.c: libFuzzer target for NTLM messages (dissectors/ntlm.c): the
 * input as a raw message, as a token that may wrap one, and as base64 text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/ntlm.h"

static void check(const struct lf_ntlm *m, int t)
{
    if (t < 0 || t > 3 || m->type != t)
        abort();
    if (!memchr(m->domain, 0, sizeof m->domain) || !memchr(m->user, 0, sizeof m->user) ||
        !memchr(m->workstation, 0, sizeof m->workstation))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lf_ntlm m;
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    check(&m, lf_ntlm_parse(copy, size, &m));
    check(&m, lf_ntlm_find(copy, size, &m));
    check(&m, lf_ntlm_from_b64((const char *)copy, size, &m));
    free(copy);
    return 0;
}
