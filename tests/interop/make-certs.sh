#!/usr/bin/env bash
# make-certs.sh KIND DIR: TLS credentials in QEMU's layout (ca-cert.pem,
# server-cert.pem, server-key.pem, client-cert.pem, client-key.pem) made
# otherwise than by `vcmux certs`, for 127.0.0.1 and localhost. Used by
# tests/tls.rs (at test time) and tests/interop/tls-certs.sh, so both check
# the same recipes. Kinds vcmux must serve:
#   certtool      QEMU's own recipe (docs/system/tls.rst) with GnuTLS certtool
#   rsa-pkcs1     openssl, RSA 2048, key as "BEGIN RSA PRIVATE KEY"
#   rsa-pkcs8     openssl, RSA 2048, key as "BEGIN PRIVATE KEY"
#   ec-sec1       openssl, EC P-256, key as "BEGIN EC PRIVATE KEY"
#   intermediate  server certificate signed by an intermediate CA, the chain
#                 in server-cert.pem, the root alone in ca-cert.pem
#   ed25519       openssl, Ed25519 keys
# Kinds vcmux must refuse at start-up (exit 2, one line naming the file):
#   mismatch      server-key.pem is another key than server-cert.pem's
#   expired       server-cert.pem expired yesterday
#   no-ca         ca-cert.pem holds a key, no certificate
#   ed448         Ed448 keys (no TLS library vcmux uses signs with them)
#   other-ca      server-cert.pem is signed by a CA other than ca-cert.pem's
#   encrypted     server-key.pem is encrypted with a passphrase
#   v1            server-cert.pem is an X.509 version 1 certificate (no extensions)
set -euo pipefail
kind="$1"
dir="$2"
mkdir -p "$dir"
cd "$dir"
SAN="subjectAltName=DNS:localhost,IP:127.0.0.1"

# key FILE ALGORITHM: a new private key, PKCS#8 PEM.
key() {
    case "$2" in
        rsa) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" ;;
        ec) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
        *) openssl genpkey -quiet -algorithm "$2" -out "$1" ;;
    esac
}
# ca NAME ALGORITHM [ISSUER]: NAME-key.pem and NAME-cert.pem, a CA
# self-signed, or signed by ISSUER (ISSUER-cert.pem, ISSUER-key.pem).
ca() {
    key "$1-key.pem" "$2"
    local ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash"
    if [ -z "${3:-}" ]; then
        openssl req -x509 -new -key "$1-key.pem" -subj "/CN=$kind $1 $$" -days 30 \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out "$1-cert.pem"
    else
        openssl req -new -key "$1-key.pem" -subj "/CN=$kind $1 $$" -out "$1.csr"
        openssl x509 -req -in "$1.csr" -CA "$3-cert.pem" -CAkey "$3-key.pem" -CAcreateserial -days 30 \
            -extfile <(echo "$ext") -out "$1-cert.pem" 2>/dev/null
    fi
}
# leaf NAME ALGORITHM ISSUER USAGE [DAYS_FROM DAYS_TO]: NAME-key.pem,
# NAME-cert.pem signed by ISSUER, for serverAuth or clientAuth.
leaf() {
    key "$1-key.pem" "$2"
    openssl req -new -key "$1-key.pem" -subj "/CN=$kind $1" -out "$1.csr"
    local ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$4
$SAN"
    if [ -n "${5:-}" ]; then
        # openssl x509 has no -not_before in Debian 12's 3.0: `openssl ca` does dates.
        mkdir -p ca-db && : >ca-db/index && echo 01 >ca-db/serial
        printf '[ca]\ndefault_ca=d\n[d]\ndatabase=ca-db/index\nserial=ca-db/serial\nnew_certs_dir=ca-db\npolicy=p\ndefault_md=sha256\n[p]\ncommonName=supplied\n' >ca.cnf
        openssl ca -batch -config ca.cnf -cert "$3-cert.pem" -keyfile "$3-key.pem" -in "$1.csr" \
            -startdate "$5" -enddate "$6" -extfile <(echo "$ext") -out "$1-cert.pem" 2>/dev/null
    else
        openssl x509 -req -in "$1.csr" -CA "$3-cert.pem" -CAkey "$3-key.pem" -CAcreateserial -days 30 \
            -extfile <(echo "$ext") -out "$1-cert.pem" 2>/dev/null
    fi
}
# openssl_set ALGORITHM: a CA, a server and a client certificate it signs.
openssl_set() {
    ca ca "$1"
    leaf server "$1" ca serverAuth
    leaf client "$1" ca clientAuth
}

