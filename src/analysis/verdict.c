/* verdict.c: a sign-in judged from its steps: challenges, failures, recoveries, the phase reached, the verdict.
 *
 * Steps that retry one another (the same service or path on the same server,
 * or the same TLS name) are linked; a 401 the same request or a web ticket
 * answers later is a challenge, the last of an unanswered run a failure. The
 * first failure not recovered makes the verdict failed; a home-pool request
 * that succeeded, complete; otherwise incomplete. A client's activity that
 * is no sign-in is its own kind, with a verdict of its own: a meeting join or
 * a dial-in page visit (only simple-URL and meeting services: complete once
 * one answered), a discovery probe (only lyncdiscover requests, read: complete
 * once one answered). Lock held.
 */
#include <stdio.h>
#include <string.h>

#include "analysis_int.h"

/* Services of a meeting join by a browser or the join launcher (domain.md §3, §4 E). */
static int meeting_service(const char *svc)
{
    static const char *const names[] = {"meet", "lwa", "reach", "scheduler", "collabcontent", "passiveauth"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(svc, names[i]))
            return 1;
    return 0;
}

/* What the client's activity is: a sign-in unless every step is of a meeting join, the dial-in page or a
 * discovery probe. */
static const char *activity_kind(const struct lf_signin *si)
{
    int meeting = 0, dialin = 0, discover = 0, other = 0;
    for (uint32_t i = 0; i < si->nsteps; i++) {
        const char *svc = si->steps[i].service;
        if (meeting_service(svc))
            meeting = 1;
        else if (!strcmp(svc, "dialin"))
            dialin = 1;
        else if (!strcmp(svc, "discover") && si->steps[i].kind == LF_EV_HTTP)
            discover = 1; /* a TLS name alone cannot tell a probe from a sign-in whose requests are not seen */
        else
            other = 1;
    }
    if (other || !si->nsteps)
        return "signin";
    if (meeting)
        return "meeting";
    if (dialin)
        return "dialin";
    return discover ? "discovery" : "signin";
}

int an_phase_rank(const char *phase)
{
    static const char *const names[] = {"", "discover", "webticket", "certificate", "homepool"};
    for (int i = 1; i < 5; i++)
        if (strcmp(phase, names[i]) == 0)
            return i;
    return 0;
}

static const char *phase_name(int r)
{
    static const char *const names[] = {"", "discover", "webticket", "certificate", "homepool"};
    return r >= 0 && r < 5 ? names[r] : "";
}

int an_service_phase(const char *svc)
{
    /* by first letter: discover and autodiscover 1, webticket 2, certprov 3, the home pool's services 4 */
    static const struct {
        const char *name;
        int phase;
    } byletter[][4] = {
        ['a' - 'a'] = {{"autodiscover", 1}, {"abs", 4}, {"autoupdate", 4}},
        ['c' - 'a'] = {{"certprov", 3}, {"collabcontent", 4}, {"conf", 4}},
        ['d' - 'a'] = {{"discover", 1}, {"deviceupdate", 4}},
        ['g' - 'a'] = {{"groupexpansion", 4}},
        ['l' - 'a'] = {{"lwa", 4}, {"lis", 4}},
        ['m' - 'a'] = {{"mcx", 4}},
        ['p' - 'a'] = {{"persistentchat", 4}, {"phoneconferencing", 4}},
        ['r' - 'a'] = {{"rgs", 4}, {"reach", 4}, {"requesthandler", 4}},
        ['u' - 'a'] = {{"ucwa", 4}},
        ['w' - 'a'] = {{"webticket", 2}},
    };
    if (svc[0] < 'a' || svc[0] > 'z')
        return 0;
    for (int i = 0; i < 4 && byletter[svc[0] - 'a'][i].name; i++)
        if (!strcmp(svc, byletter[svc[0] - 'a'][i].name))
            return byletter[svc[0] - 'a'][i].phase;
    return 0;
}

/* Steps that retry one another: the same service (or path, without query) on
 * the same server; TLS: the same name. */
enum { KEY_SERVICE, KEY_PATH, KEY_TLS };

static int key_class(const struct lf_step *s)
{
    return s->kind == LF_EV_HTTP ? (s->service[0] ? KEY_SERVICE : KEY_PATH) : KEY_TLS;
}

static size_t key_text(const struct lf_step *s, const char **text, const char **server)
{
    switch (key_class(s)) {
    case KEY_SERVICE:
        *text = s->service;
        *server = s->server;
        return strlen(s->service);
    case KEY_PATH:
        *text = s->what;
        *server = s->server;
        return strcspn(s->what, "?");
    }
    *text = s->host;
    *server = "";
    return strnlen(s->host, 150);
}

