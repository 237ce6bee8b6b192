#!/usr/bin/python3
"""Helpers for tests/e2e/faults.sh (and hostile.sh).

  prep SRC TRUTH OUT_A OUT_B      the replay captures (see signals.sh): the
                                  stale ECH answer removed (A), and the same
                                  with every client port XORed with 0x8000
                                  (B); prints "<answers removed> <sendable>"
  prefix SRC N OUT                the first N frames tcpreplay can send
                                  (14 bytes or more) of SRC
  totals DB TRUTH K WHAT [PPS]    "ok"/"not ok" line: totals per
                                  (department, service) == K x truth; also
                                  fails on capture drops
  sums DB                         JSON {"dept|svc": [metrics...]} of a release
                                  database, or of a vault (a copy of it and
                                  its keys finalised in lab mode)
  killcheck DB TRUTH LO HI WHAT   after a SIGKILL: truth + LO <= DB <=
                                  truth + HI in every (department, service)
                                  and metric (LO, HI: JSON of `sums`);
                                  prints the counts lost
  hold DB read|write FLAG         hold a read transaction, or the write lock
                                  (BEGIN IMMEDIATE), until FLAG disappears;
                                  prints "held" once it has it
  killwatch PID WAL TIMEOUT       SIGKILL PID the moment WAL changes (a flush
                                  is writing); prints "killed" or "timeout"
  livetz                          a time zone for a live test: "UTC", or
                                  "Etc/GMT-6" (UTC+6) when a UTC week
                                  boundary is less than 3 hours away (see
                                  cmd_livetz)
  privs PID USER                  "ok"/"not ok" lines on /proc/PID/status:
                                  Uid/Gid/Groups of USER, CapEff = CapPrm =
                                  CAP_NET_RAW only, no inheritable or ambient
                                  capabilities, NoNewPrivs 1

Nothing here prints an address.
"""
import json
import os
import signal
import sqlite3
import struct
import sys
import time

M = ["tls_conns", "quic_conns", "ech_conns", "dns_lookups", "dns_nxdomain",
     "bytes_up", "bytes_down"]
SERVER_PORTS = {53, 443, 8443}
CAP_NET_RAW = 13


# --- pcap ---------------------------------------------------------------

def frames(path):
    data = open(path, "rb").read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        cl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        ts = struct.unpack(e + "I", data[off:off + 4])[0]
        yield data[off:off + 16], ts, data[off + 16:off + 16 + cl]
        off += 16 + cl


def headers(f):
    """(offset of the IP header, IP version, offset of the transport
    header, protocol), or None."""
    if len(f) < 14:
        return None
    et, o = struct.unpack(">H", f[12:14])[0], 14
    while et in (0x8100, 0x88a8) and len(f) >= o + 4:
        et, o = struct.unpack(">H", f[o + 2:o + 4])[0], o + 4
    if et == 0x0800 and len(f) >= o + 20:
        return o, 4, o + (f[o] & 15) * 4, f[o + 9]
    if et == 0x86dd and len(f) >= o + 40:
        return o, 6, o + 40, f[o + 6]
    return None


def transport(f):
    h = headers(f)
    if h is None or h[3] not in (6, 17):
        return None
    return h if len(f) >= h[2] + (20 if h[3] == 6 else 8) else None


def parse(f):
    """(src, dst, proto, sport, dport, payload) or None."""
    h = transport(f)
    if h is None:
        return None
    o, v, l4, proto = h
    src, dst = ((f[o + 12:o + 16], f[o + 16:o + 20]) if v == 4 else
                (f[o + 8:o + 24], f[o + 24:o + 40]))
    sp, dp = struct.unpack(">HH", f[l4:l4 + 4])
    data = f[l4 + (f[l4 + 12] >> 4) * 4:] if proto == 6 else f[l4 + 8:]
    return src, dst, proto, sp, dp, data


def csum_fix(c, old, new):
    # RFC 1624: incremental update of a one's complement checksum
    s = (~c & 0xffff) + (~old & 0xffff) + new
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def move_ports(f, x):
    h = transport(f)
    if h is None:
        return f
    l4, proto = h[2], h[3]
    b = bytearray(f)
    ck = l4 + (16 if proto == 6 else 6)
    for po in (l4, l4 + 2):
        old = struct.unpack(">H", b[po:po + 2])[0]
        if old in SERVER_PORTS:
            continue
        new = old ^ x
        assert new not in SERVER_PORTS, "a moved port became a server port"
        b[po:po + 2] = struct.pack(">H", new)
        c = struct.unpack(">H", b[ck:ck + 2])[0]
        if proto == 6 or c != 0:
            b[ck:ck + 2] = struct.pack(">H", csum_fix(c, old, new))
    return bytes(b)


