#!/usr/bin/env python3
"""lab.py: makes samples/<scenario>/ with nginx as the reverse proxy, the IIS stand-in behind it, curl clients
and tcpdump on lo (loopback addresses only; see samples/README.md for the addressing).

    python3 samples/lab/lab.py [--keep] [--out DIR] [SCENARIO...]

Per scenario: a CA-signed listener certificate (its SAN per scenario), an nginx configuration in a temp
directory, nginx in the foreground, iis_standin.py for the Director's and Front End's sites, tcpdump, the
clients of driver.py; then capture.pcap, keylog.txt (curl's and the servers' TLS secrets), topology.conf,
client.ndjson and, for tls-rsa, server-key.pem. Every process it starts is stopped, also on failure.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402
from driver import (UA_ANDROID, UA_BROWSER, UA_IPHONE, UA_LYNC2010, UA_LYNC2013, UA_SFB,  # noqa: E402
                    Client, Lab)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

DIR, FE = "dirweb.contoso.com", "feweb.contoso.com"
MEET, DIALIN, DISCOVER = "meet.contoso.com", "dialin.contoso.com", "lyncdiscover.contoso.com"
ALL = [DIR, FE, MEET, DIALIN, DISCOVER]
L1, L2, L6 = "127.0.0.10", "127.0.0.11", "::1"
PROXY_BACK = "127.0.0.2"
SERVERS = {
    "dir01": {"role": "director", "ip": "127.0.1.10", "fqdn": DIR, "server_fqdn": "dir01.contoso.local",
              "internal_fqdn": "dirpool.contoso.local"},
    "fe01": {"role": "frontend", "ip": "127.0.1.11", "fqdn": FE, "server_fqdn": "fe01.contoso.local",
             "internal_fqdn": "fepool.contoso.local"},
}
PASSWORD = "P@ssw0rd1"


def two_listeners(**kw):
    return [dict(name="listener-dir", addr=L1, san=[DIR, MEET, DIALIN, DISCOVER],
                 names=[DIR, MEET, DIALIN, DISCOVER], **kw),
            dict(name="listener-fe", addr=L2, san=[FE], names=[FE], **kw)]


def one_listener(addr=L1, san=ALL, **kw):
    return [dict(name="listener-all", addr=addr, san=list(san), names=list(ALL), **kw)]


ROUTES = {DIR: "dir01", MEET: "dir01", DIALIN: "dir01", DISCOVER: "dir01", FE: "fe01"}


def clients(v6=False, eight=False):
    """(name, sequence, source, user agent, user, password) of the clients of a scenario."""
    src = (lambda n: "::1") if v6 else (lambda n: "127.0.2.%d" % n)
    out = [("c1-lync2010-alice", "A", src(1), UA_LYNC2010, "alice", PASSWORD),
           ("c2-lync2013-bob", "B", src(2), UA_LYNC2013, "bob", PASSWORD),
           ("c3-iphone-carol", "C", src(3), UA_IPHONE, "carol", PASSWORD),
           ("c4-browser-guest", "E", src(4), UA_BROWSER, "alice", PASSWORD),
           ("c5-sfb-dave", "B", src(5), UA_SFB, "dave", PASSWORD),
           ("c6-android-erin", "C", src(6), UA_ANDROID, "erin", PASSWORD)]
    if eight:
        out += [("c7-lync2010-bob", "A", src(7), UA_LYNC2010, "bob", PASSWORD),
                ("c8-lync2013-carol", "B", src(8), UA_LYNC2013, "carol", PASSWORD)]
    return out


SCENARIOS = {
    "healthy-two-listeners": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two",
        about="The article's layout: the Director's name and the simple URLs on one listener, the Front End's "
              "on another, each with its own certificate; everything works."),
    "healthy-one-listener": dict(
        listeners=one_listener(), routes=ROUTES, layout="one",
        about="One listener and one SAN certificate for every name; everything is published and works."),
    "director-unpublished": dict(
        listeners=two_listeners(), routes=ROUTES, unpublished=[DIR], layout="two",
        about="No publishing rule for the Director's external FQDN: the listener's default server answers "
              "404 to dirweb.contoso.com, so CertProv and WebTicket on the Director fail."),
    "frontend-unpublished": dict(
        listeners=two_listeners(), routes=ROUTES, unpublished=[FE], layout="two", default_action={L2: 444},
        about="No publishing rule for the Front End's external FQDN: its listener's default server closes "
              "the connection without an answer (nginx 444), so everything on feweb.contoso.com fails."),
    "simple-urls-to-frontend": dict(
        listeners=two_listeners(), routes=dict(ROUTES, **{MEET: "fe01", DIALIN: "fe01"}), layout="two",
        about="meet and dialin are proxied to the Front End instead of the Director (X-MS-Server-Fqdn "
              "fe01.contoso.local on the meeting join)."),
    "bridge-internal-443": dict(
        listeners=two_listeners(), routes=ROUTES, backend_port=443, layout="two",
        about="The proxy connects to the servers' internal web site on 443 instead of the external one on "
              "4443: Autodiscover answers AccessLocation=\"Internal\" with internal URLs the clients cannot "
              "reach."),
    "san-missing": dict(
        listeners=one_listener(san=[DIR, MEET, DIALIN, DISCOVER], tls="tls12"), routes=ROUTES, layout="one",
        about="One listener whose certificate lacks feweb.contoso.com: curl completes the handshake, finds "
              "the name missing, sends close_notify and closes without a request. TLS 1.2, so the "
              "certificate is readable without keys."),
    "tls-rsa": dict(
        listeners=one_listener(tls="rsa"), routes=ROUTES, layout="one", rsa_key=True,
        curl_extra=["--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"],
        about="One listener with TLS 1.2 and RSA key exchange (AES128-GCM-SHA256): the client leg decrypts "
              "with server-key.pem alone; keylog.txt has the secrets too."),
    "pooled-nginx": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="nginx", own_source=True, eight=True,
        about="nginx with upstream keepalive pools, from its own source address, eight clients at once: the "
              "back leg's connections carry requests of several clients; keylog_server.txt holds only the "
              "servers' secrets, as an admin on the proxy host has them."),
    "pooled-nginx-http": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="nginx", own_source=True, eight=True,
        backend_port=8080,
        about="pooled-nginx with the back leg in plain HTTP to the external sites' port 8080: without any "
              "secret, the proxy's requests are readable and the clients' are not."),
    "pooled-haproxy-http": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="haproxy", own_source=True, eight=True,
        backend_port=8080, about="pooled-haproxy with the back leg in plain HTTP to the external sites' port 8080."),
    "pooled-apache-http": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="apache", own_source=True, eight=True,
        backend_port=8080, about="pooled-apache with the back leg in plain HTTP to the external sites' port 8080."),
    "pooled-haproxy": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="haproxy", own_source=True, eight=True,
        about="HAProxy (mode http, http-reuse always, TLS to the servers) from its own source address, eight "
              "clients at once; keylog_server.txt holds only the servers' secrets."),
    "pooled-apache": dict(
        listeners=two_listeners(), routes=ROUTES, layout="two", proxy="apache", own_source=True, eight=True,
        about="Apache httpd (mod_proxy_http, mod_ssl, connection reuse on) from its own source address, eight "
              "clients at once; keylog_server.txt holds only the servers' secrets."),
    "ipv6-listener": dict(
        listeners=one_listener(addr=L6), routes=ROUTES, layout="one", v6=True,
        about="One listener on [::1]:443 for every name; the clients, all on ::1, run one after another; the "
              "proxy's back leg stays IPv4."),
}


class Procs:
    """The processes the lab started, stopped in reverse order (also on failure)."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append((name, p))
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for name, p in reversed(self.procs):
            self.stop(p)
        self.procs = []


