#!/usr/bin/python3
"""Write a release database with made-up released cells, for the output
tests (query, API, dashboard, metrics) without a daemon.  Deterministic
for a seed.  The file and its schema are made by the release stage itself
($BUILD/tools/relschema, i.e. reldb_open), so no copy of the schema lives
here; tests/unit/relfix.h is the C unit tests' fixed fixture (figures
from formulas, one grid), this one draws any weeks and grids and writes
the truth.  Every published
cell of the grid is drawn; a cell drawn as zero is left out of `cell`, as
the release stage does (an absent cell is a released zero).

Usage: relfixture.py OUT.db [--weeks 2026-W46,2026-W47] [--open-days N]
                     [--seed S] [--min-group K] [--truth OUT.json]
                     [--grid-from AICENSUS.conf]

--grid-from takes the departments, the sanctioned list and (from the
catalog file next to it) the services of a configuration, so that the
grid is the one a daemon with that configuration would release.

--from-truth TRUTH.json (with --grid-from): instead of random cells, the
synthesizer's truth released without protection (min_group 1), as
`aicensusd -r` with min_group_size = 1 would release it: every week and
day it covers, day devices per department (all services) left 0 (the
truth has no such union; query_check.py does not judge them).

--coherent: the cells are drawn as parts that add up, the way a real
release looks: per day a hidden department x service table (devices 1
to 40, so some below K), from which every released cell of the day and
the week is the sum (devices: between the largest part and the sum).  A
part below K is left out, as the release stage suppresses it, while the
totals keep it: they are then more than their shown parts, which is what
the dashboard's lower-bound marks are for.  The screenshots in
tests/artefacts come from such a database, so their figures agree.

Every listed week is released whole (its seven days, then the week);
--open-days N more days of the following week are released without
their week (a week in progress).  --truth writes what was stored, as
{"weeks": {...}, "days": {...}, "blind": {...}, "grid": {...}}.
"""
import argparse
import datetime
import json
import os
import random
import re
import sqlite3
import subprocess
import sys

DEPTS = ["Legal", "Finance", "Engineering"]
SERVICES = [  # sid, name, vendor, category, jurisdiction, sanctioned
    ("chatgpt", "ChatGPT", "OpenAI", "chat", "US", 1),
    ("claude", "Claude", "Anthropic", "chat", "US", 0),
    ("copilot", "GitHub Copilot", "GitHub", "code", "US", 1),
    ("deepl", "DeepL", "DeepL SE", "translate", "DE", 0),
]
MEASURES = ["devices", "devhours", "tls", "quic", "ech", "conns", "dns",
            "nxdomain", "bytes_up", "bytes_down"]
DAY_MEASURES = ["devices", "devhours", "conns", "dns", "nxdomain"]
BLIND = ["packets", "bytes", "pcap_drops", "if_drops", "ech_unattributed",
         "nosni_conns", "doh_conns", "ignored", "lost", "parse_failures",
         "late", "unreadable_hellos", "overlap_conflicts"]

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def create(path):
    """An empty release database, schema and all, from the daemon's code."""
    build = os.environ.get("BUILD") or os.path.join(ROOT, "build")
    tool = os.path.join(build, "tools", "relschema")
    if not os.access(tool, os.X_OK):
        sys.exit("relfixture: %s missing (run make unit)" % tool)
    subprocess.run([tool, path], check=True)


def week_id(d):
    y, w, _ = d.isocalendar()
    return y * 100 + w


def parse_week(s):
    y, w = int(s[:4]), int(s[6:])
    return datetime.date.fromisocalendar(y, w, 1)


def day_start(d):
    """Epoch of local midnight (the fixture's zone is UTC)."""
    return int(datetime.datetime(d.year, d.month, d.day,
                                 tzinfo=datetime.timezone.utc).timestamp())


def draw(rng, k, measures):
    """One released cell: devices 0 or >= k; magnitudes 0 with devices 0."""
    if rng.random() < 0.3:
        return None
    dev = rng.randint(k, 40)
    v = {"devices": dev, "devhours": dev * rng.randint(1, 20)}
    v["tls"] = rng.randint(0, 500)
    v["quic"] = rng.randint(0, 100)
    v["ech"] = rng.randint(0, 20)
    v["conns"] = v["tls"] + v["quic"] + v["ech"]
    if "tls" not in measures:
        v["conns"] = rng.randint(1, 300)
    v["dns"] = rng.randint(0, 900)
    v["nxdomain"] = rng.randint(0, 9)
    v["bytes_up"] = rng.randint(0, 10 ** 7)
    v["bytes_down"] = rng.randint(0, 10 ** 8)
    return {m: v[m] for m in measures}


