#!/usr/bin/python3
"""A synthetic ISO week (2026-W47, UTC) with exactly known truth, for the
adversary tests (tests/adversary/attack.py, cost.py).

usage: /usr/bin/python3 tests/adversary/weekgen.py --out DIR [--seed N]
           [--world 0|1] [--old-config]

Writes DIR/traffic.pcap, DIR/truth.json, DIR/aicensus.conf,
DIR/catalog.conf (and creates DIR/state, mode 0700).

The network: five departments, one of them ("Legal") with exactly three
hosts and one ("Board") with a single host, plus two unassigned hosts;
six catalog services in three categories.  Every session is a DNS lookup
over UDP to a public resolver (counted) and, unless the answer is
NXDOMAIN, one TLS connection (single-segment ClientHello, a server
flight, application data, FIN).  Activity is spread over the seven days
and the working hours, with a little weekend and night use.

--world 1 differs from --world 0 ONLY in one extra session of the Board
host (anthropic-claude, Wednesday 2026-11-18 14:xx).  That session is
drawn from its own random generator and merged by timestamp, so every
other packet of the two worlds is byte-identical (presence test).

--old-config writes the configuration the pre-issue-10 daemon accepts
(no release_database key); by default the configuration of spec.md
(release_database = released.db, state_dir = state, min_group_size = 5).

truth.json holds, for every level (hour, day, week) x department
(each, "unassigned", "*") x service (each sid, "cat:<category>", "*") with
any activity: the device set (addresses), devices, device_hours (distinct
(hour, device) pairs), device_hours_sum (sum over services: the old
query's margin semantics), tls_conns, connections, dns_lookups,
dns_nxdomain, bytes_up, bytes_down.  Cells absent from it are zero.
"""

import argparse
import calendar
import ipaddress
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "synth"))

import dnsbuild as db  # noqa: E402
import pkt  # noqa: E402
import tlsbuild as tb  # noqa: E402

WEEK = "2026-W47"
MONDAY = calendar.timegm((2026, 11, 16, 0, 0, 0))
DAYS = [time.strftime("%Y-%m-%d", time.gmtime(MONDAY + 86400 * i)) for i in range(7)]
GW_MAC = bytes.fromhex("020000000001")
RESOLVER = "198.51.100.53"      # public resolver: its clients' queries count
MIN_GROUP = 5

SERVICES = [
    dict(id="openai-chatgpt", name="ChatGPT", vendor="OpenAI", category="chat",
         jurisdiction="US", domains=["chatgpt.com", "openai.com"], hosts=[],
         names=["chatgpt.com", "chatgpt.com", "api.openai.com"], v4="203.0.113.10"),
    dict(id="anthropic-claude", name="Claude", vendor="Anthropic", category="chat",
         jurisdiction="US", domains=["claude.ai"], hosts=[],
         names=["claude.ai", "api.claude.ai"], v4="203.0.113.20"),
    dict(id="mistral-lechat", name="Le Chat", vendor="Mistral AI", category="chat",
         jurisdiction="EU", domains=["mistral.ai"], hosts=[],
         names=["chat.mistral.ai"], v4="198.51.100.40"),
    dict(id="github-copilot", name="GitHub Copilot", vendor="GitHub", category="code",
         jurisdiction="US", domains=["githubcopilot.com"], hosts=[],
         names=["api.githubcopilot.com", "proxy.githubcopilot.com"], v4="203.0.113.30"),
    dict(id="codeium", name="Codeium", vendor="Exafunction", category="code",
         jurisdiction="US", domains=["codeium.com"], hosts=[],
         names=["server.codeium.com"], v4="203.0.113.35"),
    dict(id="midjourney", name="Midjourney", vendor="Midjourney", category="image",
         jurisdiction="US", domains=["midjourney.com"], hosts=[],
         names=["www.midjourney.com"], v4="198.51.100.45"),
]
SVC = {s["id"]: s for s in SERVICES}
CATEGORIES = sorted({s["category"] for s in SERVICES})
NOISE = ["cdn.example.net", "static.example.com", "updates.example.net"]

