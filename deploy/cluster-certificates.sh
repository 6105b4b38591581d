#!/usr/bin/env bash
# Certificates for the cluster's transport (Orleans:Tls, docs/operations.md "Transport security").
#
#   deploy/cluster-certificates.sh ca DIR [DAYS]     a new cluster CA: DIR/ca.crt and DIR/ca.key (default 3650 days)
#   deploy/cluster-certificates.sh node DIR [DAYS]   a new node certificate signed by DIR/ca.key:
#                                                    DIR/tls.crt and DIR/tls.key (default 90 days)
#
# Every silo and API node presents a node certificate (server and client authentication) and
# trusts only ca.crt. Keep ca.key away from the cluster: it is needed only to issue node certificates.
set -euo pipefail

verb="${1:-}" dir="${2:-}"
[[ -n "$dir" && ( "$verb" == ca || "$verb" == node ) ]] || { echo "usage: $0 ca|node DIR [DAYS]" >&2; exit 2; }
mkdir -p "$dir"
umask 077

case "$verb" in
    ca)
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days "${3:-3650}" \
            -subj "/CN=credentials-cluster-ca" \
            -addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign \
            -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
        ;;
    node)
        [[ -s "$dir/ca.key" && -s "$dir/ca.crt" ]] || { echo "$0: no CA in $dir (run: $0 ca $dir)" >&2; exit 1; }
        # Written aside, then moved into place: a reader never sees a half-written file.
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=credentials-node" \
            -keyout "$dir/tls.key.new" -out "$dir/tls.csr" 2>/dev/null
        openssl x509 -req -in "$dir/tls.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -days "${3:-90}" \
            -set_serial "0x$(openssl rand -hex 16)" -out "$dir/tls.crt.new" 2>/dev/null \
            -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n')
        rm -f "$dir/tls.csr"
        mv "$dir/tls.key.new" "$dir/tls.key"
        mv "$dir/tls.crt.new" "$dir/tls.crt"
        ;;
esac