def grid_from(conf):
    """Departments, and services as SERVICES rows, of a configuration."""
    text = open(conf).read()
    depts = re.findall(r'\{\s*name\s*=\s*"([^"]+)"', text)
    m = re.search(r'sanctioned\s*=\s*\[([^\]]*)\]', text)
    sanct = set(re.findall(r'"([^"]+)"', m.group(1))) if m else set()
    m = re.search(r'catalog\s*=\s*"([^"]+)"', text)
    cat = os.path.join(os.path.dirname(conf), m.group(1) if m else
                       "catalog.conf")
    svcs = []
    for blk in re.findall(r'\{([^{}]*)\}', open(cat).read()):
        f = dict(re.findall(r'(\w+)\s*=\s*"([^"]*)"', blk))
        if "id" in f:
            svcs.append((f["id"], f.get("name", ""), f.get("vendor", ""),
                         f.get("category", ""), f.get("jurisdiction", ""),
                         1 if f["id"] in sanct else 0))
    return depts, svcs


def from_truth(db, t, depts, svc_axis):
    """The truth's week and day cells, unprotected (k = 1)."""
    import collections
    W = collections.defaultdict(collections.Counter)
    D = collections.defaultdict(collections.Counter)
    for u in t["usage"]:
        dt = datetime.datetime.fromtimestamp(u["hour"], datetime.timezone.utc)
        wid = week_id(dt.date())
        did = int(dt.strftime("%Y%m%d"))
        v = {"devhours": u["device_hours"], "tls": u["tls_conns"],
             "quic": u["quic_conns"], "ech": u["ech_conns"],
             "conns": u["tls_conns"] + u["quic_conns"] + u["ech_conns"],
             "dns": u["dns_lookups"], "nxdomain": u["dns_nxdomain"],
             "bytes_up": u["bytes_up"], "bytes_down": u["bytes_down"]}
        for m, x in v.items():
            W[(wid, u["department"], u["service"])][m] += x
            D[(did, wid, u["department"], "*")][m] += x
            D[(did, wid, "*", u["service"])][m] += x
    for x in t["devices_week"]:
        W[(int(x["week"][:4]) * 100 + int(x["week"][6:]), x["department"],
           x["service"])]["devices"] = x["devices"]
    for x in t["devices_day"]:
        D[(int(x["day"].replace("-", "")), week_id(
            datetime.date.fromisoformat(x["day"])), "*",
            x["service"])]["devices"] += x["devices"]
    for kind, keys in ((2, sorted(set((k[0], k[0]) for k in W))),
                       (1, sorted(set((k[0], k[1]) for k in D)))):
        for per, wk in keys:
            db.execute("INSERT INTO period VALUES (?,?,?,0,?,?,1,1)",
                       (kind, per, wk, 168 if kind == 2 else 24,
                        168 if kind == 2 else 24))
            for ax, names in ((0, depts), (1, svc_axis)):
                for i, n in enumerate(names):
                    db.execute("INSERT INTO dim VALUES (?,?,?,?,?)",
                               (kind, per, ax, i, n))
    for (wid, d, s), v in W.items():
        db.execute("INSERT INTO cell VALUES (2,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (wid, d, s, *[v[m] for m in MEASURES]))
    for (did, _, d, s), v in D.items():
        db.execute("INSERT INTO cell VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (did, d, s, *[v[m] for m in MEASURES]))


def coherent(db, rng, k, days, weeks, depts, services, truth, period,
             blind):
    """--coherent: released cells that are sums of hidden parts."""
    cat_of = {sv[0]: sv[3] for sv in services}
    busy = {sv[0]: rng.choice((0.2, 0.5, 1.0)) for sv in services}

    def part():
        dev = rng.randint(1, 40)
        tls = rng.randint(dev, dev * 12)
        quic = rng.randint(0, dev * 3)
        ech = rng.randint(0, dev)
        return {"devices": dev, "devhours": dev * rng.randint(1, 6),
                "tls": tls, "quic": quic, "ech": ech,
                "conns": tls + quic + ech, "dns": rng.randint(dev, dev * 20),
                "nxdomain": rng.randint(0, 2),
                "bytes_up": rng.randint(0, 10 ** 6) * dev,
                "bytes_down": rng.randint(0, 10 ** 7) * dev}

    def total(parts, measures):
        v = {m: sum(p[m] for p in parts) for m in measures}
        if "devices" in measures:
            big = max(p["devices"] for p in parts)
            # the same devices use several services and days
            v["devices"] = big + (v["devices"] - big) // 3
        return v

    def store(kind, per, key, v, measures, out):
        if v["devices"] < k:
            return  # suppressed: a released zero, absent from `cell`
        out["%s|%s" % key] = {m: v[m] for m in measures}
        db.execute("INSERT INTO cell VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (kind, per, key[0], key[1],
                    *[v[m] if m in measures else 0 for m in MEASURES]))

    def release(kind, per, parts, measures, cats, out):
        # parts: {(dept, sid): part}; every margin sums its parts
        groups = {}
        for (d, sid), p in parts.items():
            keys = [(d, "cat:" + cat_of[sid]), (d, "*"), ("*", sid),
                    ("*", "cat:" + cat_of[sid]), ("*", "*")]
            if cats is False:
                keys.append((d, sid))
            for key in keys:
                groups.setdefault(key, []).append(p)
        for key, ps in groups.items():
            v = total(ps, MEASURES)
            store(kind, per, key, v, measures, out)

    week_parts = {}
    for d, _ in days:
        did = d.year * 10000 + d.month * 100 + d.day
        period(1, did, week_id(d), day_start(d), 24)
        parts = {}
        for dept in depts:
            for sv in services:
                if rng.random() < busy[sv[0]]:
                    parts[(dept, sv[0])] = part()
        release(1, did, parts, DAY_MEASURES, True,
                truth["days"].setdefault(str(did), {}))
        wk = week_id(d)
        for key, p in parts.items():
            week_parts.setdefault(wk, {}).setdefault(key, []).append(p)
        blind(did)
    for mon in weeks:
        wid = week_id(mon)
        period(2, wid, wid, day_start(mon), 168)
        parts = {key: total(ps, MEASURES)
                 for key, ps in week_parts.get(wid, {}).items()}
        release(2, wid, parts, MEASURES, False,
                truth["weeks"].setdefault(str(wid), {}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--weeks", default="2026-W46,2026-W47")
    ap.add_argument("--open-days", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-group", type=int, default=5)
    ap.add_argument("--truth")
    ap.add_argument("--grid-from")
    ap.add_argument("--from-truth")
    ap.add_argument("--coherent", action="store_true")
    a = ap.parse_args()
    global DEPTS, SERVICES
    if a.grid_from:
        DEPTS, SERVICES = grid_from(a.grid_from)
    rng = random.Random(a.seed)
    k = a.min_group
    if os.path.exists(a.out):
        os.unlink(a.out)
    create(a.out)
    db = sqlite3.connect(a.out)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('timezone', 'UTC')")
    db.executemany("INSERT INTO service VALUES (?,?,?,?,?,?)", SERVICES)
    cats = []
    for s in SERVICES:
        if s[3] not in cats:
            cats.append(s[3])
    depts = DEPTS + ["unassigned"]
    sids = [s[0] for s in SERVICES]
    svc_axis = sids + ["cat:" + c for c in cats]
    truth = {"weeks": {}, "days": {}, "blind": {},
             "grid": {"departments": depts, "services": sids,
                      "categories": cats}}

    def period(kind, per, week, start, hours, complete=1):
        db.execute("INSERT INTO period VALUES (?,?,?,?,?,?,?,?)",
                   (kind, per, week, start + hours * 3600 + 120, hours,
                    hours, complete, k))
        for ax, names in ((0, depts), (1, svc_axis)):
            for i, n in enumerate(names):
                db.execute("INSERT INTO dim VALUES (?,?,?,?,?)",
                           (kind, per, ax, i, n))

    def cells(kind, per, grid, measures, store):
        for dept, svc in grid:
            v = draw(rng, k, measures)
            if v is None:
                continue
            store["%s|%s" % (dept, svc)] = v
            db.execute("INSERT INTO cell VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (kind, per, dept, svc,
                        *[v.get(m, 0) for m in MEASURES]))

    if a.from_truth:
        from_truth(db, json.load(open(a.from_truth)), depts, svc_axis)
        db.commit()
        db.close()
        os.chmod(a.out, 0o640)
        return 0
    week_grid = [(d, s) for d in depts + ["*"] for s in svc_axis + ["*"]]
    day_grid = [(d, s) for d in depts + ["*"]
                for s in ["cat:" + c for c in cats] + ["*"]] + \
        [("*", s) for s in sids]
    weeks = [parse_week(w) for w in a.weeks.split(",") if w]
    days = []
    for mon in weeks:
        days += [(mon + datetime.timedelta(days=i), True) for i in range(7)]
    if weeks:
        nxt = weeks[-1] + datetime.timedelta(days=7)
        days += [(nxt + datetime.timedelta(days=i), False)
                 for i in range(a.open_days)]
    def blind(did):
        b = {n: rng.randint(0, 10 ** 6) for n in BLIND}
        truth["blind"][str(did)] = b
        db.executemany("INSERT INTO blind VALUES (?,?,?)",
                       [(did, n, v) for n, v in b.items()])

    if a.coherent:
        coherent(db, rng, k, days, weeks, depts, SERVICES, truth, period,
                 blind)
    else:
        for d, _ in days:
            did = d.year * 10000 + d.month * 100 + d.day
            period(1, did, week_id(d), day_start(d), 24)
            store = truth["days"].setdefault(str(did), {})
            cells(1, did, day_grid, DAY_MEASURES, store)
            blind(did)
        for mon in weeks:
            wid = week_id(mon)
            period(2, wid, wid, day_start(mon), 168)
            store = truth["weeks"].setdefault(str(wid), {})
            cells(2, wid, week_grid, MEASURES, store)
    db.commit()
    db.close()
    os.chmod(a.out, 0o640)
    if a.truth:
        with open(a.truth, "w") as f:
            json.dump(truth, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