# name, prefix, number of hosts, service preferences (weights)
DEPTS = [
    ("Finance", "10.10.0.0/24", 12, {"openai-chatgpt": 6, "anthropic-claude": 2,
                                     "mistral-lechat": 1, "midjourney": 1}),
    ("Engineering", "10.20.0.0/24", 16, {"github-copilot": 6, "openai-chatgpt": 4,
                                         "anthropic-claude": 4, "codeium": 2,
                                         "mistral-lechat": 1}),
    ("Sales", "10.30.0.0/24", 7, {"openai-chatgpt": 5, "midjourney": 2,
                                  "anthropic-claude": 1}),
    ("Legal", "10.40.0.0/24", 3, {"openai-chatgpt": 3, "mistral-lechat": 2}),
    ("Board", "10.50.0.0/24", 1, {"openai-chatgpt": 1}),
]
UNASSIGNED = ("unassigned", "192.168.77.0/24", 2, {"openai-chatgpt": 2, "codeium": 1})
PRESENCE = dict(department="Board", service="anthropic-claude", day="2026-11-18",
                at=calendar.timegm((2026, 11, 18, 14, 23, 7)))
MEASURES = ["tls_conns", "connections", "dns_lookups", "dns_nxdomain",
            "bytes_up", "bytes_down"]


def rbytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n > 0 else b""


class Host:
    def __init__(self, rng, addr, dept):
        self.addr = addr
        self.dept = dept
        self.mac = bytes([0x02]) + rbytes(rng, 5)
        self.port = rng.randrange(33000, 50000)
        self.ipid = rng.randrange(65536)

    def eport(self, rng):
        self.port += rng.randrange(1, 8)
        if self.port > 65000:
            self.port -= 30000
        return self.port


