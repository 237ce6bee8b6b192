#!/usr/bin/python3
"""Check the cells of a release database against the truth written by
tests/synth/synth.py (or any generator writing the same truth.json keys).

Usage: relcheck.py RELEASED.db TRUTH.json CATALOG.conf [--sums] [--flood]

The release must have been made with min_group_size = 1 (no protection):
then every published figure is the truth aggregated onto the grid of
docs/PRIVACY.md, and this script demands exactly that, at every level:

  W1  week x {department, unassigned, *} x {service, cat:<category>, *}
  D1  day  x {department, unassigned, *} x {cat:<category>, *}
  D2  day  x * x {service}

Counters are sums over the truth's hourly cells; device-hours of a margin
are the sum of its leaves' (a device using two services in one hour counts
twice there); distinct devices are unions of the truth's device sets.
Cells the truth has no use in must be zero (absent from `cell`).
Prints "ok - ..." / "not ok - ..." lines; exit 1 on any failure.

--flood: the capture carried more than the truth's packets (hostile.sh
counts those itself).

--sums prints instead a JSON object of the week-level totals per
(department, service) leaf, for tests that compare runs with each other.
"""
import collections
import json
import re
import sqlite3
import sys

WEEK_M = ["devices", "devhours", "tls", "quic", "ech", "conns", "dns",
          "nxdomain", "bytes_up", "bytes_down"]
DAY_M = ["devices", "devhours", "conns", "dns", "nxdomain"]
TRUTH_FIELD = {"tls": "tls_conns", "quic": "quic_conns", "ech": "ech_conns",
               "dns": "dns_lookups", "nxdomain": "dns_nxdomain",
               "bytes_up": "bytes_up", "bytes_down": "bytes_down",
               "devhours": "device_hours"}


def catalog_categories(path):
    text = open(path).read()
    cats = {}
    for block in re.findall(r"\{[^{}]*\}", text):
        m_id = re.search(r'\bid\s*=\s*"([^"]+)"', block)
        m_cat = re.search(r'\bcategory\s*=\s*"([^"]+)"', block)
        if m_id and m_cat:
            cats[m_id.group(1)] = m_cat.group(1)
    return cats


def day_key(iso):           # "2026-11-16" -> 20261116
    return int(iso.replace("-", ""))


def week_key(iso):          # "2026-W47" -> 202647
    y, w = iso.split("-W")
    return int(y) * 100 + int(w)


def day_of_hour(h):
    import datetime
    return datetime.datetime.fromtimestamp(h, datetime.timezone.utc).strftime("%Y-%m-%d")


def week_of_hour(h):
    import datetime
    y, w, _ = datetime.datetime.fromtimestamp(h, datetime.timezone.utc).isocalendar()
    return "%04d-W%02d" % (y, w)


def truth_cells(truth, cats):
    """{(kind, period, dept, svc): {measure: value}} of the whole grid."""
    counters = collections.defaultdict(lambda: collections.Counter())
    devsets = collections.defaultdict(set)

    def targets(kind, dept, svc):
        cat = "cat:" + cats.get(svc, "?")
        if kind == 2:
            return [(d, s) for d in (dept, "*") for s in (svc, cat, "*")]
        return [(d, s) for d in (dept, "*") for s in (cat, "*")] + [("*", svc)]

    for u in truth["usage"]:
        h = u["hour"]
        for kind, per in ((1, day_key(day_of_hour(h))), (2, week_key(week_of_hour(h)))):
            for d, s in targets(kind, u["department"], u["service"]):
                c = counters[(kind, per, d, s)]
                for m, f in TRUTH_FIELD.items():
                    c[m] += u.get(f, 0)
                c["conns"] += u["tls_conns"] + u["quic_conns"] + u["ech_conns"]
    for kind, label, conv in ((1, "day", day_key), (2, "week", week_key)):
        for per, dept, svc, addrs in truth["device_sets"][label]:
            for d, s in targets(kind, dept, svc):
                devsets[(kind, conv(per), d, s)].update(addrs)
    cells = {}
    for key in set(counters) | set(devsets):
        ms = WEEK_M if key[0] == 2 else DAY_M
        c = counters.get(key, collections.Counter())
        v = {m: c[m] for m in ms if m != "devices"}
        v["devices"] = len(devsets.get(key, ()))
        if any(v.values()):
            cells[key] = v
    return cells


def released_cells(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    k = con.execute("SELECT DISTINCT min_group FROM period").fetchall()
    cols = ", ".join(WEEK_M)
    got = {}
    for row in con.execute(f"SELECT kind, period, dept, svc, {cols} FROM cell"):
        key = tuple(row[:4])
        ms = WEEK_M if key[0] == 2 else DAY_M
        got[key] = {m: row[4 + WEEK_M.index(m)] for m in ms}
    periods = {(r[0], r[1]) for r in con.execute("SELECT kind, period FROM period")}
    return got, periods, [x[0] for x in k]


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    db, truth_path, catalog = sys.argv[1:4]
    truth = json.load(open(truth_path))
    cats = catalog_categories(catalog)
    want = truth_cells(truth, cats)
    got, periods, ks = released_cells(db)
    if "--sums" in sys.argv[4:]:
        out = {f"{k[2]}|{k[3]}": v for k, v in got.items() if k[0] == 2}
        print(json.dumps(out, sort_keys=True))
        return 0
    fails = 0

    def check(ok, msg, detail=""):
        nonlocal fails
        print(("ok - " if ok else "not ok - ") + msg)
        if not ok:
            fails += 1
            if detail:
                print("#   " + detail)

    check(ks == [1], f"released without protection for validation (min_group {ks})")
    need = {(k[0], k[1]) for k in want}
    check(need <= periods, f"every period with use is released ({len(need)} of "
          f"{len(periods)} released periods)", f"missing {sorted(need - periods)[:5]}")
    for kind, name in ((2, "week (W1)"), (1, "day (D1, D2)")):
        w = {k: v for k, v in want.items() if k[0] == kind}
        g = {k: v for k, v in got.items() if k[0] == kind}
        check(set(w) == set(g), f"{name}: {len(g)} non-zero cells released, "
              f"{len(w)} in the truth",
              f"missing {sorted(set(w) - set(g))[:4]} extra {sorted(set(g) - set(w))[:4]}")
        for m in (WEEK_M if kind == 2 else DAY_M):
            bad = [(k, g.get(k, {}).get(m, 0), w[k][m]) for k in w
                   if g.get(k, {}).get(m, 0) != w[k][m]]
            tot = sum(v[m] for k, v in w.items() if k[2] == "*" and k[3] == "*")
            check(not bad, f"{name} {m}: every cell exact (organisation total {tot})",
                  f"{len(bad)} differ, e.g. {bad[:3]}")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    blind = dict(con.execute("SELECT name, SUM(value) FROM blind GROUP BY name"))
    tb = truth.get("blind", {})
    if "ech_unattributed" in tb:
        check(blind.get("ech_unattributed", 0) == tb["ech_unattributed"],
              f"day blind spots: unattributed ECH {blind.get('ech_unattributed', 0)}"
              f" = {tb['ech_unattributed']}")
    if "packets" in truth.get("meta", {}) and "--flood" not in sys.argv[4:]:
        check(blind.get("packets", 0) == truth["meta"]["packets"],
              f"day blind spots: packets {blind.get('packets', 0)} = "
              f"{truth['meta']['packets']}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
