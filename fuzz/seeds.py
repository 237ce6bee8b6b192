#!/usr/bin/python3
"""Seed corpora for the fuzz targets, made afresh on every run.

    /usr/bin/python3 fuzz/seeds.py --out build-fuzz/seeds [--pcaps DIR]

Sources: every capture under --pcaps (default ../shared/pcaps; skipped
when missing) and a small synthesized capture from tests/synth (synth.py
at a low scale), plus a few hand-made cases per target.  Writes
OUT/<target>/<sha1 prefix> files in each target's input format (see the
comment at the top of fuzz/fuzz_<target>.c).  Needs python3-cryptography
(for tests/synth's QUIC decryptor), no scapy.
"""

import argparse
import hashlib
import os
import random
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "synth"))

import dnsbuild  # noqa: E402
import quic as squic  # noqa: E402
import tlsbuild  # noqa: E402

SEP = b"\xffSEG"

# link type -> the decoder target's selector byte (fuzz_decode.c)
DLT_SEL = {1: 0, 113: 1, 276: 2, 12: 3, 101: 3, 228: 4, 229: 5, 0: 6,
           108: 7, 9: 8}

# caps per target, so the corpora stay small and runs start fast
CAP = {"decode": 400, "dns": 300, "tls": 200, "quic": 200, "tcp_reasm": 200,
       "quic_reasm": 120, "config": 50, "catalog": 20, "api": 200}


# ------------------------------------------------------------ captures

