#!/usr/bin/env python3
"""latency.py: how long after a response its event reaches the sinks of a live run (root, loopback).

Starts an HTTP server on 127.0.0.1, `lyncflow -i lo` on its port with --json (and with --tui under tmux when
--tui is given), makes N requests one after another, each on a new connection as a browser's first visit does,
and measures, per request, the time from the end of its response to:
  - its line in the NDJSON file (read as a follower of the file would: tail);
  - with --tui: the request in the ladder of the TUI's screen (tmux capture-pane).
Prints the median and the worst of each, in milliseconds, and exits 1 when a request was never seen.
"""
import argparse, http.server, json, os, re, shutil, socket, socketserver, statistics, subprocess, sys, tempfile
import threading, time

PATH = '/WebTicket/WebTicketService.svc?n='


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        body = b'ok\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def request(port, n):
    """One GET on a new connection; returns when the whole response has been read and the connection closed."""
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(('GET %s%d HTTP/1.1\r\nHost: dirweb.contoso.com\r\nUser-Agent: UCCAPI/15.0.4420.1017 OC/15.0.4420.1017'
               ' (Microsoft Lync)\r\nConnection: close\r\n\r\n' % (PATH, n)).encode())
    while s.recv(4096):
        pass
    s.close()
    return time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lyncflow', default='build/lyncflow')
    ap.add_argument('-n', type=int, default=100)
    ap.add_argument('--tui', action='store_true')
    ap.add_argument('--timeout', type=float, default=10.0, help='seconds to wait for one request to show')
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='lf-latency-')
    socketserver.TCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    out = os.path.join(tmp, 'events.ndjson')
    cmd = [os.path.abspath(a.lyncflow), '-i', 'lo', '-f', 'tcp port %d' % port, '--json', out]
    session = 'lflat%d' % os.getpid()
    if a.tui:
        cmd.append('--tui')
        subprocess.run(['tmux', 'new-session', '-d', '-s', session, '-x', '160', '-y', '50',
                        ' '.join("'%s'" % c for c in cmd) + ' 2>' + os.path.join(tmp, 'err')], check=True)
        proc = None
    else:
        proc = subprocess.Popen(cmd, stderr=open(os.path.join(tmp, 'err'), 'w'))
    time.sleep(1.5)
    json_ms, tui_ms, missed = [], [], 0
    f = None
    for n in range(1, a.n + 1):
        done = request(port, n)
        want = PATH + str(n)
        seen_json = seen_tui = None
        while time.monotonic() - done < a.timeout and (seen_json is None or (a.tui and seen_tui is None)):
            if f is None and os.path.exists(out):
                f = open(out)
            while seen_json is None and f is not None:
                line = f.readline()
                if not line:
                    break
                if line.endswith('\n') and want + '"' in line and json.loads(line).get('uri') == want:
                    seen_json = time.monotonic()
            if a.tui and seen_tui is None:
                screen = subprocess.run(['tmux', 'capture-pane', '-p', '-t', session], capture_output=True,
                                        text=True).stdout
                if re.search(r'\?n=%d\b' % n, screen):
                    seen_tui = time.monotonic()
            time.sleep(0.005)
        if seen_json is None or (a.tui and seen_tui is None):
            missed += 1
        if seen_json is not None:
            json_ms.append((seen_json - done) * 1000)
        if seen_tui is not None:
            tui_ms.append((seen_tui - done) * 1000)
    if a.tui:
        subprocess.run(['tmux', 'send-keys', '-t', session, 'q'])
        time.sleep(1)
        subprocess.run(['tmux', 'kill-session', '-t', session], stderr=subprocess.DEVNULL)
    else:
        proc.send_signal(2)
        proc.wait()
    srv.shutdown()

    def show(name, v):
        if v:
            print('%s: %d of %d requests, median %.0f ms, worst %.0f ms' % (name, len(v), a.n, statistics.median(v),
                                                                          max(v)))
        else:
            print('%s: none of %d requests seen' % (name, a.n))
    show('response -> NDJSON line', json_ms)
    if a.tui:
        show('response -> TUI step', tui_ms)
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if missed else 0


if __name__ == '__main__':
    sys.exit(main())
