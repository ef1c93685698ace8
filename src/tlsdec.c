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
struct lf_tlsdec { int unused; };
struct lf_tlsdec *lf_tlsdec_new(struct lf_keystore *ks) { (void)ks; return NULL; }
void lf_tlsdec_free(struct lf_tlsdec *d) { (void)d; }
void lf_tlsdec_handshake(struct lf_tlsdec *d, int dir, const uint8_t *msg, size_t len) { (void)d; (void)dir; (void)msg; (void)len; }
void lf_tlsdec_ccs(struct lf_tlsdec *d, int dir) { (void)d; (void)dir; }
int lf_tlsdec_encrypted(const struct lf_tlsdec *d, int dir, uint8_t content_type) { (void)d; (void)dir; (void)content_type; return 0; }
enum lf_dec lf_tlsdec_record(struct lf_tlsdec *d, int dir, uint8_t content_type, uint16_t record_version, const uint8_t *in, size_t len, uint8_t *out, size_t *outlen, uint8_t *inner_type)
{ (void)d; (void)dir; (void)content_type; (void)record_version; (void)in; (void)len; (void)out; (void)outlen; (void)inner_type; return LF_DEC_NOKEY; }
int lf_tlsdec_has_keys(const struct lf_tlsdec *d) { (void)d; return 0; }
uint32_t lf_tlsdec_failures(const struct lf_tlsdec *d) { (void)d; return 0; }
