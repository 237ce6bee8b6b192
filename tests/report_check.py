#!/usr/bin/python3
"""report_check.py - the JSON and CSV report against the release database.

usage: report_check.py RELEASED.db REPORT.json REPORT.csv [REPORT-nl.csv]

Recomputes every figure of the report independently, straight from the
release database's tables with sqlite3 (the schema of spec.md: period,
dim, service, cell, blind; a cell absent from `cell` is a released zero):
  - a week's rows are its released W1 cells: ("*","*"), (dept,"*"),
    ("*",sid), (dept,sid), ("*","cat:c");
  - jurisdictions and shadow connections are sums of released service
    cells ("*",sid);
  - a quarter is the sum of its released weekly cells; devices are
    device-weeks (the sum), the average per released week and the
    busiest week;
  - a first use is the first released week whose cell has devices > 0;
  - blind spots are the sums of the released B1 days of the period;
  - nothing is "suppressed", "<k", or a lower bound, in JSON or in CSV;
  - the shadow share's change is in percentage points against the
    previous period's released service cells (null when none released);
  - coverage: incomplete when fewer hours have data than the weeks have;
  - the English CSV is ','-separated with a decimal point, no BOM; the
    Dutch one (REPORT-nl.csv, the same period) opens in Dutch Excel: a
    UTF-8 BOM, ';'-separated, decimal commas, and the same figures.
Prints one "ok - " / "not ok - " line per check; exits 1 on a failure.
"""
import csv
import datetime
import json
import re
import sqlite3
import sys

MEASURES = ["devices", "device_hours", "tls_conns", "quic_conns",
            "ech_conns", "connections", "dns_lookups", "dns_nxdomain",
            "bytes_up", "bytes_down"]
COLS = "devices, devhours, tls, quic, ech, conns, dns, nxdomain, bytes_up," \
    " bytes_down"
COUNTS = MEASURES[1:]
BLIND = {"packets": "packets", "bytes": "bytes", "pcap_drops": "pcap_drops",
         "if_drops": "if_drops", "ech_unattributed": "ech_unattributed",
         "nosni_conns": "nosni_conns", "doh_conns": "doh_conns",
         "ignored": "ignored", "lost": "lost",
         "parse_failures": "parse_failures", "late": "late",
         "unreadable_hellos": "unreadable_hellos",
         "overlap_conflicts": "overlap_conflicts"}
EU = set("EU AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL "
         "PT RO SK SI ES SE".split())

fails = 0


def check(cond, what, detail=""):
    global fails
    if cond:
        print("ok - " + what)
    else:
        fails += 1
        print("not ok - " + what + (": " + str(detail) if detail else ""))


def jur_group(code):
    if code in ("US", "CN"):
        return code
    return "EU" if code in EU else "other"


def week_id(label):
    return int(label[:4]) * 100 + int(label[6:])