case "$kind" in
    certtool)
        # QEMU's docs/system/tls.rst, as written there (names for this machine).
        certtool --generate-privkey >ca-key.pem 2>/dev/null
        printf 'cn = vcmux interop %s\nca\ncert_signing_key\n' $$ >ca.info
        certtool --generate-self-signed --load-privkey ca-key.pem --template ca.info --outfile ca-cert.pem 2>/dev/null
        printf 'organization = vcmux\ncn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\ntls_www_server\nsigning_key\n' >server.info
        certtool --generate-privkey >server-key.pem 2>/dev/null
        certtool --generate-certificate --load-ca-certificate ca-cert.pem --load-ca-privkey ca-key.pem \
            --load-privkey server-key.pem --template server.info --outfile server-cert.pem 2>/dev/null
        printf 'country = GB\nstate = London\nlocality = City Of London\norganization = vcmux\ncn = colleague\ntls_www_client\nsigning_key\n' >client.info
        certtool --generate-privkey >client-key.pem 2>/dev/null
        certtool --generate-certificate --load-ca-certificate ca-cert.pem --load-ca-privkey ca-key.pem \
            --load-privkey client-key.pem --template client.info --outfile client-cert.pem 2>/dev/null
        ;;
    rsa-pkcs1)
        openssl_set rsa
        for k in server client; do openssl rsa -traditional -in "$k-key.pem" -out "$k-key.pem" 2>/dev/null; done
        ;;
    rsa-pkcs8) openssl_set rsa ;;
    ec-sec1)
        openssl_set ec
        for k in server client; do openssl ec -in "$k-key.pem" -out "$k-key.pem" 2>/dev/null; done
        ;;
    intermediate)
        ca root rsa
        ca ca ec root
        leaf server ec ca serverAuth
        leaf client ec ca clientAuth
        cat ca-cert.pem >>server-cert.pem
        cat ca-cert.pem >>client-cert.pem
        cp root-cert.pem ca-cert.pem
        ;;
    ed25519) openssl_set ed25519 ;;
    mismatch)
        openssl_set ec
        key server-key.pem ec
        ;;
    expired)
        ca ca ec
        leaf server ec ca serverAuth 20200101000000Z "$(date -u -d yesterday +%Y%m%d%H%M%SZ)"
        leaf client ec ca clientAuth
        ;;
    no-ca)
        openssl_set ec
        cp ca-key.pem ca-cert.pem
        ;;
    ed448) openssl_set ed448 ;;
    other-ca)
        openssl_set ec
        kind=another ca ca ec
        ;;
    encrypted)
        openssl_set ec
        openssl pkcs8 -topk8 -in server-key.pem -passout pass:secret -out server-key.pem.enc
        mv server-key.pem.enc server-key.pem
        ;;
    v1)
        openssl_set ec
        openssl req -new -key server-key.pem -subj "/CN=localhost" -out server.csr
        openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
            -extfile /dev/null -out server-cert.pem 2>/dev/null
        ;;
    *)
        echo "make-certs.sh: unknown kind '$kind'" >&2
        exit 1
        ;;
esac
chmod 600 ./*-key.pem
rm -rf ./*.csr ./*.srl ./*.info ca.cnf ca-db
