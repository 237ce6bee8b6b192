#!/usr/bin/python3
"""Compare the names aicensus detects in ../shared/pcaps with tshark's.

For every capture with a .expected.txt beside it, run `aicensus inspect`
and compare the set of (kind, name) pairs: kind is dns, tls-sni or
quic-sni.  Deliberate differences are listed in EXCEPTIONS with the
reason; anything else is a failure.  Prints one "ok - " / "not ok - "
line per capture.
"""
import os
import subprocess
import sys

BUILD = os.environ.get("BUILD", "build")
PCAPS = sys.argv[1] if len(sys.argv) > 1 else "../shared/pcaps"
CONF = "tests/data/inspect.conf"

# file (path relative to PCAPS) -> (reason, adjust(expected_set) -> set,
#                                   mode: "equal" | "subset" | "error")
EXCEPTIONS = {
    "zeek/testing/btest/Traces/dns/mdns.pcap":
        ("multicast DNS (UDP 5353) is local service discovery, not a "
         "lookup of an internet service: deliberately not read",
         lambda e: {x for x in e if x[0] != "mdns"}, "equal"),
    "tcpdump/tests/quic_vn.pcap":
        ("tshark 4.0.17 misses the Initial after Version Negotiation; "
         "the README gives localhost as the expected name",
         lambda e: e | {("quic-sni", "localhost")}, "equal"),
    "nDPI/tests/cfgs/default/pcap/fuzz-2006-06-26-2594.pcap":
        ("fuzzed capture: the README makes tshark's list an upper bound; "
         "names with mangled bytes are escaped differently, so every "
         "plain name we report must be in tshark's list, plus one query "
         "in frame 642, a first IP fragment (MF set) whose DNS header we "
         "read and tshark, waiting for fragments that never come, does not",
         lambda e: e | {("dns", "_sip.]udp.sip.cybercity.dk")}, "subset"),
    "nDPI/tests/cfgs/default/pcap/tls_missing_ch_frag.pcap":
        ("the capture holds the ClientHello's first segment (seq 1, 1024 "
         "of 1505 bytes) with the server_name in it; the rest is missing. "
         "The SNI in hand counts, as the core issue asks; tshark and nDPI "
         "report nothing (the capture README's 'first segment missing' is "
         "the second segment)",
         lambda e: e | {("tls-sni",
                         "r1---sn-5f5nxgvh5o-hjul.googlevideo.com")},
         "equal"),
    "zeek/testing/btest/Traces/ldap/modify-request.pcapng":
        ("libpcap 1.10 refuses this pcapng (mixed snaplens): the tool "
         "must report the error and exit non-zero", lambda e: e, "error"),
    "suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap":
        ("damaged file: libpcap delivers 6 packets then fails; the tool "
         "must report the error, exit non-zero, and find no name",
         lambda e: e, "error"),
}


def expected(path):
    names = set()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            kind, _transport, name = line.rstrip("\n").split("\t")[:3]
            if name.startswith("<") and name.endswith(">"):
                continue  # tshark's placeholder for a corrupt name
            names.add((kind, name.lower()))
    return names


def detected(pcap):
    r = subprocess.run([f"{BUILD}/aicensus", "inspect", "-c", CONF, pcap],
                       capture_output=True)
    names = set()
    for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
        cols = line.split("\t")
        if len(cols) < 7:
            continue
        det, what, name = cols[1], cols[2], cols[3]
        if not name:
            continue
        if det == "dns":
            kind = "dns"
        elif det == "quic":
            kind = "quic-sni"
        elif det == "tls":
            kind = "tls-sni"
        else:
            continue
        names.add((kind, name.lower()))
    return names, r.returncode, r.stderr.decode(errors="replace")


def plain(name):
    return "\\x" not in name and "\\" not in name


def main():
    failures = 0
    files = []
    for root, _dirs, fs in os.walk(PCAPS):
        for f in fs:
            if f.endswith(".expected.txt"):
                files.append(os.path.join(root, f))
    if not files:
        print(f"not ok - no captures with .expected.txt under {PCAPS}")
        return 1
    for exp in sorted(files):
        pcap = exp[: -len(".expected.txt")]
        rel = os.path.relpath(pcap, PCAPS)
        want = expected(exp)
        got, rc, err = detected(pcap)
        reason, adjust, mode = EXCEPTIONS.get(rel, ("", lambda e: e, "equal"))
        want = adjust(want)
        if mode == "error":
            ok = rc != 0 and "error" in err and got == want
        elif mode == "subset":
            ok = rc == 0 and {g for g in got if plain(g[1])} <= want
        else:
            ok = rc == 0 and got == want
        note = f" ({reason})" if reason else ""
        if ok:
            print(f"ok - names in {rel} match tshark{note}")
        else:
            failures += 1
            print(f"not ok - names in {rel} differ from tshark{note}")
            print(f"#   missing: {sorted(want - got)[:10]}")
            print(f"#   extra:   {sorted(got - want)[:10]}")
            print(f"#   exit {rc}: {err.strip()[:300]}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
