#!/usr/bin/python3
"""Helpers of tests/e2e/workers.sh (live capture with capture.workers).

  workers_check.py matched PCAP CAPTURE_H
      "TOTAL SENDABLE MATCHED": the frames of PCAP, those a packet
      socket can send (an Ethernet header at least), and those the
      daemon's default capture filter (CAPTURE_DEFAULT_FILTER in
      CAPTURE_H) passes on a live socket, by libpcap's own
      pcap_offline_filter: what a live capture of the replayed file must
      see, no more and no less.

  workers_check.py leaves RELEASED.db
      JSON {"dept|svc": {measure: value}} of the released week cells
      summed over every released week (a live run may straddle one), and
      the day blind spots summed ("blind|name": value).

  workers_check.py truth TRUTH.json
      The same JSON built from synth.py's truth for the measures that do
      not depend on the capture's clock (see TIME_FREE).

  workers_check.py replayable PCAP TRUTH.json OUT
      PCAP without the one case whose outcome depends on the clock: the
      ECH connection to STALE_ECH_SERVER whose DNS answer came 1800 s
      before with a TTL of 60 (case ech-unattributed-stale).  Replayed in
      a few seconds, that answer is fresh again, and whether it attributes
      the connection would depend on the daemon's clock and flushes.
      The case's lookup stays; `truth` leaves the case out of
      ech_unattributed.

  workers_check.py compare A.json B.json [--measures m,m,...] [--leaves]
      Prints "same" or the first differences; exit 1 when they differ.
      --leaves: only department x service leaves (no '*', no 'cat:').
"""
import collections
import ctypes
import json
import re
import sqlite3
import sys

WEEK_M = ["devices", "devhours", "tls", "quic", "ech", "conns", "dns",
          "nxdomain", "bytes_up", "bytes_down"]
# A replay squeezes three hours and two days of traffic into seconds of
# the live clock: device-hours (per hour) cannot match the truth's, the
# rest are counts of packets and connections and distinct devices.
TIME_FREE = ["devices", "tls", "quic", "ech", "dns", "nxdomain", "bytes_up",
             "bytes_down"]
TRUTH_FIELD = {"tls": "tls_conns", "quic": "quic_conns", "ech": "ech_conns",
               "dns": "dns_lookups", "nxdomain": "dns_nxdomain",
               "bytes_up": "bytes_up", "bytes_down": "bytes_down"}


def default_filter(capture_h):
    src = open(capture_h).read()
    body = []
    for line in src[src.index("#define CAPTURE_DEFAULT_FILTER"):].split("\n"):
        body.append(line)
        if not line.rstrip().endswith("\\"):
            break
    return "".join(re.findall(r'"([^"]*)"', "\n".join(body)))


class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint), ("insns", ctypes.c_void_p)]


class Hdr(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


def matched(pcap, capture_h):
    lib = ctypes.CDLL("libpcap.so.0.8")
    lib.pcap_open_offline.restype = ctypes.c_void_p
    lib.pcap_open_offline.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(Prog),
                                 ctypes.c_char_p, ctypes.c_int,
                                 ctypes.c_uint32]
    lib.pcap_next_ex.argtypes = [ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.POINTER(Hdr)),
                                 ctypes.POINTER(ctypes.c_void_p)]
    lib.pcap_offline_filter.argtypes = [ctypes.POINTER(Prog),
                                        ctypes.POINTER(Hdr), ctypes.c_void_p]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    err = ctypes.create_string_buffer(512)
    p = lib.pcap_open_offline(pcap.encode(), err)
    if not p:
        sys.exit(f"workers_check: {pcap}: {err.value.decode()}")
    bp = Prog()
    if lib.pcap_compile(p, ctypes.byref(bp), default_filter(capture_h).encode(),
                        1, 0xffffffff) != 0:
        sys.exit("workers_check: the default filter does not compile")
    h = ctypes.POINTER(Hdr)()
    d = ctypes.c_void_p()
    n = k = sendable = 0
    while lib.pcap_next_ex(p, ctypes.byref(h), ctypes.byref(d)) == 1:
        n += 1
        frame = ctypes.string_at(d, h.contents.caplen)
        sendable += len(frame) >= 14
        # What a live socket's filter sees: the kernel refuses to send
        # a frame shorter than an Ethernet header, drops one whose
        # outer VLAN tag is cut short, and takes the outer tag out of
        # the frame (into metadata) before the filter runs.
        if len(frame) < 14:
            continue
        if frame[12:14] in (b"\x81\x00", b"\x88\xa8"):
            if len(frame) < 18:
                continue
            frame = frame[:12] + frame[16:]
        hh = Hdr(h.contents.sec, h.contents.usec, len(frame), len(frame))
        buf = ctypes.create_string_buffer(frame, len(frame))
        if lib.pcap_offline_filter(ctypes.byref(bp), ctypes.byref(hh), buf):
            k += 1
    lib.pcap_close(p)
    return n, sendable, k


