#!/usr/bin/env python3
"""webhook_sink.py — a loopback HTTP server that stands in for an alert
webhook (Slack, Discord or any JSON endpoint) in the TAP tests.

Every POST to any path except the control routes is recorded (path, content
type, body, the status answered) and answered with the next status of the
queue set by POST /_answers (default 200), after an optional delay.

  webhook_sink.py --port 0 --port-file PATH [--quiet]     (SIGTERM: a clean stop, exit code 0)

Control routes:
  POST /_answers  {"statuses": [500, 200], "delay_ms": 0}  queue the next answers
  GET  /_posts    [{"path", "content_type", "body", "status"}, ...]  every POST so far
Listens on 127.0.0.1 only.  Standard library only.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(ThreadingHTTPServer):
    """The server and what it has seen."""

    daemon_threads = True

    def __init__(self, addr, quiet):
        super().__init__(addr, Handler)
        self.quiet = quiet
        self.lock = threading.Lock()
        self.posts = []
        self.statuses = []
        self.delay_ms = 0


class Handler(BaseHTTPRequestHandler):
    """One request: a control route or a recorded POST."""

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("[sink] %s\n" % (fmt % args))

    def reply(self, status, body=b"", content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        if self.path == "/_posts":
            with self.server.lock:
                body = json.dumps(self.server.posts, ensure_ascii=False).encode()
            self.reply(200, body, "application/json")
        else:
            self.reply(404, b"not found")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_answers":
            spec = json.loads(body or b"{}")
            with self.server.lock:
                self.server.statuses = [int(s) for s in spec.get("statuses", [])]
                self.server.delay_ms = int(spec.get("delay_ms", 0))
            self.reply(200, b"ok")
            return
        with self.server.lock:
            status = self.server.statuses.pop(0) if self.server.statuses else 200
            delay = self.server.delay_ms
        if delay:
            time.sleep(delay / 1000)
        with self.server.lock:
            self.server.posts.append({"path": self.path, "content_type": self.headers.get("Content-Type"),
                                      "body": body.decode("utf-8", "replace"), "status": status})
        self.reply(status, b"ok" if status < 300 else b"no")


def main():
    p = argparse.ArgumentParser(description="loopback alert webhook for the tests (127.0.0.1 only)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", default="")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    server = Sink(("127.0.0.1", a.port), a.quiet)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.replace(tmp, a.port_file)

    def on_signal(signum, frame):
        """Stop serving (from another thread: shutdown waits for the loop)."""
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if a.port_file and os.path.exists(a.port_file):
            os.remove(a.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