def run(argv, **kw):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


class CA:
    def __init__(self, work):
        self.work = work
        self.key = os.path.join(work, "ca-key.pem")
        self.cert = os.path.join(work, "ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert,
             "-days", "3650", "-subj", "/O=Contoso Lab/CN=Contoso Lab Root CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def issue(self, name, cn, sans):
        key = os.path.join(self.work, name + "-key.pem")
        csr = os.path.join(self.work, name + ".csr")
        crt = os.path.join(self.work, name + ".pem")
        ext = os.path.join(self.work, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n"
                    % ",".join("DNS:" + s for s in sans))
        run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj",
             "/O=Contoso/CN=" + cn])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
             "-days", "825", "-sha256", "-extfile", ext, "-out", crt])
        return crt, key


def listen_addr(addr, port=443):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


def farm(name):
    return name.split(".")[0] + "_farm"


def nginx_conf(sc, work, ca, certs, backend_port):
    tmp = os.path.join(work, "nginx-tmp")
    os.makedirs(tmp, exist_ok=True)
    unpublished = set(sc.get("unpublished", []))
    out = ["# nginx for the lab: generated by samples/lab/lab.py", "user root;", "worker_processes 1;",
           "daemon off;", "pid %s/nginx.pid;" % work, "error_log %s/nginx-error.log info;" % work,
           "events { worker_connections 512; }", "http {",
           "    log_format lab '$remote_addr:$remote_port sni=$ssl_server_name host=$http_host \"$request\" "
           "$status up=$upstream_addr';",
           "    access_log %s/nginx-access.log lab;" % work]
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        out.append("    %s_temp_path %s/%s;" % (d, tmp, d))
    out += ["    proxy_http_version 1.1;", "    proxy_set_header Connection \"\";",
            "    proxy_set_header Host $http_host;", "    proxy_pass_header Server;",
            "    proxy_read_timeout 960s;", "    proxy_send_timeout 960s;",
            ("" if sc.get("own_source") else "    proxy_bind %s;" % PROXY_BACK), "    proxy_ssl_server_name on;",
            "    proxy_ssl_verify on;", "    proxy_ssl_trusted_certificate %s;" % ca.cert,
            "    proxy_ssl_protocols TLSv1.2 TLSv1.3;"]
    # One server farm per published name, as ARR is set up: a pooled back-leg connection serves one name only.
    for name in ALL:
        srv = SERVERS[sc["routes"][name]]
        out += ["    upstream %s { server %s:%d; keepalive 16; }" % (farm(name), srv["ip"], backend_port)]
    defaults = sc.get("default_action", {})
    for lst in sc["listeners"]:
        crt, key = certs[lst["name"]]
        tls = ["        ssl_certificate %s;" % crt, "        ssl_certificate_key %s;" % key]
        if lst.get("tls") == "rsa":
            tls += ["        ssl_protocols TLSv1.2;", "        ssl_ciphers AES128-GCM-SHA256;",
                    "        ssl_prefer_server_ciphers on;"]
        elif lst.get("tls") == "tls12":
            tls += ["        ssl_protocols TLSv1.2;"]
        else:
            tls += ["        ssl_protocols TLSv1.2 TLSv1.3;"]
        la = listen_addr(lst["addr"])
        out += ["    server {", "        listen %s ssl default_server;" % la, "        server_name _;"] + tls + \
               ["        return %d;" % defaults.get(lst["addr"], 404), "    }"]
        for name in lst["names"]:
            if name in unpublished:
                continue
            out += ["    server {", "        listen %s ssl;" % la, "        server_name %s;" % name] + tls + \
                   ["        location / {", "            proxy_pass %s://%s;" % (
                       "http" if backend_port == 8080 else "https", farm(name)),
                    "            proxy_ssl_name $host;", "        }", "    }"]
    out.append("}")
    return "\n".join(out) + "\n"


