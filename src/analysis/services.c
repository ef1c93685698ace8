/* services.c: which Lync web service a request path is for (domain.md §2), case-insensitive on the first segment. */
#include <string.h>

#include "lyncflow/analysis.h"
#include "lyncflow/util.h"

/* First path segment (exact, or a prefix when prefix is set) -> service. */
static const struct {
    const char *segment;
    const char *service;
    int prefix;
} segments[] = {
    {"certprov", "certprov", 0},
    {"webticket", "webticket", 0},
    {"abs", "abs", 0},
    {"groupexpansion", "groupexpansion", 0},
    {"rgsclients", "rgs", 0},
    {"autodiscover", "autodiscover", 0},
    {"ucwa", "ucwa", 0},
    {"mcx", "mcx", 0},
    {"reach", "reach", 0},
    {"lwa", "lwa", 0},
    {"meet", "meet", 0},
    {"dialin", "dialin", 0},
    {"scheduler", "scheduler", 0},
    {"passiveauth", "passiveauth", 0},
    {"persistentchat", "persistentchat", 0},
    {"hybridconfig", "hybridconfig", 0},
    {"collabcontent", "collabcontent", 0},
    {"datacollabweb", "collabcontent", 0},
    {"requesthandlerext", "requesthandler", 0},
    {"requesthandler", "requesthandler", 0},
    {"deviceupdatefiles", "deviceupdate", 1},
    {"autoupdate", "autoupdate", 0},
    {"conf", "conf", 0},
    {"phoneconferencing", "phoneconferencing", 0},
    {"locationinformation", "lis", 0},
    {"fonts", "fonts", 0},
};

/* Host-name prefixes of the simple URLs, for paths that name no service. */
static const struct {
    const char *prefix;
    const char *service;
} hosts[] = {
    {"lyncdiscover.", "discover"},
    {"lyncdiscoverinternal.", "discover"},
    {"meet.", "meet"},
    {"dialin.", "dialin"},
    {"scheduler.", "scheduler"},
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

const char *lf_service_classify(const char *uri, const char *host)
{
    if (!uri)
        uri = "";
    /* absolute-form request target: skip scheme and authority */
    const char *p = strstr(uri, "://");
    if (p && strchr(uri, '/') > p) {
        p = strchr(p + 3, '/');
        uri = p ? p : "/";
    }
    while (*uri == '/')
        uri++;
    size_t n = strcspn(uri, "/?#;");
    if (n == 3 && lf_strcaseprefix(uri, "etc") && lf_strcaseprefix(uri + 3, "/place/null"))
        return "collabcontent";
    for (size_t i = 0; n && i < sizeof segments / sizeof segments[0]; i++) {
        size_t sl = strlen(segments[i].segment);
        if (n < sl || (!segments[i].prefix && n != sl))
            continue;
        size_t k = 0;
        while (k < sl && lower((unsigned char)uri[k]) == segments[i].segment[k])
            k++;
        if (k == sl)
            return segments[i].service;
    }
    if (host)
        for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
            if (lf_strcaseprefix(host, hosts[i].prefix) && host[strlen(hosts[i].prefix)])
                return hosts[i].service;
    return "";
}
