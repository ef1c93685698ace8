/* iislog.c: IIS W3C extended log files read as http events (iislog.h).
 *
 * The reader keeps one fixed buffer and hands out lines from it, so a log of
 * any size streams in bounded memory. A line is split in place into fields
 * (space separated, as W3C writes them); the current #Fields: list maps each
 * position to a known field, and positions it does not know are ignored.
 */
#include "lyncflow/iislog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"

#define IIS_BUF (256 * 1024)
#define IIS_MAX_LINE (64 * 1024)
#define IIS_MAX_FIELDS 64
#define IIS_MAX_REPORTS 10

enum iis_field {
    F_OTHER = 0, F_DATE, F_TIME, F_SIP, F_METHOD, F_STEM, F_QUERY, F_SPORT, F_USER, F_CIP, F_UA, F_STATUS,
    F_SUBSTATUS, F_WIN32, F_TAKEN, F_HOST, F_SCBYTES, F_CSBYTES, F_SITENAME, F_COMPUTER,
};

static const struct {
    const char *name;
    enum iis_field f;
} field_names[] = {
    {"date", F_DATE},
    {"time", F_TIME},
    {"s-ip", F_SIP},
    {"cs-method", F_METHOD},
    {"cs-uri-stem", F_STEM},
    {"cs-uri-query", F_QUERY},
    {"s-port", F_SPORT},
    {"cs-username", F_USER},
    {"c-ip", F_CIP},
    {"cs(User-Agent)", F_UA},
    {"sc-status", F_STATUS},
    {"sc-substatus", F_SUBSTATUS},
    {"sc-win32-status", F_WIN32},
    {"time-taken", F_TAKEN},
    {"cs-host", F_HOST},
    {"sc-bytes", F_SCBYTES},
    {"cs-bytes", F_CSBYTES},
    {"s-sitename", F_SITENAME},
    {"s-computername", F_COMPUTER},
};

struct lf_iislog {
    FILE *f;
    char path[512];
    char server[64];
    const struct lf_topology *topo;
    char *buf;
    size_t start, end; /* unread bytes are buf[start..end) */
    int eof;
    uint64_t lineno;
    uint64_t lines, errors;
    int reports;
    enum iis_field fields[IIS_MAX_FIELDS];
    int nfields;
    int have_fields;
    int given_fields; /* from --iis-fields */
    int warned_no_fields;
    /* consecutive lines mostly repeat these: parsed once */
    char date[10];
    int64_t days;
    struct ip_memo {
        char text[64];
        size_t len;
        struct lf_addr addr;
    } sip, cip;
};

static void report(struct lf_iislog *r, const char *what)
{
    r->errors++;
    if (r->reports < IIS_MAX_REPORTS)
        fprintf(stderr, "lyncflow: %s:%llu: %s\n", r->path, (unsigned long long)r->lineno, what);
    else if (r->reports == IIS_MAX_REPORTS)
        fprintf(stderr, "lyncflow: %s: more malformed lines; counted in the stats event (iis_errors)\n", r->path);
    r->reports++;
}

static enum iis_field field_of(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
        if (strlen(field_names[i].name) == n && strncasecmp(field_names[i].name, s, n) == 0)
            return field_names[i].f;
    return F_OTHER;
}

/* W3C field separators. */
static const uint8_t is_sep[256] = {[' '] = 1, ['\t'] = 1};

/* Splits s[0..n) at runs of spaces (and tabs) into at most max tokens. */
static int split(char *s, size_t n, char **tok, size_t *len, int max)
{
    const uint8_t *u = (const uint8_t *)s;
    int k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_sep[u[i]])
            i++;
        if (i == n)
            break;
        size_t b = i;
        while (i < n && !is_sep[u[i]])
            i++;
        if (k == max)
            return -1;
        tok[k] = s + b;
        len[k] = i - b;
        k++;
    }
    return k;
}