def pem_bundle(work, name, crt, key):
    """HAProxy takes the certificate and its key in one file."""
    path = os.path.join(work, name + "-bundle.pem")
    with open(path, "w") as out:
        for f in (crt, key):
            with open(f) as src:
                out.write(src.read())
    return path


def haproxy_conf(sc, work, ca, certs, backend_port):
    out = ["# HAProxy for the lab: generated by samples/lab/lab.py", "global", "    maxconn 512",
           "    pidfile %s/haproxy.pid" % work, "defaults", "    mode http", "    timeout connect 5s",
           "    timeout client 960s", "    timeout server 960s", "    http-reuse always",
           "    log stdout format raw local0", "    option httplog"]
    for lst in sc["listeners"]:
        crt, key = certs[lst["name"]]
        tls = " ssl-min-ver TLSv1.2" if lst.get("tls") != "tls12" else " ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2"
        out += ["frontend %s" % lst["name"], "    bind %s ssl crt %s%s" % (
            listen_addr(lst["addr"]), pem_bundle(work, lst["name"], crt, key), tls)]
        for name in lst["names"]:
            out.append("    use_backend be_%s if { ssl_fc_sni -i %s }" % (sc["routes"][name], name))
    for sname, s in SERVERS.items():
        tls = "" if backend_port == 8080 else " ssl verify required ca-file %s sni req.hdr(host),field(1,:)" % ca.cert
        out += ["backend be_%s" % sname, "    server %s %s:%d%s pool-max-conn 16" % (sname, s["ip"], backend_port, tls)]
    return "\n".join(out) + "\n"