def read_capture(path):
    """Yield (linktype, frame, orig_len) from a pcap or pcapng file;
    stops quietly at damage (some test captures are damaged on purpose)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xd4, 0x4d) else ">"
        lt = struct.unpack_from(e + "I", data, 20)[0] & 0x0FFFFFFF
        off = 24
        while off + 16 <= len(data):
            _, _, incl, orig = struct.unpack_from(e + "IIII", data, off)
            off += 16
            if incl > 262144 or off + incl > len(data):
                return
            yield lt, data[off:off + incl], orig
            off += incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        off, e, ifaces = 0, "<", []
        while off + 12 <= len(data):
            btype = struct.unpack_from(e + "I", data, off)[0]
            if btype == 0x0A0D0D0A:
                bom = data[off + 8:off + 12]
                e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                ifaces = []
            blen = struct.unpack_from(e + "I", data, off + 4)[0]
            if blen < 12 or off + blen > len(data):
                return
            body = data[off + 8:off + blen - 4]
            if btype == 1 and len(body) >= 2:
                ifaces.append(struct.unpack_from(e + "H", body, 0)[0])
            elif btype == 6 and len(body) >= 20:
                iface, _, _, incl, orig = struct.unpack_from(e + "IIIII", body, 0)
                if iface < len(ifaces):
                    yield ifaces[iface], body[20:20 + incl], orig
            elif btype == 3 and len(body) >= 4 and ifaces:
                orig = struct.unpack_from(e + "I", body, 0)[0]
                yield ifaces[0], body[4:], orig
            off += blen


def decode(lt, fr):
    """A small decoder: (l4, src, dst, sport, dport, seq, flags, payload)
    or None.  Enough for seeds; the C decoder is what is tested."""
    p = 0
    try:
        if lt == 1:
            et = struct.unpack_from("!H", fr, 12)[0]
            p = 14
            while et in (0x8100, 0x88A8, 0x9100):
                et = struct.unpack_from("!H", fr, p + 2)[0]
                p += 4
            if et == 0x8864:
                et = {0x21: 0x800, 0x57: 0x86DD}.get(
                    struct.unpack_from("!H", fr, p + 6)[0], 0)
                p += 8
        elif lt == 113:
            et, p = struct.unpack_from("!H", fr, 14)[0], 16
        elif lt == 276:
            et, p = struct.unpack_from("!H", fr, 0)[0], 20
        elif lt in (0, 108):
            p, et = 4, (0x800 if fr[4] >> 4 == 4 else 0x86DD)
        elif lt in (12, 101, 228, 229):
            et = 0x800 if fr[0] >> 4 == 4 else 0x86DD
        else:
            return None
        if et == 0x800:
            ihl = (fr[p] & 15) * 4
            total = struct.unpack_from("!H", fr, p + 2)[0]
            if struct.unpack_from("!H", fr, p + 6)[0] & 0x1FFF:
                return None
            proto = fr[p + 9]
            src, dst = fr[p + 12:p + 16], fr[p + 16:p + 20]
            l4 = fr[p + ihl:p + total]
        elif et == 0x86DD:
            plen = struct.unpack_from("!H", fr, p + 4)[0]
            proto = fr[p + 6]
            src, dst = fr[p + 8:p + 24], fr[p + 24:p + 40]
            l4 = fr[p + 40:p + 40 + plen]
            while proto in (0, 43, 60):
                proto, l4 = l4[0], l4[(l4[1] + 1) * 8:]
        else:
            return None
        if proto == 6:
            sp, dp, seq = struct.unpack_from("!HHI", l4, 0)
            off = (l4[12] >> 4) * 4
            return 6, src, dst, sp, dp, seq, l4[13], l4[off:]
        if proto == 17:
            sp, dp = struct.unpack_from("!HH", l4, 0)
            return 17, src, dst, sp, dp, 0, 0, l4[8:]
    except (IndexError, struct.error):
        return None
    return None


def captures(pcapdir, synth_pcap):
    """(name, [(lt, frame, orig)]) per capture."""
    out = []
    paths = []
    if pcapdir and os.path.isdir(pcapdir):
        for d, _, fs in sorted(os.walk(pcapdir)):
            for f in sorted(fs):
                if f.endswith((".pcap", ".pcapng", ".cap")):
                    paths.append(os.path.join(d, f))
    if synth_pcap:
        paths.append(synth_pcap)
    for p in paths:
        try:
            out.append((p, list(read_capture(p))))
        except (OSError, struct.error):
            pass
    return out


# ------------------------------------------------------------ streams

def flows(frames):
    """TCP and UDP flows: key -> list of (from_first_sender, seq, flags,
    payload), in capture order."""
    fl = {}
    for lt, fr, _ in frames:
        d = decode(lt, fr)
        if d is None:
            continue
        l4, src, dst, sp, dp, seq, flags, pl = d
        a, b = (src, sp), (dst, dp)
        key = (l4,) + (min(a, b), max(a, b))
        ent = fl.setdefault(key, {"first": a, "pkts": []})
        ent["pkts"].append((a == ent["first"], seq, flags, pl, sp, dp))
    return fl


def client_stream(pkts):
    """The client's bytes from its first TLS-looking segment, in seq order."""
    segs = [(s, pl) for c, s, f, pl, _, _ in pkts if c and pl]
    start = next((s for s, pl in segs if pl[:2] == b"\x16\x03"), None)
    if start is None:
        return None, []
    buf = bytearray()
    for s, pl in sorted(set((s, bytes(pl)) for s, pl in segs),
                        key=lambda x: (x[0] - start) & 0xFFFFFFFF):
        rel = (s - start) & 0xFFFFFFFF
        if rel > 65536:
            continue
        if rel <= len(buf):
            buf[rel:rel + len(pl)] = pl
    return bytes(buf), segs


def strip_records(stream):
    """Handshake bytes from TLS records (content type 22)."""
    out, p = b"", 0
    while p + 5 <= len(stream) and stream[p] == 22:
        n = struct.unpack_from("!H", stream, p + 3)[0]
        out += stream[p + 5:p + 5 + n]
        p += 5 + n
    return out


# ------------------------------------------------------------ writers

class Corpus:
    def __init__(self, out):
        self.out = out
        self.items = {}
        self.pinned = set()     # kept whatever the cap samples

    def add(self, target, data, pin=False):
        if not data:
            return
        h = hashlib.sha1(data).hexdigest()
        self.items.setdefault(target, {})[h] = data
        if pin:
            self.pinned.add((target, h))

    def write(self, rng):
        for t, items in self.items.items():
            d = os.path.join(self.out, t)
            os.makedirs(d, exist_ok=True)
            keys = sorted(items)
            if len(keys) > CAP.get(t, 200):
                pin = [k for k in keys if (t, k) in self.pinned]
                rest = [k for k in keys if (t, k) not in self.pinned]
                keys = sorted(pin + rng.sample(rest, max(0, CAP.get(t, 200) -
                                                         len(pin))))
            for k in keys:
                with open(os.path.join(d, k[:16]), "wb") as f:
                    f.write(items[k])
            print("seeds: %-11s %4d inputs" % (t, len(keys)))


