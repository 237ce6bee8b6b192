#!/usr/bin/python3
"""Run aicensusd as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC) and check
it reports READY=1, pings the watchdog, and says STOPPING=1 on SIGTERM.

Usage: notify_check.py AICENSUSD CONFIG IFACE-NETNS
The daemon is started inside the given network namespace on its "lo".
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def main():
    daemon, conf, ns = sys.argv[1:4]
    d = tempfile.mkdtemp(prefix="aic-notify.")
    path = os.path.join(d, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")
    p = subprocess.Popen(["ip", "netns", "exec", ns, daemon, "-c", conf,
                          "-i", "lo", "--db", os.path.join(d, "n.db")],
                         env=env, stderr=subprocess.PIPE)
    msgs = []
    t0 = time.time()
    stopped = False
    while time.time() - t0 < 8:
        try:
            msgs.append(s.recv(4096).decode())
        except socket.timeout:
            pass
        if not stopped and sum("WATCHDOG=1" in m for m in msgs) >= 2:
            p.send_signal(signal.SIGTERM)
            stopped = True
        if stopped and p.poll() is not None:
            break
    try:
        while True:
            msgs.append(s.recv(4096).decode())
    except (socket.timeout, OSError):
        pass
    rc = p.wait(timeout=5)
    text = "\n".join(msgs)
    fails = 0
    for ok, what in ((("READY=1" in text), "sends READY=1 when capturing"),
                     ((text.count("WATCHDOG=1") >= 2), "pings the watchdog at half its interval"),
                     (("STOPPING=1" in text), "sends STOPPING=1 on SIGTERM"),
                     ((rc == 0), "exits 0 after SIGTERM")):
        print(("ok - " if ok else "not ok - ") + "under systemd: " + what)
        fails += not ok
    if fails:
        print("#   messages: " + repr(msgs)[:300])
        print("#   stderr: " + p.stderr.read().decode()[:300])
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
