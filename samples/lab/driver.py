"""driver.py: lab clients that sign in with real curl (sequences A, B, C and E of domain.md section 4).

Each client is a thread with its own source address, user agent, user and TLS key log. One step is one
curl invocation: several URLs joined with --next share a connection. curl's verbose trace (-v --trace-time)
and its -w '%{json}' lines are read back into client.ndjson: one object per HTTP request curl sent (an
NTLM round trip is two), plus one object for a transfer that failed before it could send anything.
"""
import json
import os
import random
import re
import subprocess
import threading
import time
from urllib.parse import urlsplit

UA_LYNC2010 = "OC/4.0.7577.108 (Microsoft Lync 2010)"
UA_LYNC2013 = "UCCAPI/15.0.4420.1017 OC/15.0.4420.1017 (Microsoft Lync)"
UA_SFB = "UCCAPI/16.0.4849.1000 OC/16.0.4849.1000 (Skype for Business)"
UA_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 12_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 iPhoneLync/6.21.0")
UA_ANDROID = ("Mozilla/5.0 (Linux; Android 9; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/74.0.3729.157 Mobile Safari/537.36 AndroidLync/6.21.0")
UA_BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Safari/537.36")

SOAP = "application/soap+xml; charset=utf-8"
RST = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><RequestSecurityToken '
       'xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512"><TokenType>urn:component:Microsoft.Rtc.'
       'WebAuthentication.2010:user-cwt-1</TokenType><RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/'
       'Issue</RequestType><AppliesTo>%s</AppliesTo></RequestSecurityToken></s:Body></s:Envelope>')


class Transfer:
    def __init__(self, method, url, data=None, ctype=None, headers=(), ntlm=False, accept=None):
        self.method, self.url, self.data, self.ctype = method, url, data, ctype
        self.headers, self.ntlm, self.accept = list(headers), ntlm, accept


class Result:
    def __init__(self):
        self.status, self.exit, self.error, self.headers, self.body = 0, 0, "", {}, b""

    def header(self, name):
        return self.headers.get(name.lower(), "")

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.text())
        except ValueError:
            return {}


LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{6}) (.*)$")


def parse_trace(path, day0):
    """The requests of a curl -v --trace-time log: dicts with ts, request line, headers, response; and the
    time of the log's first line. Times are curl's: see Client.curl for their correction."""
    reqs = []
    cur = None
    first = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\r\n"))
            if not m:
                continue
            ts = day0 + int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + int(m.group(4)) / 1e6
            if first is None:
                first = ts
            rest = m.group(5)
            if rest.startswith("> "):
                line = rest[2:]
                if cur is None or cur.get("req_done"):
                    if not line:
                        continue
                    method, _, tail = line.partition(" ")
                    uri = tail.rsplit(" ", 1)[0]
                    cur = {"ts": ts, "method": method, "uri": uri, "headers": {}, "status": 0, "resp": {}}
                    reqs.append(cur)
                elif not line:
                    cur["req_done"] = True
                else:
                    k, _, v = line.partition(":")
                    cur["headers"][k.strip().lower()] = v.strip()
            elif rest.startswith("< ") and cur is not None:
                line = rest[2:]
                if line.startswith("HTTP/"):
                    parts = line.split(" ", 2)
                    code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                    if code >= 200 or code in (101,):
                        cur["status"] = code
                        cur["resp"] = {}
                        cur["in_resp"] = True
                elif line and cur.get("in_resp"):
                    k, _, v = line.partition(":")
                    k = k.strip().lower()
                    v = v.strip()
                    cur["resp"][k] = cur["resp"][k] + "\n" + v if k in cur["resp"] else v
                elif not line:
                    cur["in_resp"] = False
    return reqs, first


def auth_kind(headers):
    a = headers.get("authorization", "")
    if a.startswith("NTLM ") or a.startswith("Negotiate "):
        tok = a.split(" ", 1)[1]
        if tok.startswith("TlRMTVNTUAAB"):
            return "ntlm-type1"
        if tok.startswith("TlRMTVNTUAAD"):
            return "ntlm-type3"
        return "ntlm"
    if a.lower().startswith("bearer "):
        return "bearer"
    if headers.get("x-ms-webticket"):
        return "webticket"
    return "none"


