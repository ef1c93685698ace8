/* topology.c: the deployment file (INI, design.md) read and written, and lookups by address and name.
 *
 * The file is read whole (at most LF_TOPO_MAX_FILE bytes) and walked line by
 * line through a cursor. Each line is a comment, a [section] header or a
 * key = value pair; anything else is an error with its line number. A
 * section's required keys are checked when the section ends, and reported at
 * the line of its header.
 */
#include "lyncflow/topology.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyncflow/cursor.h"
#include "lyncflow/util.h"

#define LF_TOPO_MAX_FILE (1024 * 1024)
#define MAX_LINE 4096

enum sect { S_NONE, S_LISTENER, S_SERVER, S_SIMPLE };

struct parser {
    const char *path;
    struct lf_topology *t;
    char *err;
    size_t errsize;
    unsigned long line;
    enum sect sect;
    unsigned long sect_line;
    unsigned seen; /* keys seen in this section, one bit each */
};

static int fail(struct parser *p, unsigned long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, unsigned long line, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errsize, "%s:%lu: %s", p->path, line, what);
    return -1;
}

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Trims s[0..*n) in place: returns the new start, *n its length. */
static char *trim(char *s, size_t *n)
{
    while (*n && is_space((unsigned char)s[0])) {
        s++;
        (*n)--;
    }
    while (*n && is_space((unsigned char)s[*n - 1]))
        (*n)--;
    s[*n] = 0;
    return s;
}

/* A DNS name, or a wildcard one ("*.contoso.com"). */
static int valid_fqdn(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '.' || (c == '*' && i == 0 && n > 2 && s[1] == '.');
        if (!ok || (c == '.' && s[i + 1] == '.'))
            return 0;
    }
    return 1;
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return 0;
    }
    return 1;
}

/* Checks that the section that is ending has what it needs. */
static int end_section(struct parser *p)
{
    struct lf_topology *t = p->t;
    if (p->sect == S_LISTENER) {
        const struct lf_topo_listener *l = &t->listeners[t->nlisteners - 1];
        if (!l->addr.family)
            return fail(p, p->sect_line, "listener %s has no address", l->name);
    } else if (p->sect == S_SERVER) {
        const struct lf_topo_server *s = &t->servers[t->nservers - 1];
        if (!s->addr.family)
            return fail(p, p->sect_line, "server %s has no address", s->name);
        if (s->role == LF_ROLE_NONE)
            return fail(p, p->sect_line, "server %s has no role (director, frontend, edge or other)", s->name);
    }
    return 0;
}

static int section(struct parser *p, char *s, size_t n)
{
    if (end_section(p))
        return -1;
    if (n < 2 || s[n - 1] != ']')
        return fail(p, p->line, "section header without its closing ']'");
    s[n - 1] = 0;
    n -= 2;
    char *body = trim(s + 1, &n);
    char *name = body;
    while (*name && !is_space((unsigned char)*name))
        name++;
    size_t kind_len = (size_t)(name - body);
    while (*name && is_space((unsigned char)*name))
        *name++ = 0;
    body[kind_len] = 0;
    p->sect_line = p->line;
    p->seen = 0;
    struct lf_topology *t = p->t;
    if (strcmp(body, "simple-urls") == 0) {
        if (*name)
            return fail(p, p->line, "[simple-urls] takes no name");
        p->sect = S_SIMPLE;
        return 0;
    }
    int listener = strcmp(body, "listener") == 0;
    if (!listener && strcmp(body, "server") != 0)
        return fail(p, p->line, "unknown section [%s] (want listener NAME, server NAME or simple-urls)", body);
    if (!*name)
        return fail(p, p->line, "[%s] needs a name", body);
    if (!valid_name(name) || strlen(name) >= sizeof t->listeners[0].name)
        return fail(p, p->line, "bad %s name '%s' (letters, digits, '-', '_', '.'; at most 63)", body, name);
    if (listener) {
        for (int i = 0; i < t->nlisteners; i++)
            if (strcmp(t->listeners[i].name, name) == 0)
                return fail(p, p->line, "listener %s defined twice", name);
        if (t->nlisteners == LF_TOPO_MAX_LISTENERS)
            return fail(p, p->line, "more than %d listeners", LF_TOPO_MAX_LISTENERS);
        struct lf_topo_listener *l = &t->listeners[t->nlisteners++];
        memset(l, 0, sizeof *l);
        LF_SET(l->name, name);
        p->sect = S_LISTENER;
    } else {
        for (int i = 0; i < t->nservers; i++)
            if (strcmp(t->servers[i].name, name) == 0)
                return fail(p, p->line, "server %s defined twice", name);
        if (t->nservers == LF_TOPO_MAX_SERVERS)
            return fail(p, p->line, "more than %d servers", LF_TOPO_MAX_SERVERS);
        struct lf_topo_server *sv = &t->servers[t->nservers++];
        memset(sv, 0, sizeof *sv);
        LF_SET(sv->name, name);
        p->sect = S_SERVER;
    }
    return 0;
}