def week_label(w):
    return "%04d-W%02d" % (w // 100, w % 100)


def week_add(w, n):
    monday = datetime.date.fromisocalendar(w // 100, w % 100, 1)
    y, k, _ = (monday + datetime.timedelta(weeks=n)).isocalendar()
    return y * 100 + k


def quarter_weeks(label):
    """ISO weeks whose Thursday falls in the quarter "YYYY-Qn"."""
    y, q = int(label[:4]), int(label[6])
    d = datetime.date(y, 3 * q - 2, 1)
    out = []
    while d.year == y and (d.month - 1) // 3 + 1 == q:
        if d.isoweekday() == 4:
            iy, iw, _ = d.isocalendar()
            out.append(iy * 100 + iw)
        d += datetime.timedelta(days=1)
    return out


def shadow_share(e):
    conns = sum(r.m["connections"] for r in e["svcs"].values())
    return round(100 * e["org"].shadow / conns, 1) if conns else None


def week_days(w):
    monday = datetime.date.fromisocalendar(w // 100, w % 100, 1)
    return [int((monday + datetime.timedelta(days=i)).strftime("%Y%m%d"))
            for i in range(7)]


class Row:
    """A report row: released cells of some weeks, summed."""

    def __init__(self):
        self.m = dict.fromkeys(MEASURES, 0)
        self.peak = 0
        self.shadow = 0

    def add(self, cell):
        for k in MEASURES:
            self.m[k] += cell[k]
        self.peak = max(self.peak, cell["devices"])


def load(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    weeks = {r[0]: {"coverage": r[1], "total": r[2], "complete": r[3],
                    "min_group": r[4]}
             for r in con.execute("SELECT period, coverage_hours,"
                                  " hours_total, complete, min_group FROM"
                                  " period WHERE kind = 2")}
    days = {r[0] for r in con.execute("SELECT period FROM period"
                                      " WHERE kind = 1")}
    svc = {r[0]: {"category": r[1], "jur": jur_group(r[2]),
                  "sanctioned": bool(r[3])}
           for r in con.execute("SELECT sid, category, jurisdiction,"
                                " sanctioned FROM service")}
    cells = {}
    for r in con.execute("SELECT period, dept, svc, %s FROM cell"
                         " WHERE kind = 2" % COLS):
        cells[(r[0], r[1], r[2])] = dict(zip(MEASURES, r[3:]))
    dims = {}
    for p, axis, name in con.execute("SELECT period, axis, name FROM dim"
                                     " WHERE kind = 2 ORDER BY ord"):
        dims.setdefault(p, ([], []))[axis].append(name)
    blind = {}
    for day, name, v in con.execute("SELECT day, name, value FROM blind"):
        blind.setdefault(day, {})[name] = v
    con.close()
    return {"weeks": weeks, "days": days, "svc": svc, "cells": cells,
            "dims": dims, "blind": blind}


def cell(D, w, d, s):
    return D["cells"].get((w, d, s), dict.fromkeys(MEASURES, 0))


def expected(D, weeks):
    rel = [w for w in weeks if w in D["weeks"]]
    e = {"released": rel, "org": Row(), "depts": {}, "svcs": {},
         "cells": {}, "cats": {}, "jur": {j: Row() for j in
                                          ("EU", "US", "CN", "other")}}
    for w in rel:
        dd, ss = D["dims"][w]
        e["org"].add(cell(D, w, "*", "*"))
        for d in dd:
            if d == "*":
                continue
            e["depts"].setdefault(d, Row()).add(cell(D, w, d, "*"))
        for s in ss:
            if s == "*":
                continue
            if s.startswith("cat:"):
                e["cats"].setdefault(s[4:], Row()).add(cell(D, w, "*", s))
                continue
            c = cell(D, w, "*", s)
            e["svcs"].setdefault(s, Row()).add(c)
            info = D["svc"][s]
            j = e["jur"][info["jur"]]
            for k in COUNTS:
                j.m[k] += c[k]
            if not info["sanctioned"]:
                e["org"].shadow += c["connections"]
            for d in dd:
                if d != "*":
                    e["cells"].setdefault((d, s), Row()).add(
                        cell(D, w, d, s))
    return e


def first_weeks(D):
    """First released week with devices > 0, per service and per cell."""
    org, dept = {}, {}
    for (w, d, s), c in sorted(D["cells"].items()):
        if c["devices"] == 0 or s == "*" or s.startswith("cat:"):
            continue
        if d == "*":
            org.setdefault(s, w)
        else:
            dept.setdefault((d, s), w)
    return org, dept


def devices_match(j, row, quarter, nrel):
    if quarter:
        # one decimal, however it was rounded
        avg = row.m["devices"] / nrel if nrel else 0
        return j.get("device_weeks") == row.m["devices"] and \
            j.get("devices_peak_week") == row.peak and \
            abs(j.get("devices_avg_week", -1) - avg) <= 0.0501
    return j.get("devices") == row.m["devices"]


def counts_match(j, row):
    return all(j.get(k) == row.m[k] for k in COUNTS)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    db, jpath, cpath = sys.argv[1:4]
    rep = json.load(open(jpath))
    D = load(db)
    quarter = rep["kind"] == "quarter"
    weeks = [week_id(w) for w in rep["weeks"]]
    e = expected(D, weeks)
    nrel = len(e["released"])
    mg = max(D["weeks"][w]["min_group"] for w in e["released"])
    check(rep["method"] == "ckm-1" and rep["min_group_size"] == mg,
          "method ckm-1, minimum group size %d from the released periods"
          % mg)
    check(rep["weeks_released"] == nrel and
          rep["coverage_hours"] == sum(D["weeks"][w]["coverage"]
                                       for w in e["released"]) and
          rep["hours_total"] == sum(D["weeks"][w]["total"]
                                    for w in e["released"]) and
          rep["weeks_incomplete"] == sum(1 for w in e["released"]
                                         if not D["weeks"][w]["complete"]),
          "released weeks (%d) and their coverage" % nrel)
    check(rep["derived"] == quarter, "a quarter is labelled derived")

    # headline: the organisation's cell (or the sum of its weekly cells)
    h = rep["headline"]
    check(devices_match(h["devices"], e["org"], quarter, nrel) and
          counts_match(h, e["org"]),
          "headline: the released organisation cell%s (%d devices, %d"
          " connections)" % (" summed over the weeks" if quarter else "",
                             e["org"].m["devices"],
                             e["org"].m["connections"]))
    svc_conns = sum(r.m["connections"] for r in e["svcs"].values())
    share = round(100 * e["org"].shadow / svc_conns, 1) if svc_conns else 0
    check(h["shadow_connections"] == e["org"].shadow and
          abs(h["shadow_share_pct"] - share) < 0.051,
          "headline: shadow share, a sum of service cells (%s%%)" % share)
    using = sum(1 for d, r in e["depts"].items()
                if d != "unassigned" and r.m["devices"] > 0)
    check(h["departments_using"] == using,
          "headline: departments using genAI (%d)" % using)

    got = {r["department"]: r for r in rep["departments"]}
    bad = [d for d, x in e["depts"].items() if d not in got or
           not devices_match(got[d], x, quarter, nrel) or
           not counts_match(got[d], x)]
    check(not bad and len(got) == len(e["depts"]),
          "departments: every (department, *) cell (%d)" % len(e["depts"]),
          bad)
    used = {s for s, x in e["svcs"].items() if x.m["devices"] > 0}
    got = {r["service"]: r for r in rep["services"]}
    bad = [s for s in used if s not in got or
           not devices_match(got[s], e["svcs"][s], quarter, nrel) or
           not counts_match(got[s], e["svcs"][s])]
    check(not bad and set(got) == used,
          "services: every (*, service) cell in use (%d)" % len(used), bad)
    got = {(r["department"], r["service"]): r for r in rep["cells"]}
    want = {k: x for k, x in e["cells"].items() if k[1] in used}
    bad = [k for k, x in want.items() if k not in got or
           not devices_match(got[k], x, quarter, nrel) or
           not counts_match(got[k], x)]
    zeros = sum(1 for x in want.values() if x.m["devices"] == 0)
    check(not bad and len(got) == len(want),
          "cells: every (department, service) cell (%d, %d of them zero)"
          % (len(want), zeros), bad[:3])
    got = {r["category"]: r for r in rep["categories"]}
    bad = [c for c, x in e["cats"].items() if c not in got or
           not devices_match(got[c], x, quarter, nrel) or
           not counts_match(got[c], x)]
    check(not bad, "categories: every (*, cat:c) cell (%d)" % len(e["cats"]),
          bad)
    got = {r["group"]: r for r in rep["jurisdictions"]}
    bad = [j for j, x in e["jur"].items() if not counts_match(got[j], x) or
           got[j].get("derived") is not True]
    check(not bad, "jurisdictions: sums of service cells, labelled derived: "
          + ", ".join("%s %d" % (j, x.m["connections"])
                      for j, x in e["jur"].items()), bad)

    # first uses: first released week with devices, inside the period
    org, dept = first_weeks(D)
    want = {s: week_label(w) for s, w in org.items() if w in weeks}
    got = {r["service"]: r["first_seen_week"] for r in rep["new_services"]}
    check(got == want, "new services: first released week with devices"
          " (%s)" % (", ".join(sorted(got)) or "none"), (got, want))
    want = {k: week_label(w) for k, w in dept.items() if w in weeks}
    got = {(r["department"], r["service"]): r["first_seen_week"]
           for r in rep["new_in_departments"]}
    check(got == want, "new in departments (%d)" % len(got), (got, want))

    # blind spots: released days of the period
    days = [d for w in weeks for d in week_days(w) if d in D["days"]]
    b = rep["blind_spots"]
    bad = [k for k, n in BLIND.items()
           if b.get(k) != sum(D["blind"].get(d, {}).get(n, 0) for d in days)]
    check(not bad and b["days_released"] == len(days),
          "blind spots: sums of %d released days" % len(days), bad)

    # the weekly series: each week its own released organisation cell
    bad = []
    for r in rep["weekly"]:
        w = week_id(r["week"])
        if w not in D["weeks"]:
            if r["released"] is not False or "devices" in r:
                bad.append(r["week"])
            continue
        c = cell(D, w, "*", "*")
        if r["devices"] != c["devices"] or \
                r["connections"] != c["connections"]:
            bad.append(r["week"])
    check(not bad and len(rep["weekly"]) == (len(weeks) if quarter else 8),
          "weekly series: each week's released cell, or 'not released'",
          bad)

    # the cells the report says it used are the database's
    bad = []
    for r in rep["released_cells"]:
        c = cell(D, week_id(r["period"]), r["department"], r["service"])
        if any(r[k] != c[k] for k in MEASURES):
            bad.append(r)
    check(not bad and len(rep["released_cells"]) > 0,
          "released_cells: %d cells, each as in the database"
          % len(rep["released_cells"]), bad[:2])

    # nothing suppressed, no lower bound, no marker, anywhere
    def keys(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from keys(v)
        elif isinstance(x, list):
            for v in x:
                yield from keys(v)
    bad = [k for k in keys(rep) if "suppress" in k or "lower_bound" in k or
           "partial" in k]
    check(not bad and "<" not in json.dumps(rep),
          "JSON: no suppressed flag, lower bound or <k marker", bad[:3])

    # the shadow share against the previous period, in percentage points
    if quarter:
        y, q = int(rep["period"][:4]), int(rep["period"][6])
        plabel = "%d-Q%d" % ((y, q - 1) if q > 1 else (y - 1, 4))
        pweeks = quarter_weeks(plabel)
    else:
        pweeks = [week_add(weeks[0], -1)]
        plabel = week_label(pweeks[0])
    check(rep["previous_period"] == plabel,
          "previous period named: %s" % plabel, rep["previous_period"])
    pe = expected(D, pweeks)
    cur, prev = shadow_share(e), shadow_share(pe)
    if not pe["released"] or prev is None or cur is None:
        check(h["shadow_share_change_pp"] is None and
              h["shadow_share_previous_pct"] is None,
              "shadow share change: none, %s has no released figures"
              % rep["previous_period"])
    else:
        check(abs(h["shadow_share_previous_pct"] - prev) < 0.051 and
              abs(h["shadow_share_change_pp"] - round(cur - prev, 1))
              < 0.051,
              "shadow share change: %+.1f percentage points vs. %s (%.1f%%"
              " -> %.1f%%)" % (cur - prev, rep["previous_period"], prev,
                               cur), (h["shadow_share_change_pp"],
                                      h["shadow_share_previous_pct"]))
    cov = sum(D["weeks"][w]["coverage"] for w in e["released"])
    tot = sum(D["weeks"][w]["total"] for w in e["released"])
    check(rep["coverage_incomplete"] == (cov < tot),
          "coverage %d of %d hours: incomplete is %s" % (cov, tot,
                                                        cov < tot))

    # CSV: the same figures; no marker, no suppressed or lower-bound flag
    raw = open(cpath, "rb").read()
    check(not raw.startswith(b"\xef\xbb\xbf") and
          all(len(r) == 9 for r in csv.reader(
              raw.decode("utf-8").splitlines())),
          "English CSV: no byte order mark, 9 ','-separated fields a line")
    rows = list(csv.DictReader(open(cpath, newline="")))
    bad = [r for r in rows if r["flag"] not in ("", "derived", "new") or
           r["value"].startswith("<")]
    check(not bad, "CSV: %d figures, none suppressed or a lower bound"
          % len(rows), bad[:2])
    fig = {(r["section"], r["department"], r["service"], r["metric"]):
           r["value"] for r in rows}
    metric = "device_weeks" if quarter else "devices"
    bad = []
    if fig.get(("headline", "", "", metric)) != str(e["org"].m["devices"]) \
            or fig.get(("headline", "", "", "connections")) != \
            str(e["org"].m["connections"]):
        bad.append("headline")
    for d, x in e["depts"].items():
        if fig.get(("department", d, "", metric)) != str(x.m["devices"]):
            bad.append(d)
    for (d, s), x in e["cells"].items():
        if s in used and (fig.get(("cell", d, s, metric)) !=
                          str(x.m["devices"]) or
                          fig.get(("cell", d, s, "bytes_up")) !=
                          str(x.m["bytes_up"])):
            bad.append((d, s))
    check(not bad, "CSV: headline, departments and cells equal the released"
          " cells", bad[:3])
    decs = [r for r in rows if re.fullmatch(r"-?[0-9]+\.[0-9]", r["value"])]
    check(len(decs) > 0, "English CSV: %d decimals with a point (%s)"
          % (len(decs), decs[0]["value"] if decs else ""))
    if len(sys.argv) == 5:
        check_nl_csv(sys.argv[4], rows)
    return 1 if fails else 0


def check_nl_csv(path, en):
    """The Dutch CSV: Dutch Excel's dialect, the English CSV's figures."""
    raw = open(path, "rb").read()
    check(raw.startswith(b"\xef\xbb\xbf"),
          "Dutch CSV starts with a UTF-8 byte order mark")
    text = raw.decode("utf-8-sig")
    lines = list(csv.reader(text.splitlines(), delimiter=";"))
    check(lines and lines[0] == list(en[0].keys()) and
          all(len(r) == 9 for r in lines),
          "Dutch CSV: 9 ';'-separated fields on each of %d lines"
          % len(lines))
    nl = list(csv.DictReader(text.splitlines(), delimiter=";"))
    bad, ndec = [], 0
    for a, b in zip(en, nl):
        va = a["value"]
        if re.fullmatch(r"-?[0-9]+\.[0-9]", va):
            ndec += 1
            va = va.replace(".", ",")
        if a["metric"] == "language":
            va = "nl"
        if dict(a, value=va) != b:
            bad.append((a, b))
    check(not bad and len(en) == len(nl) and ndec > 0,
          "Dutch CSV: the English CSV's %d figures, %d decimals with a"
          " comma (e.g. %s)" % (len(nl), ndec, next(
              (r["value"] for r in nl if "," in r["value"]), "")),
          bad[:2])
    check(not any(re.fullmatch(r"-?[0-9]+\.[0-9]+", r["value"])
                  for r in nl),
          "Dutch CSV: no decimal point left")


if __name__ == "__main__":
    sys.exit(main())
