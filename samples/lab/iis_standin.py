#!/usr/bin/env python3
"""iis_standin.py: a stand-in for a Lync Director's or Front End's IIS web sites (external 4443, internal 443).

It answers by path as ../../../shared/docs/domain.md sections 2-4 describe: WebTicket with a real NTLM
round trip (401 NTLM/Negotiate, 401 with a type-2 challenge, 200 RSTR or 401 on a wrong password),
CertProv, ABS, GroupExpansion, RgsClients, Autodiscover with its redirect to the home pool, the OAuth
token endpoint and UCWA, meet/dialin pages, the lyncdiscover root, and 404 for anything else. Every
response carries X-MS-Server-Fqdn. One process serves every site given with --site; each site writes its
TLS secrets (NSS key log format) to its own file.

    iis_standin.py --site NAME,ROLE,ADDR,PORT,CERT,KEY,SERVERFQDN,EXTFQDN,ACCESS,KEYLOG [--site ...]
                   --home-pool FQDN --internal-home-pool FQDN --secret S [--w3c-dir DIR]
ROLE is director or frontend; ACCESS is External or Internal.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import ssl
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

USERS = {"alice": "P@ssw0rd1", "bob": "P@ssw0rd1", "carol": "P@ssw0rd1", "dave": "P@ssw0rd1",
         "erin": "P@ssw0rd1", "frank": "P@ssw0rd1"}
DOMAIN_NB = "CONTOSO"
DOMAIN_DNS = "contoso.local"
SIP_DOMAIN = "contoso.com"


# ---- MD4 (RFC 1320): NTLM's NT hash; OpenSSL 3 keeps it in the legacy provider, so it is written out here.
def _md4(data):
    def rol(x, n):
        x &= 0xFFFFFFFF
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    msg = bytearray(data)
    bitlen = (8 * len(data)) & 0xFFFFFFFFFFFFFFFF
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bitlen)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", bytes(msg[off:off + 64]))
        aa, bb, cc, dd = a, b, c, d
        f = lambda x_, y, z: (x_ & y) | (~x_ & z)
        g = lambda x_, y, z: (x_ & y) | (x_ & z) | (y & z)
        h = lambda x_, y, z: x_ ^ y ^ z
        for i in range(16):
            k = i
            s = (3, 7, 11, 19)[i % 4]
            if i % 4 == 0:
                a = rol(a + f(b, c, d) + x[k], s)
            elif i % 4 == 1:
                d = rol(d + f(a, b, c) + x[k], s)
            elif i % 4 == 2:
                c = rol(c + f(d, a, b) + x[k], s)
            else:
                b = rol(b + f(c, d, a) + x[k], s)
        for i in range(16):
            k = (i % 4) * 4 + i // 4
            s = (3, 5, 9, 13)[i % 4]
            if i % 4 == 0:
                a = rol(a + g(b, c, d) + x[k] + 0x5A827999, s)
            elif i % 4 == 1:
                d = rol(d + g(a, b, c) + x[k] + 0x5A827999, s)
            elif i % 4 == 2:
                c = rol(c + g(d, a, b) + x[k] + 0x5A827999, s)
            else:
                b = rol(b + g(c, d, a) + x[k] + 0x5A827999, s)
        order = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)
        for i in range(16):
            k = order[i]
            s = (3, 9, 11, 15)[i % 4]
            if i % 4 == 0:
                a = rol(a + h(b, c, d) + x[k] + 0x6ED9EBA1, s)
            elif i % 4 == 1:
                d = rol(d + h(a, b, c) + x[k] + 0x6ED9EBA1, s)
            elif i % 4 == 2:
                c = rol(c + h(d, a, b) + x[k] + 0x6ED9EBA1, s)
            else:
                b = rol(b + h(c, d, a) + x[k] + 0x6ED9EBA1, s)
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


# ---- NTLM (MS-NLMP): type-2 challenges and NTLMv2 verification of type-3 messages.
NTLM_FLAGS = (0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 | 0x00080000 |
              0x00800000 | 0x02000000 | 0x20000000 | 0x80000000)


def _av(avid, value):
    return struct.pack("<HH", avid, len(value)) + value


def ntlm_type2(challenge, server_fqdn):
    host = server_fqdn.split(".")[0].upper()
    target = DOMAIN_NB.encode("utf-16-le")
    filetime = int((time.time() + 11644473600) * 10000000)
    info = (_av(2, DOMAIN_NB.encode("utf-16-le")) + _av(1, host.encode("utf-16-le")) +
            _av(4, DOMAIN_DNS.encode("utf-16-le")) + _av(3, server_fqdn.encode("utf-16-le")) +
            _av(5, DOMAIN_DNS.encode("utf-16-le")) + _av(7, struct.pack("<Q", filetime)) + _av(0, b""))
    head_len = 56
    msg = b"NTLMSSP\0" + struct.pack("<I", 2)
    msg += struct.pack("<HHI", len(target), len(target), head_len)
    msg += struct.pack("<I", NTLM_FLAGS) + challenge + b"\0" * 8
    msg += struct.pack("<HHI", len(info), len(info), head_len + len(target))
    msg += bytes((6, 3)) + struct.pack("<H", 9600) + b"\0\0\0\x0f"
    return msg + target + info


def _secbuf(msg, off):
    if len(msg) < off + 8:
        raise ValueError("short NTLM message")
    ln, _, at = struct.unpack_from("<HHI", msg, off)
    if at + ln > len(msg):
        raise ValueError("NTLM field out of bounds")
    return msg[at:at + ln]


def ntlm_type(msg):
    if len(msg) < 12 or msg[:8] != b"NTLMSSP\0":
        return 0
    return struct.unpack_from("<I", msg, 8)[0]


def ntlm_type3_user(msg):
    """(domain, user, nt_response) of a type-3 message."""
    flags = struct.unpack_from("<I", msg, 60)[0] if len(msg) >= 64 else 0
    enc = "utf-16-le" if flags & 1 else "latin-1"
    nt = _secbuf(msg, 20)
    dom = _secbuf(msg, 28).decode(enc, "replace")
    user = _secbuf(msg, 36).decode(enc, "replace")
    return dom, user, nt


def ntlmv2_ok(user, dom, nt, challenge):
    password = USERS.get(user.lower())
    if password is None or len(nt) < 32:
        return False
    nthash = _md4(password.encode("utf-16-le"))
    ntowf = hmac.new(nthash, (user.upper() + dom).encode("utf-16-le"), hashlib.md5).digest()
    proof = hmac.new(ntowf, challenge + nt[16:], hashlib.md5).digest()
    return hmac.compare_digest(proof, nt[:16])


# ---- Tickets: web tickets and OAuth tokens, signed with the lab secret and bound to the issuing pool.
class Tickets:
    def __init__(self, secret):
        self.secret = secret.encode()

    def issue(self, kind, user, audience):
        body = "%s|%s|%s|%d" % (kind, user, audience, int(time.time()))
        sig = hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.b64encode((body + "|" + sig).encode()).decode()

    def check(self, kind, token, audience):
        """The user a valid token of this kind for this audience names, else None."""
        try:
            raw = base64.b64decode(token.strip(), validate=True).decode()
            k, user, aud, ts, sig = raw.split("|")
        except (ValueError, UnicodeDecodeError):
            return None
        want = hmac.new(self.secret, ("%s|%s|%s|%s" % (k, user, aud, ts)).encode(), hashlib.sha256).hexdigest()[:32]
        if k != kind or aud.lower() != audience.lower() or not hmac.compare_digest(sig, want):
            return None
        return user


class Site:
    def __init__(self, spec, home_pool, internal_home_pool, tickets):
        parts = spec.split(",")
        if len(parts) != 10:
            raise SystemExit("iis_standin: --site wants 10 comma-separated fields, got %r" % spec)
        (self.name, self.role, self.addr, port, self.cert, self.key, self.server_fqdn, self.ext_fqdn,
         self.access, self.keylog) = parts
        self.port = int(port)
        self.home_pool = home_pool if self.access == "External" else internal_home_pool
        self.tickets = tickets
        self.lock = threading.Lock()
        self.challenges = []  # recent NTLM server challenges, newest last
        self.w3c = None       # the site's W3C log file, with --w3c-dir
        self.w3c_lock = threading.Lock()

    def open_w3c(self, directory):
        self.w3c = open(os.path.join(directory, self.name + ".log"), "w")
        self.w3c.write("#Software: Microsoft Internet Information Services 8.5\n#Version: 1.0\n"
                       "#Date: %s\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username "
                       "c-ip cs(User-Agent) cs-host sc-status sc-substatus sc-win32-status time-taken\n"
                       % time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
        self.w3c.flush()

    def remember_challenge(self, ch):
        with self.lock:
            self.challenges.append(ch)
            del self.challenges[:-256]

    def recent_challenges(self, preferred):
        with self.lock:
            out = list(reversed(self.challenges))
        if preferred in out:
            out.remove(preferred)
            out.insert(0, preferred)
        return out

    @property
    def is_director(self):
        return self.role == "director"


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/8.5"

    def version_string(self):
        return self.server_version
    site = None  # set per server class

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s - %s\n" % (self.site.name, self.client_address[0], fmt % args))

    # -- plumbing
    def body(self):
        if hasattr(self, "_body"):
            return self._body
        n = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(n) if n > 0 else b""
        return self._body

    def send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-MS-Server-Fqdn", self.site.server_fqdn)
        self.send_header("X-Powered-By", "ASP.NET")
        for k, v in headers:
            self.send_header(k, v)
        # Headers and body in one write, as IIS sends a small answer: no extra segment for delayed ACKs to hold.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()
        self.w3c_log(status)

    def w3c_log(self, status):
        """One W3C extended log line per answer, as the site's IIS would write it (--w3c-dir)."""
        if not self.site.w3c:
            return
        now = time.time()
        taken = int((now - getattr(self, "t0", now)) * 1000)
        u = urlsplit(self.path)
        sub, win32 = getattr(self, "iis_status", (0, 0)) if status == 401 else (0, 0)
        ua = (self.headers.get("User-Agent") or "-").replace(" ", "+")
        user = getattr(self, "iis_user", None) or "-"
        line = " ".join([time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + ".%03d" % (int(now * 1000) % 1000),
                         self.site.addr, self.command, u.path or "/", u.query or "-", str(self.site.port), user,
                         self.client_address[0], ua, self.host(), str(status), str(sub), str(win32), str(taken)])
        with self.site.w3c_lock:
            self.site.w3c.write(line + "\n")
            self.site.w3c.flush()
        self.__dict__.pop("iis_status", None)
        self.__dict__.pop("iis_user", None)

    def not_found(self):
        self.send(404, "<html><body><h2>404 - File or directory not found.</h2></body></html>")

    def host(self):
        return (self.headers.get("Host") or self.site.ext_fqdn).split(":")[0].lower()

    def base(self):
        return "https://" + self.host()

    def pool_url(self, path):
        return "https://" + self.site.ext_fqdn + path

    def ticket_user(self):
        """The user of a valid web ticket sent in X-MS-WebTicket or in the body, else None."""
        t = self.headers.get("X-MS-WebTicket") or ""
        if t.startswith("opaque="):
            t = t[len("opaque="):]
        user = self.site.tickets.check("webticket", t, self.site.ext_fqdn) if t else None
        if user is None and self.command == "POST":
            b = self.body().decode("utf-8", "replace")
            i = b.find("<WebTicket>")
            j = b.find("</WebTicket>")
            if 0 <= i < j:
                user = self.site.tickets.check("webticket", b[i + 11:j], self.site.ext_fqdn)
        return user

    def bearer_user(self):
        a = self.headers.get("Authorization") or ""
        if not a.lower().startswith("bearer "):
            return None
        t = a[7:].strip()
        if t.startswith("cwt="):
            t = t[4:]
        user = self.site.tickets.check("oauth", t, self.site.ext_fqdn)
        if user:
            self.iis_user = "sip:%s@%s" % (user, SIP_DOMAIN)
        return user

    # -- NTLM: None when a 401 went out, else the authenticated user name
    def windows_auth(self):
        a = self.headers.get("Authorization") or ""
        unauth = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
        if not a:
            self.body()
            self.iis_status = (2, 5)
            self.send(401, "<html><body>401 - Unauthorized: Access is denied due to invalid credentials.</body>"
                      "</html>", headers=unauth)
            return None
        scheme, _, token = a.partition(" ")
        if scheme.lower() not in ("ntlm", "negotiate"):
            self.body()
            self.send(401, "401 - Unauthorized", headers=unauth)
            return None
        try:
            msg = base64.b64decode(token.strip(), validate=True)
        except ValueError:
            msg = b""
        kind = ntlm_type(msg)
        self.body()
        if kind == 1:
            ch = os.urandom(8)
            self.site.remember_challenge(ch)
            self.connection_challenge = ch
            self.iis_status = (1, 2148074254)
            t2 = base64.b64encode(ntlm_type2(ch, self.site.server_fqdn)).decode()
            self.send(401, "401 - Unauthorized", headers=[("WWW-Authenticate", scheme + " " + t2)])
            return None
        if kind == 3:
            try:
                dom, user, nt = ntlm_type3_user(msg)
            except (ValueError, struct.error):
                dom, user, nt = "", "", b""
            pref = getattr(self, "connection_challenge", None)
            if any(ntlmv2_ok(user, dom, nt, ch) for ch in self.site.recent_challenges(pref)):
                self.iis_user = "%s\\%s" % (DOMAIN_NB, user.lower())
                return user.lower()
            self.iis_status = (1, 2148074252)
            diag = '28020;source="%s";reason="The user credentials are not valid"' % self.site.server_fqdn
            self.send(401, "401 - Unauthorized: Logon failed.", headers=unauth + [("X-Ms-diagnostics", diag)])
            return None
        self.send(401, "401 - Unauthorized", headers=unauth)
        return None

    # -- the handlers
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def route(self):
        # A persistent connection keeps its NTLM challenge across requests (the handler object is per connection).
        self.t0 = time.time()
        self.__dict__.pop("_body", None)
        u = urlsplit(self.path)
        path = u.path
        low = path.lower()
        host = self.host()
        self.query = parse_qs(u.query)
        self.body()  # read now, so that a keep-alive connection stays in step whatever the answer
        if host.startswith("lyncdiscover.") and low in ("/", ""):
            return self.lyncdiscover_root()
        for prefix, fn in (("/webticket/oauthtoken", self.oauthtoken),
                           ("/webticket/webticketservice.svc", self.webticket),
                           ("/certprov/certprovisioningservice.svc", self.certprov),
                           ("/autodiscover/autodiscoverservice.svc/root", self.autodiscover),
                           ("/autodiscover/xframe/", self.xframe),
                           ("/abs/handler/", self.abs),
                           ("/groupexpansion/service.svc", self.groupexpansion),
                           ("/rgsclients/", self.rgsclients),
                           ("/ucwa/", self.ucwa),
                           ("/lwa/", self.lwa),
                           ("/reach/", self.lwa)):
            if low.startswith(prefix):
                return fn(low[len(prefix):])
        if host.startswith("meet.") or low.startswith("/meet/"):
            return self.meet(path)
        if host.startswith("dialin.") or low.startswith("/dialin"):
            return self.dialin(path)
        self.body()
        return self.not_found()

    def soap(self, status, inner, headers=()):
        env = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>%s</s:Body></s:Envelope>'
               % inner)
        self.send(status, env, "application/soap+xml; charset=utf-8", headers)

    def webticket(self, rest):
        if rest in ("/mex", "/mex/") or (self.command == "GET" and "wsdl" in self.query):
            return self.send(200, '<?xml version="1.0"?><wsdl:definitions name="WebTicketService" '
                             'targetNamespace="http://tempuri.org/"><wsdl:service name="WebTicketService">'
                             '<wsdl:port name="WebTicketServiceWinNegotiate"><soap12:address location="%s/'
                             'WebTicket/WebTicketService.svc"/></wsdl:port><wsdl:port name="WebTicketServiceCert">'
                             '<soap12:address location="%s/WebTicket/WebTicketService.svc/cert"/></wsdl:port>'
                             '</wsdl:service></wsdl:definitions>' % (self.base(), self.base()), "text/xml")
        if self.command != "POST":
            self.body()
            return self.send(405, "405 - Method not allowed")
        if rest in ("/cert", "/cert/"):
            # Certificate authentication with the client's provisioned certificate. The proxy ends the client's
            # TLS, so the stand-in takes the user from the request (a sip: URI in the body).
            m = re.search(r"sip:([A-Za-z0-9._-]+)@", self.body().decode("utf-8", "replace"))
            user = m.group(1).lower() if m else "anonymous"
        else:
            user = self.windows_auth()
            if user is None:
                return
        ticket = self.site.tickets.issue("webticket", user, self.site.ext_fqdn)
        self.soap(200, '<RequestSecurityTokenResponse xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512">'
                  '<TokenType>urn:component:Microsoft.Rtc.WebAuthentication.2010:user-cwt-1</TokenType>'
                  '<RequestedSecurityToken><UserToken><WebTicket>%s</WebTicket></UserToken>'
                  '</RequestedSecurityToken><Lifetime><Expires>%s</Expires></Lifetime>'
                  '</RequestSecurityTokenResponse>' % (ticket, time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                             time.gmtime(time.time() + 28800))))

    def certprov(self, rest):
        if self.command == "GET" or rest in ("/mex", "/mex/"):
            self.body()
            return self.send(200, '<?xml version="1.0"?><wsdl:definitions name="CertProvisioningService">'
                             '<wsdl:service name="CertProvisioningService"><wsdl:port name="WebTicket_Proof_SHA1">'
                             '<soap12:address location="%s/CertProv/CertProvisioningService.svc/'
                             'WebTicket_Proof_SHA1"/></wsdl:port></wsdl:service><IssuedTokenPolicy>'
                             '<Issuer Address="%s/WebTicket/WebTicketService.svc"/></IssuedTokenPolicy>'
                             '</wsdl:definitions>' % (self.base(), self.pool_url("")), "text/xml")
        user = self.ticket_user()
        if user is None:
            return self.soap(401, "<s:Fault><s:Reason>No valid web ticket</s:Reason></s:Fault>",
                             [("X-MS-WebTicketURL", self.pool_url("/WebTicket/WebTicketService.svc"))])
        cert = base64.b64encode(hashlib.sha256(("cert:" + user).encode()).digest() * 8).decode()
        self.soap(200, '<GetAndPublishCertResponse><RequestId>%s</RequestId><CertificateChain>%s'
                  '</CertificateChain><Subject>sip:%s@%s</Subject></GetAndPublishCertResponse>'
                  % (uuid.uuid4(), cert, user, SIP_DOMAIN))

    def abs(self, rest):
        if not (rest.endswith(".lsabs") or rest.endswith(".dabs")):
            self.body()
            return self.not_found()
        if self.ticket_user() is None and self.windows_auth() is None:
            return
        blob = hashlib.sha256(rest.encode()).digest() * 16
        self.send(200, blob, "application/octet-stream")

    def groupexpansion(self, rest):
        if self.command == "GET":
            return self.send(200, '<?xml version="1.0"?><wsdl:definitions name="GroupExpansionService">'
                             '<wsdl:service name="GroupExpansionService"/></wsdl:definitions>', "text/xml")
        user = self.ticket_user()
        if user is None:
            return self.soap(401, "<s:Fault><s:Reason>No valid web ticket</s:Reason></s:Fault>",
                             [("X-MS-WebTicketURL", self.pool_url("/WebTicket/WebTicketService.svc"))])
        self.soap(200, "<ExpandDistributionListResponse><Members><Member>sip:bob@%s</Member><Member>sip:carol@%s"
                  "</Member></Members></ExpandDistributionListResponse>" % (SIP_DOMAIN, SIP_DOMAIN))

    def rgsclients(self, rest):
        if self.command == "GET":
            return self.send(200, '<?xml version="1.0"?><wsdl:definitions name="AgentService"/>', "text/xml")
        if self.ticket_user() is None:
            return self.soap(401, "<s:Fault><s:Reason>No valid web ticket</s:Reason></s:Fault>",
                             [("X-MS-WebTicketURL", self.pool_url("/WebTicket/WebTicketService.svc"))])
        self.soap(200, "<GetAgentGroupsResponse><Groups/></GetAgentGroupsResponse>")

    def wants_json(self):
        return "json" in (self.headers.get("Accept") or "")

    def links_doc(self, links, access=None):
        """An Autodiscover document: JSON _links for UCWA clients, XML for desktop clients."""
        if self.wants_json():
            return self.send(200, json.dumps({"_links": {k: {"href": v} for k, v in links}}, indent=None),
                             "application/vnd.microsoft.rtc.autodiscover+json; v=1")
        parts = ['<?xml version="1.0" encoding="utf-8"?>',
                 '<AutodiscoverResponse xmlns="http://schemas.microsoft.com/rtc/2011/11/autodiscover"%s>'
                 % (' AccessLocation="%s"' % access if access else ""),
                 '<Root>']
        for k, v in links:
            parts.append('<Link token="%s" href="%s"/>' % (xml_escape(k), xml_escape(v)))
        parts.append('</Root></AutodiscoverResponse>')
        return self.send(200, "".join(parts), "application/vnd.microsoft.rtc.autodiscover+xml; v=1")

    def root_links(self):
        b = self.base() + "/Autodiscover/AutodiscoverService.svc/root"
        dom = "?originalDomain=" + SIP_DOMAIN
        return [("self", b + dom), ("user", b + "/oauth/user" + dom), ("xframe", self.base() +
                                                                        "/Autodiscover/XFrame/XFrame.html")]

    def lyncdiscover_root(self):
        self.body()
        if self.wants_json():
            return self.links_doc(self.root_links())
        b = self.base() + "/Autodiscover/AutodiscoverService.svc/root"
        return self.links_doc([("Domain", b + "/domain"), ("User", b + "/user"), ("OAuth", b + "/oauth/user")],
                              self.site.access)

    def autodiscover(self, rest):
        self.body()
        if rest in ("", "/"):
            return self.lyncdiscover_root()
        if rest in ("/domain", "/domain/"):
            return self.links_doc(self.user_links(), self.site.access)
        oauth = rest.startswith("/oauth/user")
        if not (oauth or rest.startswith("/user")):
            return self.not_found()
        user = self.bearer_user() if oauth else self.ticket_user()
        if user is None:
            hdrs = [("X-MS-WebTicketURL", self.pool_url("/WebTicket/WebTicketService.svc"))]
            if oauth:
                hdrs = [("WWW-Authenticate", 'MsRtcOAuth href="%s",grant_type="urn:microsoft.rtc:windows,'
                         'urn:microsoft.rtc:anonmeeting,password"' % self.pool_url("/WebTicket/oauthtoken"))]
            return self.send(401, "", "text/html", hdrs)
        if self.site.is_director:
            # The Director homes no user: it points the client at the user's home pool.
            target = "https://%s/Autodiscover/AutodiscoverService.svc/root/%s" % (
                self.site.home_pool, "oauth/user" if oauth else "user")
            return self.links_doc([("redirect" if self.wants_json() else "Redirect", target)], self.site.access)
        return self.links_doc(self.user_links(), self.site.access)

    def user_links(self):
        p = self.pool_url
        loc = self.site.access
        links = [("self", p("/Autodiscover/AutodiscoverService.svc/root/oauth/user")),
                 ("applications", p("/ucwa/oauth/v1/applications")),
                 ("xframe", p("/Autodiscover/XFrame/XFrame.html"))]
        if self.wants_json():
            return links
        return [(loc + "/Autodiscover", p("/Autodiscover/AutodiscoverService.svc/root")),
                (loc + "/AuthBroker", p("/Reach/sip.svc")), (loc + "/Scheduler", p("/Scheduler")),
                (loc + "/Mcx", p("/Mcx/McxService.svc")), (loc + "/Ucwa", p("/ucwa/v1/applications")),
                (loc + "/XFrame", p("/Autodiscover/XFrame/XFrame.html")),
                ("SipClientExternalAccess", "sip.%s:443" % SIP_DOMAIN),
                ("SipClientInternalAccess", "%s:5061" % self.site.server_fqdn)]

    def xframe(self, rest):
        self.body()
        self.send(200, "<!DOCTYPE html><html><head><title>XFrame</title></head><body></body></html>")

    def oauthtoken(self, rest):
        if self.command != "POST":
            self.body()
            return self.send(405, "405 - Method not allowed")
        form = parse_qs(self.body().decode("utf-8", "replace"))
        grant = form.get("grant_type", [""])[0]
        name = form.get("username", [""])[0]
        user = name.split("\\")[-1].split("@")[0].lower()
        if grant == "password" and USERS.get(user) == form.get("password", [None])[0]:
            tok = self.site.tickets.issue("oauth", user, self.site.ext_fqdn)
            return self.send(200, json.dumps({"access_token": "cwt=" + tok, "expires_in": 28799,
                                              "ms_rtc_identityscope": "local", "token_type": "Bearer"}),
                             "application/json")
        return self.send(400, json.dumps({"error": "invalid_grant"}), "application/json")

    def ucwa(self, rest):
        user = self.bearer_user()
        if user is None:
            self.body()
            return self.send(401, "", "text/html", [("WWW-Authenticate", 'MsRtcOAuth href="%s",grant_type='
                                                      '"urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,'
                                                      'password"' % self.pool_url("/WebTicket/oauthtoken"))])
        self.body()
        if self.command == "POST" and rest.rstrip("/").endswith("v1/applications"):
            app = "/ucwa/oauth/v1/applications/" + uuid.uuid4().hex[:11]
            doc = {"culture": "en-US", "userAgent": self.headers.get("User-Agent", ""),
                   "_links": {"self": {"href": app}, "policies": {"href": app + "/policies"},
                              "batch": {"href": app + "/batch"}, "events": {"href": app + "/events?ack=1"}},
                   "_embedded": {"me": {"name": user, "uri": "sip:%s@%s" % (user, SIP_DOMAIN)}}}
            return self.send(201, json.dumps(doc), "application/vnd.microsoft.com.ucwa+json")
        if "/events" in rest:
            return self.send(200, json.dumps({"_links": {"next": {"href": "events?ack=2"}}, "sender": []}),
                             "application/vnd.microsoft.com.ucwa+json")
        return self.send(200, json.dumps({"_links": {"self": {"href": self.path}}}),
                         "application/vnd.microsoft.com.ucwa+json")

    def meet(self, path):
        self.body()
        seg = [s for s in path.split("/") if s]
        if seg and seg[0].lower() == "meet":
            seg = seg[1:]
        if len(seg) != 2:
            return self.not_found()
        org, conf = seg
        self.send(200, "<!DOCTYPE html><html><head><title>Join Lync Meeting</title></head><body>"
                  "<div id=\"launcher\" data-focus=\"sip:%s@%s;gruu;opaque=app:conf:focus:id:%s\">Join the meeting"
                  " - <a href=\"/lwa/WebPages/LwaClient.aspx?meeturl=%s\">Lync Web App</a></div></body></html>"
                  % (xml_escape(org), SIP_DOMAIN, xml_escape(conf), xml_escape(self.base() + path)))

    def dialin(self, path):
        self.body()
        self.send(200, "<!DOCTYPE html><html><head><title>Dial-in Conferencing Settings</title></head><body>"
                  "<h1>Dial-in Conferencing</h1><p>+1 425 555 0100 (English)</p></body></html>")

    def lwa(self, rest):
        self.body()
        self.send(200, "<!DOCTYPE html><html><head><title>Lync Web App</title></head><body></body></html>")


def serve(site):
    handler = type("H_" + site.name.replace("-", "_"), (Handler,), {"site": site})
    fam = ThreadingHTTPServer
    httpd = fam((site.addr, site.port), handler)
    httpd.daemon_threads = True
    if site.cert != "-":  # "-": plain HTTP, as the external site's port 8080
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(site.cert, site.key)
        ctx.keylog_filename = site.keylog
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    return httpd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", action="append", required=True)
    ap.add_argument("--home-pool", required=True)
    ap.add_argument("--internal-home-pool", required=True)
    ap.add_argument("--secret", default="lab")
    ap.add_argument("--ready", help="file written once every site listens")
    ap.add_argument("--w3c-dir", help="write each site's W3C extended log, SITE.log, in this directory")
    a = ap.parse_args()
    tickets = Tickets(a.secret)
    sites = [Site(s, a.home_pool, a.internal_home_pool, tickets) for s in a.site]
    if a.w3c_dir:
        for site in sites:
            site.open_w3c(a.w3c_dir)
    servers = [serve(site) for site in sites]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    while not stop.wait(0.2):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()


if __name__ == "__main__":
    main()