/* Sets the field map from a list like "date time cs-method ...". 0 ok. */
static int set_fields(struct lf_iislog *r, char *list, size_t n)
{
    char *tok[IIS_MAX_FIELDS];
    size_t len[IIS_MAX_FIELDS];
    int k = split(list, n, tok, len, IIS_MAX_FIELDS);
    if (k <= 0)
        return -1;
    int have_time = 0;
    for (int i = 0; i < k; i++) {
        r->fields[i] = field_of(tok[i], len[i]);
        have_time |= r->fields[i] == F_TIME;
    }
    if (!have_time)
        return -1;
    r->nfields = k;
    r->have_fields = 1;
    return 0;
}

struct lf_iislog *lf_iislog_open(const char *path, const char *server, const char *fields,
                                 const struct lf_topology *topo, char *err, size_t errsize)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct lf_iislog *r = lf_xcalloc(1, sizeof *r);
    r->f = f;
    LF_SET(r->path, path);
    if (server)
        LF_SET(r->server, server);
    r->topo = topo;
    r->buf = lf_xmalloc(IIS_BUF);
    r->days = -1;
    if (fields) {
        char tmp[4096];
        LF_SET(tmp, fields);
        if (set_fields(r, tmp, strlen(tmp)) != 0) {
            snprintf(err, errsize, "--iis-fields: needs a space-separated W3C field list with 'time', not '%s'",
                     fields);
            lf_iislog_close(r);
            return NULL;
        }
        r->given_fields = 1;
    }
    return r;
}

/* Next line without its end-of-line, NUL-terminated in the buffer; NULL at
 * the end of the file. Lines longer than IIS_MAX_LINE are reported and
 * skipped. */
static char *next_line(struct lf_iislog *r, size_t *n)
{
    for (;;) {
        char *s = r->buf + r->start;
        char *nl = memchr(s, '\n', r->end - r->start);
        if (nl) {
            size_t len = (size_t)(nl - s);
            r->start += len + 1;
            r->lineno++;
            if (len > IIS_MAX_LINE) {
                report(r, "line longer than 64 KiB, skipped");
                continue;
            }
            if (len && s[len - 1] == '\r')
                len--;
            s[len] = 0;
            *n = len;
            return s;
        }
        if (r->eof) {
            if (r->start == r->end)
                return NULL;
            /* last line without a newline */
            size_t len = r->end - r->start;
            if (len >= IIS_BUF - 1)
                len = IIS_BUF - 1;
            r->start = r->end;
            r->lineno++;
            if (len && s[len - 1] == '\r')
                len--;
            s[len] = 0;
            *n = len;
            return s;
        }
        /* compact, then read more */
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->end >= IIS_BUF - 1) {
            /* an overlong line: drop it up to its newline */
            r->lineno++;
            report(r, "line longer than 64 KiB, skipped");
            r->lineno--;
            int found = 0;
            while (!found) {
                char *q = memchr(r->buf, '\n', r->end);
                if (q) {
                    size_t drop = (size_t)(q - r->buf) + 1;
                    memmove(r->buf, r->buf + drop, r->end - drop);
                    r->end -= drop;
                    found = 1;
                } else {
                    r->end = 0;
                    size_t got = fread(r->buf, 1, IIS_BUF - 1, r->f);
                    if (got == 0) {
                        r->eof = 1;
                        break;
                    }
                    r->end = got;
                }
            }
            r->lineno++;
            continue;
        }
        size_t got = fread(r->buf + r->end, 1, IIS_BUF - 1 - r->end, r->f);
        if (got == 0)
            r->eof = 1;
        r->end += got;
    }
}

static int empty(const char *s, size_t n)
{
    /* '-' is W3C's empty value; an en dash (U+2013) stands for it in
     * excerpts copied through word processors. */
    return n == 0 || (n == 1 && s[0] == '-') || (n == 3 && memcmp(s, "\xe2\x80\x93", 3) == 0);
}