def tcp_reasm_input(segs, isn, syn, port53=False, fin=True):
    """segs: [(seq, payload)] in sending order -> fuzz_tcp_reasm input."""
    hdr = bytes([(1 if syn else 0) | (2 if fin else 0) | (4 if port53 else 0)])
    hdr += struct.pack("!I", isn & 0xFFFFFFFF)
    nxt = (isn + 1) if syn else isn
    parts = []
    for s, pl in segs:
        delta = ((s - nxt + 0x8000) & 0xFFFFFFFF) - 0x8000
        if not -0x8000 <= delta < 0x8000:
            continue
        parts.append(struct.pack("!hB", delta, 0) + pl)
        nxt = s + len(pl)
    return hdr + SEP.join(parts)


def quic_plain(dgram):
    """(ctl v2 bit, pn, plaintext) of a client Initial, or None."""
    try:
        r = squic.decrypt_initial(bytes(dgram))
    except Exception:  # noqa: BLE001 - bad tags, truncation: not a seed
        return None
    if r is None:
        return None
    ver, _, pn, pt, _ = r
    return (1 if ver == squic.V2 else 0), pn & 0xFF, pt


def from_captures(C, caps):
    for name, frames in caps:
        # decoder: raw frames, selector byte first (bit 7: snaplen cut)
        for lt, fr, orig in frames[:60]:
            if lt in DLT_SEL:
                sel = DLT_SEL[lt] | (0x80 if orig > len(fr) else 0)
                C.add("decode", bytes([sel]) + fr[:4096])
        for key, ent in flows(frames).items():
            pk = ent["pkts"]
            if key[0] == 17:
                # DNS over UDP and QUIC datagrams
                for c, _, _, pl, sp, dp in pk:
                    if 53 in (sp, dp) or 5353 in (sp, dp) or 5355 in (sp, dp):
                        C.add("dns", pl)
                longh = [(c, pl) for c, _, _, pl, _, _ in pk
                         if len(pl) > 6 and pl[0] & 0x80]
                if not longh:
                    continue
                raw = SEP.join(bytes([0 if c else 0x40]) + pl
                               for c, pl in longh[:8])
                C.add("quic", b"\x04" + raw)
                plains = [quic_plain(pl) for c, pl in longh if c]
                plains = [p for p in plains if p is not None][:8]
                if plains:
                    sealed = SEP.join(bytes([v2, pn]) + pt
                                      for v2, pn, pt in plains)
                    C.add("quic", b"\x05" + sealed)
                    C.add("quic_reasm", b"\x00" + sealed)
                continue
            # TCP
            dnsport = any(53 in (sp, dp) for _, _, _, _, sp, dp in pk)
            if dnsport:
                data = b"".join(pl for c, _, _, pl, _, _ in pk if c and pl)
                C.add("dns", data[:8192])
                segs = [(s, pl) for c, s, f, pl, _, _ in pk if c and pl]
                syn = next((s for c, s, f, pl, _, _ in pk if c and f & 2), None)
                if segs:
                    isn = syn if syn is not None else segs[0][0]
                    C.add("tcp_reasm", tcp_reasm_input(
                        segs[:12], isn, syn is not None, port53=True))
                continue
            stream, segs = client_stream(pk)
            if not stream:
                continue
            C.add("tls", stream[:20000])
            C.add("tls", strip_records(stream)[:20000])
            syn = next((s for c, s, f, pl, _, _ in pk if c and f & 2), None)
            isn = syn if syn is not None else segs[0][0]
            C.add("tcp_reasm", tcp_reasm_input(
                [(s, pl) for s, pl in segs][:16], isn, syn is not None))


