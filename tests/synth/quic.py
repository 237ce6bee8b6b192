"""QUIC v1 (RFC 9000/9001) and v2 (RFC 9369) Initial packet protection.

Builder side uses stdlib hmac for HKDF; the independent checker
(decrypt_initial) uses cryptography's HKDFExpand and its own header
parsing, so a mistake in one is unlikely to be mirrored in the other."""

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

V1 = 0x00000001
V2 = 0x6B3343CF

SALT = {
    V1: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
    V2: bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
}
LABELS = {
    V1: ("quic key", "quic iv", "quic hp"),
    V2: ("quicv2 key", "quicv2 iv", "quicv2 hp"),
}
# long-header packet type bits per version
TYPE_BITS = {
    V1: {"initial": 0, "0rtt": 1, "handshake": 2, "retry": 3},
    V2: {"initial": 1, "0rtt": 2, "handshake": 3, "retry": 0},
}
RETRY_KEY = {
    V1: (bytes.fromhex("be0c690b9f66575a1d766b54e368c84e"),
         bytes.fromhex("461599d35d632bf2239825bb")),
    V2: (bytes.fromhex("8fb4b01b56ac48e260fbcbcead7ccc92"),
         bytes.fromhex("d86969bc2d7c6d9990efb04a")),
}

TAG_LEN = 16


def varint(v, size=None):
    if size is None:
        size = 1 if v < 0x40 else 2 if v < 0x4000 else 4 if v < 0x40000000 else 8
    prefix = {1: 0, 2: 1, 4: 2, 8: 3}[size]
    return ((prefix << (8 * size - 2)) | v).to_bytes(size, "big")


# ---------------------------------------------------------------- builder

def _hkdf_extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _hkdf_expand_label(secret, label, length):
    full = b"tls13 " + label.encode()
    info = struct.pack("!HB", length, len(full)) + full + b"\0"
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def initial_keys(version, dcid, side="client"):
    init = _hkdf_extract(SALT[version], dcid)
    sec = _hkdf_expand_label(init, "client in" if side == "client" else "server in", 32)
    kl, il, hl = LABELS[version]
    return (_hkdf_expand_label(sec, kl, 16), _hkdf_expand_label(sec, il, 12),
            _hkdf_expand_label(sec, hl, 16))