class Week:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.recs = []          # (ts_usec, seq, frame)
        self.seq = 0
        self.hours = {}         # (hour, dept, svc) -> {"dev": set, counters...}
        self.hosts = []

    # ------------------------------------------------------------ packets

    def frame(self, t, host, src, dst, proto, l4, ipid):
        et, ipb = pkt.ip_packet(src, dst, proto, l4, ident=ipid)
        if src == host.addr:
            fr = pkt.eth(GW_MAC, host.mac, [], et, ipb)
        else:
            fr = pkt.eth(host.mac, GW_MAC, [], et, ipb)
        self.recs.append((int(round(t * 1e6)), self.seq, fr))
        self.seq += 1

    def cell(self, t, dept, svc):
        h = int(t) // 3600 * 3600
        c = self.hours.get((h, dept, svc))
        if c is None:
            c = self.hours[(h, dept, svc)] = dict(dev=set(), **{m: 0 for m in MEASURES})
        return c

    def session(self, rng, host, svc, t, nx=False):
        """One lookup and (unless NXDOMAIN) one TLS connection; all packets
        within 60 s of t (callers keep t at least 120 s before the hour's
        end, so every packet falls into the hour of t)."""
        s = SVC[svc] if svc else None
        name = rng.choice(s["names"]) if s else rng.choice(NOISE)
        srv = s["v4"] if s else "198.51.100.%d" % rng.randrange(100, 140)
        qid = rng.getrandbits(16)
        sp = host.eport(rng)
        q = db.query(qid, name, db.QT_A)
        host.ipid += 1
        self.frame(t, host, host.addr, RESOLVER, 17, pkt.udp(host.addr, RESOLVER, sp, 53, q), host.ipid)
        t += rng.uniform(0.005, 0.03)
        if nx:
            r = db.response(qid, name, db.QT_A, rcode=db.RC_NXDOMAIN)
        else:
            r = db.response(qid, name, db.QT_A, addrs=[srv], ttl=300)
        self.frame(t, host, RESOLVER, host.addr, 17, pkt.udp(RESOLVER, host.addr, 53, sp, r), 0)
        if s:
            c = self.cell(t, host.dept, svc)
            c["dns_lookups"] += 1
            c["dev"].add(host.addr)
            if nx:
                c["dns_nxdomain"] += 1
        if nx:
            return
        # TCP + TLS
        t += rng.uniform(0.002, 0.02)
        cp = host.eport(rng)
        cs, ss = rng.getrandbits(32), rng.getrandbits(32)
        rtt = rng.uniform(0.005, 0.04)
        up = down = 0

        def seg(tt, from_cli, flags, payload=b""):
            nonlocal cs, ss
            host.ipid += 1
            if from_cli:
                l4 = pkt.tcp(host.addr, srv, cp, 443, cs, ss if flags & pkt.TCP_ACK else 0,
                             flags, payload)
                self.frame(tt, host, host.addr, srv, 6, l4, host.ipid)
                cs = (cs + len(payload) + (1 if flags & (pkt.TCP_SYN | pkt.TCP_FIN) else 0)) & 0xFFFFFFFF
            else:
                l4 = pkt.tcp(srv, host.addr, 443, cp, ss, cs, flags, payload, window=65535)
                self.frame(tt, host, srv, host.addr, 6, l4, 0)
                ss = (ss + len(payload) + (1 if flags & (pkt.TCP_SYN | pkt.TCP_FIN) else 0)) & 0xFFFFFFFF

        def bulk(tt, from_cli, data):
            for i in range(0, len(data), 1400):
                tt += rng.uniform(0.0001, 0.001)
                seg(tt, from_cli, pkt.TCP_ACK | pkt.TCP_PSH, data[i:i + 1400])
            return tt

        seg(t, True, pkt.TCP_SYN)
        t += rtt
        seg(t, False, pkt.TCP_SYN | pkt.TCP_ACK)
        t += 0.0002
        seg(t, True, pkt.TCP_ACK)
        ch = tb.records(tb.client_hello(rng, name, pq=False, chrome=False))
        seg(t + 0.0001, True, pkt.TCP_ACK | pkt.TCP_PSH, ch)
        up += len(ch)
        t += rtt
        sf = tb.server_flight(rng, rng.randrange(1500, 4000))
        t = bulk(t, False, sf)
        down += len(sf)
        for _ in range(rng.randrange(1, 4)):
            t += rng.uniform(0.05, 5.0)
            a = tb.app_data(rng, rng.randrange(200, 2500))
            t = bulk(t, True, a)
            up += len(a)
            t += rtt
            b = tb.app_data(rng, rng.randrange(1000, 30000))
            t = bulk(t, False, b)
            down += len(b)
        t += rng.uniform(0.1, 2.0)
        seg(t, True, pkt.TCP_FIN | pkt.TCP_ACK)
        t += rtt
        seg(t, False, pkt.TCP_FIN | pkt.TCP_ACK)
        seg(t + 0.0001, True, pkt.TCP_ACK)
        if s:
            c = self.cell(t, host.dept, svc)
            c["tls_conns"] += 1
            c["connections"] += 1
            c["bytes_up"] += up
            c["bytes_down"] += down

    # ------------------------------------------------------------ scenario

    def build(self):
        rng = self.rng
        for dname, prefix, n, prefs in DEPTS + [UNASSIGNED]:
            net = ipaddress.ip_network(prefix)
            addrs = rng.sample(range(10, 250), n)
            for a in sorted(addrs):
                h = Host(rng, str(net.network_address + a), dname)
                svcs = list(prefs)
                w = [prefs[x] for x in svcs]
                h.favs = sorted(set(rng.choices(svcs, weights=w, k=rng.randrange(1, 4))))
                self.hosts.append(h)
        for d in range(7):
            weekend = d >= 5
            for h in self.hosts:
                p_active = 0.12 if weekend else 0.8
                if h.dept == "Board":
                    p_active = 0.5 if not weekend else 0.0
                if rng.random() >= p_active:
                    continue
                nh = 1 if weekend else rng.randrange(1, 5)
                hours = rng.sample(range(7, 19) if not weekend else range(10, 17), nh)
                if rng.random() < 0.05:
                    hours.append(rng.choice([0, 2, 21, 23]))   # the odd night hour
                for hr in sorted(hours):
                    base = MONDAY + d * 86400 + hr * 3600
                    for _ in range(rng.randrange(1, 3)):
                        t = base + rng.uniform(5, 3600 - 180)
                        if rng.random() < 0.08:
                            self.session(rng, h, None, t)            # noise name
                            continue
                        svc = rng.choice(h.favs)
                        self.session(rng, h, svc, t, nx=rng.random() < 0.05)

    def presence(self, seed):
        """The one extra session of world 1, from its own generator."""
        rng = random.Random(seed * 7919 + 1)
        board = [h for h in self.hosts if h.dept == PRESENCE["department"]][0]
        saved = (board.port, board.ipid)
        board.port, board.ipid = 61000, 4242
        self.session(rng, board, PRESENCE["service"], PRESENCE["at"])
        board.port, board.ipid = saved

    # ------------------------------------------------------------ truth

    def truth(self, world, seed):
        cat = {s["id"]: s["category"] for s in SERVICES}
        depts = [d[0] for d in DEPTS] + ["unassigned"]
        out = {}

        def add(level, period, dept, svc, hour, c):
            k = (level, period, dept, svc)
            x = out.get(k)
            if x is None:
                x = out[k] = dict(dev=set(), pairs=set(), dh_sum=0, **{m: 0 for m in MEASURES})
            x["dev"] |= c["dev"]
            x["pairs"] |= {(hour, a) for a in c["dev"]}
            for m in MEASURES:
                x[m] += c[m]

        for (hour, dept, svc), c in self.hours.items():
            day = time.strftime("%Y-%m-%d", time.gmtime(hour))
            hl = time.strftime("%Y-%m-%dT%H", time.gmtime(hour))
            for level, period in (("hour", hl), ("day", day), ("week", WEEK)):
                for dd in (dept, "*"):
                    for ss in (svc, "cat:" + cat[svc], "*"):
                        add(level, period, dd, ss, hour, c)
        # device_hours_sum: the sum over services of each service's
        # device-hours (what the old query printed for margins)
        for (level, period, dept, svc), x in out.items():
            if svc.startswith("cat:") or svc == "*":
                continue
            for dd in (dept,):
                for ss in ("cat:" + cat[svc], "*"):
                    out[(level, period, dd, ss)]["dh_sum"] += len(x["pairs"])
        cells = []
        for (level, period, dept, svc), x in sorted(out.items()):
            row = dict(level=level, period=period, department=dept, service=svc,
                       addresses=sorted(x["dev"]), devices=len(x["dev"]),
                       device_hours=len(x["pairs"]),
                       device_hours_sum=x["dh_sum"] if (svc.startswith("cat:") or svc == "*")
                       else len(x["pairs"]))
            for m in MEASURES:
                row[m] = x[m]
            cells.append(row)
        blind = {}
        for ts, _s, fr in self.recs:
            b = blind.setdefault(time.strftime("%Y-%m-%d", time.gmtime(ts // 1000000)),
                                 dict(packets=0, bytes=0))
            b["packets"] += 1
            b["bytes"] += len(fr)
        return dict(
            blind_days=blind, week=WEEK, days=DAYS, timezone="UTC", min_group_size=MIN_GROUP,
            seed=seed, world=world, presence=dict(PRESENCE, used=bool(world)),
            departments={d: sorted(h.addr for h in self.hosts if h.dept == d) for d in depts},
            services=[{k: s[k] for k in ("id", "name", "category")} for s in SERVICES],
            categories=CATEGORIES,
            client_addresses=sorted(h.addr for h in self.hosts),
            measures=["devices", "device_hours"] + MEASURES,
            cells=cells)


def write_confs(out, old):
    deps = []
    for dname, prefix, _n, _p in DEPTS:
        deps.append('    { name = "%s"; prefixes = ["%s"]; }' % (dname, prefix))
    conf = (
        "# aicensusd configuration for the adversary week (tests/adversary/weekgen.py)\n"
        "aicensus: {\n"
        '  database = "aicensus.db";\n'
        + ("" if old else '  release_database = "released.db";\n') +
        '  state_dir = "state";\n'
        '  catalog = "catalog.conf";\n'
        '  user = "";\n'
        '  timezone = "UTC";\n'
        "  min_group_size = %d;\n"
        "  flush_interval = 60;\n"
        '  sanctioned = ["openai-chatgpt"];\n'
        "  departments = (\n%s\n  );\n"
        "};\n") % (MIN_GROUP, ",\n".join(deps))
    with open(os.path.join(out, "aicensus.conf"), "w") as f:
        f.write(conf)

    def arr(v):
        return "[" + ", ".join('"%s"' % x for x in v) + "]"
    svcs = []
    for s in SERVICES:
        svcs.append(
            '  {\n    id = "%s";\n    name = "%s";\n    vendor = "%s";\n    category = "%s";\n'
            '    jurisdiction = "%s";\n    domains = %s;\n    hosts = %s;\n  }'
            % (s["id"], s["name"], s["vendor"], s["category"], s["jurisdiction"],
               arr(s["domains"]), arr(s["hosts"])))
    with open(os.path.join(out, "catalog.conf"), "w") as f:
        f.write("# Catalog of the adversary week (tests/adversary/weekgen.py)\n"
                "version = 1;\nservices = (\n%s\n);\n" % ",\n".join(svcs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=47)
    ap.add_argument("--world", type=int, choices=(0, 1), default=0)
    ap.add_argument("--old-config", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.join(a.out, "state"), mode=0o700, exist_ok=True)
    os.chmod(os.path.join(a.out, "state"), 0o700)
    W = Week(a.seed)
    W.build()
    if a.world == 1:
        W.presence(a.seed)
    W.recs.sort()
    pkt.write_pcap(os.path.join(a.out, "traffic.pcap"), ((ts, fr) for ts, _s, fr in W.recs))
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump(W.truth(a.world, a.seed), f, indent=1, sort_keys=True)
    write_confs(a.out, a.old_config)
    print("weekgen: %d packets, %d hosts, %d hour cells -> %s"
          % (len(W.recs), len(W.hosts), len(W.hours), a.out))


if __name__ == "__main__":
    main()
