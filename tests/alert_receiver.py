#!/usr/bin/python3
"""A webhook receiver for tests/e2e/alerts.sh (run inside the test's
network namespace, on 127.0.0.1 only).

usage: alert_receiver.py PORT DIR

Every POST is appended to DIR/posts.jsonl as one JSON line
{"path": ..., "content_type": ..., "status": ..., "body": ...}.  The
answer is 200, or 500 while the file DIR/fail exists (a receiver that
is down in all but name).  DIR/ready is written once listening.
"""
import http.server
import json
import os
import sys
import time


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        open(os.path.join(D, "got"), "w").close()   # a request came
        slow = os.path.join(D, "slow")
        if os.path.exists(slow):
            time.sleep(float(open(slow).read().strip() or "1"))
        status = 500 if os.path.exists(os.path.join(D, "fail")) else 200
        with open(os.path.join(D, "posts.jsonl"), "a") as f:
            f.write(json.dumps({"path": self.path, "status": status,
                                "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        out = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


D = sys.argv[2]
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
open(os.path.join(D, "ready"), "w").close()
srv.serve_forever()
