"""TLS 1.3 ClientHello builder (RFC 8446) shaped like current Chrome and
Firefox hellos: GREASE values, shuffled extension order, optional
X25519MLKEM768 key share (group 0x11ec, 1216-byte share), GREASE or real
ECH outer extension, QUIC transport parameters.  All randomness comes
from the caller's random.Random, so output is reproducible per seed."""

import struct

GREASE = [0x0A0A + 0x1010 * i for i in range(16)]

EXT_SNI = 0x0000
EXT_STATUS_REQUEST = 0x0005
EXT_GROUPS = 0x000A
EXT_EC_POINT = 0x000B
EXT_SIGALGS = 0x000D
EXT_ALPN = 0x0010
EXT_SCT = 0x0012
EXT_PADDING = 0x0015
EXT_EMS = 0x0017
EXT_COMPRESS_CERT = 0x001B
EXT_RECORD_LIMIT = 0x001C
EXT_SESSION_TICKET = 0x0023
EXT_SUPPORTED_VERSIONS = 0x002B
EXT_PSK_MODES = 0x002D
EXT_KEY_SHARE = 0x0033
EXT_QUIC_TP = 0x0039
EXT_ALPS = 0x4469
EXT_ECH = 0xFE0D
EXT_RENEG = 0xFF01

GROUP_X25519MLKEM768 = 0x11EC
GROUP_X25519 = 0x001D

CIPHERS_CHROME_TCP = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030,
                      0xCCA9, 0xCCA8, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F,
                      0x0035]
CIPHERS_TLS13 = [0x1301, 0x1302, 0x1303]


def u8(v):
    return struct.pack("!B", v)


def u16(v):
    return struct.pack("!H", v)


def u24(v):
    return struct.pack("!I", v)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def ext(t, body):
    return u16(t) + vec16(body)


def rbytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n else b""


def sni_ext(name):
    nb = name.encode("ascii") if isinstance(name, str) else name
    return ext(EXT_SNI, vec16(u8(0) + vec16(nb)))


def alpn_ext(protos):
    return ext(EXT_ALPN, vec16(b"".join(vec8(p.encode()) for p in protos)))


def quic_varint(v):
    if v < 0x40:
        return u8(v)
    if v < 0x4000:
        return u16(0x4000 | v)
    if v < 0x40000000:
        return struct.pack("!I", 0x80000000 | v)
    return struct.pack("!Q", 0xC000000000000000 | v)


def quic_tp(rng, scid):
    def tp(i, val):
        return quic_varint(i) + quic_varint(len(val)) + val
    parts = [
        tp(0x01, quic_varint(30000)),             # max_idle_timeout
        tp(0x03, quic_varint(1472)),              # max_udp_payload_size
        tp(0x04, quic_varint(15728640)),          # initial_max_data
        tp(0x05, quic_varint(6291456)),
        tp(0x06, quic_varint(6291456)),
        tp(0x07, quic_varint(6291456)),
        tp(0x08, quic_varint(100)),
        tp(0x09, quic_varint(103)),
        tp(0x0F, scid),                           # initial_source_connection_id
        tp(0x20, quic_varint(65536)),             # max_datagram_frame_size
        tp(rng.choice([0x1B, 0x3A, 0x59]) + 31 * rng.randrange(1000), rbytes(rng, rng.randrange(1, 9))),  # grease TP
    ]
    rng.shuffle(parts)
    return ext(EXT_QUIC_TP, b"".join(parts))


def ech_outer_ext(rng, payload_len=None):
    """ECH outer ClientHello extension (draft-ietf-tls-esni): type 0 (outer),
    HPKE suite, config_id, enc (X25519 public key), payload."""
    n = payload_len if payload_len is not None else rng.choice([144, 176, 208, 240])
    body = u8(0) + u16(0x0001) + u16(0x0001) + u8(rng.randrange(256)) + \
        vec16(rbytes(rng, 32)) + vec16(rbytes(rng, n))
    return ext(EXT_ECH, body)


