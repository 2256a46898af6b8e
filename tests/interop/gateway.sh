#!/usr/bin/env bash
# Many consoles behind one https port: nginx (Debian's package) terminates TLS
# with the server certificate of `vcmux certs` and routes /console/a/ and
# /console/b/ to the WebSocket ports of two vcmux processes, each running its
# own shell (their screens differ), with a password, as the README says. The
# nginx configuration is the README's own (the ```nginx block after
# "tests/interop/gateway.sh runs this file"),
# only its port, certificate paths and the consoles' ports replaced; nginx runs
# unprivileged (as nobody when this runs as root) with it, from a temporary
# directory. In headless Chromium trusting the test CA (an NSS database in a
# HOME of its own), both pages open through nginx and connect over wss, each
# canvas equals `vcmux render` of its own console's bytes, and a line typed
# into each page runs in its own shell and not in the other: console a's page
# opened as it is and its password typed into it, console b's through a share
# link made with `vcmux ctl share --page` for the gateway's URL. A Chromium
# without the CA refuses the page.
source "$(dirname "$0")/common.sh"
need_apt nginx chromium
need_pip PIL pillow
command -v npm >/dev/null || need_apt nodejs npm
need_npm
(cd "$REPO_DIR" && cargo build --release --quiet)

"$VCMUX" certs "$WORK/pki" --name 127.0.0.1 --name localhost >/dev/null
trusting_home "$WORK/home" "$WORK/pki/ca-cert.pem"

# Console NAME: a shell whose prompt and first line name it, logged to
# $WORK/NAME/console.log, with the password pw-NAME and a control socket
# $WORK/NAME/qmp.sock; sets WS_PORT_NAME.
start_console() {
    local name="$1" port ws
    mkdir -p "$WORK/$name"
    : >"$WORK/$name/console.log"
    echo "pw-$name" >"$WORK/$name/pass"
    port=$(free_port 5900)
    ws=$(free_port 15700)
    RUST_LOG=info PS1="$name\$ " ENV=/dev/null "$VCMUX" -chardev vc,id=vc0 \
        -chardev "file,id=log,path=$WORK/$name/console.log" \
        -vnc "127.0.0.1:$((port - 5900)),websocket=$ws,password-file=$WORK/$name/pass" \
        -qmp "unix:$WORK/$name/qmp.sock,server=on,wait=off" -- \
        sh -c "echo this is console $name, pid \$\$; exec sh" 2>"$WORK/$name/vcmux.log" &
    PIDS+=($!)
    wait_for "console $name serves its page" grep -q "in a browser: http://127.0.0.1:$ws/" "$WORK/$name/vcmux.log"
    wait_for "console $name's shell prompts" grep -q "$name\\$ " "$WORK/$name/console.log"
    printf -v "WS_PORT_$name" %s "$ws"
    say "console $name: websocket port $ws"
}
start_console a
start_console b

# The README's nginx file, with this run's ports and paths.
NGINX_PORT=$(free_port 18443)
NGINX_DIR="$WORK/nginx"
mkdir -p "$NGINX_DIR"/{tmp,pki}
cp "$WORK/pki/server-cert.pem" "$WORK/pki/server-key.pem" "$NGINX_DIR/pki/"
python3 - "$REPO_DIR/README.md" "$NGINX_DIR/vcmux.conf" "$NGINX_PORT" "$NGINX_DIR/pki" "$WS_PORT_a" "$WS_PORT_b" <<'PY'
import re, sys
readme, out, port, pki, port_a, port_b = sys.argv[1:]
text = open(readme).read()
found = re.search(r"tests/interop/gateway\.sh runs this file[^\n]*\n```nginx\n(.*?)\n```", text, re.S)
if not found:
    sys.exit("README.md has no ```nginx block after 'tests/interop/gateway.sh runs this file'")
conf = found.group(1)
for old, new in [("listen 443 ssl;", "listen 127.0.0.1:%s ssl;" % port),
                 ("/etc/vcmux/pki/", pki + "/"),
                 ("http://127.0.0.1:5701/", "http://127.0.0.1:%s/" % port_a),
                 ("http://127.0.0.1:5702/", "http://127.0.0.1:%s/" % port_b)]:
    if old not in conf:
        sys.exit("the README's nginx file has no %r to replace" % old)
    conf = conf.replace(old, new)
open(out, "w").write(conf + "\n")
PY
# nginx.conf around it, as Debian's wraps conf.d/*.conf in http { }.
cat >"$NGINX_DIR/nginx.conf" <<CONF
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log info;
worker_processes 1;
events {}
http {
    access_log $NGINX_DIR/access.log;
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    include $NGINX_DIR/vcmux.conf;
}
CONF
AS_USER=()
if ((EUID == 0)); then
    # Not root: nobody, who may enter $WORK but read only nginx's directory.
    chmod 711 "$WORK"
    chown -R nobody:nogroup "$NGINX_DIR"
    AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
"${AS_USER[@]}" nginx -e stderr -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' 2>"$WORK/nginx.log" &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_for "nginx listens on $NGINX_PORT ($(cat "$WORK/nginx.log" 2>/dev/null))" \
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $NGINX_PORT), 1)"
say "nginx (as $(ps -o user= -p "$NGINX_PID")) on https://127.0.0.1:$NGINX_PORT/console/{a,b}/"

node "$INTEROP_DIR/gateway.mjs" "$NGINX_PORT" "$WORK" "$VCMUX" "$WORK/home" \
    || fail "two consoles through nginx (logs: $WORK/a/vcmux.log $WORK/b/vcmux.log $NGINX_DIR/error.log)"
say "PASS"
