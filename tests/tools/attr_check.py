#!/usr/bin/env python3
"""attr_check.py FULL.ndjson ATTR.ndjson [TRUTH.ndjson]: the share of back requests attributed to the right client.
Truth: the lab driver's client.ndjson when given (what each client sent, on which connection), else the run
with every secret: the front request of the same method and URI nearest before each back request."""
import json, sys
full = [json.loads(l) for l in open(sys.argv[1])]
attr = [json.loads(l) for l in open(sys.argv[2])]
back = [e for e in attr if e['type'] == 'http' and e.get('source') == 'pcap' and not e['client'].startswith('127.0.2.')]
front = [e for e in full if e['type'] == 'http' and e['client'].startswith('127.0.2.')]
if len(sys.argv) > 3:
    # the lab driver's own record of what each client sent: ts, method, uri, client (its connection)
    front = [dict(r, ts=r['ts']) for r in (json.loads(l) for l in open(sys.argv[3])) if r.get('sent')]
right = wrong = none = 0
for b in back:
    cands = [f for f in front if f['method'] == b['method'] and f['uri'] == b['uri'] and f['ts'] <= b['ts'] + 0.002
             and b['ts'] - f['ts'] < 2]
    if not cands:
        continue
    t = max(cands, key=lambda f: f['ts'])
    if 'front_client' not in b:
        none += 1
    elif b['front_client'] == t['client']:
        right += 1
    else:
        wrong += 1
n = right + wrong + none
print('%d back requests: %d attributed right, %d wrong, %d not attributed (%.1f%% right, %.1f%% attributed)' %
      (n, right, wrong, none, 100.0 * right / max(n, 1), 100.0 * (right + wrong) / max(n, 1)))
