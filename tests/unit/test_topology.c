/* test_topology.c: the topology file: a good file, every error with its line, printing and lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lyncflow/topology.h"

static const char good[] =
    "# the article's layout: two listeners\n"
    "; another comment\n"
    "\n"
    "[listener public-dir]\n"
    "address = 203.0.113.10:443   # Director and simple URLs\n"
    "names = dirweb.contoso.com, meet.contoso.com,dialin.contoso.com , lyncdiscover.contoso.com\n"
    "\n"
    "[listener public-fe]\n"
    "  address=203.0.113.11:443\n"
    "[listener public-v6]\n"
    "address = [2001:db8::11]:443\n"
    "\n"
    "[server dir01]\n"
    "role = director\n"
    "address = 10.0.1.10:4443\n"
    "fqdn = dirweb.contoso.com\n"
    "[server fe01]\n"
    "role = frontend\n"
    "address = 10.0.1.20:4443\n"
    "fqdn = FEweb.contoso.com\n"
    "[server owa]\n"
    "role = other\n"
    "address = 10.0.1.30:443\n"
    "\n"
    "[simple-urls]\n"
    "meet = meet.contoso.com\n"
    "dialin = dialin.contoso.com\n"
    "discover = lyncdiscover.contoso.com\n";

static char *write_tmp(const char *text)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/lf-topo-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static struct lf_topology topo;

static void test_good_file(void **state)
{
    (void)state;
    char err[512] = "";
    char *path = write_tmp(good);
    assert_int_equal(lf_topology_load(path, &topo, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(topo.nlisteners, 3);
    assert_int_equal(topo.nservers, 3);
    assert_string_equal(topo.listeners[0].name, "public-dir");
    assert_int_equal(topo.listeners[0].nnames, 4);
    assert_string_equal(topo.listeners[0].names[2], "dialin.contoso.com");
    assert_int_equal(topo.listeners[1].addr.port, 443);
    assert_int_equal(topo.listeners[2].addr.family, 6);
    assert_int_equal(topo.servers[0].role, LF_ROLE_DIRECTOR);
    assert_int_equal(topo.servers[1].role, LF_ROLE_FRONTEND);
    assert_int_equal(topo.servers[2].role, LF_ROLE_OTHER);
    assert_string_equal(topo.servers[1].fqdn, "FEweb.contoso.com");
    assert_string_equal(topo.meet, "meet.contoso.com");
    assert_string_equal(topo.discover, "lyncdiscover.contoso.com");
    assert_int_equal(topo.inferred, 0);
    unlink(path);
    free(path);
}

static void test_lookups(void **state)
{
    (void)state;
    char err[512];
    char *path = write_tmp(good);
    assert_int_equal(lf_topology_load(path, &topo, err, sizeof err), 0);
    struct lf_addr a;
    assert_int_equal(lf_addr_parse("10.0.1.20:4443", &a), 0);
    assert_string_equal(lf_topology_server_by_addr(&topo, &a)->name, "fe01");
    a.port = 443;
    assert_null(lf_topology_server_by_addr(&topo, &a));
    assert_int_equal(lf_addr_parse("[2001:db8::11]:443", &a), 0);
    assert_string_equal(lf_topology_listener_by_addr(&topo, &a)->name, "public-v6");
    assert_string_equal(lf_topology_server_by_fqdn(&topo, "feweb.CONTOSO.com")->name, "fe01");
    assert_null(lf_topology_server_by_fqdn(&topo, "meet.contoso.com"));
    assert_string_equal(lf_topology_simple_url(&topo, "Meet.contoso.com"), "meet");
    assert_string_equal(lf_topology_simple_url(&topo, "dialin.contoso.com"), "dialin");
    assert_string_equal(lf_topology_simple_url(&topo, "lyncdiscover.contoso.com"), "discover");
    assert_null(lf_topology_simple_url(&topo, "lyncdiscover.fabrikam.com"));
    assert_null(lf_topology_simple_url(NULL, "feweb.contoso.com"));
    assert_string_equal(lf_topology_simple_url(NULL, "lyncdiscover.fabrikam.com"), "discover");
    /* simple URLs are published to the Director by default */
    assert_string_equal(lf_topology_server_for_name(&topo, "meet.contoso.com")->name, "dir01");
    assert_string_equal(lf_topology_server_for_name(&topo, "feweb.contoso.com")->name, "fe01");
    assert_null(lf_topology_server_for_name(&topo, "www.contoso.com"));
    assert_string_equal(lf_topology_listener_for_name(&topo, "MEET.contoso.com")->name, "public-dir");
    assert_null(lf_topology_listener_for_name(&topo, "feweb.contoso.com"));
    /* without a Director, a simple URL goes to the Front End */
    topo.servers[0].role = LF_ROLE_EDGE;
    assert_string_equal(lf_topology_server_for_name(&topo, "meet.contoso.com")->name, "fe01");
    unlink(path);
    free(path);
}