/* Marks key number bit as seen; an error when it was already. */
static int once(struct parser *p, unsigned bit, const char *key)
{
    if (p->seen & (1u << bit))
        return fail(p, p->line, "%s given twice in this section", key);
    p->seen |= 1u << bit;
    return 0;
}

static int parse_address(struct parser *p, const char *v, struct lf_addr *out)
{
    if (lf_addr_parse(v, out) != 0 || out->port == 0)
        return fail(p, p->line, "bad address '%s' (want IP:PORT or [IPv6]:PORT)", v);
    return 0;
}

static int add_listener_names(struct parser *p, struct lf_topo_listener *l, char *v)
{
    char *s = v;
    while (*s) {
        char *e = s;
        while (*e && *e != ',')
            e++;
        int last = *e == 0;
        *e = 0;
        size_t n = strlen(s);
        char *name = trim(s, &n);
        if (!valid_fqdn(name))
            return fail(p, p->line, "bad name '%s' in names", name);
        if (l->nnames == LF_TOPO_MAX_NAMES)
            return fail(p, p->line, "more than %d names on listener %s", LF_TOPO_MAX_NAMES, l->name);
        LF_SET(l->names[l->nnames], name);
        l->nnames++;
        if (last)
            break;
        s = e + 1;
    }
    return 0;
}

static int keyval(struct parser *p, char *s, size_t n)
{
    char *eq = memchr(s, '=', n);
    if (!eq)
        return fail(p, p->line, "expected 'key = value', '[section]' or a comment");
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    *eq = 0;
    char *key = trim(s, &kn);
    char *val = trim(eq + 1, &vn);
    if (!kn)
        return fail(p, p->line, "a value without a key");
    if (!vn)
        return fail(p, p->line, "%s has no value", key);
    struct lf_topology *t = p->t;
    switch (p->sect) {
    case S_NONE:
        return fail(p, p->line, "'%s' outside any section", key);
    case S_LISTENER: {
        struct lf_topo_listener *l = &t->listeners[t->nlisteners - 1];
        if (strcmp(key, "address") == 0)
            return once(p, 0, key) ? -1 : parse_address(p, val, &l->addr);
        if (strcmp(key, "names") == 0)
            return once(p, 1, key) ? -1 : add_listener_names(p, l, val);
        return fail(p, p->line, "unknown key '%s' in [listener %s] (want address, names)", key, l->name);
    }
    case S_SERVER: {
        struct lf_topo_server *sv = &t->servers[t->nservers - 1];
        if (strcmp(key, "address") == 0)
            return once(p, 0, key) ? -1 : parse_address(p, val, &sv->addr);
        if (strcmp(key, "role") == 0) {
            if (once(p, 1, key))
                return -1;
            enum lf_role r;
            if (lf_role_parse(val, &r) != 0 || r == LF_ROLE_PROXY)
                return fail(p, p->line, "unknown role '%s' (want director, frontend, edge or other)", val);
            sv->role = r;
            return 0;
        }
        if (strcmp(key, "fqdn") == 0) {
            if (once(p, 2, key))
                return -1;
            if (!valid_fqdn(val) || strlen(val) >= sizeof sv->fqdn)
                return fail(p, p->line, "bad fqdn '%s'", val);
            LF_SET(sv->fqdn, val);
            return 0;
        }
        return fail(p, p->line, "unknown key '%s' in [server %s] (want role, address, fqdn)", key, sv->name);
    }
    case S_SIMPLE: {
        static const char *const keys[] = {"meet", "dialin", "discover", "scheduler"};
        char *dst[] = {t->meet, t->dialin, t->discover, t->scheduler};
        for (unsigned i = 0; i < 4; i++)
            if (strcmp(key, keys[i]) == 0) {
                if (once(p, i, key))
                    return -1;
                if (!valid_fqdn(val) || strlen(val) >= sizeof t->meet)
                    return fail(p, p->line, "bad %s name '%s'", key, val);
                lf_strlcpy(dst[i], val, sizeof t->meet);
                return 0;
            }
        return fail(p, p->line, "unknown key '%s' in [simple-urls] (want meet, dialin, discover, scheduler)", key);
    }
    }
    return -1;
}

