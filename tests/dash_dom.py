#!/usr/bin/python3
"""dash_dom.py WIDTH HEIGHT URL [PROFILE]: the DOM of URL in headless
Chromium with its viewport set to WIDTH x HEIGHT CSS pixels, on stdout.

Headless Chromium's window is never narrower than 500 px (--window-size
=420,900 still lays the page out 500 px wide for --dump-dom), so the
viewport of a phone is set through the DevTools protocol
(Emulation.setDeviceMetricsOverride) over --remote-debugging-pipe: file
descriptor 3 carries commands to the browser, 4 its answers, each a JSON
message ended by a NUL byte.  The page is done when it has an element
#fitcheck (tests/dashboard_fit.js writes it) or, without one, when body
has data-ready="1"; at most 45 s.  PROFILE: a browser profile directory
to use (its localStorage is kept), else a fresh one.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


class Pipe:
    def __init__(self, wfd, rfd):
        self.wfd, self.rfd = wfd, rfd
        self.buf = b""
        self.next = 0

    def send(self, method, params=None, session=None):
        self.next += 1
        msg = {"id": self.next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.rfd, 1 << 16)
                if not chunk:
                    raise RuntimeError("the browser closed the pipe")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            ans = json.loads(raw)
            if ans.get("id") == self.next:
                if "error" in ans:
                    raise RuntimeError("%s: %s" % (method, ans["error"]))
                return ans.get("result", {})


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    width, height, url = int(argv[1]), int(argv[2]), argv[3]
    fresh = len(argv) < 5
    prof = tempfile.mkdtemp(prefix="aic-chrome.") if fresh else argv[4]
    # the browser's ends become its descriptors 3 and 4
    cmd_r, cmd_w = os.pipe()
    out_r, out_w = os.pipe()
    hi = [os.dup(fd) for fd in (cmd_r, out_w)]
    os.close(cmd_r)
    os.close(out_w)

    def child():
        os.dup2(hi[0], 3)
        os.dup2(hi[1], 4)

    proc = subprocess.Popen(
        ["chromium"] + FLAGS + ["--user-data-dir=" + prof,
                                "--window-size=%d,%d" % (max(width, 500),
                                                         height),
                                "about:blank"],
        preexec_fn=child, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    for fd in hi:
        os.close(fd)
    pipe = Pipe(cmd_w, out_r)
    rc = 1
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"})
        sid = pipe.send("Target.attachToTarget", {
            "targetId": target["targetId"], "flatten": True})["sessionId"]
        pipe.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": False}, sid)
        pipe.send("Page.navigate", {"url": url}, sid)
        done = ("document.getElementById('fitcheck') ? 1 : "
                "(document.querySelector('script[src=\"fit.js\"]') ? 0 : "
                "(document.body && document.body.dataset.ready === '1' ? 1 "
                ": 0))")
        end = time.time() + 45
        while time.time() < end:
            r = pipe.send("Runtime.evaluate", {"expression": done,
                                               "returnByValue": True}, sid)
            if r.get("result", {}).get("value") == 1:
                rc = 0
                break
            time.sleep(0.2)
        dom = pipe.send("Runtime.evaluate", {
            "expression": "document.documentElement.outerHTML",
            "returnByValue": True}, sid)["result"]["value"]
        sys.stdout.write(dom + "\n")
        try:
            pipe.send("Browser.close")
        except RuntimeError:
            pass
    except (RuntimeError, KeyError, OSError) as e:
        print("dash_dom: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if fresh:
            shutil.rmtree(prof, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