def handmade(C, rng):
    names = ["chatgpt.com", "api.openai.com", "claude.ai.",
             "gemini.google.com", "x" * 63 + "." + "y" * 63 + ".com",
             "cloudflare-ech.com", "dns.google", "a..b", b"\xc3\xa9.example"]
    for i, sni in enumerate(names):
        for quic in (False, True):
            hs = tlsbuild.client_hello(
                rng, sni if i != len(names) - 1 or quic else None,
                quic=quic, pq=(i % 2 == 0), ech="grease" if i % 3 == 0 else
                ("real" if i == 5 else None), sni_early=(i % 4 == 1),
                chrome=(i % 5 != 4), bad_ext_len=(i == 6))
            C.add("tls", hs)
            rec = tlsbuild.records(hs, sizes=[rng.randrange(40, 700)] * 6
                                   if i % 2 else None)
            C.add("tls", rec)
            if quic:
                # split CRYPTO over 1..3 Initials, out of order at times
                parts, off = [], 0
                n = 1 + i % 3
                size = len(hs) // n + 1
                while off < len(hs):
                    parts.append(squic.frame_crypto(off, hs[off:off + size]))
                    off += size
                if i % 2:
                    parts.reverse()
                frames = [bytes([i % 2, k]) + (squic.frame_ack(0) if k else b"")
                          + p + b"\x01" for k, p in enumerate(parts)]
                C.add("quic", bytes([1 | (i % 4) << 1]) + SEP.join(frames))
                C.add("quic_reasm", b"\x00" + SEP.join(frames))
                C.add("quic_reasm", b"\x12" + SEP.join(frames))  # reload
            else:
                # a TCP ClientHello in 2..5 segments, sometimes reordered
                n = 2 + i % 4
                cut = sorted(rng.sample(range(1, len(rec)), n - 1))
                pieces = [rec[a:b] for a, b in zip([0] + cut, cut + [len(rec)])]
                isn = rng.randrange(1 << 32)
                segs, off = [], isn + 1
                for p in pieces:
                    segs.append((off, p))
                    off += len(p)
                if i % 3 == 2:
                    segs = [segs[1], segs[0]] + segs[2:]
                if i % 4 == 3:
                    segs.insert(1, segs[0])     # retransmission
                C.add("tcp_reasm", tcp_reasm_input(segs, isn, True))
                C.add("tcp_reasm", tcp_reasm_input(segs, isn, False, fin=False))
                # a reload (another catalog) before the second segment
                r = tcp_reasm_input(segs, isn, True)
                C.add("tcp_reasm", bytes([r[0] | 8 | 1 << 4]) + r[1:])
    for i, n in enumerate(["chatgpt.com", "claude.ai", "example.org",
                           "a.b.c.d.e.f.g.h", "xn--bcher-kva.example"]):
        q = dnsbuild.query(i, n, qtype=(1, 28, 65)[i % 3], edns=bool(i % 2))
        r = dnsbuild.response(i, n, (1, 28)[i % 2], rcode=(0, 0, 3)[i % 3],
                              cnames=("c.%s" % n,) if i % 2 else (),
                              addrs=("203.0.113.%d" % i, "2001:db8::%d" % i)
                              if i % 3 != 2 else ())
        C.add("dns", q)
        C.add("dns", r)
        C.add("dns", dnsbuild.tcp_frame(q) + dnsbuild.tcp_frame(r)[:-3])
        C.add("quic_reasm", b"\x01" + SEP.join([b"\x02" + q, b"\x06" + r]))
        C.add("tcp_reasm", tcp_reasm_input(
            [(1001, dnsbuild.tcp_frame(q)[:5]), (1006, dnsbuild.tcp_frame(q)[5:])],
            1000, True, port53=True))
    # the decoder's link types around one IPv4/UDP and one IPv6/TCP packet
    ip4 = bytes.fromhex("450000300001400040110000c0a80001c0a80002"
                        "d43100350014000000010100000100000000000000")
    ip6 = bytes.fromhex("6000000000140640" + "20010db8" + "00" * 11 + "01" +
                        "20010db8" + "00" * 11 + "02") + \
        bytes.fromhex("c35001bb0000000100000000500220000000000000")[:20]
    gtp = bytes.fromhex("450000400001400040110000c0a80001c0a80002"
                        "086808680024000030ff0014000000010000") + ip4[:20]
    eth = bytes(12)
    for sel, fr in [
            (0, eth + b"\x08\x00" + ip4), (0, eth + b"\x86\xdd" + ip6),
            (0, eth + b"\x81\x00\x00\x1e\x08\x00" + ip4),
            (0, eth + b"\x88\xa8\x00\x64\x81\x00\x00\x28\x08\x00" + ip4),
            (0, eth + b"\x88\x64\x11\x00\x00\x01\x00\x20\x00\x21" + ip4),
            (0, eth + b"\x08\x00" + gtp),
            (1, b"\x00\x00\x00\x01\x00\x06" + bytes(8) + b"\x08\x00" + ip4),
            (1, b"\x00\x00\x00\x01\x00\x06" + bytes(8) + b"\x81\x00\x00\x05\x86\xdd" + ip6),
            (2, b"\x08\x00" + bytes(18) + ip4), (3, ip4), (4, ip4), (5, ip6),
            (6, b"\x02\x00\x00\x00" + ip4), (6, b"\x00\x00\x00\x1e" + ip6),
            (7, b"\x00\x00\x00\x02" + ip4), (8, b"\xff\x03\x00\x21" + ip4),
            (8, b"\x57" + ip6), (15, ip4), (0x80, eth + b"\x08\x00" + ip4[:30])]:
        C.add("decode", bytes([sel]) + fr)
    # every tunnel the decoder unwraps, around ip4/ip6, and nested ones
    for fr in encap_frames(ip4, ip6):
        C.add("decode", b"\x00" + fr, pin=True)
        C.add("decode", b"\x80" + fr[:len(fr) - 7], pin=True)  # snaplen cut
    # IPv6 extension headers: hop-by-hop, fragment (first), routing
    ext = bytes.fromhex("6000000000280040" + "00" * 32) + \
        bytes.fromhex("2c00000000000000") + bytes.fromhex("1100000100000001") + \
        bytes.fromhex("0035003500180000") + bytes(16)
    C.add("decode", b"\x05" + ext)