def _ecb(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def protect_long(version, ptype, dcid, scid, pn, pn_len, plaintext, keys,
                 token=None, length_size=2):
    """Build one protected long-header packet (Initial/0-RTT/Handshake).
    token is only written for Initial packets."""
    key, iv, hp = keys
    first = 0xC0 | (TYPE_BITS[version][ptype] << 4) | (pn_len - 1)
    hdr = bytes([first]) + struct.pack("!I", version) + \
        bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    if ptype == "initial":
        tok = token or b""
        hdr += varint(len(tok)) + tok
    hdr += varint(pn_len + len(plaintext) + TAG_LEN, length_size)
    pn_off = len(hdr)
    hdr += (pn & ((1 << (8 * pn_len)) - 1)).to_bytes(pn_len, "big")
    nonce = bytes(a ^ b for a, b in zip(iv, pn.to_bytes(12, "big")))
    ct = AESGCM(key).encrypt(nonce, plaintext, hdr)
    pkt = bytearray(hdr + ct)
    sample = bytes(pkt[pn_off + 4:pn_off + 20])
    mask = _ecb(hp, sample)
    pkt[0] ^= mask[0] & 0x0F
    for i in range(pn_len):
        pkt[pn_off + i] ^= mask[1 + i]
    return bytes(pkt)


def long_header_len(version, dcid, scid, token, pn_len, length_size=2, ptype="initial"):
    n = 1 + 4 + 1 + len(dcid) + 1 + len(scid) + length_size + pn_len
    if ptype == "initial":
        tok = token or b""
        n += len(varint(len(tok))) + len(tok)
    return n


def unprotected_long(version, ptype, dcid, scid, pn_len, body, token=None):
    """Long-header packet with a random 'ciphertext' body (0-RTT/Handshake
    filler that nobody can decrypt)."""
    first = 0xC0 | (TYPE_BITS[version][ptype] << 4) | (pn_len - 1)
    hdr = bytes([first]) + struct.pack("!I", version) + \
        bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    if ptype == "initial":
        tok = token or b""
        hdr += varint(len(tok)) + tok
    hdr += varint(len(body), 2)
    return hdr + body


def retry_packet(version, odcid, dcid, scid, token, rand4):
    first = 0xC0 | (TYPE_BITS[version]["retry"] << 4) | (rand4 & 0x0F)
    pkt = bytes([first]) + struct.pack("!I", version) + bytes([len(dcid)]) + dcid + \
        bytes([len(scid)]) + scid + token
    key, nonce = RETRY_KEY[version]
    pseudo = bytes([len(odcid)]) + odcid + pkt
    tag = AESGCM(key).encrypt(nonce, b"", pseudo)
    return pkt + tag


def version_negotiation(dcid, scid, versions, rand7):
    return bytes([0x80 | (rand7 & 0x7F)]) + b"\0\0\0\0" + bytes([len(dcid)]) + dcid + \
        bytes([len(scid)]) + scid + b"".join(struct.pack("!I", v) for v in versions)


def frame_crypto(offset, data):
    return b"\x06" + varint(offset) + varint(len(data)) + data


def frame_ack(largest, delay=0, first_range=0):
    return b"\x02" + varint(largest) + varint(delay) + varint(0) + varint(first_range)


# ------------------------------------------------------ independent checker

def _xhkdf_label(secret, label, length):
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + len(full).to_bytes(1, "big") + full + b"\x00"
    return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(secret)


def _read_varint(b, p):
    l = 1 << (b[p] >> 6)
    v = b[p] & 0x3F
    for i in range(1, l):
        v = (v << 8) | b[p + i]
    return v, p + l


def decrypt_initial(dgram, side="client"):
    """Decrypt the first packet of a datagram if it is a v1/v2 Initial.
    Returns (version, dcid, pn, plaintext, packet_len) or None (not an
    Initial); raises cryptography.exceptions.InvalidTag on a bad tag."""
    b = dgram
    if len(b) < 7 or not b[0] & 0x80:
        return None
    ver = int.from_bytes(b[1:5], "big")
    if ver == V1:
        salt, pre, itype = bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), b"quic ", 0
    elif ver == V2:
        salt, pre, itype = bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), b"quicv2 ", 1
    else:
        return None
    if (b[0] >> 4) & 3 != itype:
        return None
    p = 5
    dl = b[p]
    dcid = b[p + 1:p + 1 + dl]
    p += 1 + dl
    sl = b[p]
    p += 1 + sl
    tl, p = _read_varint(b, p)
    p += tl
    length, p = _read_varint(b, p)
    if p + length > len(b):
        raise ValueError("Length past datagram end")
    pn_off = p
    init = hmac.new(salt, dcid, hashlib.sha256).digest()
    sec = _xhkdf_label(init, b"client in" if side == "client" else b"server in", 32)
    key = _xhkdf_label(sec, pre + b"key", 16)
    iv = _xhkdf_label(sec, pre + b"iv", 12)
    hp = _xhkdf_label(sec, pre + b"hp", 16)
    enc = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()
    mask = enc.update(b[pn_off + 4:pn_off + 20]) + enc.finalize()
    first = b[0] ^ (mask[0] & 0x0F)
    pnl = (first & 3) + 1
    pn_bytes = bytes(b[pn_off + i] ^ mask[1 + i] for i in range(pnl))
    pn = int.from_bytes(pn_bytes, "big")
    hdr = bytes([first]) + b[1:pn_off] + pn_bytes
    nonce = (int.from_bytes(iv, "big") ^ pn).to_bytes(12, "big")
    pt = AESGCM(key).decrypt(nonce, b[pn_off + pnl:pn_off + length], hdr)
    return ver, bytes(dcid), pn, pt, pn_off + length


def crypto_frames(pt):
    """Yield (offset, data) of CRYPTO frames; skips PADDING/PING/ACK."""
    p = 0
    while p < len(pt):
        t = pt[p]
        if t == 0x00 or t == 0x01:
            p += 1
        elif t == 0x02:
            p += 1
            _, p = _read_varint(pt, p)
            _, p = _read_varint(pt, p)
            n, p = _read_varint(pt, p)
            _, p = _read_varint(pt, p)
            for _ in range(n):
                _, p = _read_varint(pt, p)
                _, p = _read_varint(pt, p)
        elif t == 0x06:
            off, p = _read_varint(pt, p + 1)
            n, p = _read_varint(pt, p)
            yield off, pt[p:p + n]
            p += n
        else:
            raise ValueError("unexpected frame type 0x%02x" % t)
