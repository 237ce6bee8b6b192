#!/usr/bin/python3
"""Crafted captures for reassembly that cannot be steered (tests/e2e/overlap.sh).

Each scenario is one capture OUT/<name>.pcap (scapy) of a single client
connection to a server, and a line of OUT/scenarios.json says what the
sensor must make of it:

  count    the catalog service that must be counted once ("" for none)
  anomaly  an anomaly name that must be recorded ("" for none)

The names "real.example" and "fake.example" have the same length, so a
decoy ClientHello differs from the real one only in the name's bytes:
  tcp_retrans        the hello in two segments, each sent twice, same bytes
  tcp_decoy_first    the tail with the decoy name, then with the real
                     name, then the head: two versions of one stream
  tcp_real_first     the same, real tail first
  tcp_decoy_partial  the decoy tail, then a real copy starting 10 bytes in
  tcp_conflict_then_whole  decoy tail, real tail, then the whole real hello
  quic_retrans       CRYPTO tail, the same tail again, then the head
  quic_decoy_first   CRYPTO tail with the decoy, then the real, then head
  quic_real_first    the same, real first
  tls_pad9k          9 KB of padding before the name, one TLS record
  tls_onebyte        a ClientHello in one-byte TLS records
  tls_onebyte_pad9k  both: 9 KB of padding in one-byte records
  tls_pad20k         20 KB of padding before the name: beyond every bound
  quic_pad9k         9 KB of padding before the name in QUIC CRYPTO
"""
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "synth"))
import quic as Q  # noqa: E402
from tlsbuild import ext, sni_ext, u8, u16, u24, vec8, vec16  # noqa: E402

from scapy.all import Ether, IP, TCP, UDP, Raw, wrpcap  # noqa: E402

CLIENT, SERVER = "10.1.2.3", "192.0.2.10"
T0 = 1795082400            # 2026-11-16 10:00:00 UTC, a Monday
REAL, FAKE = "real.example", "fake.example"
SNI_AT = 40                # the head segment ends before the name


def hello(name, pad=0, quic=False):
    """A TLS 1.3 ClientHello (handshake layer); padding before the name."""
    r = random.Random(7)   # the same bytes for every name
    exts = b""
    if pad:
        exts += ext(21, bytes(pad))
    exts += sni_ext(name)
    exts += ext(0x002b, vec8(u16(0x0304)))
    exts += ext(0x000a, vec16(u16(0x001d)))
    exts += ext(0x0033, vec16(u16(0x001d) + vec16(r.randbytes(32))))
    if quic:
        exts += ext(0x0039, b"\x01\x04\x80\x00\x75\x30")
    body = u16(0x0303) + r.randbytes(32) + vec8(b"" if quic else
                                                 r.randbytes(32)) + \
        vec16(u16(0x1301) + u16(0x1302)) + vec8(b"\0") + vec16(exts)
    return u8(1) + u24(len(body)) + body


def records(hs, size):
    out = b""
    for i in range(0, len(hs), size):
        frag = hs[i:i + size]
        out += b"\x16\x03\x01" + struct.pack("!H", len(frag)) + frag
    return out


class Conn:
    def __init__(self, sport):
        self.sport = sport
        self.frames = []
        self.t = T0

    def add(self, pkt):
        self.t += 0.001
        pkt.time = self.t
        self.frames.append(pkt)


def tcp_conn(segments, sport=40000):
    """Handshake, then the client's segments as (stream offset, bytes)."""
    c = Conn(sport)
    isn, sisn = 1000, 5000
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    ip, rip = IP(src=CLIENT, dst=SERVER), IP(src=SERVER, dst=CLIENT)
    c.add(e / ip / TCP(sport=sport, dport=443, flags="S", seq=isn))
    c.add(e / rip / TCP(sport=443, dport=sport, flags="SA", seq=sisn,
                        ack=isn + 1))
    c.add(e / ip / TCP(sport=sport, dport=443, flags="A", seq=isn + 1,
                       ack=sisn + 1))
    for off, data in segments:
        c.add(e / ip / TCP(sport=sport, dport=443, flags="PA",
                           seq=isn + 1 + off, ack=sisn + 1) / Raw(data))
    return c.frames