STALE_ECH_CASE = "ech-unattributed-stale"
STALE_ECH_SERVER = bytes([203, 0, 113, 24])


def replayable(pcap, truth, out):
    t = json.load(open(truth))
    if not any(c["case"] == STALE_ECH_CASE for c in t["cases"]) or \
            "203.0.113.24" not in t["server_addresses"]:
        sys.exit(f"workers_check: no {STALE_ECH_CASE} case at 203.0.113.24")
    src = open(pcap, "rb")
    dst = open(out, "wb")
    gh = src.read(24)
    if gh[:4] != b"\xd4\xc3\xb2\xa1":
        sys.exit("workers_check: not a little-endian microsecond pcap")
    dst.write(gh)
    gone = 0
    while True:
        h = src.read(16)
        if len(h) < 16:
            break
        n = int.from_bytes(h[8:12], "little")
        f = src.read(n)
        o = 12
        while f[o:o + 2] in (b"\x81\x00", b"\x88\xa8") and len(f) >= o + 6:
            o += 4
        if f[o:o + 2] == b"\x08\x00" and len(f) >= o + 22 and \
                STALE_ECH_SERVER in (f[o + 14:o + 18], f[o + 18:o + 22]):
            gone += 1
            continue
        dst.write(h + f)
    dst.close()
    if gone == 0:
        sys.exit("workers_check: the stale ECH connection is not in the capture")
    return gone


def leaves_of_db(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = collections.defaultdict(collections.Counter)
    cols = ", ".join(WEEK_M)
    for row in con.execute(f"SELECT dept, svc, {cols} FROM cell "
                           "WHERE kind = 2"):
        c = out[f"{row[0]}|{row[1]}"]
        for m, v in zip(WEEK_M, row[2:]):
            c[m] += v or 0
    for name, v in con.execute("SELECT name, SUM(value) FROM blind "
                               "GROUP BY name"):
        out[f"blind|{name}"]["value"] = v
    return {k: dict(v) for k, v in out.items()}


def leaves_of_truth(path):
    t = json.load(open(path))
    out = collections.defaultdict(collections.Counter)
    for u in t["usage"]:
        c = out[f"{u['department']}|{u['service']}"]
        for m, f in TRUTH_FIELD.items():
            c[m] += u.get(f, 0)
    for d in t["devices_week"]:
        out[f"{d['department']}|{d['service']}"]["devices"] += d["devices"]
    b = t.get("blind", {})
    if "ech_unattributed" in b:
        # without the stale case: see replayable
        out["blind|ech_unattributed"]["value"] = b["ech_unattributed"] - 1
    return {k: dict(v) for k, v in out.items()}


def compare(a, b, measures, leaves_only):
    def keep(k):
        if not leaves_only:
            return True
        d, s = k.split("|", 1)
        return d not in ("*", "blind") and s != "*" and \
            not s.startswith("cat:")
    diff = []
    for k in sorted(set(a) | set(b)):
        if not keep(k):
            continue
        ms = measures or sorted(set(a.get(k, {})) | set(b.get(k, {})))
        for m in ms:
            x, y = a.get(k, {}).get(m, 0), b.get(k, {}).get(m, 0)
            if x != y:
                diff.append(f"{k} {m}: {x} != {y}")
    return diff


def main(argv):
    if len(argv) >= 4 and argv[1] == "matched":
        print(*matched(argv[2], argv[3]))
        return 0
    if len(argv) == 5 and argv[1] == "replayable":
        print(replayable(argv[2], argv[3], argv[4]))
        return 0
    if len(argv) == 3 and argv[1] == "leaves":
        print(json.dumps(leaves_of_db(argv[2]), sort_keys=True))
        return 0
    if len(argv) == 3 and argv[1] == "truth":
        print(json.dumps(leaves_of_truth(argv[2]), sort_keys=True))
        return 0
    if len(argv) >= 4 and argv[1] == "compare":
        ms = None
        if "--measures" in argv:
            ms = argv[argv.index("--measures") + 1].split(",")
        a, b = (json.load(open(x)) for x in argv[2:4])
        if "--only" in argv:
            keys = argv[argv.index("--only") + 1].split(",")
            a = {k: v for k, v in a.items() if k in keys}
            b = {k: v for k, v in b.items() if k in keys}
        if not a or not b:
            print("nothing to compare")
            return 1
        d = compare(a, b, ms, "--leaves" in argv)
        print("same" if not d else f"{len(d)} differ: " + "; ".join(d[:6]))
        return 0 if not d else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
