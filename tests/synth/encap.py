#!/usr/bin/python3
"""Wrap every frame of a capture in an encapsulation, as a mirror sends it.

Usage: encap.py IN.pcap OUTDIR [--only NAME,...] [--live N]

Writes OUTDIR/<variant>.pcap for each variant below and OUTDIR/summary.json
describing them.  The input must be Ethernet (link type 1); timestamps and
the inner frames' bytes are kept, so a variant carries exactly the traffic
of its reference capture:

  reference "plain"     the input itself, for the variants that carry whole
                        Ethernet frames (inner VLAN tags kept): vxlan (UDP
                        4789), vxlan-8472 (Linux's port), geneve, gre-eth,
                        erspan1/2/3, mpls-pw (Ethernet pseudowire, control
                        word 0), vxlan-in-gre, depth4 (4 layers, the
                        decoder's bound);
  reference "plain-l3"  plain-l3.pcap: the input with every IP frame's
                        802.1Q/802.1ad tags removed (the same Ethernet
                        addresses, the IP packet trimmed to its own length),
                        for the variants that carry IP packets and so lose
                        the link layer: gre-ip, mpls (Ethernet 0x8847),
                        mpls-udp (MPLS-in-UDP, port 6635), gtpu (GTP-U,
                        decoded before issue 13: its kind is counted),
                        4in4, 6in4, 4in6, 6in6, mpls-in-gre-in-ipv6,
                        outer.  Frames that are
                        not IP (ARP, PPPoE, broken Ethernet) are copied as
                        they are in both.

IP-in-IP only wraps the inner family it names (4in4 wraps the IPv4
frames, 6in4 the IPv6 ones, ...): the other frames stay as in plain-l3.
The mirror's outer addresses are 198.18.0.1 -> 198.18.0.2 and
fd00:18::1 -> fd00:18::2 (in no department).  The variant "outer" wraps
every IP frame in IPv4 (4in4/6in4) between 10.40.250.1 (a Research
address: the client's side of an inline tunnel) and 198.18.0.2, in the
direction of the inner packet, for capture.client_address = "outer".

Hostile variants (summary "hostile"): the input plus frames that must
count nothing.  They are copies of the input's IPv4 DNS queries from
department clients, moved to fresh client addresses (10.10.250.N) so that
one decoded by mistake adds a device, wrapped in a broken or refused
encapsulation; each is inserted right after the query it copies.  Each
variant holds one case, and the summary says which anomaly it must raise
("encap_malformed", "encap_too_deep") or, for a payload of an unknown kind,
none (the status figure encap_other).

--live N also writes live.pcap, the first N frames of every variant
but the hostile ones and "outer", one after the other, for replaying
onto a link (the timestamps are the variants', so replay at a rate).

Per variant the summary gives the reference, the number of frames, and
per encapsulation kind (names of the spec: gre, erspan1, erspan2,
erspan3, vxlan, geneve, mpls, ipip) how many frames carry it: what the
status figures encap[kind] must count.
"""
import ipaddress
import json
import os
import struct
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import RawPcapReader

M_SRC, M_DST = "02:00:00:18:00:01", "02:00:00:18:00:02"
O4 = ("198.18.0.1", "198.18.0.2")
O6 = ("fd00:18::1", "fd00:18::2")
OUTER_CLIENT = "10.40.250.1"            # Research
CLIENT_NETS = [ipaddress.ip_network(n) for n in
               ("10.0.0.0/8", "172.16.30.0/24", "192.168.77.0/24",
                "2001:db8:20::/48")]
TAGS = (0x8100, 0x88a8, 0x9100)
VNI = 4242
MPLS_LABELS = (1001, 2002)


# --- pcap i/o ---------------------------------------------------------

def read_frames(path):
    """[(ts_sec, ts_usec, data, wirelen)] of an Ethernet capture."""
    rd = RawPcapReader(path)
    if rd.linktype != 1:
        sys.exit(f"encap.py: {path}: link type {rd.linktype}, need Ethernet (1)")
    out = []
    for data, md in rd:
        sec = getattr(md, "sec", None)
        usec = getattr(md, "usec", None)
        if sec is None:                      # pcapng metadata
            t = (md.tshigh << 32) | md.tslow
            sec, usec = divmod(t, 1000000)
        out.append((sec, usec, bytes(data), md.wirelen))
    rd.close()
    return out


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for sec, usec, data, wirelen in frames:
            f.write(struct.pack("<IIII", sec, usec, len(data), wirelen))
            f.write(data)


