/* tlsdec.c: placeholder until decryption lands. */
#include <stdlib.h>
#include <stdio.h>
#include "lyncflow/tlsdec.h"
#include "lyncflow/util.h"
struct lf_keystore { int unused; };
struct lf_keystore *lf_keystore_new(void) { return lf_xcalloc(1, sizeof(struct lf_keystore)); }
void lf_keystore_free(struct lf_keystore *ks) { free(ks); }
int lf_keystore_load_keylog(struct lf_keystore *ks, const char *path, char *err, size_t errsize) { (void)ks; snprintf(err, errsize, "%s: decryption not available in this build", path); return -1; }
void lf_keystore_add_line(struct lf_keystore *ks, const char *line, size_t len) { (void)ks; (void)line; (void)len; }
int lf_keystore_load_pcapng_secrets(struct lf_keystore *ks, const char *path, char *err, size_t errsize) { (void)ks; (void)path; (void)err; (void)errsize; return 0; }
int lf_keystore_add_rsa(struct lf_keystore *ks, const char *pem_path, char *err, size_t errsize) { (void)ks; snprintf(err, errsize, "%s: decryption not available in this build", pem_path); return -1; }
size_t lf_keystore_bad_lines(const struct lf_keystore *ks) { (void)ks; return 0; }