/* Strips a comment: '#' or ';' at the start of the line or after a space. */
static size_t strip_comment(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] == '#' || s[i] == ';') && (i == 0 || is_space((unsigned char)s[i - 1])))
            return i;
    return n;
}

static int parse_line(struct parser *p, struct lf_cur *line)
{
    size_t n = lf_cur_left(line);
    if (n >= MAX_LINE)
        return fail(p, p->line, "line longer than %d bytes", MAX_LINE);
    char buf[MAX_LINE];
    lf_cur_copy(line, buf, n);
    buf[n] = 0;
    if (memchr(buf, 0, n))
        return fail(p, p->line, "NUL byte in the line");
    n = strip_comment(buf, n);
    char *s = trim(buf, &n);
    if (!n)
        return 0;
    if (s[0] == '[')
        return section(p, s, n);
    return keyval(p, s, n);
}

int lf_topology_load(const char *path, struct lf_topology *t, char *err, size_t errsize)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsize, "%s: cannot open topology: %s", path, strerror(errno));
        return -1;
    }
    char *data = lf_xmalloc(LF_TOPO_MAX_FILE + 1);
    size_t len = fread(data, 1, LF_TOPO_MAX_FILE + 1, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || len > LF_TOPO_MAX_FILE) {
        snprintf(err, errsize, "%s: %s", path, rerr ? "read error" : "larger than 1 MiB, not a topology file");
        free(data);
        return -1;
    }
    struct parser p = {path, t, err, errsize, 0, S_NONE, 0, 0};
    struct lf_cur c = lf_cur_make(data, len);
    int rc = 0;
    while (rc == 0 && lf_cur_left(&c) > 0) {
        long nl = lf_cur_find(&c, '\n');
        size_t n = nl < 0 ? lf_cur_left(&c) : (size_t)nl;
        struct lf_cur line = lf_cur_sub(&c, n);
        if (nl >= 0)
            lf_cur_skip(&c, 1);
        p.line++;
        rc = parse_line(&p, &line);
    }
    if (rc == 0)
        rc = end_section(&p);
    if (rc == 0 && t->nlisteners == 0 && t->nservers == 0) {
        snprintf(err, errsize, "%s:%lu: no [listener] or [server] section", path, p.line ? p.line : 1);
        rc = -1;
    }
    free(data);
    if (rc != 0) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    return 0;
}