# --- the inner frame --------------------------------------------------

def split_eth(data):
    """(ethertype, offset of the L3 header, tagged) or None."""
    if len(data) < 14:
        return None
    off, et, tagged = 12, struct.unpack_from("!H", data, 12)[0], False
    while et in TAGS:
        if len(data) < off + 6:
            return None
        off += 4
        et = struct.unpack_from("!H", data, off)[0]
        tagged = True
    return et, off + 2, tagged


def ip_packet(data):
    """(family, ip bytes trimmed to the IP length, had tags) or None."""
    s = split_eth(data)
    if s is None:
        return None
    et, off, tagged = s
    ipb = data[off:]
    if et == 0x0800 and len(ipb) >= 20 and ipb[0] >> 4 == 4:
        tot = struct.unpack_from("!H", ipb, 2)[0]
        if tot <= len(ipb):
            ipb = ipb[:tot]
        return 4, ipb, tagged
    if et == 0x86dd and len(ipb) >= 40 and ipb[0] >> 4 == 6:
        tot = 40 + struct.unpack_from("!H", ipb, 4)[0]
        if tot <= len(ipb):
            ipb = ipb[:tot]
        return 6, ipb, tagged
    return None


def l3_frame(data, fam, ipb):
    return data[:12] + struct.pack("!H", 0x0800 if fam == 4 else 0x86dd) + ipb


def is_client(ipb, fam):
    a = ipaddress.ip_address(ipb[12:16] if fam == 4 else ipb[8:24])
    return any(a in n for n in CLIENT_NETS)


# --- encapsulation headers -------------------------------------------

def gre(proto, seq=None, key=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h


def vxlan_hdr():
    return struct.pack("!II", 0x08000000, VNI << 8)


def geneve_hdr(proto=0x6558, optlen=0, opts=b""):
    return struct.pack("!BBHI", optlen & 0x3f, 0, proto, VNI << 8) + opts


def erspan2_hdr(idx):
    # ver 1, vlan 0 | cos 0, en 3 (frame keeps its tags), t 0, session 7
    return struct.pack("!HHI", 0x1000, (3 << 11) | 7, idx & 0xfffff)


def erspan3_hdr(ts, o):
    # ver 2, vlan 0 | cos, bso, t, session 7 | timestamp | sgt | p ft hw d gra o
    return struct.pack("!HHIHH", 0x2000, 7, ts & 0xffffffff, 0,
                       (1 << 15) | (3 << 1) | (1 if o else 0))


def erspan3_platform():
    # platform id 3 (ERSPAN_PlatformSpecific), port index and timestamp
    return struct.pack("!II", (3 << 26) | 12, 0x5a5a5a5a)


def mpls_stack(labels, bos_last=True):
    out = b""
    for i, lab in enumerate(labels):
        s = 1 if (bos_last and i == len(labels) - 1) else 0
        out += struct.pack("!I", (lab << 12) | (s << 8) | 64)
    return out


# The outer headers are packed here (scapy per frame is ~100 times
# slower); scapy_check() rebuilds a sample of each variant with scapy
# and demands the same bytes.

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(payload, proto, src=O4[0], dst=O4[1]):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0,
                              0x4000, 64, proto, 0,
                              ipaddress.IPv4Address(src).packed,
                              ipaddress.IPv4Address(dst).packed))
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h) + payload


def ip6(payload, nh, src=O6[0], dst=O6[1]):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed) + payload


def udp4(payload, dport, src=O4[0], dst=O4[1]):
    # a mirror's UDP: checksum 0 (allowed over IPv4; VXLAN senders do so)
    return ip4(struct.pack("!HHHH", 49152, dport, 8 + len(payload), 0)
               + payload, 17, src, dst)


def eth(l3, ethertype):
    return bytes.fromhex(M_DST.replace(":", "")) + \
        bytes.fromhex(M_SRC.replace(":", "")) + struct.pack("!H", ethertype) + l3


def scapy_ip4(payload, proto, src=O4[0], dst=O4[1]):
    return bytes(IP(src=src, dst=dst, proto=proto, id=0, ttl=64, flags="DF")
                 / Raw(payload))


