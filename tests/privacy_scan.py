#!/usr/bin/python3
"""Scan files for client addresses: as text and as raw 4/16-byte values.

Usage: privacy_scan.py TRUTH.json FILE...
Prints one line per hit ("text" or "raw", file, address) and exits 1 if
any, 0 if none.  Text forms: dotted IPv4; IPv6 compressed, exploded, and
upper case.  Raw: the 4 address bytes of IPv4 (also inside ::ffff:) and
the 16 bytes of IPv6.
"""
import ipaddress
import json
import sys


def forms(addr):
    a = ipaddress.ip_address(addr)
    text = {str(a).encode(), str(a).upper().encode()}
    if a.version == 6:
        text.add(a.exploded.encode())
        text.add(a.exploded.upper().encode())
    return text, a.packed


def main():
    truth = json.load(open(sys.argv[1]))
    addrs = truth["client_addresses"]
    hits = 0
    for path in sys.argv[2:]:
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        for addr in addrs:
            text, raw = forms(addr)
            for t in text:
                # a dotted quad must not be part of a longer number
                i = data.find(t)
                while i >= 0:
                    before = data[i - 1:i] if i > 0 else b""
                    after = data[i + len(t):i + len(t) + 1]
                    if not (before.isdigit() or before == b"." or
                            after.isdigit() or (after == b"." and
                                                data[i + len(t) + 1:i + len(t) + 2].isdigit())):
                        print(f"text\t{path}\t{addr}")
                        hits += 1
                        break
                    i = data.find(t, i + 1)
            if raw in data:
                print(f"raw\t{path}\t{addr}")
                hits += 1
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