/* Decimal digits only, at most 23 of them, not above max. */
static int parse_num(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
    const uint8_t *u = (const uint8_t *)s;
    unsigned long long v = 0;
    if (n == 0 || n >= 24)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)u[i] - '0';
        if (d > 9 || (i >= 19 && v > (~0ULL - d) / 10))
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "YYYY-MM-DD" */
static int parse_date(const char *s, size_t n, int64_t *days)
{
    struct lf_cur c = lf_cur_make(s, n);
    unsigned long long y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (parse_num(s, 4, 9999, &y) || parse_num(s + 5, 2, 12, &m) || parse_num(s + 8, 2, 31, &d) || m == 0 || d == 0)
        return -1;
    (void)c;
    *days = days_from_civil((int64_t)y, (unsigned)m, (unsigned)d);
    return 0;
}

/* "HH:MM:SS" with optional ".fff"; *frac says whether a fraction was there. */
static int parse_time(const char *s, size_t n, int64_t *us, int *has_frac)
{
    unsigned long long h, m, sec, frac = 0;
    if (n < 8 || s[2] != ':' || s[5] != ':')
        return -1;
    if (parse_num(s, 2, 23, &h) || parse_num(s + 3, 2, 59, &m) || parse_num(s + 6, 2, 60, &sec))
        return -1;
    if (n > 8) {
        size_t fl = n - 9;
        if (s[8] != '.' || fl == 0 || fl > 6 || parse_num(s + 9, fl, 999999, &frac))
            return -1;
        for (size_t i = fl; i < 6; i++)
            frac *= 10;
        *has_frac = 1;
    }
    *us = (int64_t)((h * 3600 + m * 60 + sec) * 1000000ULL + frac);
    return 0;
}

/* Sets string field *f of ev to a log field's n bytes ("-" is empty); '+' as ' ' where the log writes spaces so. */
static void copy_field(struct lf_event *ev, const char **f, char *s, size_t n, int plus_is_space)
{
    for (size_t i = 0; plus_is_space && i < n; i++) /* the line's own bytes, read once */
        if (s[i] == '+')
            s[i] = ' ';
    lf_event_setn(ev, f, s, empty(s, n) ? 0 : n);
}

/* An IPv4 or IPv6 text address s[0..n) into a (port kept); empty or bad leaves it unset. The text of
 * the line before is remembered with its address. */
static void set_ip(struct ip_memo *m, struct lf_addr *a, const char *s, size_t n)
{
    if (empty(s, n) || n >= sizeof m->text)
        return;
    if (n != m->len || memcmp(s, m->text, n) != 0) {
        memcpy(m->text, s, n);
        m->text[n] = 0;
        m->len = n;
        memset(&m->addr, 0, sizeof m->addr);
        if (inet_pton(AF_INET, m->text, m->addr.ip) == 1)
            m->addr.family = 4;
        else if (inet_pton(AF_INET6, m->text, m->addr.ip) == 1)
            m->addr.family = 6;
    }
    if (m->addr.family) {
        a->family = m->addr.family;
        memcpy(a->ip, m->addr.ip, sizeof a->ip);
    }
}