def scapy_check():
    """The packed headers are the ones scapy builds."""
    pl = bytes(range(61))
    pairs = [
        (ip4(pl, 47), scapy_ip4(pl, 47)),
        (ip6(pl, 41), bytes(IPv6(src=O6[0], dst=O6[1], nh=41, hlim=64) / Raw(pl))),
        (udp4(pl, 4789), bytes(IP(src=O4[0], dst=O4[1], id=0, ttl=64, flags="DF")
                               / UDP(sport=49152, dport=4789, chksum=0) / Raw(pl))),
        (eth(pl, 0x8847), bytes(Ether(src=M_SRC, dst=M_DST, type=0x8847) / Raw(pl))),
    ]
    for i, (a, b) in enumerate(pairs):
        if a != b:
            sys.exit(f"encap.py: packed header {i} differs from scapy's")


def eth4(l3):
    return eth(l3, 0x0800)


def eth6(l3):
    return eth(l3, 0x86dd)


# --- the variants -----------------------------------------------------
# An L2 wrapper takes the whole frame, an L3 wrapper an IP packet (with
# its family); each returns (outer frame, {kind: 1, ...}).

def w_vxlan(f, i):
    return eth4(udp4(vxlan_hdr() + f, 4789)), {"vxlan": 1}


def w_vxlan8472(f, i):
    return eth4(udp4(vxlan_hdr() + f, 8472)), {"vxlan": 1}


def w_geneve(f, i):
    return eth4(udp4(geneve_hdr() + f, 6081)), {"geneve": 1}


def w_gre_eth(f, i):
    return eth4(ip4(gre(0x6558) + f, 47)), {"gre": 1}


def w_erspan1(f, i):
    return eth4(ip4(gre(0x88be) + f, 47)), {"gre": 1, "erspan1": 1}


def w_erspan2(f, i):
    return (eth4(ip4(gre(0x88be, seq=i) + erspan2_hdr(i) + f, 47)),
            {"gre": 1, "erspan2": 1})


def w_erspan3(f, i):
    o = i % 2 == 1           # every other frame with the platform subheader
    h = erspan3_hdr(i * 1000, o) + (erspan3_platform() if o else b"")
    return eth4(ip4(gre(0x22eb, seq=i) + h + f, 47)), {"gre": 1, "erspan3": 1}


def w_mpls_pw(f, i):
    return eth(mpls_stack(MPLS_LABELS) + b"\0\0\0\0" + f, 0x8847), {"mpls": 1}


def w_vxlan_in_gre(f, i):
    inner = udp4(vxlan_hdr() + f, 4789, "198.18.1.1", "198.18.1.2")
    return eth4(ip4(gre(0x0800) + inner, 47)), {"gre": 1, "vxlan": 1}


def w_depth4(f, i):
    # GRE(Ethernet) > VXLAN > Geneve > GRE(Ethernet): four layers
    x = eth4(ip4(gre(0x6558) + f, 47, "198.18.4.1", "198.18.4.2"))
    x = eth4(udp4(geneve_hdr() + x, 6081, "198.18.3.1", "198.18.3.2"))
    x = eth4(udp4(vxlan_hdr() + x, 4789, "198.18.2.1", "198.18.2.2"))
    return eth4(ip4(gre(0x6558) + x, 47)), {"gre": 1, "vxlan": 1, "geneve": 1}


def ipproto(fam):
    return 4 if fam == 4 else 41


def ethertype(fam):
    return 0x0800 if fam == 4 else 0x86dd


def w_gre_ip(fam, p, i):
    return eth4(ip4(gre(ethertype(fam)) + p, 47)), {"gre": 1}


def w_mpls(fam, p, i):
    return eth(mpls_stack(MPLS_LABELS) + p, 0x8847), {"mpls": 1}


def w_mpls_udp(fam, p, i):
    return eth4(udp4(mpls_stack(MPLS_LABELS) + p, 6635)), {"mpls": 1}


def w_gtpu(fam, p, i):
    # GTPv1-U G-PDU (version 1, PT 1, no optional fields), TEID 0x1000+i
    return (eth4(udp4(struct.pack("!BBHI", 0x30, 0xff, len(p), 0x1000 + i) + p,
                      2152)), {"gtpu": 1})


def w_in4(fam, p, i):
    return eth4(ip4(p, ipproto(fam))), {"ipip": 1}


