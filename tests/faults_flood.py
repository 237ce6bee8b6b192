#!/usr/bin/python3
"""Hostile traffic for tests/e2e/hostile.sh: a flood interleaved (by
timestamp) with a genuine synthesized capture, plus malformed packets of
every kind the decoders name.

Usage: faults_flood.py GENUINE.pcap OUT.pcap [--total N] [--seed S]

None of it may add a count: every name is outside the catalog (random
labels of 9+ characters cannot end in a catalog domain), every address
outside the synthesizer's networks (clients 100.64.0.0/10 and fd00::/8,
servers 198.18.0.0/15), except the DNS answers for catalog names, which
only feed the daemon's answer cache (for ECH) and count nothing.  The
kinds, and where in time they go (bursts are what fill the tables):

  syn        half-open TCP handshakes: bare SYNs to port 443, most in one
             60 s burst just before the hello burst (together they
             overfill the flow table: flow_evicted)
  tuple      random 5-tuples: TCP and UDP with random ports and payloads
  dns        queries for random names, half with answers
  answers    answers for catalog names to random clients, 60 s burst
             (fills the DNS answer cache)
  quic_junk  QUIC v1 Initials with random DCIDs and random "ciphertext"
             (quic_auth_fail)
  quic_open  authenticated Initials with random DCIDs whose ClientHello
             never finishes, in a 20 s burst (fills the QUIC table:
             quic_state_evicted)
  hello      TCP ClientHellos that never finish (first 300 bytes of 1.5 KB),
             10 min burst (fills the reassembly pool: tcp_stream_evicted)
  malformed  a few of each: dns_short, dns_no_question, dns_tcp_bad_length,
             ClientHellos too large to read over TCP and QUIC
             (tls_clienthello_unreadable), zero-length SNI extension
             (tls_malformed), quic_bad_frame, quic_crypto_overflow,
             frames cut by the snap length

Prints a JSON summary: frames per kind, the flood total, the anomaly names
the malformed part must produce.
"""
import argparse
import heapq
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "synth"))
import quic as Q  # noqa: E402  (the synthesizer's Initial protection)

MAC = bytes.fromhex("02000000f00d02000000f00e")
CATALOG_NAMES = ["chatgpt.com", "api.openai.com", "claude.ai",
                 "gemini.google.com", "chat.mistral.ai", "chat.deepseek.com"]
ANOMALIES = ["dns_short", "dns_no_question", "dns_tcp_bad_length",
             "tls_clienthello_unreadable", "tls_malformed",
             "quic_bad_frame", "quic_crypto_overflow",
             "dns_trunc_question", "quic_auth_fail", "quic_state_evicted",
             "tcp_stream_evicted", "flow_evicted"]


# --- frames -------------------------------------------------------------

def pad(f):
    return f + bytes(60 - len(f)) if len(f) < 60 else f


def ip4(src, dst, proto, l4):
    return pad(MAC + b"\x08\x00" + struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0,
        src, dst) + l4)


def ip6(src, dst, proto, l4):
    return pad(MAC + b"\x86\xdd" + struct.pack(
        "!IHBB16s16s", 0x60000000, len(l4), proto, 64, src, dst) + l4)


def tcp(sp, dp, seq, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff, 0, 0x50,
                       flags, 64240, 0, 0) + data


def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data


SYN, PSH_ACK, ACK = 0x02, 0x18, 0x10


class Gen:
    def __init__(self, rng, windows):
        self.r = rng
        self.windows = windows      # [(start_usec, end_usec)]
        self.span = sum(b - a for a, b in windows)

    # addresses outside everything the synthesizer uses
    def cli4(self):
        return struct.pack("!I", 0x64400000 | self.r.getrandbits(22))

    def srv4(self):
        return struct.pack("!I", 0xc6120000 | self.r.getrandbits(17))

    def cli6(self):
        return b"\xfd" + self.r.getrandbits(120).to_bytes(15, "big")

    def srv6(self):
        return b"\xfd\xff" + self.r.getrandbits(112).to_bytes(14, "big")

    def port(self):
        return self.r.randrange(1024, 65536)

    def rbytes(self, n):
        return self.r.getrandbits(8 * n).to_bytes(n, "big") if n else b""

    def frame(self, proto, l4, v6=None):
        """A client -> server frame of a random IPv4 (or 1 in 8 IPv6) pair."""
        if v6 is None:
            v6 = self.r.random() < 0.125
        if v6:
            return ip6(self.cli6(), self.srv6(), proto, l4)
        return ip4(self.cli4(), self.srv4(), proto, l4)

    def uniform(self):
        x = self.r.randrange(self.span)
        for a, b in self.windows:
            if x < b - a:
                return a + x
            x -= b - a
        raise AssertionError

    def burst(self, start, secs):
        return start + self.r.randrange(secs * 1000000)

    def name(self):
        al = "abcdefghijklmnopqrstuvwxyz0123456789"
        labels = ["".join(self.r.choice(al) for _ in range(self.r.randrange(9, 21)))
                  for _ in range(self.r.randrange(1, 4))]
        return ".".join(labels + [self.r.choice(["com", "net", "org", "io", "ai"])])