def cmd_prep(src, truth, out_a, out_b):
    """As tests/e2e/signals.sh prepares its replays, for the same reasons:
    replayed in seconds, the stale ECH answer would be fresh; and the same
    5-tuple with the same QUIC DCID again is a retransmission."""
    cases = [c for c in json.load(open(truth))["cases"]
             if c["case"] == "ech-unattributed-stale"]
    assert len(cases) == 1, "no stale-answer ECH case in the truth"
    t0 = cases[0]["time"]
    pkts = list(frames(src))
    ech = {(p[0], p[1]) for h, ts, f in pkts if t0 - 5 <= ts <= t0 + 15
           for p in [parse(f)]
           if p and p[2] == 6 and b"cloudflare-ech.com" in p[5]}
    assert len(ech) == 1, "the stale ECH connection is not unique"
    client, server = ech.pop()
    removed = sendable = 0
    head = open(src, "rb").read(24)
    with open(out_a, "wb") as a, open(out_b, "wb") as b:
        a.write(head)
        b.write(head)
        for h, ts, f in pkts:
            p = parse(f)
            if (p and p[2] == 17 and p[3] == 53 and p[1] == client and
                    server in p[5] and ts < t0 - 600):
                removed += 1
                continue
            sendable += len(f) >= 14
            a.write(h + f)
            b.write(h + move_ports(f, 0x8000))
    print(removed, sendable)
    return 0


def cmd_prefix(src, n, out):
    n = int(n)
    with open(out, "wb") as o:
        o.write(open(src, "rb").read(24))
        for h, ts, f in frames(src):
            if n <= 0:
                break
            if len(f) < 14:
                continue        # tcpreplay never sends these
            o.write(h + f)
            n -= 1
    return 0


# --- database -----------------------------------------------------------

# The release database's columns for M, in M's order.
REL = ["tls", "quic", "ech", "dns", "nxdomain", "bytes_up", "bytes_down"]


def release_sums(db):
    """Weekly (department, service) leaves of a release database made in
    lab mode (min_group_size = 1: exact), summed over its weeks."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    got = {f"{r[0]}|{r[1]}": list(r[2:]) for r in con.execute(
        "SELECT dept, svc, " + ", ".join(f"SUM({m})" for m in REL) +
        " FROM cell WHERE kind = 2 AND dept <> '*' AND svc <> '*'"
        " AND svc NOT LIKE 'cat:%' GROUP BY 1, 2")}
    drops = con.execute("SELECT COALESCE(SUM(value), 0) FROM blind"
                        " WHERE name IN ('pcap_drops', 'if_drops')").fetchone()[0]
    con.close()
    return got, drops


def vault_sums(db):
    """What a raw working database (the vault) holds, read as its operator
    could during the week: a consistent copy of it and of the state
    directory's keys is finalised in a scratch directory, in lab mode, and
    the release it makes is summed.  The original is left as it was."""
    import re
    import shutil
    import subprocess
    import tempfile
    conf_path = os.environ.get("AIC_CONF") or os.path.join(
        os.path.dirname(os.path.abspath(db)), "aicensus.conf")
    run = os.path.dirname(os.path.abspath(conf_path))
    conf = open(conf_path).read()
    m = re.search(r'state_dir\s*=\s*"([^"]*)"', conf)
    state = m.group(1) if m else "state"
    if not os.path.isabs(state):
        state = os.path.join(run, state)
    daemon = os.path.join(os.environ.get("AIC_ROOT", os.getcwd()),
                          os.environ.get("BUILD", "build"), "aicensusd")
    with tempfile.TemporaryDirectory(prefix="aic-vsums.") as tmp:
        os.chmod(tmp, 0o700)
        src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(os.path.join(tmp, "vault.db"))
        src.backup(dst)
        src.close()
        dst.close()
        os.chmod(os.path.join(tmp, "vault.db"), 0o600)
        if os.path.isdir(state):
            shutil.copytree(state, os.path.join(tmp, "state"))
        else:
            os.mkdir(os.path.join(tmp, "state"), 0o700)
        os.chmod(os.path.join(tmp, "state"), 0o700)
        conf = re.sub(r'\bdatabase\s*=\s*"[^"]*"', 'database = "vault.db"', conf)
        conf = re.sub(r'\brelease_database\s*=\s*"[^"]*";?', '', conf)
        conf = re.sub(r'\bstate_dir\s*=\s*"[^"]*"', 'state_dir = "state"', conf)
        conf = re.sub(r'\bmin_group_size\s*=\s*\d+', 'min_group_size = 1', conf)
        conf = re.sub(r'\buser\s*=\s*"[^"]*"', 'user = ""', conf)
        conf = re.sub(r'\bplugins\s*=\s*\[[^\]]*\];?', '', conf)
        # finalising serves nothing: no API (its token file stays behind)
        conf = re.sub(r'\bapi\s*=\s*\{[^}]*\};?', '', conf)
        for name in os.listdir(run):
            if name.endswith(".conf") and name != "aicensus.conf":
                shutil.copy(os.path.join(run, name), tmp)
        with open(os.path.join(tmp, "aicensus.conf"), "w") as f:
            f.write(conf)
        r = subprocess.run([daemon, "-c", "aicensus.conf", "--finalise",
                            "--release-db", "released.db"], cwd=tmp,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("finalising a copy of the vault failed: "
                               + r.stderr.strip()[-300:])
        return release_sums(os.path.join(tmp, "released.db"))


def db_sums(db):
    """Totals per (department, service) of a release database, or of what a
    raw working database holds (see vault_sums)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    return release_sums(db) if "cell" in tables else vault_sums(db)