def encap_frames(ip4, ip6):
    """Ethernet frames of each tunnel kind of decode.h (VXLAN, Geneve,
    GRE with its fields, ERSPAN I/II/III, MPLS on Ethernet, in GRE and
    in UDP with a pseudowire, the four IP-in-IP pairs, GTP-U) and two
    nested twice, for the decoder target (selector 0: Ethernet)."""
    pk = struct.pack
    mac = bytes.fromhex("020000000001020000000002")

    def eth(t, p, tag=None):
        return mac + (pk("!HH", 0x8100, tag) if tag else b"") + \
            pk("!H", t) + p

    def o4(proto, p):
        return pk("!BBHHHBBH4s4s", 0x45, 0, 20 + len(p), 0, 0x4000, 64,
                  proto, 0, bytes([172, 16, 0, 1]), bytes([172, 16, 9, 2])) + p

    def o6(nh, p):
        return pk("!IHBB", 0x60000000, len(p), nh, 64) + \
            bytes.fromhex("20010db8ffff" + "00" * 9 + "11") + \
            bytes.fromhex("20010db8ffff" + "00" * 9 + "22") + p

    def udp(dport, p):
        return pk("!HHHH", 51515, dport, 8 + len(p), 0) + p

    def gre(proto, p, flags=0, extra=b""):
        return pk("!HH", flags, proto) + extra + p

    def mpls(p, n=1):
        return b"".join(pk("!I", (16 + i) << 12 | (0x100 if i == n - 1
                                                      else 0) | 64)
                        for i in range(n)) + p

    ip4 = ip4[:2] + pk("!H", len(ip4)) + ip4[4:]    # its own length
    vx = bytes.fromhex("0800000000123400")
    gen = lambda proto, opts=b"": bytes([len(opts) // 4, 0]) + \
        pk("!H", proto) + bytes.fromhex("00567800") + opts
    e4 = eth(0x0800, ip4)
    e6t = eth(0x86DD, ip6, 20)
    out = [
        eth(0x0800, o4(17, udp(4789, vx + e4))),
        eth(0x86DD, o6(17, udp(8472, vx + e6t))),
        eth(0x0800, o4(17, udp(6081, gen(0x6558, bytes.fromhex(
            "01028000") * 2) + e4))),
        eth(0x0800, o4(17, udp(6081, gen(0x86DD) + ip6))),
        eth(0x0800, o4(47, gre(0x0800, ip4))),
        eth(0x86DD, o6(47, gre(0x86DD, ip6, 0xB000, bytes(12)))),
        eth(0x0800, o4(47, gre(0x6558, e6t, 0x2000, bytes(4)))),
        eth(0x0800, o4(47, gre(0x8847, mpls(ip4, 2)))),
        eth(0x0800, o4(47, gre(0x88BE, e4))),
        eth(0x0800, o4(47, gre(0x88BE, bytes.fromhex("100a180500000001") +
                               e4, 0x1000, pk("!I", 7)))),
        eth(0x0800, o4(47, gre(0x22EB, bytes.fromhex(
            "200a18051234567800070000") + e4))),
        eth(0x0800, o4(47, gre(0x22EB, bytes.fromhex(
            "200a18051234567800070001") + bytes(8) + e4))),
        eth(0x0800, o4(47, gre(0x22EB, bytes.fromhex(
            "200a18051234567800070800") + ip4))),
        eth(0x8847, mpls(ip4)),
        eth(0x8848, mpls(ip6, 3), 20),
        eth(0x8847, mpls(b"\0\0\0\7" + e4, 2)),
        eth(0x0800, o4(17, udp(6635, mpls(ip4)))),
        eth(0x0800, o4(4, ip4)), eth(0x0800, o4(41, ip6)),
        eth(0x86DD, o6(4, ip4)), eth(0x86DD, o6(41, ip6)),
        eth(0x0800, o4(17, pk("!HHHH", 2152, 2152, 16 + len(ip4), 0) +
                       bytes.fromhex("30ff") + pk("!H", len(ip4)) +
                       bytes(4) + ip4)),
        # nested: VXLAN in GRE, MPLS in GRE in IPv6, five IP-in-IP layers
        eth(0x0800, o4(47, gre(0x0800, o4(17, udp(4789, vx + e4))))),
        eth(0x86DD, o6(47, gre(0x8847, mpls(ip4, 2)))),
        eth(0x0800, o4(4, o4(4, o4(4, o4(4, o4(4, ip4)))))),
    ]
    return out


def configs(C, synth_dir):
    for p in [os.path.join(ROOT, "config", "aicensus.conf"),
              os.path.join(ROOT, "tests", "data", "inspect.conf"),
              os.path.join(synth_dir, "aicensus.conf") if synth_dir else ""]:
        if p and os.path.exists(p):
            with open(p, "rb") as f:
                C.add("config", f.read())
    for p in [os.path.join(ROOT, "config", "catalog.conf"),
              os.path.join(synth_dir, "catalog.conf") if synth_dir else ""]:
        if p and os.path.exists(p):
            with open(p, "rb") as f:
                C.add("catalog", f.read())
    C.add("config", b'aicensus: {\n  user = "";\n  timezone = "UTC";\n'
          b'  departments = ( { name = "Finance"; prefixes = [ "10.10.0.0/16",'
          b' "2001:db8:10::/48" ]; vlans = [ 30 ]; } );\n'
          b'  ignore = [ "10.0.0.53" ];\n  sanctioned = [ "openai-chatgpt" ];\n'
          b'  limits = { max_flows = 4096; };\n'
          b'  capture = { snaplen = 1024; filter = "udp or tcp"; };\n};\n')
    C.add("catalog", b'version = 1;\nservices = (\n  { id = "x"; name = "X"; vendor = "V";'
          b' category = "chat"; jurisdiction = "US";\n'
          b'    domains = [ "x.example" ]; hosts = [ "h.x2.example" ]; }\n);\n')


def api_seeds(C):
    for s in [b"/api/v1/usage?from=2026-W47&to=2026-W48&by=department,service"
              b"&interval=day", b"/api/v1/status", b"/healthz", b"/metrics",
              b"/api/v1/usage?from=2026-11-16&to=2026-Q4&by=service",
              b"/api/v1/usage?from=1794816000&by=department&by=service",
              b"/index.html", b"/../etc/passwd", b"/assets/app.js?x=%2e%2e",
              b"/api/v1/services?", b"/api/v1/departments?a=b&c",
              b"/%2F%00%ff?from=2026-W53", b"/js/", b"/out/passwd",
              b"/js/app.js", b"/.hidden.html", b"/x.bin",
              b"/api/v1/usage?week=2026-W47&by=department,service",
              b"/api/v1/usage?day=2026-11-18&by=service",
              b"/api/v1/usage?from=1794787200&to=1794960000&by=department,day",
              b"/api/v1/usage?from=1794787201&by=day,department,service",
              b"/api/v1/usage?from=2026-W46&to=2026-W48&by=category",
              b"/api/v1/periods", b"/api/v1/blind?week=2026-W48",
              b"/api/v1/blind?day=2026-11-23"]:
        C.add("api", b"\x00" + s)      # request with the token
        C.add("api", b"\x08" + s)      # pure: path and query parsers
    C.add("api", b"\x01/api/v1/usage")
    C.add("api", b"\x02/metrics")
    C.add("api", b"\x04GET /api/v1/status HTTP/1.0\r\nAuthorization: Bearer "
          b"fuzz-token-5b1f0c9e2d7a4e8f\r\n\r\n")
    C.add("api", b"\x04POST /api/v1/usage HTTP/1.1\r\nHost: x\r\n"
          b"Content-Length: 4\r\n\r\nabcd")


def leb(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def zz(v):
    return (v << 1) ^ (v >> 63) if v >= 0 else ((-v) << 1) - 1


def wacc_seeds(C):
    """Week accumulators as daemon/wacc.h lays them out (empty sketches:
    version 1, sparse, count 0), after a first byte that picks the week."""
    empty = b"\x01\x00\x00"
    sk = leb(len(empty)) + empty
    names = [b"Legal", b"svc-1", b"unassigned", b"svc-7", b"tls_malformed"]
    head = b"\x01" + leb(zz(202647)) + leb(len(names))
    head += b"".join(leb(len(n)) + n for n in names)
    hour = 1794787200 + 9 * 3600
    for rdays, nleaf, nhc, nbh in ((0, 0, 0, 0), (1, 1, 1, 1), (0, 0, 3, 2),
                                    (2, 2, 0, 0)):
        b = head + leb(rdays)
        b += b"".join(leb(20261116 + i) for i in range(rdays))
        b += leb(2 * rdays)                       # cover hours
        b += leb(nleaf)
        for i in range(nleaf):
            b += leb(i % 3) + leb(1 + 2 * (i % 2)) + leb(5) * 7 + leb(9) + sk
        b += leb(nhc)
        for i in range(nhc):
            b += leb(zz(hour + 3600 * i)) + leb(20261118) + leb(0) + leb(1)
            b += leb(3) * 7 + sk
        b += leb(nbh)
        for i in range(nbh):
            b += leb(zz(hour + 3600 * i)) + leb(20261118) + leb(11)
            b += leb(100) * 11 + leb(1) + leb(13) + b"tls_malformed" + leb(2)
        C.add("wacc", b"\x00" + b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--pcaps", default=os.path.join(ROOT, "..", "shared", "pcaps"))
    a = ap.parse_args()
    rng = random.Random(1)
    C = Corpus(a.out)
    with tempfile.TemporaryDirectory(prefix="aicensus-seeds-") as tmp:
        synth_pcap = None
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "synth",
                            "synth.py"), "--seed", "7", "--scale", "0.1",
                            "--no-check", "--out", tmp],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode == 0:
            synth_pcap = os.path.join(tmp, "traffic.pcap")
        else:
            print("seeds: synth.py failed, going on without it: %s" %
                  r.stderr.decode(errors="replace")[-300:], file=sys.stderr)
        from_captures(C, captures(a.pcaps, synth_pcap))
        configs(C, tmp if synth_pcap else None)
    handmade(C, rng)
    wacc_seeds(C)
    api_seeds(C)
    C.write(rng)


if __name__ == "__main__":
    main()
