/* tlsdec_int.h: what the TLS decryption files share (RFC 5246, 8446): the keystore, suites, connection state.
 *
 * tlskeys.c owns the secrets store (table by client random, session cache,
 * RSA keys), tlskeylog.c fills it from key log text (files, pcapng secrets)
 * and looks secrets up, tlskdf.c turns secrets into keys, tlsrecord.c holds
 * the cipher suites and opens records, tlsdec.c follows the handshake of one
 * connection. Nothing here leaves dissectors/; tls.c and main.c see only
 * lyncflow/tlsdec.h. Secrets stay in these structures and are cleansed
 * before their memory is freed.
 */
#ifndef LYNCFLOW_TLSDEC_INT_H
#define LYNCFLOW_TLSDEC_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "lyncflow/cursor.h"
#include "lyncflow/engine.h"
#include "lyncflow/tlsdec.h"

#define RANDOM_LEN 32
#define MASTER_LEN 48
#define SECRET_MAX 48
#define BAD_LINES_SHOWN 4 /* malformed key log lines named in one warning */

#define V_TLS10 0x0301
#define V_TLS11 0x0302
#define V_TLS12 0x0303
#define V_TLS13 0x0304

/* ---- keystore (tlskeys.c, tlskeylog.c) ---------------------------------- */

/* The secrets a client random can have: a TLS <= 1.2 master secret, the TLS 1.3 traffic secrets. */
enum { SEC_MASTER, SEC_CHS, SEC_SHS, SEC_CAP, SEC_SAP, SEC_N };

struct ks_entry {
    uint8_t used;
    uint8_t have; /* bit per SEC_* */
    uint8_t random[RANDOM_LEN];
    uint8_t len[SEC_N];
    uint8_t sec[SEC_N][SECRET_MAX];
};

struct sess_entry {
    uint8_t used;
    uint8_t kind; /* 1 session ID, 2 ticket (SHA-256 of it) */
    uint8_t idlen;
    uint8_t id[32];
    uint8_t master[MASTER_LEN];
};

struct lf_keystore {
    struct ks_entry *tab;
    size_t cap, count;
    struct sess_entry *sess;
    size_t sess_count;
    EVP_PKEY *rsa[LF_MAX_RSA_KEYS];
    int nrsa;
    char *keylog_path;
    long long keylog_off; /* bytes of the key log consumed (complete lines) */
    size_t keylog_line;   /* lines consumed */
    size_t bad_lines, ignored_lines, rsa_mismatch, rsa_ok, unsupported;
    /* collected while one pass reads a file, reported once */
    size_t pass_bad, pass_shown[BAD_LINES_SHOWN];
    time_t budget_second; /* live waits: the second being budgeted and what it used */
    long budget_used_ns;
};

/* tlskeys.c: the entry for a client random, or NULL; the entry, created when missing. */
struct ks_entry *tlsdec_ks_find(const struct lf_keystore *ks, const uint8_t *random);
struct ks_entry *tlsdec_ks_slot(struct lf_keystore *ks, const uint8_t *random);
/* tlskeys.c: the session cache entry of a session ID (kind 1) or ticket hash (kind 2); create makes it. */
struct sess_entry *tlsdec_sess_find(struct lf_keystore *ks, int kind, const uint8_t *id, size_t idlen, int create);
/* tlskeys.c: PKCS#1 v1.5 decryption of an encrypted pre-master secret (0 and the 48 bytes in pms). */
int tlsdec_rsa_pms(EVP_PKEY *pk, const uint8_t *enc, size_t elen, uint16_t v1, uint16_t v2, uint8_t *pms);

/* tlskeylog.c: the entry for random with all the secrets in mask, the key log re-read once when missing;
 * _live also waits briefly while the key log is being written (*waited_ns: the connection's share). */
const struct ks_entry *tlsdec_ks_lookup(struct lf_keystore *ks, const uint8_t *random, unsigned mask);
const struct ks_entry *tlsdec_ks_lookup_live(struct lf_keystore *ks, const uint8_t *random, unsigned mask,
                                             long *waited_ns);