def w_in6(fam, p, i):
    return eth6(ip6(p, ipproto(fam))), {"ipip": 1}


def w_mpls_gre_v6(fam, p, i):
    return eth6(ip6(gre(0x8847) + mpls_stack(MPLS_LABELS) + p, 47)), \
        {"gre": 1, "mpls": 1}


def w_outer(fam, p, i):
    if is_client(p, fam):
        src, dst = OUTER_CLIENT, O4[1]
    else:
        src, dst = O4[1], OUTER_CLIENT
    return eth4(ip4(p, ipproto(fam), src, dst)), {"ipip": 1}


L2_VARIANTS = {
    "vxlan": w_vxlan, "vxlan-8472": w_vxlan8472, "geneve": w_geneve, "gre-eth": w_gre_eth,
    "erspan1": w_erspan1, "erspan2": w_erspan2, "erspan3": w_erspan3,
    "mpls-pw": w_mpls_pw, "vxlan-in-gre": w_vxlan_in_gre, "depth4": w_depth4,
}
# name -> (wrapper, inner families it wraps)
L3_VARIANTS = {
    "gre-ip": (w_gre_ip, (4, 6)), "mpls": (w_mpls, (4, 6)),
    "mpls-udp": (w_mpls_udp, (4, 6)), "gtpu": (w_gtpu, (4, 6)),
    "4in4": (w_in4, (4,)), "6in4": (w_in4, (6,)),
    "4in6": (w_in6, (4,)), "6in6": (w_in6, (6,)),
    "mpls-in-gre-in-ipv6": (w_mpls_gre_v6, (4, 6)),
    "outer": (w_outer, (4, 6)),
}


def wrap_wire(fn, data, wirelen, *args):
    """Wrap as the mirror saw the frame (its wire length), then keep what
    the capture kept: outer lengths count the whole frame."""
    missing = wirelen - len(data)
    out, kinds = fn(data + b"\0" * missing, *args)
    return (out[:len(out) - missing] if missing else out), len(out), kinds


def count_kinds(per):
    counts = {}
    for kinds in per:
        for k in kinds:
            counts[k] = counts.get(k, 0) + 1
    return counts


def l2_variant(frames, fn):
    out, per = [], []
    for i, (sec, usec, data, wirelen) in enumerate(frames):
        d, wl, kinds = wrap_wire(fn, data, wirelen, i)
        out.append((sec, usec, d, wl))
        per.append(kinds)
    return out, per


def plain_l3(frames):
    out = []
    for sec, usec, data, wirelen in frames:
        ip = ip_packet(data)
        if ip is None:
            out.append((sec, usec, data, wirelen))
            continue
        fam, ipb, _ = ip
        d = l3_frame(data, fam, ipb)
        cut = wirelen - len(data)       # what the capture did not keep
        out.append((sec, usec, d, len(d) + max(cut, 0)))
    return out


def l3_variant(l3frames, fn, fams):
    out, per = [], []
    for i, (sec, usec, data, wirelen) in enumerate(l3frames):
        ip = ip_packet(data)
        if ip is None or ip[0] not in fams:
            out.append((sec, usec, data, wirelen))
            per.append({})
            continue
        fam, ipb, _ = ip
        missing = wirelen - len(data)
        o, kinds = fn(fam, ipb + b"\0" * missing, i)
        out.append((sec, usec, o[:len(o) - missing] if missing else o, len(o)))
        per.append(kinds)
    return out, per


# --- hostile cases ----------------------------------------------------

def dns_queries(frames):
    """Indexes of IPv4 UDP/53 queries from department clients."""
    idx = []
    for i, (_s, _u, data, wirelen) in enumerate(frames):
        if wirelen != len(data):
            continue
        ip = ip_packet(data)
        if ip is None or ip[0] != 4:
            continue
        p = ip[1]
        ihl = (p[0] & 15) * 4
        if (p[9] == 17 and len(p) >= ihl + 8 and
                struct.unpack_from("!H", p, ihl + 2)[0] == 53 and
                is_client(p, 4) and p[12:14] != b"\x0a\x00"):
            idx.append(i)
    return idx


def moved(ipb, n):
    """The query from a fresh client 10.10.250.n (Finance), checksums redone."""
    p = IP(ipb)
    p.src = "10.10.250.%d" % (1 + n % 250)
    del p.chksum
    del p[UDP].chksum
    return bytes(p)


