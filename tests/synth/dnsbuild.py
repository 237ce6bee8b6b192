"""DNS message builder (RFC 1035) with name compression, CNAME chains,
EDNS OPT and NXDOMAIN responses with an SOA in the authority section."""

import ipaddress
import struct

QT_A = 1
QT_CNAME = 5
QT_SOA = 6
QT_AAAA = 28
QT_OPT = 41
QT_HTTPS = 65

RC_NOERROR = 0
RC_NXDOMAIN = 3


class _Writer:
    def __init__(self):
        self.buf = bytearray()
        self.names = {}  # suffix (tuple of labels, exact case) -> offset

    def name(self, name, compress=True):
        labels = [l for l in name.split(".") if l]
        for i in range(len(labels)):
            suf = tuple(labels[i:])
            if compress and suf in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[suf])
                return
            if len(self.buf) < 0x3FFF:
                self.names.setdefault(suf, len(self.buf))
            lb = labels[i].encode("ascii")
            self.buf += bytes([len(lb)]) + lb
        self.buf += b"\0"


def _opt(udp_size=1232):
    return b"\0" + struct.pack("!HHIH", QT_OPT, udp_size, 0, 0)


def query(qid, qname, qtype=QT_A, rd=True, edns=True):
    w = _Writer()
    w.buf += struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 1 if edns else 0)
    w.name(qname)
    w.buf += struct.pack("!HH", qtype, 1)
    if edns:
        w.buf += _opt()
    return bytes(w.buf)


def response(qid, qname, qtype, rcode=RC_NOERROR, cnames=(), addrs=(), ttl=300,
             edns=True):
    """cnames: chain of target names (qname -> c1 -> c2 ...); addrs: address
    strings for the final name (A or AAAA by family)."""
    w = _Writer()
    an = len(cnames) + len(addrs) if rcode == RC_NOERROR else 0
    ns = 1 if rcode == RC_NXDOMAIN else 0
    w.buf += struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, an, ns, 1 if edns else 0)
    w.name(qname)
    w.buf += struct.pack("!HH", qtype, 1)
    if rcode == RC_NOERROR:
        owner = qname
        for c in cnames:
            w.name(owner)
            rd_start = len(w.buf) + 8
            w.buf += struct.pack("!HHIH", QT_CNAME, 1, ttl, 0)
            w.name(c)
            rdlen = len(w.buf) - (rd_start + 2)
            w.buf[rd_start:rd_start + 2] = struct.pack("!H", rdlen)
            owner = c
        for a in addrs:
            ad = ipaddress.ip_address(a)
            w.name(owner)
            t = QT_A if ad.version == 4 else QT_AAAA
            w.buf += struct.pack("!HHIH", t, 1, ttl, len(ad.packed)) + ad.packed
    elif rcode == RC_NXDOMAIN:
        zone = ".".join(qname.split(".")[-2:])
        w.name(zone)
        rd_start = len(w.buf) + 8
        w.buf += struct.pack("!HHIH", QT_SOA, 1, 900, 0)
        w.name("ns1." + zone)
        w.name("hostmaster." + zone)
        w.buf += struct.pack("!IIIII", 2026111601, 7200, 900, 1209600, 300)
        rdlen = len(w.buf) - (rd_start + 2)
        w.buf[rd_start:rd_start + 2] = struct.pack("!H", rdlen)
    if edns:
        w.buf += _opt()
    return bytes(w.buf)


def tcp_frame(msg):
    return struct.pack("!H", len(msg)) + msg


def parse_qname(msg):
    """Independent strict parser for self-checks: (qr, rcode, qname).
    Raises on anything a careful parser would reject (bad label type,
    forward/looping pointer, name over 255 octets, truncation)."""
    flags, qd = struct.unpack_from("!H", msg, 2)[0], struct.unpack_from("!H", msg, 4)[0]
    if qd == 0:
        raise ValueError("no question")
    p = 12
    labels = []
    wire = 1
    run_start = p
    while True:
        n = msg[p]
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            tgt = ((n & 0x3F) << 8) | msg[p + 1]
            if tgt >= run_start:
                raise ValueError("pointer loop")
            p = run_start = tgt
            continue
        if n & 0xC0:
            raise ValueError("label type")
        if p + 1 + n > len(msg):
            raise ValueError("truncated")
        labels.append(msg[p + 1:p + 1 + n].decode("ascii"))
        wire += 1 + n
        if wire > 255:
            raise ValueError("too long")
        p += 1 + n
    return flags >> 15, flags & 0xF, ".".join(labels)