/* ---- cipher suites (tlsrecord.c) ---------------------------------------- */

enum suite_kind { K_GCM, K_CHACHA, K_CBC };

struct suite {
    uint16_t id;
    uint8_t rsa_kx; /* TLS_RSA_WITH_*: the pre-master secret travels RSA-encrypted */
    uint8_t kind;
    uint8_t keylen;
    uint8_t maclen; /* CBC only */
    const char *hash; /* PRF / HKDF hash */
    const char *mac;  /* CBC HMAC hash */
};

/* The suite this module decrypts with that id, or NULL. */
const struct suite *tlsdec_suite_find(uint16_t id);
/* The length of the suite's PRF / HKDF hash (32 or 48). */
size_t tlsdec_suite_hashlen(const struct suite *s);

/* ---- per connection (tlsdec.c) ------------------------------------------ */

struct dirstate {
    /* what the keys were made for: a renegotiation changes the connection's
     * suite before it changes the keys */
    const struct suite *cs;
    uint16_t version;
    uint8_t etm;
    EVP_CIPHER_CTX *cc;
    EVP_MAC_CTX *mac;
    uint8_t active;  /* keys installed */
    uint8_t ccs;     /* TLS <= 1.2: ChangeCipherSpec seen */
    uint8_t phase;   /* TLS 1.3: 0 none, 1 handshake keys, 2 application keys */
    uint8_t iv[16];  /* GCM salt (4), ChaCha/1.3 nonce base (12), TLS 1.0 CBC chain (16) */
    uint64_t seq;
    uint8_t secret[SECRET_MAX]; /* TLS 1.3 current traffic secret */
    uint8_t secret_len;
    uint8_t opened; /* a record of the current keys verified */
};

struct lf_tlsdec {
    struct lf_keystore *ks;
    const struct suite *suite;
    uint16_t client_version, version, cipher;
    uint8_t ch_seen, sh_seen, hrr, tls13, ems, etm, cke_seen, dead, has_master;
    uint8_t early; /* the ClientHello offered 0-RTT data */
    uint8_t client_random[RANDOM_LEN], server_random[RANDOM_LEN];
    uint8_t sid[32], sid_len, sh_sid[32], sh_sid_len;
    uint8_t ticket[32], has_ticket;
    uint8_t master[MASTER_LEN];
    int rsa_key; /* -1 not known, -2 the certificate matches no key, else the index */
    long waited_ns; /* spent waiting for a live key log */
    uint32_t failures;
    uint8_t *ch;  /* the ClientHello, kept until the ServerHello says whether EMS needs it */
    size_t ch_len;
    EVP_MD_CTX *th[2]; /* the session hash for EMS (MD5 and SHA-1 before TLS 1.2) */
    struct dirstate d[2];
};

/* tlsdec.c: drops the EMS session hash and the kept ClientHello. */
void tlsdec_transcript_free(struct lf_tlsdec *d);

/* ---- key schedules (tlskdf.c) ------------------------------------------- */

/* The master secret of the connection (TLS <= 1.2) is known: from the key log, else a resumed session's. */
int tlsdec_ensure_master(struct lf_tlsdec *d);
/* TLS_RSA: the master secret from the ClientKeyExchange body, with an --rsa-key. */
void tlsdec_rsa_master(struct lf_tlsdec *d, struct lf_cur body);
/* The master secret is kept for resumption under the ServerHello's session ID. */
void tlsdec_remember_session(struct lf_tlsdec *d);
/* 1 when dir has keys installed (installing them when their secrets are known now). */
int tlsdec_keys12(struct lf_tlsdec *d, int dir);
int tlsdec_keys13(struct lf_tlsdec *d, int dir);
/* TLS 1.3 KeyUpdate from dir. */
void tlsdec_key_update(struct lf_tlsdec *d, int dir);

/* ---- records (tlsrecord.c) ---------------------------------------------- */

/* The cipher context of s keyed for the connection's suite and version; 0 ok. */
int tlsdec_cipher_setup(struct lf_tlsdec *d, struct dirstate *s, const uint8_t *key);

#endif