APACHE_MODULES = ["mpm_event", "authz_core", "socache_shmcb", "ssl", "proxy", "proxy_http",
                  "headers"]


def apache_conf(sc, work, ca, certs, backend_port):
    out = ["# Apache httpd for the lab: generated by samples/lab/lab.py"]
    out += ["LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so" % (m, m) for m in APACHE_MODULES]
    out += ["ServerRoot %s" % work, "PidFile %s/apache.pid" % work, "ErrorLog %s/apache-error.log" % work,
            "LogFormat \"%a:%{remote}p %{SSL_TLS_SNI}x %h \\\"%r\\\" %>s\" lab",
            "CustomLog %s/apache-access.log lab" % work, "User www-data", "Group www-data", "ServerName lab",
            "SSLSessionCache shmcb:%s/ssl_scache(512000)" % work, "Mutex file:%s default" % work,
            "SSLProxyEngine on", "SSLProxyVerify require", "SSLProxyCACertificateFile %s" % ca.cert,
            "SSLProxyCheckPeerName off", "ProxyPreserveHost On", "ProxyTimeout 960", "KeepAlive On"]
    for lst in sc["listeners"]:
        out.append("Listen %s https" % listen_addr(lst["addr"]))
    for lst in sc["listeners"]:
        crt, key = certs[lst["name"]]
        by_server = {}
        for name in lst["names"]:
            by_server.setdefault(sc["routes"][name], []).append(name)
        for sname, names in by_server.items():
            s = SERVERS[sname]
            out += ["<VirtualHost %s>" % listen_addr(lst["addr"]), "    ServerName %s" % names[0]]
            if names[1:]:
                out.append("    ServerAlias %s" % " ".join(names[1:]))
            out += ["    SSLEngine on", "    SSLCertificateFile %s" % crt, "    SSLCertificateKeyFile %s" % key,
                    "    ProxyPass / %s://%s:%d/ enablereuse=on keepalive=On"
                    % ("http" if backend_port == 8080 else "https", s["ip"], backend_port),
                    "</VirtualHost>"]
    return "\n".join(out) + "\n"


