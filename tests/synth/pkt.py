"""Frame builders (Ethernet + 802.1Q/802.1ad, IPv4, IPv6, TCP, UDP) and a
classic pcap writer.  Plain struct packing: faster than scapy and every
byte (lengths, options, padding) stays under our control, which matters
for the hostile packets and for exact payload accounting."""

import ipaddress
import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_ARP = 0x0806
TPID_8021Q = 0x8100
TPID_8021AD = 0x88A8

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10

LINKTYPE_ETHERNET = 1


def checksum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(addr):
    return addr if isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address)) \
        else ipaddress.ip_address(addr)


def eth(dst_mac, src_mac, tags, ethertype, payload, pad=True):
    """tags: list of (tpid, vid), outermost first."""
    hdr = bytearray(dst_mac + src_mac)
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid & 0x0FFF)
    hdr += struct.pack("!H", ethertype)
    frame = bytes(hdr) + payload
    # Real NICs pad short frames to 60 bytes (without FCS); the daemon
    # must trim by the IP total length, so keep the padding.
    if pad and len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def ipv4(src, dst, proto, payload, ident=0, ttl=64, df=True,
         frag_off=0, more_frags=False, total_len=None, ihl=5):
    src, dst = ip(src), ip(dst)
    flags = (0x4000 if df else 0) | (0x2000 if more_frags else 0) | (frag_off & 0x1FFF)
    tl = 20 + len(payload) if total_len is None else total_len
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tl & 0xFFFF, ident & 0xFFFF,
                      flags, ttl, proto, 0, src.packed, dst.packed)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=64, flow=0, plen=None):
    src, dst = ip(src), ip(dst)
    pl = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000 | (flow & 0xFFFFF), pl & 0xFFFF,
                       nh, hlim, src.packed, dst.packed) + payload


def _pseudo(src, dst, proto, length):
    src, dst = ip(src), ip(dst)
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240,
        options=b""):
    if len(options) % 4:
        options += b"\x01" * (4 - len(options) % 4)  # NOP fill
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, window, 0, 0) + options
    seg = hdr + payload
    c = checksum(_pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload, length=None):
    ln = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, ln & 0xFFFF, 0) + payload
    c = checksum(_pseudo(src, dst, 17, 8 + len(payload)) + seg)
    if c == 0:
        c = 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def ip_packet(src, dst, proto, l4, ident=0, ttl=64):
    """IPv4 or IPv6 depending on the address family; returns (ethertype, bytes)."""
    if ip(src).version == 4:
        return ETH_IPV4, ipv4(src, dst, proto, l4, ident=ident, ttl=ttl)
    return ETH_IPV6, ipv6(src, dst, proto, l4, hlim=ttl)


def write_pcap(path, records, snaplen=262144):
    """records: iterable of (ts_usec, frame_bytes), already in order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                            LINKTYPE_ETHERNET))
        for ts, frame in records:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                                len(frame), len(frame)))
            f.write(frame)


def read_pcap(path):
    """Minimal reader for self-checks: yields (ts_usec, frame)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data, 0)
    assert magic == 0xA1B2C3D4
    off = 24
    while off < len(data):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", data, off)
        off += 16
        yield sec * 1000000 + usec, data[off:off + incl]
        off += incl
