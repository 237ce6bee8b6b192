#!/usr/bin/python3
"""report_check.py - the JSON and CSV report against the database.

usage: report_check.py AICENSUS DB REPORT.json REPORT.csv

Recomputes every figure of the report independently: per-week rows from
`aicensus query --format json` (which applies the minimum group size),
dimensions, first uses and blind spots straight from the database with
sqlite3, and the report's own rules (report.h) on top:
  - counts are sums of the shown department x service cells;
  - a device total whose remainder over the shown figures of its parts
    (cells of a service or department, services of a category,
    departments or categories of the organisation) is in (0, min_group)
    is replaced by that sum, as a lower bound;
  - a first use is listed only when its cell was shown in its week;
  - a suppressed figure carries no number, in JSON and in CSV.
Prints one "ok - " / "not ok - " line per check; exits 1 on a failure.
"""
import csv
import datetime
import json
import sqlite3
import subprocess
import sys
import zoneinfo

COUNTS = ["tls_conns", "quic_conns", "ech_conns", "dns_lookups",
          "dns_nxdomain", "bytes_up", "bytes_down", "device_hours"]
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


def query(aic, db, weeks, by):
    out = subprocess.run([aic, "query", "--db", db, "--from", weeks[0],
                          "--to", weeks[-1], "--by", by, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["rows"]


def quarter_weeks(label):
    """ISO weeks whose Thursday falls in the quarter."""
    y, q = int(label[:4]), int(label[6])
    first = datetime.date(y, 3 * q - 2, 1)
    nxt = datetime.date(y + 1, 1, 1) if q == 4 else \
        datetime.date(y, 3 * q + 1, 1)
    iy, iw, _ = first.isocalendar()
    monday = datetime.date.fromisocalendar(iy, iw, 1)
    if monday + datetime.timedelta(days=3) < first:
        monday += datetime.timedelta(days=7)
    out = []
    while monday + datetime.timedelta(days=3) < nxt:
        iy, iw, _ = monday.isocalendar()
        out.append("%04d-W%02d" % (iy, iw))
        monday += datetime.timedelta(days=7)
    return out


class Fig:
    """A device figure over weeks, as report_model.h defines it."""

    def __init__(self):
        self.shown, self.suppressed, self.sum, self.max = 0, 0, 0, 0
        self.lb, self.max_lb = False, False

    def add(self, v, lb=False):
        if self.shown == 0 or v > self.max:
            self.max, self.max_lb = v, lb
        elif v == self.max:
            self.max_lb = self.max_lb and lb
        self.shown += 1
        self.sum += v
        self.lb = self.lb or lb

    def is_suppressed(self):
        return self.shown == 0 and self.suppressed > 0


def expected(aic, db, weeks):
    """Every figure of the report for these weeks."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    mg = int(meta.get("min_group_size", 5))
    svc = {r[0]: {"category": r[1], "jur": jur_group(r[2]),
                  "sanctioned": bool(r[3])}
           for r in con.execute("SELECT sid, category, jurisdiction,"
                                " sanctioned FROM service")}
    depts = [r[0] for r in con.execute("SELECT name FROM department")]
    e = {"mg": mg, "cells": {}, "depts": {}, "svcs": {}, "cats": {},
         "org": {"fig": Fig(), "counts": dict.fromkeys(COUNTS, 0),
                 "shadow": 0, "partial": 0},
         "weeks": {w: {"fig": Fig(), "counts": dict.fromkeys(COUNTS, 0),
                       "partial": 0} for w in weeks},
         "jur": {j: {"counts": dict.fromkeys(COUNTS, 0), "services": set()}
                 for j in ("EU", "US", "CN", "other")},
         "vis_cell": {}, "vis_svc": {}, "has_data": set(), "svc": svc,
         "depts_all": depts}

    def row(table, key):
        return table.setdefault(key, {"fig": Fig(), "partial": 0,
                                      "counts": dict.fromkeys(COUNTS, 0),
                                      "shadow": 0})

    # sums of shown device figures: the parts each total is checked against
    parts = {"svc_cells": {}, "dept_cells": {}, "cat_svcs": {},
             "org_depts": {}, "org_cats": {}}

    def bump(kind, key, v):
        parts[kind][key] = parts[kind].get(key, 0) + v

    def add_total(fig, r, candidates):
        """report.h: a total whose remainder over some shown parts is in
        (0, min_group) is replaced by the smallest such sum."""
        v, cut = r["devices"], False
        for p in candidates:
            if r["devices"] > p and r["devices"] - p < mg and \
                    (not cut or p < v):
                v, cut = p, True
        # query_run leaves suppressed finer cells out of totals
        cut = cut or r.get("withheld_cells", 0) > 0
        fig.add(v, cut)
        return v

    for r in query(aic, db, weeks, "department,service,week"):
        w, d, s = r["period"], r["department"], r["service"]
        e["has_data"].add(w)
        targets = [row(e["cells"], (d, s)), row(e["depts"], d),
                   row(e["svcs"], s), e["org"], e["weeks"][w],
                   row(e["cats"], svc[s]["category"])]
        if r["suppressed"]:
            targets[0]["fig"].suppressed += 1
            e["vis_cell"][(w, d, s)] = 2
            for t in targets:
                t["partial"] += 1
            continue
        e["vis_cell"][(w, d, s)] = 1
        targets[0]["fig"].add(r["devices"])
        bump("svc_cells", (w, s), r["devices"])
        bump("dept_cells", (w, d), r["devices"])
        conns = r["tls_conns"] + r["quic_conns"] + r["ech_conns"]
        jt = e["jur"][svc[s]["jur"]]
        jt["services"].add(s)
        for t in targets + [jt]:
            for k in COUNTS:
                t["counts"][k] += r[k]
            if not svc[s]["sanctioned"]:
                t["shadow"] = t.get("shadow", 0) + conns
    for r in query(aic, db, weeks, "service,week"):
        w, s = r["period"], r["service"]
        t = row(e["svcs"], s)
        if r["suppressed"]:
            t["fig"].suppressed += 1
            e["vis_svc"][(w, s)] = 2
            continue
        e["vis_svc"][(w, s)] = 1
        v = add_total(t["fig"], r, [parts["svc_cells"].get((w, s), 0)])
        bump("cat_svcs", (w, svc[s]["category"]), v)
    for r in query(aic, db, weeks, "category,week"):
        w, c = r["period"], r["category"]
        t = row(e["cats"], c)
        if r["suppressed"]:
            t["fig"].suppressed += 1
            continue
        bump("org_cats", w, add_total(t["fig"], r, [
            parts["cat_svcs"].get((w, c), 0)]))
    for r in query(aic, db, weeks, "department,week"):
        w, d = r["period"], r["department"]
        t = row(e["depts"], d)
        if r["suppressed"]:
            t["fig"].suppressed += 1
            continue
        bump("org_depts", w, add_total(t["fig"], r, [
            parts["dept_cells"].get((w, d), 0)]))
    for r in query(aic, db, weeks, "week"):
        w = r["period"]
        e["has_data"].add(w)
        if r["suppressed"]:
            e["org"]["fig"].suppressed += 1
            e["weeks"][w]["fig"].suppressed += 1
            continue
        cands = [parts["org_depts"].get(w, 0), parts["org_cats"].get(w, 0)]
        add_total(e["org"]["fig"], r, cands)
        add_total(e["weeks"][w]["fig"], r, cands)

    # first uses: the first hour in the whole database, shown in its week
    tz = meta.get("timezone", "UTC")
    tzi = zoneinfo.ZoneInfo("UTC" if tz in ("", "system") else tz)

    def local(hour):
        return datetime.datetime.fromtimestamp(hour, tzi)

    def week_of(hour):
        y, w, _ = local(hour).isocalendar()
        return "%04d-W%02d" % (y, w)

    e["new_org"], e["new_dept"] = {}, {}
    for s, h in con.execute("SELECT s.sid, MIN(u.hour) FROM usage_hour u"
                            " JOIN service s ON s.id = u.svc GROUP BY 1"):
        w = week_of(h)
        if w in weeks and e["vis_svc"].get((w, s)) == 1:
            e["new_org"][s] = local(h).strftime("%Y-%m-%d")
    for d, s, h in con.execute(
            "SELECT d.name, s.sid, MIN(u.hour) FROM usage_hour u JOIN"
            " department d ON d.id = u.dept JOIN service s ON s.id = u.svc"
            " GROUP BY 1, 2"):
        w = week_of(h)
        if w in weeks and e["vis_cell"].get((w, d, s)) == 1:
            e["new_dept"][(d, s)] = local(h).strftime("%Y-%m-%d")

    # blind spots over the period
    y, wk = int(weeks[0][:4]), int(weeks[0][6:])
    start = datetime.datetime.combine(
        datetime.date.fromisocalendar(y, wk, 1), datetime.time(), tzi)
    y, wk = int(weeks[-1][:4]), int(weeks[-1][6:])
    end = datetime.datetime.combine(
        datetime.date.fromisocalendar(y, wk, 1) + datetime.timedelta(days=7),
        datetime.time(), tzi)
    e["blind"] = dict(zip(
        ["hours_with_data", "packets", "pcap_drops", "if_drops", "ech_conns",
         "ech_unattributed", "nosni_conns", "doh_conns", "lost"],
        con.execute("SELECT COUNT(*), TOTAL(packets), TOTAL(pcap_drops),"
                    " TOTAL(if_drops), TOTAL(ech_conns),"
                    " TOTAL(ech_unattributed), TOTAL(nosni_conns),"
                    " TOTAL(doh_conns), TOTAL(lost) FROM capture_hour"
                    " WHERE hour >= ? AND hour < ?",
                    (int(start.timestamp()), int(end.timestamp()))
                    ).fetchone()))
    e["blind"] = {k: int(v) for k, v in e["blind"].items()}
    con.close()
    return e


def conns(c):
    return c["tls_conns"] + c["quic_conns"] + c["ech_conns"]


def fig_matches(j, fig, quarter, weeks_with_data):
    """The JSON device fields of a row against an expected Fig."""
    if fig.is_suppressed():
        return j.get("suppressed") is True and "devices" not in j and \
            "devices_avg_week" not in j and "connections" not in j
    if j.get("suppressed") is not False:
        return False
    if quarter:
        avg = round(fig.sum / weeks_with_data, 1) if weeks_with_data else 0
        return abs(j["devices_avg_week"] - avg) < 0.051 and \
            j["devices_peak_week"] == fig.max and \
            j["devices_peak_week_lower_bound"] == fig.max_lb and \
            j["devices_lower_bound"] == (fig.lb or fig.suppressed > 0)
    return j["devices"] == (fig.max if fig.shown else 0) and \
        j["devices_lower_bound"] == fig.lb


def counts_match(j, exp):
    return all(j.get(k) == exp["counts"][k] for k in COUNTS) and \
        j.get("connections") == conns(exp["counts"]) and \
        j.get("counts_partial") == (exp["partial"] > 0)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    aic, db, jpath, cpath = sys.argv[1:]
    rep = json.load(open(jpath))
    quarter = rep["kind"] == "quarter"
    weeks = rep["weeks"]
    if quarter:
        check(weeks == quarter_weeks(rep["period"]),
              "the quarter's ISO weeks are those whose Thursday is in it",
              weeks)
    e = expected(aic, db, weeks)
    mg = e["mg"]
    wwd = len(e["has_data"])
    check(rep["min_group_size"] == mg and rep["suppressed_marker"] ==
          "<%d" % mg, "minimum group size and marker from the database")
    check(rep["weeks_with_data"] == wwd, "weeks with data", wwd)

    # headline
    h = rep["headline"]
    check(fig_matches(h["devices"], e["org"]["fig"], quarter, wwd),
          "headline: devices using genAI", (h["devices"],
                                            vars(e["org"]["fig"])))
    check(counts_match(h, e["org"]),
          "headline: counts are the sums of the shown cells (%d connections)"
          % conns(e["org"]["counts"]))
    shadow = e["org"]["shadow"]
    check(h["shadow_connections"] == shadow and
          abs(h["shadow_share_pct"] - round(
              100 * shadow / max(conns(e["org"]["counts"]), 1), 1)) < 0.051,
          "headline: shadow share (%d connections)" % shadow)
    using = sum(1 for d, r in e["depts"].items()
                if d != "unassigned" and r["fig"].shown > 0)
    total = sum(1 for d in e["depts_all"] if d != "unassigned")
    check(h["departments_using"] == using and
          h["departments_total"] == total,
          "headline: departments using genAI (%d of %d)" % (using, total))
    check(h["services_used"] == len(e["svcs"]) and
          h["services_new"] == len(e["new_org"]),
          "headline: services used (%d) and new (%d)"
          % (len(e["svcs"]), len(e["new_org"])))

    # departments, services, cells, categories
    got = {r["department"]: r for r in rep["departments"]}
    bad = [d for d, x in e["depts"].items()
           if d not in got or not fig_matches(got[d], x["fig"], quarter, wwd)
           or (not x["fig"].is_suppressed() and not counts_match(got[d], x))]
    check(not bad, "departments: devices and counts (%d)" % len(e["depts"]),
          bad)
    got = {r["service"]: r for r in rep["services"]}
    bad = [s for s, x in e["svcs"].items()
           if s not in got or not fig_matches(got[s], x["fig"], quarter, wwd)
           or (not x["fig"].is_suppressed() and not counts_match(got[s], x))]
    check(not bad and len(got) == len(e["svcs"]),
          "services: devices, lower bounds and counts (%d)" % len(e["svcs"]),
          bad)
    lbs = sorted(s for s, x in e["svcs"].items() if x["fig"].lb)
    check(all(got[s]["devices_lower_bound"] for s in lbs),
          "services whose total would reveal a suppressed cell are lower"
          " bounds: %s" % (", ".join(lbs) or "none"))
    got = {(r["department"], r["service"]): r for r in rep["cells"]}
    bad = [k for k, x in e["cells"].items()
           if k not in got or not fig_matches(got[k], x["fig"], quarter, wwd)
           or (not x["fig"].is_suppressed() and not counts_match(got[k], x))]
    nsup = sum(1 for x in e["cells"].values() if x["fig"].is_suppressed())
    check(not bad and len(got) == len(e["cells"]),
          "cells: %d, %d of them suppressed without a number"
          % (len(e["cells"]), nsup), bad)
    got = {r["category"]: r for r in rep["categories"]}
    bad = [c for c, x in e["cats"].items()
           if c not in got or not fig_matches(got[c], x["fig"], quarter, wwd)]
    check(not bad, "categories (%d)" % len(e["cats"]), bad)
    got = {r["group"]: r for r in rep["jurisdictions"]}
    bad = [j for j, x in e["jur"].items()
           if got[j]["connections"] != conns(x["counts"]) or
           got[j]["bytes_up"] != x["counts"]["bytes_up"]]
    check(not bad, "vendor jurisdiction EU/US/CN/other: " + ", ".join(
        "%s %d" % (j, conns(x["counts"])) for j, x in e["jur"].items()), bad)

    # first uses
    got = {r["service"]: r["first_seen"] for r in rep["new_services"]}
    check(got == e["new_org"], "services seen for the first time: %s"
          % (", ".join(sorted(got)) or "none"), (got, e["new_org"]))
    got = {(r["department"], r["service"]): r["first_seen"]
           for r in rep["new_in_departments"]}
    check(got == e["new_dept"], "first use per department (%d), none in a"
          " suppressed cell" % len(got), (got, e["new_dept"]))

    # blind spots
    b = rep["blind_spots"]
    bad = [k for k, v in e["blind"].items() if b.get(k) != v]
    check(not bad, "blind spots from capture_hour (ECH unattributed %d, DoH"
          " %d, drops %d)" % (e["blind"]["ech_unattributed"],
                              e["blind"]["doh_conns"],
                              e["blind"]["pcap_drops"]), bad)
    u = e["depts"].get("unassigned")
    check(u is None or fig_matches(b["unassigned"], u["fig"], quarter, wwd),
          "blind spots: unmapped clients (department unassigned)")

    # the weekly series: a quarter's weeks, or a week and the seven before
    # it; every rule works week by week, so each week is checked alone
    series = {r["week"]: r for r in rep["weekly"]}
    check(len(series) == (len(weeks) if quarter else 8),
          "weekly series covers %d weeks" % len(series))
    bad = []
    for w, got in sorted(series.items()):
        ew = expected(aic, db, [w])["weeks"][w]
        if not (ew["fig"].shown or ew["fig"].suppressed):
            continue
        if not fig_matches(got, ew["fig"], False, 1) or (
                not ew["fig"].is_suppressed() and
                got["connections"] != conns(ew["counts"])):
            bad.append(w)
    check(not bad, "weekly series: each week as its own report shows it,"
          " never merged across weeks", bad)

    # privacy in the JSON as a whole: a suppressed row has no number
    def walk(x):
        if isinstance(x, dict):
            if x.get("suppressed") is True and any(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in x.values()):
                yield x
            for v in x.values():
                yield from walk(v)
        elif isinstance(x, list):
            for v in x:
                yield from walk(v)
    leaks = list(walk(rep))
    check(not leaks, "JSON: no suppressed row carries a number", leaks[:2])

    # CSV: the same figures, and suppressed ones only as the marker
    rows = list(csv.DictReader(open(cpath, newline="")))
    fig = {}
    for r in rows:
        fig[(r["period"], r["section"], r["department"], r["service"],
             r["category"], r["jurisdiction"], r["metric"])] = \
            (r["value"], r["flag"])
    bad = [r for r in rows if r["flag"] == "suppressed" and
           r["value"] != "<%d" % mg]
    nsupp = sum(1 for r in rows if r["flag"] == "suppressed")
    check(not bad and nsupp > 0 or nsup == 0,
          "CSV: %d suppressed figures, all shown as <%d" % (nsupp, mg), bad)
    P = rep["period"]
    metric = "devices_peak_week" if quarter else "devices"

    def csv_dev(x):
        if x["fig"].is_suppressed():
            return ("<%d" % mg, "suppressed")
        flag = "lower_bound" if (x["fig"].max_lb if quarter else
                                 x["fig"].lb) else ""
        return (str(x["fig"].max if x["fig"].shown else 0), flag)

    bad = []
    for (d, s), x in e["cells"].items():
        k = (P, "cell", d, s, e["svc"][s]["category"], e["svc"][s]["jur"])
        if fig.get(k + (metric,)) != csv_dev(x):
            bad.append((k, fig.get(k + (metric,)), csv_dev(x)))
        want = "<%d" % mg if x["fig"].is_suppressed() else \
            str(conns(x["counts"]))
        if fig.get(k + ("connections",), ("?",))[0] != want:
            bad.append((k, "connections"))
    for d, x in e["depts"].items():
        k = (P, "department", d, "", "", "")
        if fig.get(k + (metric,)) != csv_dev(x):
            bad.append((k, fig.get(k + (metric,)), csv_dev(x)))
    k = (P, "headline", "", "", "", "")
    if fig.get(k + (metric,)) != csv_dev(e["org"]) or \
            fig.get(k + ("connections",), ("?",))[0] != \
            str(conns(e["org"]["counts"])):
        bad.append(("headline", fig.get(k + (metric,)), csv_dev(e["org"]), fig.get(k + ("connections",)), conns(e["org"]["counts"])))
    check(not bad, "CSV: headline, departments and cells match the"
          " database", bad[:3])
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