def truth_sums(truth, k=1):
    want = {}
    for u in json.load(open(truth))["usage"]:
        w = want.setdefault(f"{u['department']}|{u['service']}", [0] * len(M))
        for i, m in enumerate(M):
            w[i] += k * u[m]
    return want


def events(v):
    """Connections and lookups: the counts a person reads first."""
    return sum(v[:5])


def cmd_totals(db, truth, k, what, pps=None):
    k = int(k)
    want = truth_sums(truth, k)
    got, drops = db_sums(db)
    if drops:
        print(f"not ok - {what}: the capture dropped {drops} packets"
              + (f" at {pps} pps" if pps else "") + "; lower the rate")
        return 1
    bad = [(key, got.get(key), want.get(key))
           for key in sorted(set(want) | set(got))
           if got.get(key) != want.get(key)]
    ng = sum(events(v) for v in got.values())
    nw = sum(events(v) for v in want.values())
    if bad:
        print(f"not ok - {what}: totals differ from {k} x truth in "
              f"{len(bad)} of {len(want)} (department, service) pairs; "
              f"{nw - ng} of {nw} connections+lookups lost")
        for key, g, w in bad[:4]:
            print(f"#   {key}: stored {g} want {w} ({', '.join(M)})")
        return 1
    print(f"ok - {what}: totals of {len(want)} (department, service) pairs = "
          f"{k} x truth ({ng} connections+lookups, 0 lost, no capture drops)")
    return 0


def cmd_sums(db):
    print(json.dumps(db_sums(db)[0]))
    return 0


def cmd_killcheck(db, truth, lo_path, hi_path, what):
    base = truth_sums(truth)
    lo, hi = json.load(open(lo_path)), json.load(open(hi_path))
    got, _ = db_sums(db)
    keys = set(base) | set(lo) | set(hi) | set(got)
    zero = [0] * len(M)
    below, above = [], []
    for key in sorted(keys):
        b, g = base.get(key, zero), got.get(key, zero)
        l, h = lo.get(key, zero), hi.get(key, zero)
        for i in range(len(M)):
            if g[i] < b[i] + l[i]:
                below.append((key, M[i], g[i], b[i] + l[i]))
            if g[i] > b[i] + h[i]:
                above.append((key, M[i], g[i], b[i] + h[i]))
    sent = sum(events(v) for v in hi.values())
    kept = sum(events(got.get(k, zero)) - events(base.get(k, zero))
               for k in keys)
    window = sent - sum(events(v) for v in lo.values())
    fails = 0
    if below:
        print(f"not ok - {what}: committed counts are missing: "
              f"{len(below)} values below the first replay + the traffic "
              f"before the last flush interval")
        for x in below[:4]:
            print(f"#   {x}")
        fails += 1
    else:
        print(f"ok - {what}: every count up to the last flush interval "
              f"before the kill is stored (first replay whole, second: "
              f"{kept} of {sent} connections+lookups sent before the kill)")
    if above:
        print(f"not ok - {what}: more stored than was sent: {above[:3]}")
        fails += 1
    else:
        print(f"ok - {what}: {sent - kept} connections+lookups lost, "
              f"bound {window} (what the last flush interval + 0.5 s "
              f"carried); nothing counted twice")
    print(f"# SIGKILL lost {sent - kept} of {sent} connections+lookups "
          f"(bound {window})")
    return 1 if fails else 0