def inner_eth(ipb):
    return bytes(Ether(src="02:00:00:0a:fa:01", dst="02:00:00:00:00:01",
                       type=0x0800) / Raw(ipb))


def lie_len(ipb, extra):
    """IPv4 packet whose total length claims `extra` more bytes than it has."""
    tot = struct.unpack_from("!H", ipb, 2)[0] + extra
    b = bytearray(ipb)
    struct.pack_into("!H", b, 2, tot)
    struct.pack_into("!H", b, 10, 0)
    s = sum(struct.unpack("!10H", bytes(b[:20])))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    struct.pack_into("!H", b, 10, ~s & 0xffff)
    return bytes(b)


def v6_of(ipb):
    """An IPv6 packet carrying the IPv4 query's UDP datagram."""
    p = IP(ipb)
    u = p[UDP]
    return bytes(IPv6(src="2001:db8:20::fa01", dst="2001:db8:ffff::53", hlim=64)
                 / UDP(sport=u.sport, dport=u.dport) / Raw(bytes(u.payload)))


def deep(ipb, depth):
    x = ipb
    for _ in range(depth):            # IPv4 / GRE(IPv4) repeated
        x = ip4(gre(0x0800) + x, 47)
    return eth4(x)


# name -> (builder(query ip bytes) -> frame, anomaly it must raise or None)
HOSTILE = {
    # truncated encapsulation headers
    "trunc-vxlan": (lambda q: eth4(udp4(vxlan_hdr()[:4], 4789)), "encap_malformed"),
    "trunc-geneve": (lambda q: eth4(udp4(geneve_hdr()[:5], 6081)), "encap_malformed"),
    "trunc-gre": (lambda q: eth4(ip4(gre(0x0800)[:2], 47)), "encap_malformed"),
    "trunc-gre-key": (lambda q: eth4(ip4(gre(0x0800, key=1)[:6], 47)), "encap_malformed"),
    "trunc-erspan2": (lambda q: eth4(ip4(gre(0x88be, seq=1) + erspan2_hdr(1)[:4], 47)),
                      "encap_malformed"),
    "trunc-erspan3": (lambda q: eth4(ip4(gre(0x22eb, seq=1) + erspan3_hdr(1, 0)[:8], 47)),
                      "encap_malformed"),
    "trunc-erspan3-platform": (lambda q: eth4(ip4(gre(0x22eb, seq=1) + erspan3_hdr(1, 1)
                                                  + erspan3_platform()[:3], 47)),
                               "encap_malformed"),
    "trunc-mpls-no-bos": (lambda q: eth(mpls_stack(MPLS_LABELS, bos_last=False), 0x8847),
                          "encap_malformed"),
    "trunc-ipip-inner": (lambda q: eth4(ip4(q[:12], 4)), "encap_malformed"),
    # inconsistent lengths
    # options of 63 x 4 = 252 bytes claimed, 4 present, then a frame of
    # fewer than 248 bytes: the options run past the end
    "len-geneve-options": (lambda q: eth4(udp4(geneve_hdr(optlen=63, opts=b"\0" * 4)
                                               + inner_eth(q), 6081)), "encap_malformed"),
    "len-gre-inner-ip": (lambda q: eth4(ip4(gre(0x0800) + lie_len(q, 64), 47)),
                         "encap_malformed"),
    "len-4in4-inner-ip": (lambda q: eth4(ip4(lie_len(q, 64), 4)), "encap_malformed"),
    "len-6in4-inner-ip": (lambda q: eth4(ip4(v6_of(q)[:4] + struct.pack(
        "!H", struct.unpack_from("!H", v6_of(q), 4)[0] + 64) + v6_of(q)[6:], 41)),
        "encap_malformed"),
    # too deep: 5 and 8 layers, the bound being 4
    "deep5": (lambda q: deep(q, 5), "encap_too_deep"),
    "deep8": (lambda q: deep(q, 8), "encap_too_deep"),
    # payload of an unknown kind: encap_other only, no anomaly
    "unknown-gre-ipx": (lambda q: eth4(ip4(gre(0x8137) + q, 47)), None),
    "unknown-geneve-proto": (lambda q: eth4(udp4(geneve_hdr(proto=0x88b5) + q, 6081)),
                             None),
}


