"""A fault-injecting HTTP proxy for pier's fault tests, in front of a real docker-registry.

    python3 fault_proxy.py UPSTREAM_PORT SEED RATE PORT_FILE

Each request draws from a random generator seeded with SEED: with probability RATE it gets a fault — 500, 502 or
503; 429 with Retry-After; the connection dropped halfway through the request or response body; a stall before the
answer or halfway through the response body; a delay; or "expire": 401 with the upstream's last Bearer challenge
and error="invalid_token", as a registry answers when a token expires mid-upload — otherwise it is forwarded as is.
Bodies are streamed both ways. The chosen faults are logged to stderr.

Environment: PROXY_FAULTS (comma-separated subset of the faults), PROXY_STALL (seconds a stall lasts, default 2),
PROXY_TLS_CERT and PROXY_TLS_KEY (serve HTTPS). One more fault, only drawn when named: "redirect-http" answers
blob GETs with a 307 to the same path over plain HTTP, a downgrade a client must refuse.
"""
import http.client, os, random, socket, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = int(sys.argv[1])
RNG = random.Random(int(sys.argv[2]))
RATE = float(sys.argv[3])
LOCK = threading.Lock()
FAULTS = ["500", "502", "503", "429", "drop-request", "drop-response", "stall", "delay"]
if os.environ.get("PROXY_FAULTS"):
    FAULTS = os.environ["PROXY_FAULTS"].split(",")
STALL = float(os.environ.get("PROXY_STALL", "2"))
# The upstream's Bearer challenge, learnt from its 401 answers, replayed by the "expire" fault; a token expires
# once per request, so the request sent again with a fresh token goes through.
CHALLENGE = [None]
EXPIRED = set()


def draw():
    with LOCK:
        if RNG.random() >= RATE:
            return "ok"
        return RNG.choice(FAULTS)


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body_length(self):
        return int(self.headers.get("Content-Length") or 0)

    def drain(self, limit=None):
        remaining = self.body_length() if limit is None else limit
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_one(self):
        fault = draw()
        if fault == "expire" and (not CHALLENGE[0] or (self.command, self.path) in EXPIRED):
            fault = "ok"
        if fault == "redirect-http" and not (self.command == "GET" and "/blobs/" in self.path):
            fault = "ok"
        if fault != "ok":
            print(f"fault {fault}: {self.command} {self.path}", file=sys.stderr, flush=True)
        if fault in ("500", "502", "503"):
            self.drain()
            self.reply(int(fault), {"Content-Type": "application/json"},
                       b'{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}')
            return
        if fault == "429":
            self.drain()
            self.reply(429, {"Retry-After": RNG.choice(["0", "1"])})
            return
        if fault == "drop-request" and self.body_length() > 0:
            self.drain(self.body_length() // 2)
            self.close_hard()
            return
        if fault == "redirect-http":
            self.reply(307, {"Location": f"http://127.0.0.1:{UPSTREAM}{self.path}"})
            return
        if fault == "expire":
            EXPIRED.add((self.command, self.path))
            self.drain()
            self.reply(401, {"WWW-Authenticate": CHALLENGE[0] + ',error="invalid_token"', "Content-Type": "application/json"},
                       b'{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}')
            return
        if fault == "stall":
            time.sleep(STALL)
        if fault == "delay":
            time.sleep(RNG.uniform(0.01, 0.2))
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            upstream.putheader(k, v)
        upstream.endheaders()
        remaining = self.body_length()
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            upstream.send(chunk)
            remaining -= len(chunk)
        response = upstream.getresponse()
        challenge = response.getheader("WWW-Authenticate") or ""
        if response.status == 401 and challenge.lower().startswith("bearer"):
            CHALLENGE[0] = ",".join(p for p in challenge.split(",") if not p.strip().startswith(("scope=", "error=")))
        self.send_response(response.status)
        length = response.getheader("Content-Length")
        for k, v in response.getheaders():
            if k.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                self.send_header(k, v)
        body = response.read() if length is None else None
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            upstream.close()
            return
        if body is not None:
            self.wfile.write(body)
        else:
            remaining = int(length)
            half = remaining // 2 if fault in ("drop-response", "stall-body") and remaining > 1 else -1
            sent = 0
            while remaining > 0:
                chunk = response.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                if half >= 0 and sent + len(chunk) > half:
                    self.wfile.write(chunk[: half - sent])
                    self.wfile.flush()
                    if fault == "stall-body":
                        time.sleep(STALL)
                    upstream.close()
                    self.close_hard()
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
                remaining -= len(chunk)
        upstream.close()

    def close_hard(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one


server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
server.daemon_threads = True
if os.environ.get("PROXY_TLS_CERT"):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["PROXY_TLS_CERT"], os.environ["PROXY_TLS_KEY"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(sys.argv[4], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