def topology(name, sc):
    """The intended deployment: the same file for every scenario of one layout."""
    lines = ["# samples/%s: %s" % (name, sc["about"]),
             "# Written by samples/lab/lab.py. It describes the intended publishing; the scenario's fault, if any,",
             "# is in the proxy's configuration, not here.",
             "# Reverse proxy: %s; its back leg leaves from %s to the servers' %s site."
             % (sc.get("proxy", "nginx"), "its own address" if sc.get("own_source") else PROXY_BACK + " (proxy_bind)",
                {443: "internal :443", 8080: "external :8080 (plain HTTP)"}.get(sc.get("backend_port", 4443),
                                                                                 "external :4443")),
             "# Clients: curl from %s; user agents of Lync 2010, Lync 2013, Skype for Business, iPhone and "
             "Android Lync, a browser." % ("::1" if sc.get("v6") else "127.0.2.1-127.0.2.%d"
                                           % len(clients(eight=sc.get("eight", False)))),
             ""]
    for lst in sc["listeners"]:
        lines += ["[listener %s]" % lst["name"], "address = %s" % listen_addr(lst["addr"]),
                  "names = %s" % ", ".join(lst["names"]), ""]
    for sname, s in SERVERS.items():
        lines += ["# %s: X-MS-Server-Fqdn %s" % (sname, s["server_fqdn"]), "[server %s]" % sname,
                  "role = %s" % s["role"],
                  "address = %s:%d" % (s["ip"], 8080 if sc.get("backend_port") == 8080 else 4443),
                  "fqdn = %s" % s["fqdn"], ""]
    lines += ["[simple-urls]", "meet = %s" % MEET, "dialin = %s" % DIALIN, "discover = %s" % DISCOVER]
    return "\n".join(lines) + "\n"


def wait_for(path_or_fn, timeout=10, what="ready"):
    end = time.time() + timeout
    while time.time() < end:
        if (path_or_fn() if callable(path_or_fn) else os.path.exists(path_or_fn)):
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def lab_ports(sc, backend_port):
    """The (address, port) pairs the scenario listens on."""
    out = [(l["addr"], 443) for l in sc["listeners"]]
    for s in SERVERS.values():
        out += [(s["ip"], 4443), (s["ip"], 443)]
    return out


def port_open(addr, port):
    import socket
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((addr, port)) == 0


IIS_LOGS = False