def client_hello(rng, sni, *, quic=False, pq=True, ech=None, scid=b"",
                 sni_early=False, chrome=True, alpn=None, bad_ext_len=False):
    """Return the ClientHello handshake message (type 1 + uint24 length + body).

    sni: str or None (no server_name extension).
    ech: None, "grease" (Chrome always sends one) or "real" (ECH outer).
    sni_early: place server_name before key_share (so a first TCP segment
      of ~500 bytes carries the SNI).
    bad_ext_len: make the first extension claim a length running past the
      end of the extension block (hostile case; SNI follows it).
    """
    g = rng.sample(GREASE, 4)
    random_ = rbytes(rng, 32)
    session_id = b"" if quic else rbytes(rng, 32)
    if chrome:
        ciphers = [g[0]] + (CIPHERS_TLS13 if quic else CIPHERS_CHROME_TCP)
    else:
        ciphers = CIPHERS_TLS13 + ([] if quic else [0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035])
    groups = ([g[1]] if chrome else []) + ([GROUP_X25519MLKEM768] if pq else []) + \
        [GROUP_X25519, 0x0017, 0x0018]
    shares = b""
    if chrome:
        shares += u16(g[1]) + vec16(b"\0")
    if pq:
        shares += u16(GROUP_X25519MLKEM768) + vec16(rbytes(rng, 1216))
    shares += u16(GROUP_X25519) + vec16(rbytes(rng, 32))
    if alpn is None:
        alpn = ["h3"] if quic else ["h2", "http/1.1"]

    exts = {}
    if sni is not None:
        exts["sni"] = sni_ext(sni)
    exts["ems"] = ext(EXT_EMS, b"")
    exts["reneg"] = ext(EXT_RENEG, b"\0")
    exts["groups"] = ext(EXT_GROUPS, vec16(b"".join(u16(x) for x in groups)))
    exts["ecpf"] = ext(EXT_EC_POINT, vec8(b"\0"))
    exts["alpn"] = alpn_ext(alpn)
    exts["status"] = ext(EXT_STATUS_REQUEST, b"\x01\0\0\0\0")
    exts["sigalgs"] = ext(EXT_SIGALGS, vec16(b"".join(u16(x) for x in
                          [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601])))
    exts["keyshare"] = ext(EXT_KEY_SHARE, vec16(shares))
    exts["pskm"] = ext(EXT_PSK_MODES, vec8(b"\x01"))
    sv = ([g[2]] if chrome else []) + [0x0304] + ([] if quic else [0x0303])
    exts["sv"] = ext(EXT_SUPPORTED_VERSIONS, vec8(b"".join(u16(x) for x in sv)))
    if chrome:
        exts["sct"] = ext(EXT_SCT, b"")
        exts["cc"] = ext(EXT_COMPRESS_CERT, vec8(u16(0x0002)))
        exts["alps"] = ext(EXT_ALPS, vec16(vec8(alpn[0].encode())))
        if not quic:
            exts["ticket"] = ext(EXT_SESSION_TICKET, b"")
    else:
        exts["rsl"] = ext(EXT_RECORD_LIMIT, u16(0x4001))
    if quic:
        exts["quictp"] = quic_tp(rng, scid)
    if ech == "grease":
        exts["ech"] = ech_outer_ext(rng)
    elif ech == "real":
        exts["ech"] = ech_outer_ext(rng, rng.choice([176, 208, 240, 272]))

    keys = list(exts)
    if chrome:
        rng.shuffle(keys)  # Chrome permutes extensions per connection
    if sni_early and "sni" in keys:
        keys.remove("sni")
        ks = keys.index("keyshare")
        keys.insert(rng.randrange(0, min(ks, 3) + 1), "sni")
    body_exts = [exts[k] for k in keys]
    if chrome:
        body_exts = [ext(g[3], b"")] + body_exts + [ext(g[3] ^ 0x1010 if g[3] != 0xFAFA else 0x0A0A, b"\0")]
    if bad_ext_len:
        # first extension claims 0x4000 bytes: past the extension block end
        body_exts = [u16(0x0023) + u16(0x4000)] + body_exts
    ext_block = b"".join(body_exts)

    body = u16(0x0303) + random_ + vec8(session_id) + \
        vec16(b"".join(u16(c) for c in ciphers)) + vec8(b"\0") + vec16(ext_block)
    return u8(1) + u24(len(body)) + body


def records(hs, sizes=None, version=0x0301):
    """Wrap handshake bytes into TLS records (content type 22).  sizes: list
    of fragment lengths (record-layer fragmentation) or None for one record."""
    out = b""
    i = 0
    sizes = list(sizes or [])
    while i < len(hs):
        n = sizes.pop(0) if sizes else len(hs) - i
        out += u8(22) + u16(version) + vec16(hs[i:i + n])
        i += n
    return out


def server_hello(rng, session_id=b""):
    exts = ext(EXT_SUPPORTED_VERSIONS, u16(0x0304)) + \
        ext(EXT_KEY_SHARE, u16(GROUP_X25519) + vec16(rbytes(rng, 32)))
    body = u16(0x0303) + rbytes(rng, 32) + vec8(session_id) + u16(0x1301) + b"\0" + vec16(exts)
    return u8(2) + u24(len(body)) + body


def server_flight(rng, total):
    """Plausible server bytes: a real ServerHello record, CCS, then
    'encrypted' application-data records with random payload."""
    sh = u8(22) + u16(0x0303) + vec16(server_hello(rng, rbytes(rng, 32)))
    ccs = b"\x14\x03\x03\x00\x01\x01"
    rest = max(total - len(sh) - len(ccs) - 5, 20)
    return sh + ccs + u8(23) + u16(0x0303) + vec16(rbytes(rng, rest))


def app_data(rng, total):
    n = max(total - 5, 1)
    return u8(23) + u16(0x0303) + vec16(rbytes(rng, n))


# ---- a small independent ClientHello parser used by the self-checks ----

def parse_client_hello(hs):
    """hs: handshake message bytes. Returns dict(sni=..., ech=bool) or raises."""
    assert hs[0] == 1
    ln = int.from_bytes(hs[1:4], "big")
    b = hs[4:4 + ln]
    assert len(b) == ln
    p = 2 + 32
    p += 1 + b[p]
    p += 2 + int.from_bytes(b[p:p + 2], "big")
    p += 1 + b[p]
    el = int.from_bytes(b[p:p + 2], "big")
    p += 2
    end = p + el
    assert end == len(b)
    res = {"sni": None, "ech": False, "exts": []}
    while p < end:
        t = int.from_bytes(b[p:p + 2], "big")
        n = int.from_bytes(b[p + 2:p + 4], "big")
        d = b[p + 4:p + 4 + n]
        assert len(d) == n
        res["exts"].append(t)
        if t == EXT_SNI and res["sni"] is None:
            assert d[2] == 0
            nl = int.from_bytes(d[3:5], "big")
            res["sni"] = d[5:5 + nl].decode()
        if t == EXT_ECH:
            res["ech"] = True
        p += 4 + n
    return res