void lf_topology_print(const struct lf_topology *t, FILE *out)
{
    char a[64];
    if (t->inferred)
        fputs("# lyncflow topology, inferred from the traffic (names seen per listener address; servers are the\n"
              "# addresses the proxy connected to, roles guessed from the services they answered)\n",
              out);
    else
        fputs("# lyncflow topology\n", out);
    for (int i = 0; i < t->nlisteners; i++) {
        const struct lf_topo_listener *l = &t->listeners[i];
        fprintf(out, "\n[listener %s]\naddress = %s\n", l->name, lf_addr_format(&l->addr, a, sizeof a));
        if (l->nnames) {
            fputs("names = ", out);
            for (int k = 0; k < l->nnames; k++)
                fprintf(out, "%s%s", k ? ", " : "", l->names[k]);
            fputc('\n', out);
        }
    }
    for (int i = 0; i < t->nservers; i++) {
        const struct lf_topo_server *s = &t->servers[i];
        const char *role = lf_role_name(s->role);
        fprintf(out, "\n[server %s]\nrole = %s\n", s->name, role[0] ? role : "other");
        if (s->addr.family)
            fprintf(out, "address = %s\n", lf_addr_format(&s->addr, a, sizeof a));
        else if (s->addr.port)
            fprintf(out, "# address not seen (port %u)\n", s->addr.port);
        else
            fputs("# address not seen\n", out);
        if (s->fqdn[0])
            fprintf(out, "fqdn = %s\n", s->fqdn);
    }
    if (t->meet[0] || t->dialin[0] || t->discover[0] || t->scheduler[0]) {
        fputs("\n[simple-urls]\n", out);
        if (t->meet[0])
            fprintf(out, "meet = %s\n", t->meet);
        if (t->dialin[0])
            fprintf(out, "dialin = %s\n", t->dialin);
        if (t->discover[0])
            fprintf(out, "discover = %s\n", t->discover);
        if (t->scheduler[0])
            fprintf(out, "scheduler = %s\n", t->scheduler);
    }
}

const struct lf_topo_server *lf_topology_server_by_addr(const struct lf_topology *t, const struct lf_addr *a)
{
    if (!t || !a->family)
        return NULL;
    for (int i = 0; i < t->nservers; i++)
        if (lf_addr_equal(&t->servers[i].addr, a))
            return &t->servers[i];
    return NULL;
}

/* "x.contoso.com" matches "*.contoso.com" (one label). */
static int name_matches(const char *pattern, const char *name)
{
    if (lf_strcaseeq(pattern, name))
        return 1;
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(name, '.');
        return dot && dot != name && lf_strcaseeq(pattern + 1, dot);
    }
    return 0;
}

const struct lf_topo_server *lf_topology_server_by_fqdn(const struct lf_topology *t, const char *name)
{
    if (!t || !name || !name[0])
        return NULL;
    for (int i = 0; i < t->nservers; i++)
        if (t->servers[i].fqdn[0] && lf_strcaseeq(t->servers[i].fqdn, name))
            return &t->servers[i];
    return NULL;
}

const struct lf_topo_listener *lf_topology_listener_by_addr(const struct lf_topology *t, const struct lf_addr *a)
{
    if (!t || !a->family)
        return NULL;
    for (int i = 0; i < t->nlisteners; i++)
        if (lf_addr_equal(&t->listeners[i].addr, a))
            return &t->listeners[i];
    return NULL;
}

const char *lf_topology_simple_url(const struct lf_topology *t, const char *name)
{
    if (!name || !name[0])
        return NULL;
    if (t) {
        if (t->meet[0] && name_matches(t->meet, name))
            return "meet";
        if (t->dialin[0] && name_matches(t->dialin, name))
            return "dialin";
        if (t->discover[0] && name_matches(t->discover, name))
            return "discover";
        if (t->scheduler[0] && name_matches(t->scheduler, name))
            return "scheduler";
    }
    if ((!t || !t->discover[0]) && lf_strcaseprefix(name, "lyncdiscover.") && name[13])
        return "discover";
    return NULL;
}

const struct lf_topo_server *lf_topology_server_for_name(const struct lf_topology *t, const char *name)
{
    const struct lf_topo_server *s = lf_topology_server_by_fqdn(t, name);
    if (s || !t)
        return s;
    if (!lf_topology_simple_url(t, name))
        return NULL;
    const struct lf_topo_server *fe = NULL;
    for (int i = 0; i < t->nservers; i++) {
        if (t->servers[i].role == LF_ROLE_DIRECTOR)
            return &t->servers[i];
        if (!fe && t->servers[i].role == LF_ROLE_FRONTEND)
            fe = &t->servers[i];
    }
    return fe;
}

const struct lf_topo_listener *lf_topology_listener_for_name(const struct lf_topology *t, const char *name)
{
    if (!t || !name || !name[0])
        return NULL;
    for (int i = 0; i < t->nlisteners; i++)
        for (int k = 0; k < t->listeners[i].nnames; k++)
            if (name_matches(t->listeners[i].names[k], name))
                return &t->listeners[i];
    return NULL;
}