/* Fills ev from one data line; 0 ok, -1 with *why set. */
static int parse_line(struct lf_iislog *r, char *line, size_t n, struct lf_event *ev, const char **why)
{
    char *tok[IIS_MAX_FIELDS];
    size_t len[IIS_MAX_FIELDS];
    int k = split(line, n, tok, len, IIS_MAX_FIELDS);
    if (k != r->nfields) {
        *why = "wrong number of fields for the #Fields directive in force";
        return -1;
    }
    int64_t days = -1, tod = -1;
    int has_frac = 0;
    const char *sip = "", *cip = "", *stem = "", *query = "";
    size_t sipn = 0, cipn = 0, stemn = 0, queryn = 0;
    unsigned long long v, sport = 0;
    lf_event_reset(ev, LF_EV_HTTP, 0);
    struct lf_ev_http *h = &ev->u.http;
    LF_SET(h->source, "iis");
    for (int i = 0; i < k; i++) {
        char *s = tok[i];
        size_t l = len[i];
        switch (r->fields[i]) {
        case F_DATE:
            if (l == sizeof r->date && r->days >= 0 && memcmp(s, r->date, l) == 0) {
                days = r->days;
            } else if (parse_date(s, l, &days)) {
                *why = "bad date (want YYYY-MM-DD)";
                return -1;
            } else {
                memcpy(r->date, s, sizeof r->date);
                r->days = days;
            }
            break;
        case F_TIME:
            if (parse_time(s, l, &tod, &has_frac)) {
                *why = "bad time (want HH:MM:SS)";
                return -1;
            }
            break;
        case F_SIP:
            sip = s;
            sipn = l;
            break;
        case F_CIP:
            cip = s;
            cipn = l;
            break;
        case F_METHOD: copy_field(ev, &h->method, s, l, 0); break;
        case F_STEM:
            stem = s;
            stemn = empty(s, l) ? 0 : l;
            break;
        case F_QUERY:
            query = s;
            queryn = empty(s, l) ? 0 : l;
            break;
        case F_USER: copy_field(ev, &h->user, s, l, 0); break;
        case F_UA: copy_field(ev, &h->user_agent, s, l, 1); break;
        case F_HOST: copy_field(ev, &h->host, s, l, 0); break;
        case F_SPORT:
            if (!empty(s, l) && parse_num(s, l, 65535, &sport)) {
                *why = "bad s-port";
                return -1;
            }
            break;
        case F_STATUS:
            if (parse_num(s, l, 999, &v)) {
                *why = "bad sc-status";
                return -1;
            }
            h->status = (uint16_t)v;
            break;
        case F_SUBSTATUS:
            if (!empty(s, l)) {
                if (parse_num(s, l, 65535, &v)) {
                    *why = "bad sc-substatus";
                    return -1;
                }
                h->substatus = (uint16_t)v;
            }
            break;
        case F_WIN32:
            if (!empty(s, l)) {
                if (parse_num(s, l, 0xffffffffULL, &v)) {
                    *why = "bad sc-win32-status";
                    return -1;
                }
                h->win32_status = (uint32_t)v;
            }
            break;
        case F_TAKEN:
            if (!empty(s, l)) {
                if (parse_num(s, l, 0xffffffffULL, &v)) {
                    *why = "bad time-taken";
                    return -1;
                }
                h->time_taken_ms = (uint32_t)v;
                h->latency_us = (int64_t)v * 1000;
            }
            break;
        case F_SCBYTES:
            if (!empty(s, l) && parse_num(s, l, ~0ULL, &v) == 0)
                h->resp_bytes = v;
            break;
        case F_CSBYTES:
            if (!empty(s, l) && parse_num(s, l, ~0ULL, &v) == 0)
                h->req_bytes = v;
            break;
        default: break;
        }
    }
    if (tod < 0) {
        *why = "no time";
        return -1;
    }
    if (days < 0) {
        *why = "no date (the #Fields list has none and no #Date directive was seen)";
        return -1;
    }
    ev->ts = days * 86400LL * 1000000LL + tod;
    /* IIS stamps a line when the request completes. With sub-second times the
     * request's start is known and is what capture events carry; whole-second
     * times keep the log's own order instead. */
    if (has_frac && h->time_taken_ms && ev->ts >= (lf_time)h->time_taken_ms * 1000)
        ev->ts -= (lf_time)h->time_taken_ms * 1000;
    h->whole_seconds = !has_frac;
    if (!h->method[0] || !stemn || !stem[0]) {
        *why = "no cs-method or cs-uri-stem";
        return -1;
    }
    stemn = strnlen(stem, stemn);
    if (queryn && query[0]) {
        queryn = strnlen(query, queryn);
        char *uri = lf_xmalloc(stemn + 1 + queryn);
        memcpy(uri, stem, stemn);
        uri[stemn] = '?';
        memcpy(uri + stemn + 1, query, queryn);
        lf_event_setn(ev, &h->uri, uri, stemn + 1 + queryn);
        free(uri);
    } else {
        lf_event_setn(ev, &h->uri, stem, stemn);
    }
    ev->server.port = (uint16_t)sport;
    set_ip(&r->sip, &ev->server, sip, sipn);
    set_ip(&r->cip, &ev->client, cip, cipn);
    if (r->server[0]) {
        LF_EV_SET(ev, u.http.log_server, r->server);
    } else if (r->topo && ev->server.family) {
        const struct lf_topo_server *srv = lf_topology_server_by_addr(r->topo, &ev->server);
        if (srv)
            LF_EV_SET(ev, u.http.log_server, srv->name);
    }
    return 0;
}