def make_scenario(name, sc, ca, work, outdir, procs):
    work = os.path.join(work, name)
    os.makedirs(work)
    backend_port = sc.get("backend_port", 4443)
    certs = {}
    for lst in sc["listeners"]:
        certs[lst["name"]] = ca.issue(name + "-" + lst["name"], lst["san"][0], lst["san"])
    # The servers' own certificates: the pool's names, the simple URLs, and the internal names.
    sites = []
    keylogs = []
    for sname, s in SERVERS.items():
        crt, key = ca.issue(name + "-" + sname, s["server_fqdn"],
                            [s["server_fqdn"], s["internal_fqdn"], s["fqdn"], MEET, DIALIN, DISCOVER])
        ports = ((4443, "External", s["fqdn"]), (443, "Internal", s["internal_fqdn"]))
        if backend_port == 8080:
            ports += ((8080, "External", s["fqdn"]),)
        for port, access, fqdn in ports:
            kl = os.path.join(work, "keylog-%s-%d.txt" % (sname, port))
            keylogs.append(kl)
            sites.append("--site")
            plain = port == 8080
            sites.append(",".join([sname + "-" + access.lower() + ("-http" if plain else ""), s["role"], s["ip"],
                                   str(port), "-" if plain else crt, "-" if plain else key, s["server_fqdn"], fqdn,
                                   access, kl]))
    busy = [listen_addr(a, p) for a, p in lab_ports(sc, backend_port) if port_open(a, p)]
    if busy:
        raise RuntimeError("something already listens on %s" % ", ".join(busy))
    ready = os.path.join(work, "standin.ready")
    standin_log = open(os.path.join(work, "standin.log"), "w")
    standin = procs.start("standin", [sys.executable, os.path.join(HERE, "iis_standin.py")] + sites +
                          ["--home-pool", FE, "--internal-home-pool", SERVERS["fe01"]["internal_fqdn"],
                           "--secret", "lab-" + name, "--ready", ready] +
                          (["--w3c-dir", work] if IIS_LOGS else []), stderr=standin_log)
    wait_for(lambda: os.path.exists(ready) or standin.poll() is not None, what="iis_standin")
    if standin.poll() is not None:
        raise RuntimeError("iis_standin exited; see %s" % standin_log.name)

    kind = sc.get("proxy", "nginx")
    if kind == "nginx":
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(sc, work, ca, certs, backend_port))
        run(["nginx", "-t", "-q", "-c", conf, "-p", work])
        argv = ["nginx", "-c", conf, "-p", work]
    elif kind == "haproxy":
        conf = os.path.join(work, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write(haproxy_conf(sc, work, ca, certs, backend_port))
        run(["haproxy", "-c", "-q", "-f", conf])
        argv = ["haproxy", "-db", "-f", conf]
    else:
        conf = os.path.join(work, "apache.conf")
        with open(conf, "w") as f:
            f.write(apache_conf(sc, work, ca, certs, backend_port))
        os.chmod(work, 0o755)
        run(["apache2", "-t", "-f", conf])
        argv = ["apache2", "-f", conf, "-DFOREGROUND"]
    nginx = procs.start(kind, argv, stdout=open(os.path.join(work, kind + ".out"), "w"),
                        stderr=subprocess.STDOUT)
    # every listener bound
    wait_for(lambda: all(port_open(l["addr"], 443) for l in sc["listeners"]) or nginx.poll() is not None,
             what=kind)
    if nginx.poll() is not None:
        raise RuntimeError("%s exited; see %s/%s.out" % (kind, work, kind))

    hosts = [l["addr"] for l in sc["listeners"] if ":" not in l["addr"]]
    hosts += [s["ip"] for s in SERVERS.values()]
    filt = "tcp and (%s)" % " or ".join("host " + h for h in hosts)
    if sc.get("v6"):
        filt = "(%s) or (ip6 and host ::1 and tcp port 443)" % filt
    pcap = os.path.join(work, "capture.pcap")
    tcpdump = procs.start("tcpdump", ["tcpdump", "-i", "lo", "-n", "-s", "0", "-U", "-w", pcap, filt],
                          stderr=subprocess.PIPE)
    line = tcpdump.stderr.readline().decode()
    if "listening on" not in line:
        raise RuntimeError("tcpdump: " + line.strip())
    time.sleep(0.3)

    # Names resolve to the listener that carries them (also when no rule publishes them there).
    resolve = {}
    for lst in sc["listeners"]:
        for n in lst["names"]:
            resolve[n] = lst["addr"]
    names = {"director": DIR, "frontend": FE, "meet": MEET, "dialin": DIALIN, "discover": DISCOVER}
    lab = Lab(work, ca.cert, resolve, names, curl_extra=sc.get("curl_extra", ()))
    cl = [Client(lab, n, seq, src, ua, user, pw, delay=0.15 * i, seed=zlib.crc32((name + n).encode()))
          for i, (n, seq, src, ua, user, pw) in enumerate(clients(sc.get("v6", False), sc.get("eight", False)))]
    if sc.get("v6"):
        # One source address for every client: one at a time, so that each sign-in stands apart.
        for c in cl:
            c.delay = 0
            c.start()
            c.join(180)
            time.sleep(0.5)
    else:
        for c in cl:
            c.start()
        for c in cl:
            c.join(180)
    if lab.errors:
        raise RuntimeError("; ".join(lab.errors))
    for what, p in ((kind, nginx), ("iis_standin", standin), ("tcpdump", tcpdump)):
        if p.poll() is not None:
            raise RuntimeError("%s exited during the run (status %s); see %s" % (what, p.returncode, work))

    time.sleep(0.3)
    procs.stop(nginx, signal.SIGQUIT if kind == "nginx" else signal.SIGTERM)
    procs.stop(standin)
    time.sleep(0.3)
    procs.stop(tcpdump, signal.SIGINT)

    os.makedirs(outdir, exist_ok=True)
    for f in ("capture.pcap", "keylog.txt", "topology.conf", "client.ndjson", "server-key.pem"):
        if os.path.exists(os.path.join(outdir, f)):
            os.unlink(os.path.join(outdir, f))
    shutil.copyfile(pcap, os.path.join(outdir, "capture.pcap"))
    with open(os.path.join(outdir, "keylog.txt"), "w") as out:
        out.write("# TLS secrets (NSS key log format): curl's for the client leg, then the servers' for the "
                  "proxy's back leg\n")
        for kl in lab.keylogs + keylogs:
            if os.path.exists(kl):
                with open(kl) as f:
                    for line in f:
                        if line.strip() and not line.startswith("#"):
                            out.write(line)
    with open(os.path.join(outdir, "topology.conf"), "w") as f:
        f.write(topology(name, sc))
    driver.write_ndjson(lab.records, os.path.join(outdir, "client.ndjson"))
    if IIS_LOGS:
        # The external sites' W3C logs (W3SVC34578), one per server, as IIS wrote them during the run.
        os.makedirs(os.path.join(outdir, "iis"), exist_ok=True)
        for sname in SERVERS:
            shutil.copyfile(os.path.join(work, sname + "-external.log"), os.path.join(outdir, "iis", sname + ".log"))
    if sc.get("own_source"):
        # what an admin on the proxy host has: the servers' secrets, not the clients'
        with open(os.path.join(outdir, "keylog_server.txt"), "w") as out:
            out.write("# TLS secrets of the servers' sites only (NSS key log format): the proxy's back leg\n")
            for kl in keylogs:
                if os.path.exists(kl):
                    with open(kl) as f:
                        out.writelines(l for l in f if l.strip() and not l.startswith("#"))
    if sc.get("rsa_key"):
        shutil.copyfile(certs[sc["listeners"][0]["name"]][1], os.path.join(outdir, "server-key.pem"))
    logs = {"nginx": "nginx-access.log", "haproxy": "haproxy.out", "apache": "apache-access.log"}
    log = os.path.join(work, logs[kind])
    with open(log) as f:
        served = sum(1 for _ in f)
    size = os.path.getsize(os.path.join(outdir, "capture.pcap"))
    print("%-24s %4d client requests, %4d lines in the %s log, capture %d bytes"
          % (name, len(lab.records), served, kind, size))


def main():
    ap = argparse.ArgumentParser(description="Make the lab's samples.")
    ap.add_argument("scenarios", nargs="*", help="default: all of %s" % ", ".join(SCENARIOS))
    ap.add_argument("--out", default=os.path.join(TOP, "samples"))
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--iis-logs", action="store_true", help="also write the servers' W3C logs into OUT/SCENARIO/iis/")
    a = ap.parse_args()
    global IIS_LOGS
    IIS_LOGS = a.iis_logs
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %s" % s)
    if os.geteuid() != 0:
        sys.exit("lab.py: needs root (tcpdump, listeners on port 443)")
    work = tempfile.mkdtemp(prefix="lyncflow-lab.")
    procs = Procs()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rc = 0
    try:
        ca = CA(work)
        for name in a.scenarios or list(SCENARIOS):
            make_scenario(name, SCENARIOS[name], ca, work, os.path.join(a.out, name), procs)
            procs.stop_all()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", None)
        print("lab.py: %s%s" % (e, (": " + err.decode().strip()) if err else ""), file=sys.stderr)
        rc = 1
    except (KeyboardInterrupt, SystemExit):
        print("lab.py: interrupted; the processes it started are stopped", file=sys.stderr)
        rc = 1
    finally:
        procs.stop_all()
        if a.keep or rc:
            print("lab.py: work directory kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