def qname(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def dns_query(qid, name):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(name) + \
        struct.pack("!HH", 1, 1)


def dns_answer(qid, name, addrs):
    m = struct.pack("!HHHHHH", qid, 0x8180, 1, len(addrs), 0, 0) + \
        qname(name) + struct.pack("!HH", 1, 1)
    for a in addrs:
        m += struct.pack("!HHHIH", 0xc00c, 1, 1, 300, 4) + a
    return m


def partial_hello(rng, hs_len, keep):
    """The first keep bytes of a ClientHello that declares hs_len bytes and
    starts its extensions with padding, so no name is in the prefix."""
    body = struct.pack("!H", 0x0303) + rng.getrandbits(256).to_bytes(32, "big") + \
        b"\x00" + struct.pack("!H", 6) + b"\x13\x01\x13\x02\x13\x03" + b"\x01\x00"
    ext_len = hs_len - len(body) - 2
    body += struct.pack("!HHH", ext_len, 0x0015, ext_len - 4)
    hs = b"\x01" + struct.pack("!I", hs_len)[1:] + body
    return (hs + bytes(keep))[:keep]


def hello_zero_sni():
    """A whole ClientHello whose server_name extension is empty."""
    body = struct.pack("!H", 0x0303) + bytes(32) + b"\x00" + \
        struct.pack("!H", 2) + b"\x13\x01" + b"\x01\x00"
    exts = struct.pack("!HH", 0x0000, 0) + struct.pack("!HH", 0x0017, 0)
    body += struct.pack("!H", len(exts)) + exts
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def initial(g, plaintext, pad_to=1200):
    """A client Initial (v1) that authenticates, with a random DCID."""
    dcid = g.rbytes(8)
    keys = Q.initial_keys(Q.V1, dcid)
    hdr = Q.long_header_len(Q.V1, dcid, b"", b"", 2)
    need = pad_to - hdr - Q.TAG_LEN
    if len(plaintext) < need:
        plaintext += bytes(need - len(plaintext))
    return Q.protect_long(Q.V1, "initial", dcid, b"", g.r.randrange(1 << 16),
                          2, plaintext, keys)


def build(g, total):
    """Yields (ts_usec, frame, wirelen) in no particular order."""
    r = g.r
    w0 = g.windows[0][0]
    n = {k: int(total * f) for k, f in (
        ("syn", 0.30), ("tuple", 0.17), ("dns", 0.16), ("answers", 0.10),
        ("quic_junk", 0.10), ("quic_open", 0.015), ("hello", 0.09))}
    counts = dict.fromkeys(list(n) + ["malformed"], 0)

    # half-open handshakes: 90 % in 60 s at 09:15, just before the
    # hello burst, so the two together overfill the flow table
    for i in range(n["syn"]):
        ts = g.burst(w0 + 4500 * 1000000, 60) if i % 10 else g.uniform()
        yield ts, g.frame(6, tcp(g.port(), 443, r.getrandbits(32), SYN)), None
    counts["syn"] = n["syn"]

    for i in range(n["tuple"]):
        sp, dp = g.port(), r.choice([r.randrange(1, 65536), 53, 443, 80, 123])
        data = g.rbytes(r.randrange(0, 200))
        if r.random() < 0.5:
            l4 = tcp(sp, dp, r.getrandbits(32), r.choice([ACK, PSH_ACK, 0x11, 0x04]), data)
            yield g.uniform(), g.frame(6, l4), None
        else:
            yield g.uniform(), g.frame(17, udp(sp, dp, data)), None
    counts["tuple"] = n["tuple"]

    for i in range(n["dns"]):
        ts, qid, name = g.uniform(), r.getrandbits(16), g.name()
        c, s, sp = g.cli4(), g.srv4(), g.port()
        yield ts, ip4(c, s, 17, udp(sp, 53, dns_query(qid, name))), None
        counts["dns"] += 1
        if i % 2:
            yield ts + 2000, ip4(s, c, 17, udp(53, sp, dns_answer(
                qid, name, [g.srv4() for _ in range(r.randrange(1, 4))]))), None
            counts["dns"] += 1

    # answers for catalog names to clients that never connect: 60 s at 10:30
    for i in range(n["answers"]):
        ts = g.burst(w0 + 9000 * 1000000, 60)
        name = r.choice(CATALOG_NAMES)
        yield ts, ip4(g.srv4(), g.cli4(), 17, udp(53, g.port(), dns_answer(
            r.getrandbits(16), name, [g.srv4() for _ in range(r.randrange(1, 5))]))), None
    counts["answers"] = n["answers"]

    for i in range(n["quic_junk"]):
        dcid = g.rbytes(8)
        body = g.rbytes(r.randrange(60, 400))
        pkt = bytes([0xc0 | r.randrange(4)]) + struct.pack("!I", 1) + \
            bytes([8]) + dcid + b"\x00" + b"\x00" + Q.varint(len(body), 2) + body
        yield g.uniform(), g.frame(17, udp(g.port(), 443, pkt)), None
    counts["quic_junk"] = n["quic_junk"]

    # authenticated Initials, never finished: 20 s at 10:10
    for i in range(n["quic_open"]):
        pt = Q.frame_crypto(0, partial_hello(r, 1500, 200))
        yield (g.burst(w0 + 7800 * 1000000, 20),
               g.frame(17, udp(g.port(), 443, initial(g, pt))), None)
    counts["quic_open"] = n["quic_open"]

    # TCP ClientHellos that never finish: 10 min at 09:20
    for i in range(n["hello"]):
        hs = partial_hello(r, 1500, 300)
        rec = b"\x16\x03\x01" + struct.pack("!H", 1504) + hs
        yield (g.burst(w0 + 4800 * 1000000, 600),
               g.frame(6, tcp(g.port(), 443, r.getrandbits(32), PSH_ACK, rec)), None)
    counts["hello"] = n["hello"]

    # --- malformed: a few of each, at 08:30 --------------------------------
    def at():
        return g.burst(w0 + 1800 * 1000000, 300)

    mal = []
    for i in range(20):
        mal.append((at(), g.frame(17, udp(g.port(), 53, g.rbytes(5))), None))
        mal.append((at(), g.frame(17, udp(g.port(), 53, struct.pack(
            "!HHHHHH", r.getrandbits(16), 0x0100, 0, 0, 0, 0))), None))
        mal.append((at(), g.frame(6, tcp(g.port(), 53, r.getrandbits(32), PSH_ACK,
                                         b"\xff\xff" + g.rbytes(30))), None))
        # a query cut by the snap length inside its name
        f = g.frame(17, udp(g.port(), 53, dns_query(r.getrandbits(16), g.name())), v6=False)
        mal.append((at(), f[:14 + 20 + 8 + 12 + 4], len(f)))
    for i in range(10):
        mal.append((at(), g.frame(6, tcp(g.port(), 443, r.getrandbits(32),
                                         PSH_ACK, hello_zero_sni())), None))
        # an unknown frame type after a CRYPTO frame
        pt = Q.frame_crypto(0, partial_hello(r, 1500, 100)) + b"\x30\x01\x02"
        mal.append((at(), g.frame(17, udp(g.port(), 443, initial(g, pt, 0))), None))
        # CRYPTO data far beyond the reassembly cap
        pt = Q.frame_crypto(100000, g.rbytes(50))
        mal.append((at(), g.frame(17, udp(g.port(), 443, initial(g, pt))), None))
    for i in range(5):
        # a ClientHello larger than the QUIC reassembly cap (4 KiB)
        pt = Q.frame_crypto(0, partial_hello(r, 6000, 4200))
        mal.append((at(), g.frame(17, udp(g.port(), 443, initial(g, pt, 0))), None))
        # a 20 KB ClientHello in two records, padding first: no name in
        # the first 16 KiB, the most any hello is read for
        hs = partial_hello(r, 20000, 18000)
        data = b"\x16\x03\x01" + struct.pack("!H", 16384) + hs[:16384] + \
            b"\x16\x03\x01" + struct.pack("!H", 20004 - 16384) + hs[16384:]
        sp, seq, t = g.port(), r.getrandbits(32), at()
        c, s = g.cli4(), g.srv4()
        for k in range(13):
            seg = data[k * 1400:(k + 1) * 1400]
            mal.append((t + k * 1000, ip4(c, s, 6, tcp(sp, 443, seq + k * 1400,
                                                       PSH_ACK, seg)), None))
    counts["malformed"] = len(mal)
    yield from mal
    yield None, counts, None


def read_pcap(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "little-endian microsecond pcap expected"
    off, out = 24, []
    while off + 16 <= len(data):
        sec, usec, cl, wl = struct.unpack_from("<IIII", data, off)
        out.append((sec * 1000000 + usec, data[off + 16:off + 16 + cl], wl))
        off += 16 + cl
    return data[:24], out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("genuine")
    ap.add_argument("out")
    ap.add_argument("--total", type=int, default=500000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    head, genuine = read_pcap(a.genuine)
    # the genuine capture's busy stretches (split at gaps of an hour)
    ts = [t for t, _, _ in genuine]
    windows, start = [], ts[0]
    for x, y in zip(ts, ts[1:]):
        if y - x > 3600 * 1000000:
            windows.append((start, x))
            start = y
    windows.append((start, ts[-1]))
    g = Gen(random.Random(a.seed), windows)
    flood, counts = [], None
    for t, f, wl in build(g, a.total):
        if t is None:
            counts = f
            continue
        flood.append((t, f, wl if wl is not None else len(f)))
    flood.sort(key=lambda x: x[0])
    parts = [head[:16] + struct.pack("<II", 262144, 1)]
    for t, f, wl in heapq.merge(genuine, flood, key=lambda x: x[0]):
        parts.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(f), wl))
        parts.append(f)
    with open(a.out, "wb") as o:
        o.write(b"".join(parts))
    print(json.dumps({"flood": len(flood), "genuine": len(genuine),
                      "kinds": counts, "anomalies": ANOMALIES}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