static uint64_t step_hash(const struct lf_step *s)
{
    const char *text, *server;
    size_t n = key_text(s, &text, &server);
    uint8_t sep = 0xff;
    uint64_t h = lf_fnv(LF_FNV_SEED ^ (uint64_t)key_class(s), text, n);
    return an_fnv(lf_fnv(h, &sep, 1), server);
}

static int step_same(const struct lf_step *x, const struct lf_step *y)
{
    if (key_class(x) != key_class(y))
        return 0;
    const char *tx, *sx, *ty, *sy;
    size_t nx = key_text(x, &tx, &sx), ny = key_text(y, &ty, &sy);
    return nx == ny && memcmp(tx, ty, nx) == 0 && strcmp(sx, sy) == 0;
}

static int step_success(const struct lf_step *s)
{
    if (s->kind == LF_EV_HTTP)
        return s->status >= 100 && s->status < 400;
    return !s->failed;
}

/* The failure of one step taken alone (not 401), "" when none. */
static const char *step_failure(const struct lf_step *s)
{
    return s->failed && s->reason[0] ? s->reason : "";
}

/* Recomputes challenge/failed marks on 401s, recovered, the phase reached and
 * the verdict. reached: per model server, whether anything reached it; back
 * legs seen at all: any_back. */
void an_signin_eval(struct lf_analysis *an, struct lf_signin *si)
{
    int nsteps = (int)si->nsteps;
    int max_phase = 0, home_ok = 0;
    int first_bad = -1;
    const char *first_reason = "";
    /* each step's previous and next retry (step_same), through a table of the latest step per key */
    static int prev_same[LF_MODEL_MAX_STEPS], next_same[LF_MODEL_MAX_STEPS], run401[LF_MODEL_MAX_STEPS];
    static int latest[2 * LF_MODEL_MAX_STEPS];
    static uint64_t kh[LF_MODEL_MAX_STEPS];
    static uint8_t later_ok[LF_MODEL_MAX_STEPS], later_ticket[LF_MODEL_MAX_STEPS];
    /* at least twice as many slots as steps, a power of two: what is found does not depend on the size */
    size_t nslots = 16;
    while (nslots < 2 * (size_t)nsteps && nslots < sizeof latest / sizeof latest[0])
        nslots *= 2;
    for (size_t k = 0; k < nslots; k++)
        latest[k] = -1;
    for (int i = 0; i < nsteps; i++) {
        kh[i] = step_hash(&si->steps[i]);
        size_t slot = kh[i] & (nslots - 1);
        while (latest[slot] >= 0 && !(kh[latest[slot]] == kh[i] && step_same(&si->steps[latest[slot]], &si->steps[i])))
            slot = (slot + 1) & (nslots - 1);
        prev_same[i] = latest[slot];
        next_same[i] = -1;
        if (prev_same[i] >= 0)
            next_same[prev_same[i]] = i;
        latest[slot] = i;
        /* 401s in a row of this request, this one included */
        int p = prev_same[i];
        run401[i] = si->steps[i].status == 401 ? 1 + (p >= 0 && si->steps[p].status == 401 ? run401[p] : 0) : 0;
    }
    int ticket = 0;
    for (int i = nsteps - 1; i >= 0; i--) {
        struct lf_step *s = &si->steps[i];
        /* roles of servers not in the topology file may have been learnt since */
        int srv = s->server[0] ? an_find_server_name(&an->model, s->server) : -1;
        if (srv >= 0 && !an->model.servers[srv].configured)
            s->role = an->model.servers[srv].role;
        later_ticket[i] = (uint8_t)ticket;
        if (s->kind == LF_EV_HTTP && !strcmp(s->service, "webticket") && s->status >= 200 && s->status < 300)
            ticket = 1;
        /* a retry of this request succeeds later */
        int n = next_same[i];
        later_ok[i] = (uint8_t)(n >= 0 && (step_success(&si->steps[n]) || later_ok[n]));
    }
    int director_seen = 0, loop = 0;
    for (int i = 0; i < nsteps; i++) {
        struct lf_step *s = &si->steps[i];
        if (s->role == LF_ROLE_DIRECTOR)
            director_seen = 1;
        int ph = s->kind == LF_EV_HTTP ? an_service_phase(s->service) : 0;
        if (s->kind == LF_EV_TLS) {
            if (!strcmp(s->service, "discover"))
                ph = 1;
            else if (s->service[0])
                ph = 0; /* meet, dialin: a meeting join, no sign-in phase */
            else if (s->role == LF_ROLE_DIRECTOR)
                ph = 2;
            else if (s->role == LF_ROLE_FRONTEND)
                ph = 4;
        }
        if (ph == 2 && s->role == LF_ROLE_FRONTEND && director_seen)
            ph = 4;
        s->phase = (uint8_t)ph;
        if (ph > max_phase)
            max_phase = ph;
        /* 401: a challenge when the same service succeeds later */
        if (s->kind == LF_EV_HTTP && s->status == 401) {
            /* answered later, or the client went and got a web ticket after it */
            s->challenge = later_ok[i] || (later_ticket[i] && strcmp(s->service, "webticket") != 0);
            s->failed = 0;
            s->recovered = 0;
            if (!s->challenge) {
                /* the last 401 of its run fails; count the run */
                int run = run401[i];
                int last = next_same[i] < 0 || si->steps[next_same[i]].status != 401;
                if (last) {
                    s->failed = 1;
                    if (run >= AUTH_LOOP)
                        snprintf(s->reason, sizeof s->reason, "401 loop: %d responses 401 on %.48s", run,
                                 s->service[0] ? s->service : s->what);
                    else if (s->win32_status == 2148074252u || s->ntlm_type == 3)
                        LF_SET(s->reason, "401 logon denied (wrong user name or password)");
                    else if (s->win32_status == 2148074248u)
                        LF_SET(s->reason, "401 invalid token (NTLM legs split)");
                    else
                        LF_SET(s->reason, "401 unauthorized, never answered with a ticket");
                } else {
                    s->challenge = 1;
                }
            }
        } else if (s->failed) {
            s->recovered = later_ok[i];
        }
        /* front TLS connections to a server nothing reached, in a capture that shows back legs */
        if (s->kind == LF_EV_TLS && !s->failed && !s->stitched && an->back_seen && s->server[0]) {
            int srv = an_find_server_name(&an->model, s->server);
            if (srv >= 0 && !an->server_reached[srv] && !s->from_iis) {
                s->failed = 1;
                snprintf(s->reason, sizeof s->reason, "not forwarded: nothing reached %s", s->server);
            }
        }
        if (s->failed && !s->recovered && first_bad < 0) {
            first_bad = i;
            first_reason = step_failure(s);
        }
        if (ph == 4 && step_success(s) && !s->failed)
            home_ok = 1;
        if (s->failed && strncmp(s->reason, "401 loop", 8) == 0)
            loop = 1;
    }
    si->loop_401 = (uint8_t)loop;
    LF_SET(si->phase, phase_name(max_phase));
    LF_SET(si->kind, activity_kind(si));
    if (strcmp(si->kind, "signin") != 0) {
        /* a meeting join, a dial-in visit or a discovery probe: done once a page of it answered */
        int answered = 0;
        for (int i = 0; i < nsteps; i++)
            answered |= !si->steps[i].failed && step_success(&si->steps[i]);
        if (first_bad < 0) {
            si->verdict = answered ? LF_VERDICT_COMPLETE : LF_VERDICT_INCOMPLETE;
            si->failed_step = 0;
            si->reason[0] = 0;
            if (!answered) {
                size_t len = 0;
                an_append(si->reason, sizeof si->reason, &len, "no answer to the ", 17);
                const char *what = !strcmp(si->kind, "discovery") ? "discovery request" : !strcmp(si->kind, "dialin")
                                   ? "dial-in page" : "meeting page";
                an_append(si->reason, sizeof si->reason, &len, what, strlen(what));
            }
            return;
        }
    }
    if (first_bad >= 0) {
        si->verdict = LF_VERDICT_FAILED;
        si->failed_step = (uint32_t)first_bad + 1;
        char num[16];
        size_t len = 0;
        int n = first_bad + 1, k = (int)sizeof num;
        do {
            num[--k] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        an_append(si->reason, sizeof si->reason, &len, "step ", 5);
        an_append(si->reason, sizeof si->reason, &len, num + k, sizeof num - (size_t)k);
        an_append(si->reason, sizeof si->reason, &len, ": ", 2);
        an_append(si->reason, sizeof si->reason, &len, first_reason, strlen(first_reason));
    } else if (home_ok) {
        si->verdict = LF_VERDICT_COMPLETE;
        si->failed_step = 0;
        si->reason[0] = 0;
    } else {
        si->verdict = LF_VERDICT_INCOMPLETE;
        si->failed_step = 0;
        size_t len = 0;
        an_append(si->reason, sizeof si->reason, &len, "no home-pool request", 20);
        if (max_phase) {
            const char *ph = phase_name(max_phase);
            an_append(si->reason, sizeof si->reason, &len, " after ", 7);
            an_append(si->reason, sizeof si->reason, &len, ph, strlen(ph));
        }
    }
}