def split(stream, size):
    return [(i, stream[i:i + size]) for i in range(0, len(stream), size)]


def initial(dcid, pn, frames):
    keys = Q.initial_keys(Q.V1, dcid)
    hdr = Q.long_header_len(Q.V1, dcid, b"", b"", 2)
    need = 1200 - hdr - Q.TAG_LEN
    if len(frames) < need:
        frames += bytes(need - len(frames))
    return Q.protect_long(Q.V1, "initial", dcid, b"", pn, 2, frames, keys)


def quic_conn(packets, sport=50000):
    """Client Initials, one per list of (offset, bytes) CRYPTO frames."""
    c = Conn(sport)
    dcid = bytes(range(1, 9))
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    for pn, frames in enumerate(packets):
        pt = b"".join(Q.frame_crypto(o, d) for o, d in frames)
        c.add(e / IP(src=CLIENT, dst=SERVER) / UDP(sport=sport, dport=443) /
              Raw(initial(dcid, pn, pt)))
    return c.frames


def scenarios():
    s = {}
    real, fake = records(hello(REAL), 16384), records(hello(FAKE), 16384)
    assert len(real) == len(fake) and real.find(REAL.encode()) > SNI_AT
    head, tail = (0, real[:SNI_AT]), (SNI_AT, real[SNI_AT:])
    dtail = (SNI_AT, fake[SNI_AT:])
    s["tcp_retrans"] = (tcp_conn([tail, tail, head, head]), "t-real", "")
    s["tcp_decoy_first"] = (tcp_conn([dtail, tail, head]), "",
                            "tcp_overlap_conflict")
    s["tcp_real_first"] = (tcp_conn([tail, dtail, head]), "",
                           "tcp_overlap_conflict")
    # after the conflict, the whole real hello again from its start: the
    # flow stays given up (not picked up again as a new connection)
    s["tcp_conflict_then_whole"] = (tcp_conn([dtail, tail, (0, real)]), "",
                                    "tcp_overlap_conflict")
    s["tcp_decoy_partial"] = (tcp_conn([dtail, (SNI_AT + 10,
                                                real[SNI_AT + 10:]), head]),
                              "", "tcp_overlap_conflict")

    qr, qf = hello(REAL, quic=True), hello(FAKE, quic=True)
    assert len(qr) == len(qf) and qr.find(REAL.encode()) > SNI_AT
    qhead, qtail, qdtail = (0, qr[:SNI_AT]), (SNI_AT, qr[SNI_AT:]), \
        (SNI_AT, qf[SNI_AT:])
    s["quic_retrans"] = (quic_conn([[qtail], [qtail], [qhead]]), "t-real", "")
    s["quic_decoy_first"] = (quic_conn([[qdtail], [qtail], [qhead]]), "",
                             "quic_crypto_overlap_conflict")
    s["quic_real_first"] = (quic_conn([[qtail], [qdtail], [qhead]]), "",
                            "quic_crypto_overlap_conflict")

    pad9 = hello(REAL, pad=9000)
    s["tls_pad9k"] = (tcp_conn(split(records(pad9, 16384), 1400)),
                      "t-real", "")
    s["tls_onebyte"] = (tcp_conn(split(records(hello(REAL), 1), 1400)),
                        "t-real", "")
    s["tls_onebyte_pad9k"] = (tcp_conn(split(records(pad9, 1), 1400)),
                              "t-real", "")
    s["tls_pad20k"] = (tcp_conn(split(records(hello(REAL, pad=20000),
                                              16384), 1400)),
                       "", "tls_clienthello_unreadable")
    q9 = hello(REAL, pad=9000, quic=True)
    s["quic_pad9k"] = (quic_conn([[(o, q9[o:o + 1000])]
                                  for o in range(0, len(q9), 1000)]),
                       "", "tls_clienthello_unreadable")
    return s


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {}
    for name, (frames, count, anomaly) in scenarios().items():
        wrpcap(os.path.join(out, name + ".pcap"), frames)
        manifest[name] = {"count": count, "anomaly": anomaly}
    with open(os.path.join(out, "scenarios.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