static void test_print_round_trip(void **state)
{
    (void)state;
    char err[512];
    char *path = write_tmp(good);
    assert_int_equal(lf_topology_load(path, &topo, err, sizeof err), 0);
    char *out = write_tmp("");
    FILE *f = fopen(out, "w");
    lf_topology_print(&topo, f);
    fclose(f);
    static struct lf_topology again;
    assert_int_equal(lf_topology_load(out, &again, err, sizeof err), 0);
    assert_memory_equal(&topo, &again, sizeof topo);

    topo.inferred = 1;
    f = fopen(out, "w");
    lf_topology_print(&topo, f);
    fclose(f);
    f = fopen(out, "r");
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "inferred"));
    unlink(out);
    unlink(path);
    free(out);
    free(path);
}

/* Each bad file and the exact "FILE:LINE: ..." start it must be reported with. */
static const struct {
    const char *text;
    int line;
    const char *what;
} bad[] = {
    {"[listener a]\naddress = 1.2.3.4:443\nport = 443\n", 3, "unknown key 'port'"},
    {"[listner a]\naddress = 1.2.3.4:443\n", 1, "unknown section [listner]"},
    {"address = 1.2.3.4:443\n", 1, "'address' outside any section"},
    {"[listener a]\naddress 1.2.3.4:443\n", 2, "expected 'key = value'"},
    {"[listener a\naddress = 1.2.3.4:443\n", 1, "section header without its closing ']'"},
    {"[listener]\naddress = 1.2.3.4:443\n", 1, "[listener] needs a name"},
    {"[listener a]\naddress = 1.2.3.4\n", 2, "bad address '1.2.3.4'"},
    {"[listener a]\naddress = 1.2.3.400:443\n", 2, "bad address"},
    {"[listener a]\naddress = 1.2.3.4:0\n", 2, "bad address"},
    {"# c\n[listener a]\n\n[server b]\nrole = director\naddress = 10.0.0.1:4443\n", 2, "listener a has no address"},
    {"[server b]\nrole = director\nfqdn = dir.contoso.com\n", 1, "server b has no address"},
    {"[listener x]\naddress = 1.2.3.4:443\n[server b]\naddress = 10.0.0.1:4443\n", 3, "server b has no role"},
    {"[server b]\nrole = proxy\naddress = 10.0.0.1:4443\n", 2, "unknown role 'proxy'"},
    {"[server b]\nrole = Director\n", 2, "unknown role 'Director'"},
    {"[server b]\nrole = director\nrole = frontend\n", 3, "role given twice"},
    {"[server b]\nrole = director\naddress = 10.0.0.1:4443\nfqdn = bad..name\n", 4, "bad fqdn"},
    {"[server b]\nrole = director\naddress = 10.0.0.1:4443\nfqdn =\n", 4, "fqdn has no value"},
    {"[server b]\nrole = director\naddress = 10.0.0.1:4443\n= x\n", 4, "a value without a key"},
    {"[server b]\nrole=director\naddress=10.0.0.1:4443\n[server b]\n", 4, "server b defined twice"},
    {"[listener a]\naddress=1.2.3.4:443\n[listener a]\n", 3, "listener a defined twice"},
    {"[server b]\nrole=director\naddress=10.0.0.1:4443\n[simple-urls]\nmeet = meet.contoso.com\nlync = x.com\n", 6,
     "unknown key 'lync' in [simple-urls]"},
    {"[server b]\nrole=director\naddress=10.0.0.1:4443\n[simple-urls]\nmeet = a b\n", 5, "bad meet name 'a b'"},
    {"[server b]\nrole=director\naddress=10.0.0.1:4443\n[simple-urls x]\n", 4, "[simple-urls] takes no name"},
    {"[listener a]\naddress=1.2.3.4:443\nnames = a.com, ,b.com\n", 3, "bad name '' in names"},
    {"[server b/c]\n", 1, "bad server name 'b/c'"},
    {"# only comments\n\n", 2, "no [listener] or [server] section"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "", want[600];
        char *path = write_tmp(bad[i].text);
        int rc = lf_topology_load(path, &topo, err, sizeof err);
        snprintf(want, sizeof want, "%s:%d: %s", path, bad[i].line, bad[i].what);
        if (rc != -1 || strncmp(err, want, strlen(want)) != 0)
            fail_msg("case %zu: got rc %d '%s', want '%s...'", i, rc, err, want);
        assert_int_equal(topo.nlisteners + topo.nservers, 0);
        unlink(path);
        free(path);
    }
}

static void test_missing_and_binary(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(lf_topology_load("/nonexistent/topo.conf", &topo, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/topo.conf: cannot open topology"));
    char *path = write_tmp("[listener a]\naddress = 1.2.3.4:443\n");
    FILE *f = fopen(path, "a");
    fputs("x = \x01", f);
    fputc(0, f);
    fputs("y\n", f);
    fclose(f);
    assert_int_equal(lf_topology_load(path, &topo, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:3: NUL byte", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_and_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