class Lab:
    """What every client shares: names to addresses, the CA, the output records."""

    def __init__(self, workdir, cacert, resolve, names, port=443, curl_extra=()):
        self.workdir, self.cacert, self.resolve, self.names, self.port = workdir, cacert, resolve, names, port
        self.curl_extra = list(curl_extra)
        self.records = []
        self.lock = threading.Lock()
        self.keylogs = []
        self.errors = []

    def add(self, recs):
        with self.lock:
            self.records.extend(recs)


class Client(threading.Thread):
    def __init__(self, lab, name, sequence, src, ua, user, password, delay=0.0, seed=0):
        super().__init__(name=name, daemon=True)
        self.lab, self.cname, self.sequence, self.src, self.ua = lab, name, sequence, src, ua
        self.user, self.password, self.delay = user, password, delay
        self.rand = random.Random(seed)
        self.n = 0
        self.keylog = os.path.join(lab.workdir, "keylog-%s.txt" % name)
        lab.keylogs.append(self.keylog)

    def url(self, host, path):
        return "https://%s%s" % (host, path)

    def pause(self, lo=0.05, hi=0.35):
        time.sleep(self.rand.uniform(lo, hi))

    def curl(self, transfers):
        self.n += 1
        base = os.path.join(self.lab.workdir, "%s-%02d" % (self.cname, self.n))
        argv = ["curl", "-v", "--trace-time", "--stderr", base + ".trace"]
        for i, t in enumerate(transfers):
            if i:
                argv.append("--next")
            argv += ["-sS", "--http1.1", "--cacert", self.lab.cacert, "--interface", self.src, "-A", self.ua,
                     "-H", "Expect:", "--connect-timeout", "5", "--max-time", "20",
                     "-o", "%s.body%d" % (base, i), "-w", "%{json}\\n"] + self.lab.curl_extra
            for name, addr in self.lab.resolve.items():
                a = "[%s]" % addr if ":" in addr else addr
                argv += ["--resolve", "%s:%d:%s" % (name, self.lab.port, a)]
            if t.method != ("POST" if t.data is not None else "GET"):
                argv += ["-X", t.method]
            if t.data is not None:
                argv += ["--data-binary", t.data]
            if t.ctype:
                argv += ["-H", "Content-Type: " + t.ctype]
            if t.accept:
                argv += ["-H", "Accept: " + t.accept]
            for h in t.headers:
                argv += ["-H", h]
            if t.ntlm:
                argv += ["--ntlm", "-u", "CONTOSO\\%s:%s" % (self.user, self.password)]
            argv.append(t.url)
        env = dict(os.environ, TZ="UTC", SSLKEYLOGFILE=self.keylog)
        mono0 = time.monotonic()
        started = time.time()
        wall = started - mono0
        day0 = started - started % 86400
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        wout = [json.loads(x) for x in p.stdout.decode().splitlines() if x.startswith("{")]
        if len(wout) != len(transfers):
            raise RuntimeError("%s: curl gave %d -w lines for %d transfers" % (self.cname, len(wout),
                                                                               len(transfers)))
        reqs, first = parse_trace(base + ".trace", day0)
        # curl's --trace-time is CLOCK_MONOTONIC plus a whole number of seconds (time(NULL) minus the monotonic
        # seconds at its first line), so its fraction of a second is off. Whole seconds: the first line comes
        # within a few milliseconds of the start; the fraction: the wall-minus-monotonic clock difference.
        if first is not None:
            whole = round(first - mono0 - 0.1)
            for r in reqs:
                r["ts"] = r["ts"] - whole + wall
        results, recs = [], []
        qi = 0
        elapsed = 0.0
        for i, (t, w) in enumerate(zip(transfers, wout)):
            res = Result()
            res.exit = int(w.get("exitcode", 0))
            res.error = w.get("errormsg") or ""
            res.status = int(w.get("response_code", 0))
            try:
                with open("%s.body%d" % (base, i), "rb") as f:
                    res.body = f.read()
            except OSError:
                pass
            mine = []
            if int(w.get("size_request", 0)) > 0:
                while qi < len(reqs):
                    r = reqs[qi]
                    if mine and auth_kind(r["headers"]) != "ntlm-type3":
                        break
                    want = urlsplit(t.url)
                    want_uri = want.path + ("?" + want.query if want.query else "")
                    if r["uri"] != want_uri:
                        raise RuntimeError("%s: trace request %s does not match transfer %s" %
                                           (self.cname, r["uri"], t.url))
                    mine.append(r)
                    qi += 1
            if mine:
                res.headers = mine[-1]["resp"]
            lip = w.get("local_ip") or self.src
            rip = w.get("remote_ip") or ""
            client = ("[%s]:%s" if ":" in lip else "%s:%s") % (lip, w.get("local_port", 0))
            server = ("[%s]:%s" if ":" in rip else "%s:%s") % (rip, w.get("remote_port", 0)) if rip else ""
            common = {"client": client, "client_name": self.cname, "sequence": self.sequence,
                      "user": self.user, "server": server, "sni": urlsplit(t.url).hostname, "url": t.url,
                      "user_agent": self.ua}
            if not mine:
                rec = dict(common, ts=round(started + elapsed, 6), host=urlsplit(t.url).hostname,
                           method=t.method, uri=urlsplit(t.url).path, auth="none", status=0, sent=False,
                           curl_exit=res.exit, curl_error=res.error)
                recs.append(rec)
            for j, r in enumerate(mine):
                last = j == len(mine) - 1
                recs.append(dict(common, ts=round(r["ts"], 6), host=r["headers"].get("host", ""),
                                 method=r["method"], uri=r["uri"], auth=auth_kind(r["headers"]),
                                 status=r["status"], sent=True, curl_exit=res.exit if last else 0,
                                 curl_error=res.error if last else ""))
            elapsed += float(w.get("time_total", 0))
            results.append(res)
        self.lab.add(recs)
        return results

    def run(self):
        time.sleep(self.delay)
        try:
            getattr(self, "seq_" + self.sequence.lower())()
        except Exception as e:  # reported by the lab, which fails the run
            self.lab.errors.append("%s: %s" % (self.cname, e))

    # -- helpers
    @staticmethod
    def ticket_of(res):
        m = re.search(r"<WebTicket>([^<]+)</WebTicket>", res.text())
        return m.group(1) if m else None

    def webticket(self, host, mex=True):
        """WebTicket on host: mex, the anonymous POST (401), then NTLM (401, 200). The ticket or None."""
        wt = self.url(host, "/WebTicket/WebTicketService.svc")
        body = RST % ("https://%s/" % host)
        steps = [Transfer("GET", wt + "/mex")] if mex else []
        steps += [Transfer("POST", wt, data=body, ctype=SOAP),
                  Transfer("POST", wt, data=body, ctype=SOAP, ntlm=True)]
        r = self.curl(steps)
        return self.ticket_of(r[-1]) if r[-1].status == 200 else None

    # -- A: Lync 2010 desktop, first sign-in without a certificate
    def seq_a(self):
        names = self.lab.names
        d, f = names["director"], names["frontend"]
        certprov = self.url(d, "/CertProv/CertProvisioningService.svc")
        wt = self.url(d, "/WebTicket/WebTicketService.svc")
        body = RST % ("https://%s/" % d)
        r = self.curl([Transfer("GET", certprov + "/mex"), Transfer("GET", wt + "/mex"),
                       Transfer("POST", wt, data=body, ctype=SOAP),
                       Transfer("POST", wt, data=body, ctype=SOAP, ntlm=True)])
        if r[0].status != 200:
            return
        ticket = self.ticket_of(r[-1]) if r[-1].status == 200 else None
        if not ticket:
            return
        self.pause()
        r = self.curl([Transfer("POST", certprov + "/WebTicket_Proof_SHA1", ctype=SOAP,
                                data='<s:Envelope><s:Header><WebTicket>%s</WebTicket></s:Header><s:Body>'
                                     '<GetAndPublishCert><DeviceId>{%s}</DeviceId></GetAndPublishCert></s:Body>'
                                     '</s:Envelope>' % (ticket, self.cname))])
        if r[0].status != 200:
            return
        # SIP REGISTER with TLS-DSK goes through the Edge here; in-band provisioning hands out the FE URLs.
        self.pause(0.2, 0.5)
        r = self.curl([Transfer("GET", self.url(f, "/RgsClients/AgentService.svc")),
                       Transfer("POST", self.url(f, "/WebTicket/WebTicketService.svc/cert"), ctype=SOAP,
                                data=RST % ("https://%s/" % f) + "<!-- sip:%s@contoso.com -->" % self.user)])
        ticket = self.ticket_of(r[-1]) if r[-1].status == 200 else None
        if not ticket:
            return
        self.pause()
        hdr = ["X-MS-WebTicket: opaque=" + ticket]
        self.curl([Transfer("POST", self.url(f, "/RgsClients/AgentService.svc"), ctype=SOAP, headers=hdr,
                            data="<s:Envelope><s:Body><GetAgentGroups/></s:Body></s:Envelope>"),
                   Transfer("GET", self.url(f, "/GroupExpansion/service.svc/mex")),
                   Transfer("POST", self.url(f, "/GroupExpansion/service.svc"), ctype=SOAP, headers=hdr,
                            data="<s:Envelope><s:Body><ExpandDistributionList><GroupMailAddress>sales@contoso."
                                 "com</GroupMailAddress></ExpandDistributionList></s:Body></s:Envelope>"),
                   Transfer("GET", self.url(f, "/abs/handler/F-0c1e-0c1f.lsabs")),
                   Transfer("GET", self.url(f, "/abs/handler/F-0c1e-0c1f.lsabs"), ntlm=True)])

    # -- B: Lync 2013 / Skype for Business desktop with lyncdiscover and Autodiscover
    def autodiscover_user(self, user_url, accept):
        """GET root/user (401 with X-MS-WebTicketURL), a web ticket there, GET again. (result, ticket)."""
        r = self.curl([Transfer("GET", user_url, accept=accept)])
        if r[0].status != 401:
            return r[0], None
        wturl = r[0].header("X-MS-WebTicketURL")
        host = urlsplit(wturl).hostname if wturl else None
        if not host:
            return r[0], None
        self.pause()
        ticket = self.webticket(host)
        if not ticket:
            return None, None
        self.pause()
        r = self.curl([Transfer("GET", user_url, accept=accept, headers=["X-MS-WebTicket: opaque=" + ticket])])
        return r[0], ticket

    def seq_b(self):
        names = self.lab.names
        xml = "application/vnd.microsoft.rtc.autodiscover+xml;v=1"
        disc = self.url(names["discover"], "")
        sipuri = "%s@contoso.com" % self.user
        r = self.curl([Transfer("GET", disc + "/?sipuri=" + sipuri, accept=xml),
                       Transfer("GET", disc + "/Autodiscover/AutodiscoverService.svc/root/domain", accept=xml)])
        if r[0].status != 200:
            return
        m = re.search(r'token="User" href="([^"]+)"', r[0].text())
        if not m:
            return
        res, ticket = self.autodiscover_user(m.group(1), xml)
        hops = 0
        while res is not None and res.status == 200 and hops < 2:
            red = re.search(r'token="Redirect" href="([^"]+)"', res.text())
            if not red:
                break
            hops += 1
            self.pause()
            res, ticket = self.autodiscover_user(red.group(1), xml)
        if res is None or res.status != 200 or not ticket:
            return
        m = re.search(r'token="External/Ucwa" href="https://([^/"]+)', res.text())
        pool = m.group(1) if m else names["frontend"]
        # SIP through the Edge; then the FE's external web services.
        self.pause(0.2, 0.5)
        hdr = ["X-MS-WebTicket: opaque=" + ticket]
        self.curl([Transfer("GET", self.url(pool, "/abs/handler/F-0c1e-0c1f.lsabs"), headers=hdr),
                   Transfer("GET", self.url(pool, "/GroupExpansion/service.svc/mex")),
                   Transfer("POST", self.url(pool, "/GroupExpansion/service.svc"), ctype=SOAP, headers=hdr,
                            data="<s:Envelope><s:Body><ExpandDistributionList><GroupMailAddress>support@contoso"
                                 ".com</GroupMailAddress></ExpandDistributionList></s:Body></s:Envelope>")])

    # -- C: mobile UCWA with an OAuth token
    def oauth_user(self, user_url):
        """GET root/oauth/user (401 MsRtcOAuth), a password grant at its href, GET again. (result, token)."""
        js = "application/vnd.microsoft.rtc.autodiscover+json;v=1"
        r = self.curl([Transfer("GET", user_url, accept=js)])
        if r[0].status != 401:
            return r[0], None
        m = re.search(r'href="([^"]+)"', r[0].header("WWW-Authenticate"))
        if not m:
            return r[0], None
        self.pause()
        r = self.curl([Transfer("POST", m.group(1), ctype="application/x-www-form-urlencoded;charset=UTF-8",
                                data="grant_type=password&username=%s%%40contoso.com&password=%s"
                                     % (self.user, self.password.replace("@", "%40").replace("!", "%21")))])
        tok = r[0].json().get("access_token") if r[0].status == 200 else None
        if not tok:
            return None, None
        self.pause()
        r = self.curl([Transfer("GET", user_url, accept=js, headers=["Authorization: Bearer " + tok])])
        return r[0], tok

    def seq_c(self):
        names = self.lab.names
        js = "application/vnd.microsoft.rtc.autodiscover+json;v=1"
        r = self.curl([Transfer("GET", self.url(names["discover"], "/?sipuri=%s@contoso.com" % self.user),
                                accept=js)])
        if r[0].status != 200:
            return
        user_url = r[0].json().get("_links", {}).get("user", {}).get("href")
        if not user_url:
            return
        res, tok = self.oauth_user(user_url)
        hops = 0
        while res is not None and res.status == 200 and hops < 2:
            red = res.json().get("_links", {}).get("redirect", {}).get("href")
            if not red:
                break
            hops += 1
            self.pause()
            res, tok = self.oauth_user(red)
        if res is None or res.status != 200 or not tok:
            return
        apps = res.json().get("_links", {}).get("applications", {}).get("href")
        if not apps:
            return
        self.pause()
        auth = ["Authorization: Bearer " + tok]
        r = self.curl([Transfer("POST", apps, ctype="application/json", accept="application/json", headers=auth,
                                data='{"UserAgent":"%s","EndpointId":"%s","Culture":"en-US"}'
                                     % ("iPhoneLync" if "iPhone" in self.ua else "AndroidLync", self.cname))])
        if r[0].status != 201:
            return
        app = r[0].json().get("_links", {}).get("events", {}).get("href")
        if app:
            host = urlsplit(apps).hostname
            self.curl([Transfer("GET", self.url(host, app + "&timeout=1"), accept="application/json",
                                headers=auth)])

    # -- E: a browser joining a meeting from the simple URL
    def seq_e(self):
        names = self.lab.names
        meet = self.url(names["meet"], "/%s/K7Q2M3ZD" % self.user)
        r = self.curl([Transfer("GET", meet, accept="text/html")])
        if r[0].status == 200:
            self.pause()
            self.curl([Transfer("GET", self.url(names["meet"], "/lwa/WebPages/LwaClient.aspx?meeturl=" + meet),
                                accept="text/html")])
        self.pause()
        self.curl([Transfer("GET", self.url(names["dialin"], "/"), accept="text/html")])


def write_ndjson(records, path):
    with open(path, "w") as f:
        for r in sorted(records, key=lambda r: r["ts"]):
            keys = ["ts", "client", "client_name", "sequence", "user", "server", "sni", "url", "host", "method",
                    "uri", "user_agent", "auth", "sent", "status", "curl_exit", "curl_error"]
            f.write(json.dumps({k: r[k] for k in keys}, separators=(",", ":")) + "\n")