# Every byte: the encapsulation's own header cut at each length from 1
# to one short of whole, the outer headers agreeing with the cut (so it
# is the tunnel that is short, not the capture).  One case per kind;
# each query yields len(header) - 1 frames.
def cuts(header, outer):
    return lambda q: [outer(header(q)[:k]) for k in range(1, len(header(q)))]


def gre_out(b):
    return eth4(ip4(b, 47))


CUTS = {
    "cut-vxlan": cuts(lambda q: vxlan_hdr(), lambda b: eth4(udp4(b, 4789))),
    "cut-geneve": cuts(lambda q: geneve_hdr(optlen=2, opts=b"\1" * 8),
                       lambda b: eth4(udp4(b, 6081))),
    "cut-gre-key-seq": cuts(lambda q: gre(0x0800, seq=7, key=9), gre_out),
    "cut-erspan2": cuts(lambda q: gre(0x88be, seq=7) + erspan2_hdr(7), gre_out),
    "cut-erspan3": cuts(lambda q: gre(0x22eb, seq=7) + erspan3_hdr(7, 1)
                        + erspan3_platform(), gre_out),
    "cut-mpls": cuts(lambda q: mpls_stack(MPLS_LABELS), lambda b: eth(b, 0x8847)),
    "cut-4in4": cuts(lambda q: q[:20], lambda b: eth4(ip4(b, 4))),
    "cut-6in4": cuts(lambda q: v6_of(q)[:40], lambda b: eth4(ip4(b, 41))),
    "cut-4in6": cuts(lambda q: q[:20], lambda b: eth6(ip6(b, 4))),
}
for _k, _fn in CUTS.items():
    HOSTILE[_k] = (_fn, "encap_malformed")


def hostile_variant(frames, qidx, fn):
    targets = set(qidx)
    out, n, q = [], 0, 0
    for i, fr in enumerate(frames):
        out.append(fr)
        if i in targets:
            sec, usec, data, _ = fr
            fam, ipb, _t = ip_packet(data)
            ds = fn(moved(ipb, q))
            q += 1
            for d in (ds if isinstance(ds, list) else [ds]):
                out.append((sec, usec, d, len(d)))
                n += 1
    return out, n


# --- main -------------------------------------------------------------

def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        k = args.index("--only")
        only = set(args[k + 1].split(","))
        del args[k:k + 2]
    live_n = 0
    if "--live" in args:
        k = args.index("--live")
        live_n = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    src, outdir = args
    os.makedirs(outdir, exist_ok=True)
    scapy_check()
    frames = read_frames(src)
    want = (lambda n: only is None or n in only)
    summary = {}
    live, live_per = [], []

    l3 = plain_l3(frames)
    write_pcap(os.path.join(outdir, "plain-l3.pcap"), l3)
    summary["plain-l3"] = {"ref": "plain", "frames": len(l3), "kinds": {},
                           "note": "reference of the L3 variants"}
    for name, fn in L2_VARIANTS.items():
        if not want(name):
            continue
        out, per = l2_variant(frames, fn)
        write_pcap(os.path.join(outdir, name + ".pcap"), out)
        summary[name] = {"ref": "plain", "frames": len(out),
                         "kinds": count_kinds(per)}
        live += out[:live_n]
        live_per += per[:live_n]
    for name, (fn, fams) in L3_VARIANTS.items():
        if not want(name):
            continue
        out, per = l3_variant(l3, fn, fams)
        write_pcap(os.path.join(outdir, name + ".pcap"), out)
        summary[name] = {"ref": "plain-l3", "frames": len(out),
                         "kinds": count_kinds(per)}
        if name != "outer":
            live += out[:live_n]
            live_per += per[:live_n]
    qidx = dns_queries(frames)[:40]
    for name, (fn, anomaly) in HOSTILE.items():
        if not want(name):
            continue
        out, n = hostile_variant(frames, qidx, fn)
        write_pcap(os.path.join(outdir, name + ".pcap"), out)
        summary[name] = {"ref": "plain", "frames": len(out), "hostile": n,
                         "anomaly": anomaly}
    if live_n:
        write_pcap(os.path.join(outdir, "live.pcap"), live)
        summary["live"] = {"frames": len(live), "kinds": count_kinds(live_per),
                           "note": "the first %d frames of each variant but "
                           "outer, for a live capture" % live_n}
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