/* A '#' line: #Fields changes the map; #Date gives a date to logs without a
 * date field; others are ignored. */
static void directive(struct lf_iislog *r, char *line, size_t n)
{
    static const char fields[] = "#Fields:";
    if (n >= sizeof fields - 1 && strncasecmp(line, fields, sizeof fields - 1) == 0) {
        if (set_fields(r, line + sizeof fields - 1, n - (sizeof fields - 1)) != 0)
            report(r, "#Fields directive without a time field");
    }
}

int lf_iislog_next(struct lf_iislog *r, struct lf_event *ev)
{
    size_t n;
    char *line;
    while ((line = next_line(r, &n)) != NULL) {
        if (n == 0)
            continue;
        if (line[0] == '#') {
            directive(r, line, n);
            continue;
        }
        r->lines++;
        if (!r->have_fields) {
            if (!r->warned_no_fields)
                report(r, "request line before any #Fields directive (give --iis-fields \"date time ...\")");
            else
                r->errors++;
            r->warned_no_fields = 1;
            continue;
        }
        const char *why = NULL;
        if (parse_line(r, line, n, ev, &why) != 0) {
            report(r, why);
            continue;
        }
        return 1;
    }
    return 0;
}

uint64_t lf_iislog_lines(const struct lf_iislog *r) { return r->lines; }
uint64_t lf_iislog_errors(const struct lf_iislog *r) { return r->errors; }

void lf_iislog_close(struct lf_iislog *r)
{
    if (!r)
        return;
    if (r->f && r->f != stdin)
        fclose(r->f);
    free(r->buf);
    free(r);
}

static const struct {
    uint32_t code;
    const char *text;
} win32_names[] = {
    {0, "0x00000000 success"},
    {2, "0x00000002 ERROR_FILE_NOT_FOUND"},
    {5, "0x00000005 ERROR_ACCESS_DENIED"},
    {64, "0x00000040 ERROR_NETNAME_DELETED (the client closed the connection)"},
    {121, "0x00000079 ERROR_SEM_TIMEOUT"},
    {995, "0x000003E3 ERROR_OPERATION_ABORTED"},
    {1236, "0x000004D4 ERROR_CONNECTION_ABORTED"},
    {1326, "0x0000052E ERROR_LOGON_FAILURE"},
    {2148074248u, "0x80090308 SEC_E_INVALID_TOKEN (NTLM legs split across connections)"},
    {2148074252u, "0x8009030C SEC_E_LOGON_DENIED (wrong user name or password)"},
    {2148074254u, "0x8009030E SEC_E_NO_CREDENTIALS (NTLM challenge sent, credentials expected)"},
    {2148074259u, "0x80090313 SEC_E_NO_AUTHENTICATING_AUTHORITY"},
    {2148074274u, "0x80090322 SEC_E_WRONG_PRINCIPAL"},
};

const char *lf_win32_status_name(uint32_t code)
{
    for (size_t i = 0; i < sizeof win32_names / sizeof win32_names[0]; i++)
        if (win32_names[i].code == code)
            return win32_names[i].text;
    return NULL;
}
