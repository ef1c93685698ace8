#!/bin/sh
# make-samples.sh: remakes samples/<scenario>/ with the nginx lab (needs root; installs what it needs).
# Usage: sh samples/lab/make-samples.sh [--keep] [SCENARIO...]   (see samples/README.md)
set -e
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "make-samples.sh: needs root (tcpdump on lo, nginx listeners on port 443)" >&2
    exit 1
fi
need=""
for p in nginx haproxy apache2 curl openssl tcpdump python3; do
    command -v "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    pkgs=$(echo "$need" | sed 's/python3/python3-minimal/')
    echo "make-samples.sh: installing$pkgs"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
exec python3 "$here/lab.py" "$@"
