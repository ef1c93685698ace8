/* tlsdec.h: TLS decryption from a key log or an RSA private key (OpenSSL).
 *
 * The keystore holds the run's secrets: NSS key log lines (TLS 1.2
 * CLIENT_RANDOM; TLS 1.3 CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET and
 * CLIENT/SERVER_TRAFFIC_SECRET_0), pcapng Decryption Secrets Blocks, and RSA
 * private keys for the TLS_RSA key exchange. A key log that grows while a
 * live capture runs is read again when a client random is first missing;
 * while it is being written (modified in the last seconds), a missing TLS 1.3
 * secret is waited for briefly, since the client logs it as it reads the same
 * packets (at most 50 ms a connection and 250 ms a second).
 *
 * A per-connection decryptor (lf_tlsdec) is fed by dissectors/tls.c: every
 * plaintext handshake message in order, ChangeCipherSpec, and the records it
 * cannot read. It learns randoms, version, cipher, session id and the key
 * exchange from the handshake itself, keeps the transcript hash it needs
 * (extended master secret), derives keys, checks every tag and returns
 * plaintext. Secrets never leave this module.
 *
 * The module lives in dissectors/: tlskeys.c (the keystore: secrets by client
 * random, session cache, RSA keys), tlskeylog.c (key log text and pcapng
 * secrets), tlskdf.c (key schedules), tlsrecord.c (cipher suites, record
 * decryption) and tlsdec.c (the decryptor of one connection), sharing
 * dissectors/tlsdec_int.h.
 */
#ifndef LYNCFLOW_TLSDEC_H
#define LYNCFLOW_TLSDEC_H

#include <stddef.h>
#include <stdint.h>

struct lf_keystore;
struct lf_tlsdec;

struct lf_keystore *lf_keystore_new(void);
void lf_keystore_free(struct lf_keystore *ks);
/* Loads an NSS key log; remembers the path for re-reading. 0 ok, -1 with
 * err "FILE: ..." when the file cannot be read. Malformed lines are counted,
 * not fatal (lf_keystore_bad_lines). */
int lf_keystore_load_keylog(struct lf_keystore *ks, const char *path, char *err, size_t errsize);
/* Adds one key log line (from a pcapng Decryption Secrets Block). */
void lf_keystore_add_line(struct lf_keystore *ks, const char *line, size_t len);
/* Reads the Decryption Secrets Blocks of a pcapng file (no-op for pcap). */
int lf_keystore_load_pcapng_secrets(struct lf_keystore *ks, const char *path, char *err, size_t errsize);
/* Loads a PEM RSA private key. 0 ok, -1 with err. */
int lf_keystore_add_rsa(struct lf_keystore *ks, const char *pem_path, char *err, size_t errsize);
size_t lf_keystore_bad_lines(const struct lf_keystore *ks);

/* Added with the decryptor (tls.c need not call these; main.c reports them):
 * key log lines with another NSS label (EXPORTER_SECRET, ...), skipped;
 * client randoms with at least one secret; ClientKeyExchanges whose
 * pre-master secret no --rsa-key decrypts (the certificate belongs to another
 * key), and those that one did; handshakes whose cipher suite or version this
 * module cannot decrypt. */
size_t lf_keystore_ignored_lines(const struct lf_keystore *ks);
size_t lf_keystore_secrets(const struct lf_keystore *ks);
size_t lf_keystore_rsa_mismatches(const struct lf_keystore *ks);
size_t lf_keystore_rsa_decrypted(const struct lf_keystore *ks);
size_t lf_keystore_unsupported(const struct lf_keystore *ks);

/* A decryptor for one connection; NULL when ks is NULL or holds no secret at
 * all (no key log, no RSA key, no pcapng secrets): such runs pay nothing. */
struct lf_tlsdec *lf_tlsdec_new(struct lf_keystore *ks);
void lf_tlsdec_free(struct lf_tlsdec *d);

/* One complete plaintext handshake message, 4-byte header included, from
 * direction dir (0 client to server, 1 server to client), in wire order. */
void lf_tlsdec_handshake(struct lf_tlsdec *d, int dir, const uint8_t *msg, size_t len);
/* A ChangeCipherSpec record from dir (TLS <= 1.2: later records are encrypted). */
void lf_tlsdec_ccs(struct lf_tlsdec *d, int dir);
/* Non-zero when records of this content type from dir are ciphertext. */
int lf_tlsdec_encrypted(const struct lf_tlsdec *d, int dir, uint8_t content_type);

enum lf_dec { LF_DEC_OK = 0, LF_DEC_NOKEY, LF_DEC_FAIL };
/* Decrypts one record body (header excluded). out must hold len bytes. On OK,
 * *outlen is the plaintext length and *inner_type the real content type
 * (TLS 1.3 inner type, else the record type). NOKEY: no secret for this
 * connection. FAIL: the tag did not verify (counted; nothing is returned). */
enum lf_dec lf_tlsdec_record(struct lf_tlsdec *d, int dir, uint8_t content_type, uint16_t record_version,
                             const uint8_t *in, size_t len, uint8_t *out, size_t *outlen, uint8_t *inner_type);
/* Secrets for this connection were found. */
int lf_tlsdec_has_keys(const struct lf_tlsdec *d);
uint32_t lf_tlsdec_failures(const struct lf_tlsdec *d);

/* Exposed for tests against published vectors. */
int lf_tls12_prf(const char *digest, const uint8_t *secret, size_t slen, const char *label, const uint8_t *seed,
                 size_t seedlen, uint8_t *out, size_t outlen);
int lf_tls13_expand_label(const char *digest, const uint8_t *secret, size_t slen, const char *label,
                          const uint8_t *ctx, size_t ctxlen, uint8_t *out, size_t outlen);

#endif