def cmd_hold(db, mode, flag):
    con = sqlite3.connect(db, isolation_level=None, timeout=30)
    if mode == "write":
        con.execute("BEGIN IMMEDIATE")
    else:
        # a read transaction starts at its first read, and lasts
        con.execute("BEGIN")
        con.execute("SELECT COUNT(*) FROM delta").fetchone()
    print("held", flush=True)
    while os.path.exists(flag):
        time.sleep(0.05)
    con.execute("ROLLBACK")
    con.close()
    return 0


def cmd_killwatch(pid, wal, timeout):
    pid, end = int(pid), time.monotonic() + float(timeout)

    def sig():
        try:
            st = os.stat(wal)
            return st.st_size, st.st_mtime_ns
        except OSError:
            return None
    first = sig()
    while time.monotonic() < end:
        cur = sig()
        if cur != first:
            os.kill(pid, signal.SIGKILL)
            print("killed")
            return 0
        time.sleep(0.0002)
    print("timeout")
    return 1


def cmd_privs(pid, user):
    import pwd
    pw = pwd.getpwnam(user)
    st = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        st[k] = v.split()
    fails = 0

    def check(cond, msg):
        nonlocal fails
        print(("ok - " if cond else "not ok - ") + msg)
        fails += not cond

    u, g = str(pw.pw_uid), str(pw.pw_gid)
    check(st["Uid"] == [u] * 4,
          f"privileges: Uid real/effective/saved/fs = {user} ({u}): "
          f"{' '.join(st['Uid'])}")
    check(st["Gid"] == [g] * 4,
          f"privileges: Gid real/effective/saved/fs = {user} ({g}): "
          f"{' '.join(st['Gid'])}")
    check(st.get("Groups", []) in ([], [g]),
          f"privileges: supplementary groups only {g}: "
          f"{' '.join(st.get('Groups', [])) or '(none)'}")
    want = f"{1 << CAP_NET_RAW:016x}"
    for k in ("CapEff", "CapPrm"):
        check(st[k] == [want],
              f"privileges: {k} = {want} (CAP_NET_RAW only): {st[k][0]}")
    for k in ("CapInh", "CapAmb"):
        check(int(st[k][0], 16) == 0, f"privileges: {k} empty: {st[k][0]}")
    check(st["NoNewPrivs"] == ["1"],
          f"privileges: NoNewPrivs 1: {st['NoNewPrivs'][0]}")
    return 1 if fails else 0


def cmd_livetz():
    """A live test counts with "now" timestamps and compares totals over
    the vault.  Should an ISO week end while it runs, the daemon rightly
    releases that week and destroys its key, and the vault no longer holds
    it: the totals would miss whatever came before the boundary (it did,
    in a CI run that crossed Sunday midnight).  A test runs in minutes, so
    a zone whose week boundary is hours away keeps it inside one week;
    totals over all hours do not depend on the zone."""
    week = 7 * 86400
    since = (int(time.time()) - 4 * 86400) % week   # 1970-01-05 was a Monday
    print("Etc/GMT-6" if min(since, week - since) < 3 * 3600 else "UTC")
    return 0


CMDS = {"livetz": cmd_livetz, "prep": cmd_prep, "prefix": cmd_prefix, "totals": cmd_totals,
        "sums": cmd_sums, "killcheck": cmd_killcheck, "hold": cmd_hold,
        "killwatch": cmd_killwatch, "privs": cmd_privs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        sys.exit(__doc__)
    sys.exit(CMDS[sys.argv[1]](*sys.argv[2:]))
