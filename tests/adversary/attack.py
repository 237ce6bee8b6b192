#!/usr/bin/python3
"""The adversary: a hostile reader with legitimate access who combines
every output of aicensus (CLI, API, reports, /metrics) and, after the
week, a copy of the database and the state directory.

usage:
  attack.py outputs --run DIR [--run1 DIR1] [--bin BUILD] [--db FILE]
                    [--api-ns NS --token-file F] [--restart-cmd CMD]
                    [--expect-vulnerable] [--seed N]
  attack.py metrics --scrapes FILE [--expect-vulnerable]
  attack.py rest --copy DIR --truth truth.json [--expect-vulnerable]
  attack.py combined --local FILE --central CONNINFO --truth truth.json
                    [--bin BUILD] [--expect-vulnerable]

DIR holds truth.json (tests/adversary/weekgen.py) and the database the
daemon wrote there; DIR1 the same for the presence world (--world 1).

Default mode reads the formats of spec.md ("Output formats": released.db,
the CLI/API JSON with "method": "ckm-1") and passes when no attack
recovers or narrows a protected figure.  --expect-vulnerable reads the
pre-issue-10 formats (aicensus.db, "suppressed" rows) and passes when the
attacks DO bite: it documents that they work; it is not run by make check.

Every attack prints one TAP-like line, `ok - ...` or `not ok - ...`, with
its numbers.  The exit status is 1 when any line is `not ok`.

Rules (see README.md in this directory):
- A protected cell is a truth cell (any level: hour, day, week; any
  department, "*", service, "cat:X", "*") with 1 <= devices < k.
- An attack RECOVERS a protected figure (cell, measure) when a value it
  derives -- from two or more published figures, or by reading a
  published figure of a cell that is not on the release grid -- equals
  the true value (>= 1) exactly, unless that value is simply the cell's
  own released figure (allowed: the p-table may leave a value unchanged).
  Chance is allowed for: the same derivations are scored against decoy
  truths (true value +-1, +-2); an attack "bites" when its exact hits
  exceed 2 x the mean decoy hits + 2.
- An attack NARROWS a protected cell when the outputs prove that the cell
  is not zero while its own released figure is 0 (a "<5"/suppressed row,
  a label present in one world and absent in the other, a margin > 0 with
  a single child published as 0).
"""

import argparse
import itertools
import json
import os
import random
import re
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.parse

K_DEFAULT = 5
ADDITIVE = ["tls_conns", "connections", "dns_lookups", "dns_nxdomain", "bytes_up",
            "bytes_down", "device_hours"]
MEASURES = ["devices"] + ADDITIVE
NEW_MEASURES = ["devices", "device_hours", "tls_conns", "quic_conns", "ech_conns",
                "connections", "dns_lookups", "dns_nxdomain", "bytes_up", "bytes_down"]

fails = 0
bites = 0
VULN = False


def line(good, msg):
    """good: True = the protection held.  In --expect-vulnerable mode an
    attack that bites is `ok - ... [attack bit]`, one that did not is a
    `# held: ...` comment, and the run fails only if nothing bit."""
    global fails, bites
    if VULN:
        if good:
            print("# held on this code: %s" % msg)
        else:
            bites += 1
            print("ok - %s [attack bit]" % msg)
    else:
        if not good:
            fails += 1
        print("%s - %s" % ("ok" if good else "not ok", msg))
    sys.stdout.flush()


def verdict():
    if VULN:
        print("# %d attacks bit" % bites)
        return 0 if bites else 1
    return 1 if fails else 0


# ------------------------------------------------------------------ truth

class Truth:
    def __init__(self, path):
        with open(path) as f:
            T = json.load(f)
        self.T = T
        self.k = T.get("min_group_size", K_DEFAULT)
        self.cells = {}
        for c in T["cells"]:
            self.cells[(c["level"], c["period"], c["department"], c["service"])] = c
        self.depts = list(T["departments"])
        self.svcs = [s["id"] for s in T["services"]]
        self.cat = {s["id"]: s["category"] for s in T["services"]}
        self.cats = T["categories"]
        self.days = T["days"]
        self.week = T["week"]
        self.addrs = T["client_addresses"]

    def value(self, level, period, dept, svc, m):
        c = self.cells.get((level, period, dept, svc))
        if c and m == "device_hours" and "device_hours_sum" in c:
            # the release's device-hours of a margin: the sum over its
            # services (docs/PRIVACY.md), not distinct (hour, device) pairs
            return c["device_hours_sum"]
        return c.get(m, 0) if c else 0

    def protected(self, level, period, dept, svc):
        c = self.cells.get((level, period, dept, svc))
        return c is not None and 1 <= c["devices"] < self.k

    def protected_cells(self):
        return [k for k, c in self.cells.items() if 1 <= c["devices"] < self.k]


# ------------------------------------------------------------------ the common table

class Table:
    """(level, period, dept, svc, measure) -> {value: [sources]}."""

    def __init__(self):
        self.obs = {}
        self.markers = {}     # (level, period, dept, svc) -> set of markers ("suppressed")
        self.labels = set()   # (source, level, period, dept, svc) rows seen

    def put(self, key, v, src):
        if v is None:
            return
        self.obs.setdefault(key, {}).setdefault(v, []).append(src)

    def get(self, key):
        o = self.obs.get(key)
        if not o:
            return None
        return next(iter(o))

    def known(self, key):
        return key in self.obs

    def row(self, src, level, period, dept, svc, row, measures, suppressed=False):
        self.labels.add((src, level, period, dept, svc))
        if suppressed:
            self.markers.setdefault((level, period, dept, svc), set()).add(src)
            return
        for m in measures:
            if m in row and isinstance(row[m], (int, float)) and not isinstance(row[m], bool):
                self.put((level, period, dept, svc, m), row[m], src)
        if "connections" not in row and "tls_conns" in row:
            self.put((level, period, dept, svc, "connections"),
                     row.get("tls_conns", 0) + row.get("quic_conns", 0) + row.get("ech_conns", 0), src)


def run(cmd, ok_codes=(0,)):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ------------------------------------------------------------------ adapters: old formats

def norm_period(label):
    m = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d):00", label)
    if m:
        return "hour", "%sT%s" % (m.group(1), m.group(2))
    if re.match(r"\d{4}-\d\d-\d\d$", label):
        return "day", label
    if re.match(r"\d{4}-W\d\d$", label):
        return "week", label
    return None, label


OLD_BYS = [["department", "service"], ["department", "category"], ["department"],
           ["service"], ["category"], []]


def old_row_key(row, by):
    dept = row.get("department", "*") if "department" in by else "*"
    if "service" in by:
        svc = row["service"]
    elif "category" in by:
        svc = "cat:" + row["category"]
    else:
        svc = "*"
    return dept, svc


def old_cli(T, tab, binp, db):
    calls = 0
    for by in OLD_BYS:
        for iv in ("hour", "day", "week", None):
            b = ",".join(by + ([iv] if iv else []))
            rc, out, err = run([binp + "/aicensus", "query", "--db", db, "--by", b or "", "--format", "json"])
            calls += 1
            if rc != 0 or not out.strip():
                continue
            for row in json.loads(out)["rows"]:
                dept, svc = old_row_key(row, by)
                if iv:
                    level, period = norm_period(row["period"])
                else:
                    level, period = "range", "%s..%s" % (T.days[0], T.days[-1])
                tab.row("cli", level, period, dept, svc, row, MEASURES, row.get("suppressed", False))
    # ranges: every [a..b] of days, no interval (the range's own suppression)
    for a in range(7):
        for b in range(a, 7):
            for by in OLD_BYS[:4]:
                rc, out, err = run([binp + "/aicensus", "query", "--db", db, "--by", ",".join(by),
                                    "--from", T.days[a], "--to", T.days[b], "--format", "json"])
                calls += 1
                if rc != 0:
                    continue
                for row in json.loads(out)["rows"]:
                    dept, svc = old_row_key(row, by)
                    tab.row("cli", "range", "%s..%s" % (T.days[a], T.days[b]), dept, svc, row,
                            MEASURES, row.get("suppressed", False))
    return calls


def api_get(ns, token, path):
    cmd = ["curl", "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + token,
           "http://127.0.0.1:8080" + path]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    rc, out, err = run(cmd)
    body, _, code = out.rpartition("\n")
    try:
        return int(code), body
    except ValueError:
        return 0, body


def day_epoch(T, i):
    import calendar
    y, m, d = map(int, T.days[0].split("-"))
    return calendar.timegm((y, m, d, 0, 0, 0)) + 86400 * i


def hour_label(e):
    return time.strftime("%Y-%m-%dT%H", time.gmtime(e))


def old_api(T, tab, ns, token, rng):
    """Epoch windows: every hour of the week alone (from=h, to=h+3600) and
    random windows; interval=hour over the week."""
    calls = 0
    w0 = day_epoch(T, 0)
    for by in (["department", "service"], ["department", "category"], ["department"]):
        bq = ",".join(by)
        code, body = api_get(ns, token, "/api/v1/usage?from=%d&to=%d&by=%s&interval=hour" % (w0, w0 + 7 * 86400, bq))
        calls += 1
        if code == 200:
            for row in json.loads(body)["rows"]:
                dept, svc = old_row_key(row, by)
                lv, p = norm_period(row["period"])
                tab.row("api-hour", lv, p, dept, svc, row, MEASURES, row.get("suppressed", False))
        for h in range(7 * 24):
            e = w0 + h * 3600
            code, body = api_get(ns, token, "/api/v1/usage?from=%d&to=%d&by=%s" % (e, e + 3600, bq))
            calls += 1
            if code != 200:
                continue
            for row in json.loads(body)["rows"]:
                dept, svc = old_row_key(row, by)
                tab.row("api-window", "hour", hour_label(e), dept, svc, row, MEASURES,
                        row.get("suppressed", False))
    acc = 0
    for _ in range(40):
        ln = rng.choice([1, 60, 600, 3600, 5400, 86400, 3 * 86400, 14 * 86400])
        e = w0 + rng.randrange(-86400, 7 * 86400)
        code, body = api_get(ns, token, "/api/v1/usage?from=%d&to=%d" % (e, e + ln))
        calls += 1
        acc += code == 200
    return calls, acc


def old_report(T, tab, binp, db, outdir):
    fmts = {}
    for fmt in ("json", "html", "md", "csv"):
        rc, out, err = run([binp + "/aicensus", "report", "--db", db, "--week", T.week, "--format", fmt])
        fmts[fmt] = out if rc == 0 else ""
    if fmts["json"]:
        report_json(T, tab, json.loads(fmts["json"]))
    return fmts


def report_json(T, tab, R):
    """Generic reader of a report JSON: objects carrying department and/or
    service/category labels become week cells."""
    period = R.get("period", T.week)
    if not re.match(r"\d{4}-W\d\d$", str(period)):
        return

    def walk(o, ctx):
        if isinstance(o, dict):
            dept = o.get("department")
            svc = o.get("service")
            catg = o.get("category")
            if isinstance(dept, str) or isinstance(svc, str) or (isinstance(catg, str) and ctx == "categories"):
                d = dept if isinstance(dept, str) else "*"
                s = svc if isinstance(svc, str) else ("cat:" + catg if isinstance(catg, str) and ctx == "categories" else "*")
                tab.row("report", "week", period, d, s, o, MEASURES, o.get("suppressed", False) is True)
            if ctx == "headline":
                tab.row("report", "week", period, "*", "*", o, [m for m in MEASURES if m != "devices"])
            for k, v in o.items():
                if k in ("headline", "categories"):
                    walk(v, k)
                elif isinstance(v, (dict, list)):
                    walk(v, None if ctx == "headline" else ctx if isinstance(v, list) else None)
        elif isinstance(o, list):
            for x in o:
                walk(x, ctx)
    walk(R, None)


# ------------------------------------------------------------------ adapters: new formats (spec.md)

NEW_BYS_WEEK = [["week"], ["week", "department"], ["week", "service"], ["week", "category"],
                ["week", "department", "service"], ["week", "department", "category"]]
NEW_BYS_DAY = [["day"], ["day", "department"], ["day", "category"],
               ["day", "department", "category"], ["day", "service"]]
NEW_BYS_DERIVED = [["department"], ["service"], ["category"], ["department", "service"],
                   ["department", "category"], []]


def new_rows(tab, src, doc, by, range_label=None):
    """Rows of the spec's JSON document into the table; returns the rows."""
    rows = doc.get("rows", [])
    for r in rows:
        if doc.get("derived") or range_label:
            level, period = "range", range_label or "derived"
        else:
            level, period = r.get("kind"), r.get("period")
        tab.row(src, level, period, r.get("department", "*"), r.get("service", "*"), r, NEW_MEASURES)
    return rows


def new_cli(T, tab, binp, db, problems):
    calls = 0

    def q(args):
        nonlocal calls
        calls += 1
        return run([binp + "/aicensus", "query", "--db", db, "--format", "json"] + args)

    for by in NEW_BYS_WEEK + NEW_BYS_DAY:
        rc, out, err = q(["--by", ",".join(by)])
        if rc != 0:
            problems.append("query --by %s: exit %d %s" % (",".join(by), rc, err.strip()[:80]))
            continue
        new_rows(tab, "cli", json.loads(out), by)
    # overlapping / nested ranges of days and weeks, every by
    ranges = [(T.days[a], T.days[b]) for a in range(7) for b in range(a, 7)]
    ranges += [(T.week, T.week), (T.days[2], T.week), ("2026-11-09", T.days[3])]
    for a, b in ranges:
        for by in NEW_BYS_DERIVED + [["day", "department", "category"], ["week", "department", "service"]]:
            rc, out, err = q(["--by", ",".join(by), "--from", a, "--to", b] if by else ["--from", a, "--to", b])
            if rc != 0:
                problems.append("query --from %s --to %s --by %s: exit %d" % (a, b, ",".join(by), rc))
                continue
            doc = json.loads(out)
            derived = not any(x in by for x in ("day", "week"))
            new_rows(tab, "cli", doc, by, "%s..%s" % (a, b) if derived else None)
    # what must be refused
    for by in (["day", "department", "service"], ["hour"], ["department", "service", "hour"]):
        rc, out, err = q(["--by", ",".join(by)])
        if rc != 2:
            problems.append("query --by %s not refused (exit %d)" % (",".join(by), rc))
    rc, out, err = q(["--from", T.days[3], "--to", T.days[1]])
    if rc != 2:
        problems.append("reversed range not refused (exit %d)" % rc)
    return calls


def new_api(T, tab, ns, token, rng, problems):
    calls = 0
    accepted_partial = 0
    w0 = day_epoch(T, 0)

    def g(path):
        nonlocal calls
        calls += 1
        return api_get(ns, token, path)

    for by in NEW_BYS_WEEK + NEW_BYS_DAY:
        code, body = g("/api/v1/usage?by=%s" % ",".join(by))
        if code != 200:
            problems.append("api usage by=%s: %d" % (",".join(by), code))
            continue
        new_rows(tab, "api", json.loads(body), by)
    for d in T.days:
        for by in (["day", "department", "category"], ["day", "service"]):
            code, body = g("/api/v1/usage?day=%s&by=%s" % (d, ",".join(by)))
            if code == 200:
                new_rows(tab, "api", json.loads(body), by)
    code, body = g("/api/v1/usage?week=%s&by=week,department,service" % T.week)
    if code == 200:
        new_rows(tab, "api", json.loads(body), ["week", "department", "service"])
    # day-aligned epochs are allowed and must give whole released days
    for a in range(7):
        for b in range(a + 1, 8):
            code, body = g("/api/v1/usage?from=%d&to=%d&by=day,department,category"
                           % (day_epoch(T, a), day_epoch(T, b)))
            if code == 200:
                new_rows(tab, "api-epoch", json.loads(body), ["day", "department", "category"])
            elif code != 400:
                problems.append("api day-aligned epoch window: %d" % code)
    # free epoch windows 1 s .. 2 weeks at random offsets: refused, or whole released cells
    for _ in range(120):
        ln = rng.choice([1, 59, 60, 600, 3600, 7200, 43200, 86399, 86400, 86401,
                         3 * 86400, 7 * 86400, 14 * 86400])
        e = w0 + rng.randrange(-2 * 86400, 8 * 86400)
        if rng.random() < 0.3:
            e = e // 3600 * 3600
        for by in (["department", "service"], ["day", "department", "category"], ["day", "service"]):
            code, body = g("/api/v1/usage?from=%d&to=%d&by=%s" % (e, e + ln, ",".join(by)))
            aligned = (e - w0) % 86400 == 0 and (e + ln - w0) % 86400 == 0
            if code == 200:
                if not aligned:
                    accepted_partial += 1
                doc = json.loads(body)
                derived = "day" not in by
                new_rows(tab, "api-window", doc, by, "epoch %d+%d" % (e, ln) if derived else None)
            elif code != 400:
                problems.append("api window %d+%d: status %d" % (e, ln, code))
    # the same question 200 times: one answer (no fresh noise to average)
    answers = set()
    for i in range(200):
        code, body = g("/api/v1/usage?week=%s&by=week,department,service" % T.week)
        if code == 200:
            answers.add(json.dumps(json.loads(body).get("rows"), sort_keys=True))
    if len(answers) != 1:
        problems.append("the same usage question 200 times gave %d different answers" % len(answers))
    # /metrics: the released gauges are figures of the table like any other
    code, body = g("/metrics")
    if code == 200:
        metrics_rows(tab, body)
    else:
        problems.append("/metrics: %d" % code)
    # the other endpoints: status must carry no figures per department/service
    for p in ("/api/v1/periods", "/api/v1/status", "/api/v1/departments", "/api/v1/services",
              "/api/v1/blind?week=%s" % T.week):
        code, body = g(p)
        if code != 200:
            problems.append("%s: %d" % (p, code))
            continue
        if p == "/api/v1/status":
            s = body
            for d in T.depts:
                if '"%s"' % d in s and d != "unassigned":
                    problems.append("status names department %s" % d)
            for sv in T.svcs:
                if '"%s"' % sv in s:
                    problems.append("status names service %s" % sv)
    return calls, accepted_partial


def metrics_rows(tab, text):
    """aicensus_released_{week,day}_<measure>{department=..,service=..}
    into the table, the period from aicensus_released_{week,day}_info."""
    per = {}
    for ln in text.splitlines():
        m = re.match(r'aicensus_released_(week|day)_info\{period="([^"]+)"', ln)
        if m:
            per[m.group(1)] = m.group(2)
    for ln in text.splitlines():
        m = re.match(r'aicensus_released_(week|day)_(\w+)\{([^}]*)\}\s+(\S+)', ln)
        if not m or m.group(2) == "info" or m.group(1) not in per:
            continue
        lab = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3)))
        try:
            v = int(float(m.group(4)))
        except ValueError:
            continue
        tab.put((m.group(1), per[m.group(1)], lab.get("department", "*"), lab.get("service", "*"),
                 m.group(2)), v, "metrics")
        tab.labels.add(("metrics", m.group(1), per[m.group(1)], lab.get("department", "*"),
                        lab.get("service", "*")))


def new_report(T, tab, binp, db):
    fmts = {}
    for fmt in ("json", "html", "md", "csv"):
        rc, out, err = run([binp + "/aicensus", "report", "--db", db, "--week", T.week, "--format", fmt])
        fmts[fmt] = out if rc == 0 else ""
    for fmt in ("html", "md", "csv"):
        rc, out, err = run([binp + "/aicensus", "report", "--db", db, "--week", T.week, "--format",
                            fmt, "--lang", "nl"])
        fmts[fmt + "-nl"] = out if rc == 0 else ""
    rc, out, err = run([binp + "/aicensus", "report", "--db", db, "--quarter", "2026-Q4", "--format", "json"])
    fmts["quarter-json"] = out if rc == 0 else ""
    if fmts["json"]:
        try:
            report_json(T, tab, json.loads(fmts["json"]))
        except ValueError:
            pass
    return fmts


# ------------------------------------------------------------------ attacks

class Score:
    def __init__(self, T):
        self.T = T
        self.tried = 0
        self.hits = set()
        self.decoy = 0
        self.narrowed = set()
        self.examples = []

    def derived(self, target, m, v, how, tab):
        """target = (level, period, dept, svc); v = derived value."""
        T = self.T
        if v is None or not T.protected(*target):
            return
        tv = T.value(*target, m)
        if tv < 1:
            return
        self.tried += 1
        own = tab.get(target + (m,))
        if v == tv and own != tv:
            if (target, m) not in self.hits and len(self.examples) < 3:
                self.examples.append("%s %s %s %s %s = %s (%s)" % (target + (m, v, how)))
            self.hits.add((target, m))
        for dlt in (-2, -1, 1, 2):
            if tv + dlt >= 0 and v == tv + dlt and own != tv + dlt:
                self.decoy += 0.25

    def bites(self):
        return len(self.hits) > 2 * self.decoy + 2

    def text(self):
        return "tried %d, recovered exactly %d (chance level %.1f), narrowed %d%s" % (
            self.tried, len(self.hits), self.decoy, len(self.narrowed),
            ("; e.g. " + "; ".join(self.examples[:3])) if self.hits else "")


def attack_direct(T, tab):
    """Published figures of protected cells read as they are: on the old
    code hour rows and 'range' rows; on the new code a device count of
    1..k-1 must never appear (p-table), and nothing off the grid."""
    S = Score(T)
    off_grid = 0
    for key, vals in tab.obs.items():
        level, period, dept, svc, m = key
        if level not in ("hour", "day", "week", "range"):
            continue
        if level == "range" and not period.startswith(T.days[0]) and ".." in period:
            pass
        tgt = (level, period, dept, svc)
        if level == "range":
            # old code: a one-day range is that day's cell; new code: a
            # range is a sum of whole weeks (differencing covers it)
            a, _, b = period.partition("..")
            if VULN and a == b and a in T.days:
                tgt = ("day", a, dept, svc)
            else:
                continue
        if not on_grid(tgt):
            off_grid += 1
        for v in vals:
            if T.protected(*tgt):
                tv = T.value(*tgt, m)
                if tv >= 1:
                    S.tried += 1
                    if v == tv and (not on_grid(tgt) or m == "devices"):
                        S.hits.add((tgt, m))
                        if len(S.examples) < 3:
                            S.examples.append("%s %s %s %s %s = %s" % (tgt + (m, v)))
    return S, off_grid


def attack_ranges(T, tab):
    """[a..b] - [a..b-1] = day b and [a..b] - [a+1..b] = day a, for every
    published range row (CLI --from/--to, API windows)."""
    S = Score(T)
    for key in list(tab.obs):
        level, period, dept, svc, m = key
        if level != "range" or ".." not in period or m not in ADDITIVE + ["devices"]:
            continue
        a, _, b = period.partition("..")
        if a not in T.days or b not in T.days:
            continue
        ia, ib = T.days.index(a), T.days.index(b)
        if ib <= ia:
            continue
        v = tab.get(key)
        for sub, tgt_day in (((a, T.days[ib - 1]), b), ((T.days[ia + 1], b), a)):
            w = val(tab, ("range", "%s..%s" % sub, dept, svc), m)
            if w is None:
                continue
            S.derived(("day", tgt_day, dept, svc), m, v - w, "range %s - %s..%s" % ((period,) + sub), tab)
    return S


def margins(T):
    """(margin, [children], measures for which the truth is additive)."""
    out = []
    depts = T.depts
    for lv, periods in (("week", [T.week]), ("day", T.days)):
        for p in periods:
            svc_axis = T.svcs + ["cat:" + c for c in T.cats] + ["*"]
            for s in svc_axis:   # departments partition the devices
                out.append(((lv, p, "*", s), [(lv, p, d, s) for d in depts], MEASURES))
            for d in depts + ["*"]:
                for c in T.cats:
                    out.append(((lv, p, d, "cat:" + c),
                                [(lv, p, d, s) for s in T.svcs if T.cat[s] == c],
                                [m for m in ADDITIVE if m != "device_hours"]))
                out.append(((lv, p, d, "*"), [(lv, p, d, s) for s in T.svcs],
                            [m for m in ADDITIVE if m != "device_hours"]))
                out.append(((lv, p, d, "*"), [(lv, p, d, "cat:" + c) for c in T.cats],
                            [m for m in ADDITIVE if m != "device_hours"]))
    # the week is the sum of its days (magnitudes)
    for d in depts + ["*"]:
        for s in T.svcs + ["cat:" + c for c in T.cats] + ["*"]:
            out.append((("week", T.week, d, s), [("day", x, d, s) for x in T.days], ADDITIVE))
    return out


FULLGRID = False


def on_grid(cell):
    level, _p, dept, svc = cell
    if level == "week":
        return True
    if level == "day":
        return dept == "*" or svc == "*" or svc.startswith("cat:")
    return False


def val(tab, cell, m):
    """A published figure; 0 for a cell that the outputs list in full
    but did not show (no row, no marker); None when unknown."""
    v = tab.get(cell + (m,))
    if v is not None:
        return v
    if cell in tab.markers:
        return None
    if not FULLGRID:        # old outputs: only rows with data, all levels queried
        return 0 if cell[0] in ("hour", "day", "week", "range") else None
    return 0 if on_grid(cell) or cell[0] == "range" else None


def relations(T, tab):
    """Every linear relation the attacker knows: margins, the week as the
    sum of its days, a day as the sum of its hours, and (old code) a range
    as the sum of its days."""
    rel = margins(T)
    cells = T.depts + ["*"]
    svc_axis = T.svcs + ["cat:" + c for c in T.cats] + ["*"]
    hours = {}
    for (lv, p, d, s, m) in tab.obs:
        if lv == "hour":
            hours.setdefault(p[:10], set()).add(p)
    for (lv, p, d, s) in tab.markers:
        if lv == "hour":
            hours.setdefault(p[:10], set()).add(p)
    for day in T.days:
        hs = ["%sT%02d" % (day, h) for h in range(24)]
        if not hours.get(day):
            continue
        for d in cells:
            for s in svc_axis:
                rel.append((("day", day, d, s), [("hour", h, d, s) for h in hs], ADDITIVE))
    if VULN:
        for (lv, p, d, s, m) in list(tab.obs):
            if lv != "range" or m != "tls_conns" or ".." not in p:
                continue
            a, _, b = p.partition("..")
            if a in T.days and b in T.days:
                ia, ib = T.days.index(a), T.days.index(b)
                rel.append((("range", p, d, s), [("day", T.days[i], d, s) for i in range(ia, ib + 1)],
                            ADDITIVE))
    return rel


def attack_hierarchy(T, tab):
    """Margin minus its visible children (department totals, categories,
    the organisation, the week minus its days, a day minus its hours),
    propagated: every figure derived becomes known for the next round,
    until nothing new follows (linear elimination, one unknown at a
    time)."""
    S = Score(T)
    derived = {}

    def v(cell, m):
        x = val(tab, cell, m)
        return derived.get((cell, m)) if x is None else x

    rels = relations(T, tab)
    for _round in range(8):
        new = 0
        for M, kids, ms in rels:
            for m in ms:
                mv = v(M, m)
                vals = [v(c, m) for c in kids]
                unknown = [i for i, x in enumerate(vals) if x is None]
                if mv is not None and len(unknown) == 1:
                    i = unknown[0]
                    x = mv - sum(y for y in vals if y is not None)
                    derived[(kids[i], m)] = x
                    S.derived(kids[i], m, x, "margin", tab)
                    new += 1
                elif mv is None and not unknown:
                    derived[(M, m)] = sum(vals)
                    S.derived(M, m, sum(vals), "sum of parts", tab)
                    new += 1
                elif mv is not None and not unknown and FULLGRID and _round == 0:
                    for i, c in enumerate(kids):
                        S.derived(c, m, mv - sum(vals) + vals[i], "margin", tab)
                if m == "tls_conns" and mv and len(kids) == 1 and vals[0] == 0 and T.protected(*kids[0]):
                    S.narrowed.add(kids[0])
        if not new:
            break
    return S


def attack_repeat(T, tab):
    """The same cell through every output: one value."""
    multi = {k: v for k, v in tab.obs.items() if len(v) > 1}
    srcs = {}
    for k, v in tab.obs.items():
        for val, ss in v.items():
            for s in ss:
                srcs[s] = srcs.get(s, 0) + 1
    return multi, srcs


def attack_markers(T, tab):
    """Presence glyphs: rows marked suppressed / '<5' say 'not zero'."""
    n = 0
    for key, ss in tab.markers.items():
        if T.cells.get(key):
            n += 1
    return n


def attack_same_contributors(T, tab):
    """Cells with the same contributors (same device set) must carry the
    same noise: equal published devices, and equal magnitudes where the
    true magnitudes are equal too -- else averaging the two narrows the
    truth.  Returns (pairs compared, figures that differ)."""
    groups = {}
    for (lv, p, d, s), c in T.cells.items():
        if lv in ("day", "week") and c["addresses"] and on_grid((lv, p, d, s)):
            groups.setdefault((lv, p, tuple(c["addresses"])), []).append((lv, p, d, s))
    pairs = differ = 0
    for cells in groups.values():
        for a, b in itertools.combinations(cells, 2):
            for m in NEW_MEASURES:
                if m != "devices" and T.value(*a, m) != T.value(*b, m):
                    continue
                va, vb = tab.get(a + (m,)), tab.get(b + (m,))
                if va is None or vb is None:
                    continue
                pairs += 1
                differ += va != vb
    return pairs, differ


# ------------------------------------------------------------------ p-table conformity

def ptable_ok(n, v, k):
    if k <= 1:
        return v == n
    if n == 0:
        return v == 0
    if n < k:
        return v in (0, k)
    d = min(k - 1, n - k)
    return n - d <= v <= n + d and v >= k


def attack_ptable(T, tab):
    bad = []
    checked = 0
    for key, vals in tab.obs.items():
        level, period, dept, svc, m = key
        if m != "devices" or level not in ("day", "week"):
            continue
        for v in vals:
            checked += 1
            if not ptable_ok(T.value(level, period, dept, svc, "devices"), v, T.k):
                bad.append("%s %s %s %s devices=%s (true %d)" % (level, period, dept, svc, v,
                                                                  T.value(level, period, dept, svc, "devices")))
    return checked, bad


# ------------------------------------------------------------------ presence (two worlds)

def structure(tab):
    return sorted({(lv, p, d, s) for (src, lv, p, d, s) in tab.labels}, key=str)


def presence(T0, tab0, T1, tab1):
    s0, s1 = structure(tab0), structure(tab1)
    diff = set(s0) ^ set(s1)
    m0 = set(tab0.markers)
    m1 = set(tab1.markers)
    return diff, m0 ^ m1


# ------------------------------------------------------------------ reports: numbers

def numbers(text):
    return [int(x.replace(",", "")) for x in re.findall(r"(?<![\w.])\d[\d,]*(?![\w.])", text)
            if x.replace(",", "").isdigit()]


def attack_report_numbers(T, tab, fmts):
    """No distinctive protected truth (>= 100, released value different)
    appears as a number in any report format."""
    protected_vals = {}
    for key in T.protected_cells():
        if key[0] != "week":
            continue
        for m in ADDITIVE:
            tv = T.value(*key, m)
            if tv >= 100 and tab.get(key + (m,)) != tv:
                protected_vals.setdefault(tv, []).append(key + (m,))
    released = {v for vals in tab.obs.values() for v in vals}
    hits = {}
    for fmt, text in fmts.items():
        for n in numbers(text):
            if n in protected_vals and n not in released:
                hits.setdefault(fmt, set()).add(n)
    return len(protected_vals), hits


# ------------------------------------------------------------------ /metrics timing

def parse_prom(text):
    out = {}
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", ln)
        if m:
            out[m.group(1) + (m.group(2) or "")] = m.group(3)
    return out


def cmd_metrics(a):
    """--scrapes FILE: JSON lines {"t": epoch, "text": "..."} written by
    adversary.sh while it replays traffic live and flushes."""
    scrapes = []
    with open(a.scrapes) as f:
        for ln in f:
            if ln.strip():
                o = json.loads(ln)
                scrapes.append((o["t"], parse_prom(o["text"])))
    labelled = lambda s: ('department="' in s or 'service="' in s)
    health_bad = set()
    nlab = max((sum(1 for k in s if labelled(k)) for _t, s in scrapes), default=0)
    changes = 0
    off_release = 0
    for _t, s in scrapes:
        for k in s:
            if labelled(k) and not k.startswith("aicensus_released_"):
                health_bad.add(k.split("{")[0])
    for (t0, a0), (t1, a1) in zip(scrapes, scrapes[1:]):
        rel0 = a0.get("aicensus_last_release_timestamp_seconds")
        rel1 = a1.get("aicensus_last_release_timestamp_seconds")
        keys = {k for k in set(a0) | set(a1) if labelled(k)}
        ch = [k for k in keys if a0.get(k) != a1.get(k)]
        if ch:
            changes += 1
            if rel0 == rel1:
                off_release += 1
    line(not health_bad, "/metrics: no health series carries a department or service label "
         "(%d scrapes; offending families: %s)" % (len(scrapes), ", ".join(sorted(health_bad)[:6]) or "none"))
    line(off_release == 0 and len(scrapes) >= 5,
         "/metrics timing: labelled series change only at release instants (%d scrapes of up to %d "
         "labelled series, %d with a change, %d of them without a release)"
         % (len(scrapes), nlab, changes, off_release))
    return verdict()


# ------------------------------------------------------------------ at rest

MASK64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def siphash24(key, data):
    k0, k1 = struct.unpack("<QQ", key)
    v0, v1, v2, v3 = k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, \
        k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573

    def rnd():
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & MASK64; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & MASK64; v3 = _rotl(v3, 16); v3 ^= v2
        v0 = (v0 + v3) & MASK64; v3 = _rotl(v3, 21); v3 ^= v0
        v2 = (v2 + v1) & MASK64; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)
    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m, = struct.unpack_from("<Q", data, i)
        v3 ^= m; rnd(); rnd(); v0 ^= m
    b = (n & 0xFF) << 56
    for i, c in enumerate(data[end:]):
        b |= c << (8 * i)
    v3 ^= b; rnd(); rnd(); v0 ^= b
    v2 ^= 0xFF
    for _ in range(4):
        rnd()
    return v0 ^ v1 ^ v2 ^ v3


def addr16(a):
    import ipaddress
    ip = ipaddress.ip_address(a)
    if ip.version == 4:
        return b"\0" * 10 + b"\xff\xff" + ip.packed
    return ip.packed


class Bits:
    def __init__(self, b):
        self.b, self.pos = b, 0

    def bit(self):
        i = self.pos >> 3
        if i >= len(self.b):
            raise ValueError
        v = (self.b[i] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return v

    def bits(self, n):
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v


def decode_sketch(blob):
    """A version-1 sparse sketch (daemon/aggregate/sketch.h): the 40-bit tokens, or
    None when the blob is not one.  Dense sketches: [] (no tokens)."""
    if len(blob) < 2 or blob[0] != 1:
        return None
    mode = blob[1]
    if mode in (1, 2):
        return [] if (mode == 1 and len(blob) == 2 + 12288) or mode == 2 else None
    if mode != 0:
        return None
    p, cnt, sh = 2, 0, 0
    while True:
        if p >= len(blob) or sh > 63:
            return None
        c = blob[p]; p += 1
        cnt |= (c & 0x7F) << sh; sh += 7
        if not c & 0x80:
            break
    if cnt == 0:
        return [] if p == len(blob) else None
    if cnt > 1024 or p >= len(blob):
        return None
    k = blob[p]; p += 1
    if k > 63:
        return None
    B = Bits(blob[p:])
    out = []
    try:
        prev = None
        for i in range(cnt):
            q = 0
            while B.bit():
                q += 1
                if q > 64:
                    return None
            v = (q << k) | B.bits(k)
            val = v if prev is None else prev + v + 1
            out.append(val)
            prev = val
    except ValueError:
        return None
    if (len(blob) - p) * 8 - B.pos >= 8:
        return None
    return out


NEW_MAGIC = b"aicensus weekkey v1\n"


def hkdf_sha256(ikm, info, n):
    import hashlib
    import hmac
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def new_key_membership(T, kb, dbs):
    """A week key file of the new design (daemon/attribute/weekkey.c: magic, week,
    64 hex digits of the master secret) found in the copy: derive K_dev
    and K_enc, hash every truth address, open every vault blob that
    AES-GCM accepts and look for the device hashes in the plaintext."""
    try:
        hexs = kb[len(NEW_MAGIC) + 7:len(NEW_MAGIC) + 7 + 64].decode()
        master = bytes.fromhex(hexs)
    except ValueError:
        return 0
    kdev = hkdf_sha256(master, b"aicensus dev v1", 16)
    kenc = hkdf_sha256(master, b"aicensus enc v1", 32)
    hashes = {ad: siphash24(kdev, addr16(ad)) for ad in T.addrs}
    needles = set()
    for h in hashes.values():
        for v, n in ((h, 8), (h >> 24, 5), (h & ~((1 << 24) - 1), 8)):
            needles.add(v.to_bytes(n, "big"))
            needles.add(v.to_bytes(n, "little"))
    found = set()
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        return len(hashes)      # a key in the copy is membership enough
    g = AESGCM(kenc)
    for p in dbs:
        h = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
        try:
            rows = list(h.execute("SELECT week, seq, blob FROM delta"))
        except sqlite3.Error:
            rows = []
        h.close()
        for week, seq, blob in rows:
            pt = None
            for aad in (b"aicensus-vault-1" + struct.pack(">iq", week, seq),
                        b"aicensus-vault-1" + struct.pack(">ii", week, seq),
                        b"aicensus-vault-1" + struct.pack("<iq", week, seq),
                        b"aicensus-vault-1" + struct.pack("<ii", week, seq),
                        b"aicensus-vault-1" + struct.pack(">qq", week, seq),
                        b"aicensus-vault-1" + struct.pack("<qq", week, seq)):
                try:
                    pt = g.decrypt(blob[:12], blob[12:], aad)
                    break
                except Exception:
                    continue
            if pt is None:
                continue
            for ad, hv in hashes.items():
                for v, n in ((hv >> 24, 5), (hv, 8)):
                    if v.to_bytes(n, "big") in pt or v.to_bytes(n, "little") in pt:
                        found.add(ad)
    # the key alone lets its holder test any address against the week:
    # count every truth address as a member when a blob opened
    return len(found)


def cmd_rest(a):
    T = Truth(a.truth)
    files = []
    for root, _dirs, names in os.walk(a.copy):
        for n in names:
            files.append(os.path.join(root, n))
    # 1. byte scan for the addresses (text and 16-byte forms)
    needles = {}
    for ad in T.addrs:
        needles[ad.encode()] = ad
        needles[addr16(ad)] = ad
    found = {}
    total = 0
    for p in files:
        with open(p, "rb") as f:
            data = f.read()
        total += len(data)
        for nd, ad in needles.items():
            if nd in data:
                found.setdefault(os.path.basename(p), set()).add(ad)
    line(not found, "at rest: no client address (text or 16-byte) in %d files, %d bytes (%s)"
         % (len(files), total, ", ".join("%s: %d" % (k, len(v)) for k, v in found.items()) or "none found"))
    # 2. sketch decoding: every blob of every table of every database
    sketches = tokens = 0
    dbs = []
    for p in files:
        with open(p, "rb") as f:
            if f.read(16) == b"SQLite format 3\0":
                dbs.append(p)
    per_blob = []
    for p in dbs:
        try:
            h = sqlite3.connect("file:%s?mode=ro" % p, uri=True)
            tables = [r[0] for r in h.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                cols = [r[1] for r in h.execute("PRAGMA table_info(%s)" % t)]
                for row in h.execute("SELECT * FROM %s" % t):
                    for c, v in zip(cols, row):
                        if isinstance(v, bytes):
                            toks = decode_sketch(v)
                            if toks:
                                sketches += 1
                                tokens += len(toks)
                                per_blob.append((t, row, toks))
            h.close()
        except sqlite3.Error as e:
            print("# %s: %s" % (p, e))
    line(sketches == 0, "at rest: no blob decodes as a version-1 sketch with device tokens "
         "(%d databases; %d sketches, %d tokens decoded)" % (len(dbs), sketches, tokens))
    # linkability: the same token in several cells = one device's profile
    profiles = {}
    for t, row, toks in per_blob:
        for tk in toks:
            profiles.setdefault(tk, set()).add((t,) + tuple(x for x in row if not isinstance(x, bytes)))
    linked = sum(1 for v in profiles.values() if len(v) > 1)
    line(linked == 0, "at rest: no device token links cells (%d tokens seen in more than one cell)" % linked)
    # 3. key membership: key files, then every truth address hashed under each
    keyfiles = [p for p in files if os.path.basename(p) == "devkey" or p.endswith(".key")]
    members = 0
    for kp in keyfiles:
        with open(kp, "rb") as f:
            kb = f.read()
        toks = set(profiles)
        if kb.startswith(b"AICKEY1\n") and len(kb) >= 28:
            key = kb[12:28]
            for ad in T.addrs:
                if siphash24(key, addr16(ad)) >> 24 in toks:
                    members += 1
        elif kb.startswith(NEW_MAGIC):
            members += new_key_membership(T, kb, dbs)
    line(not keyfiles, "at rest: no key file in the copy (%d found: %s)"
         % (len(keyfiles), ", ".join(os.path.basename(p) for p in keyfiles) or "none"))
    line(members == 0, "key membership: no truth address hashes to a stored token "
         "(%d addresses x %d key files: %d matches)" % (len(T.addrs), len(keyfiles), members))
    return verdict()


# ------------------------------------------------------------------ outputs

def collect(T, a, run_dir, rng, problems, world0=True):
    tab = Table()
    stats = {}
    use_api = world0 and a.api_ns is not None
    if VULN:
        db = (world0 and a.db) or os.path.join(run_dir, "aicensus.db")
        stats["cli_calls"] = old_cli(T, tab, a.bin, db)
        if use_api:
            stats["api_calls"], stats["windows_accepted"] = old_api(T, tab, a.api_ns, a.token, rng)
        stats["reports"] = old_report(T, tab, a.bin, db, run_dir)
    else:
        db = (world0 and a.db) or os.path.join(run_dir, "released.db")
        stats["cli_calls"] = new_cli(T, tab, a.bin, db, problems)
        if use_api:
            stats["api_calls"], stats["windows_accepted"] = new_api(T, tab, a.api_ns, a.token, rng, problems)
        stats["reports"] = new_report(T, tab, a.bin, db)
    return tab, stats


def cmd_outputs(a):
    global FULLGRID
    FULLGRID = not VULN
    if a.token_file:
        with open(a.token_file) as f:
            a.token = f.read().strip()
    T = Truth(os.path.join(a.run, "truth.json"))
    rng = random.Random(a.seed)
    problems = []
    tab, st = collect(T, a, a.run, rng, problems)
    nprot = len(T.protected_cells())
    print("# truth: %d cells, %d protected (1..%d devices); table: %d figures from %s"
          % (len(T.cells), nprot, T.k - 1, len(tab.obs),
             ", ".join("%s %s" % (k, v) for k, v in st.items() if k != "reports")))
    if not VULN:
        line(not problems, "interfaces answer as spec.md says (%d problems%s)"
             % (len(problems), (": " + "; ".join(problems[:4])) if problems else ""))
        line(st.get("windows_accepted", 0) == 0,
             "free epoch windows: every window not on day boundaries refused (%d accepted)"
             % st.get("windows_accepted", 0))
    else:
        line(st.get("windows_accepted", 0) == 0,
             "free epoch windows refused (%d of 40 random windows answered)" % st.get("windows_accepted", 0))

    S, offg = attack_direct(T, tab)
    line(not S.hits and offg == 0, "direct reading: protected figures published exactly, off-grid cells published "
         "(%s; %d off-grid figures)" % (S.text(), offg))
    S = attack_ranges(T, tab)
    line(not S.bites(), "range differencing ([a..b] - [a..b-1], overlapping/nested ranges): %s" % S.text())
    S = attack_hierarchy(T, tab)
    line(not S.bites() and not S.narrowed,
         "hierarchy subtraction (margins - visible children, category - services, week - days): %s"
         % S.text())
    nm = attack_markers(T, tab)
    line(nm == 0, "presence glyphs: %d protected cells shown as suppressed/'<5' rows (not zero)" % nm)
    multi, srcs = attack_repeat(T, tab)
    line(not multi, "repeated queries: every figure has one value across %d sources (%s): %d figures "
         "with more than one value" % (len(srcs), ", ".join("%s %d" % kv for kv in sorted(srcs.items())),
                                       len(multi)))
    if not VULN:
        pairs, differ = attack_same_contributors(T, tab)
        line(pairs > 0 and differ == 0, "same contributors, same noise: %d figures of cells with identical "
             "device sets compared, %d differ" % (pairs, differ))
        checked, bad = attack_ptable(T, tab)
        line(not bad, "p-table: every published device count allowed for its truth (%d checked, %d not%s)"
             % (checked, len(bad), (": " + "; ".join(bad[:3])) if bad else ""))
        grid = [(d, s) for d in T.depts + ["*"] for s in T.svcs + ["cat:" + c for c in T.cats] + ["*"]]
        missing = [g for g in grid if not tab.known(("week", T.week) + g + ("devices",))]
        line(not missing, "full W1 grid published, zeros included (%d of %d cells missing)" % (len(missing), len(grid)))
    npv, hits = attack_report_numbers(T, tab, st["reports"])
    line(not hits, "reports (%s): no distinctive protected figure printed (%d values looked for; found: %s)"
         % ("/".join(k for k, v in st["reports"].items() if v), npv,
            ", ".join("%s %s" % (k, sorted(v)[:3]) for k, v in hits.items()) or "none"))
    if a.restart_cmd:
        rc = subprocess.call(a.restart_cmd, shell=True)
        tab2, _ = collect(T, a, a.run, random.Random(a.seed), [])
        diff = [k for k in tab.obs if k in tab2.obs and set(tab.obs[k]) != set(tab2.obs[k])]
        line(rc == 0 and not diff, "across a daemon restart: %d figures compared, %d changed"
             % (len(set(tab.obs) & set(tab2.obs)), len(diff)))
    if a.run1:
        T1 = Truth(os.path.join(a.run1, "truth.json"))
        tab1, _ = collect(T1, a, a.run1, random.Random(a.seed), [], world0=False)
        dl, dm = presence(T, tab, T1, tab1)
        pv = T1.T["presence"]
        bad_vals = []
        if not VULN:
            _, bad_vals = attack_ptable(T1, tab1)
        line(not dl and not dm and not bad_vals,
             "presence: worlds with and without one %s use of %s: %d row labels differ, %d markers "
             "differ, %d values outside the p-table" % (pv["department"], pv["service"], len(dl), len(dm),
                                                          len(bad_vals)))
    return verdict()


def cmd_export(a):
    """The JSONL exporter's file (plugins/jsonl_export, fed by the release
    stage): released cells only -- no hour, no day x department x
    service, no address, every device count allowed by the p-table."""
    T = Truth(a.truth)
    tab = Table()
    rows = bad = 0
    text = open(a.file).read() if os.path.exists(a.file) else ""
    for ln in text.splitlines():
        try:
            r = json.loads(ln)
        except ValueError:
            bad += 1
            continue
        rows += 1
        tab.row("exporter", r.get("kind"), r.get("period"), r.get("department", "*"),
                r.get("service", "*"), r, NEW_MEASURES)
    offg = sum(1 for (src, lv, p, d, s) in tab.labels if not on_grid((lv, p, d, s)))
    leaked = [ad for ad in T.addrs if ad in text]
    checked, badp = attack_ptable(T, tab)
    line(rows > 0 and bad == 0 and offg == 0 and not leaked and not badp,
         "JSONL exporter: %d released rows, %d unparsable, %d off the grid, %d addresses, "
         "%d of %d device counts outside the p-table" % (rows, bad, offg, len(leaked), len(badp), checked))
    return verdict()


# ------------------------------------------------------------------ local and central releases combined

SQL_MEASURES = ["devices", "devhours", "tls", "quic", "ech", "conns", "dns", "nxdomain",
                "bytes_up", "bytes_down"]     # the cell table's columns, NEW_MEASURES order
CENTRAL_MSG = "this sensor's figures are published in the organisation's central release (site "


def sqlite_label(kind, period):
    if kind == 1:
        return "day", "%04d-%02d-%02d" % (period // 10000, period // 100 % 100, period % 100)
    return "week", "%04d-W%02d" % (period // 100, period % 100)


def combined_read(binp, db, tab, src, problems, refused):
    """Every week and day --by of `aicensus query --db db` into tab;
    refused collects the stderr of a refusal (exit 1)."""
    for by in NEW_BYS_WEEK + NEW_BYS_DAY:
        rc, out, err = run([binp + "/aicensus", "query", "--db", db, "--format", "json",
                            "--by", ",".join(by)])
        if rc == 1 and out == "":
            refused.append(err.strip())
            continue
        if rc != 0:
            problems.append("%s query --by %s: exit %d %s" % (src, ",".join(by), rc, err.strip()[:80]))
            continue
        new_rows(tab, src, json.loads(out), by)


def cmd_combined(a):
    """spec12 D2.  A sensor that ships to the central database used to
    publish its cells twice: in its own release database (cell keys from
    its week key) and, through the central release, under the central
    secret.  Two independent noise draws of one true figure: a reader
    with both puts them side by side and averages, halving the variance
    of the noise.  The attack reads the local file directly (sqlite, the
    file itself) and through the CLI, the central release through the
    CLI (a reader role), and counts the cells both publish.  Passes when
    the local file holds no cell figure at all (and the outputs say where
    the figures are); --expect-vulnerable: when the pairs exist and the
    average is closer to the truth than the central figure alone."""
    T = Truth(a.truth)
    binp = a.bin if a.bin.startswith("/") else os.path.abspath(a.bin)
    problems, refused = [], []
    loc, cen = Table(), Table()
    con = sqlite3.connect("file:%s?mode=ro" % a.local, uri=True)
    nperiod = con.execute("SELECT count(*) FROM period").fetchone()[0]
    nblind = con.execute("SELECT count(*) FROM blind").fetchone()[0]
    direct = 0
    for row in con.execute("SELECT kind, period, dept, svc, %s FROM cell" % ", ".join(SQL_MEASURES)):
        level, period = sqlite_label(row[0], row[1])
        for m, v in zip(NEW_MEASURES, row[4:]):
            if v is not None:
                direct += 1
                loc.put((level, period, row[2], row[3], m), v, "file")
    con.close()
    combined_read(binp, a.local, loc, "local", problems, refused)
    combined_read(binp, a.central, cen, "central", problems, [])
    ncen = sum(1 for k in cen.obs if cen.get(k))
    ncli = sum(1 for v in loc.obs.values() for srcs in v.values() if "local" in srcs)
    # The noise is relative (docs/PRIVACY.md 6.5): the error is scored
    # relative to the truth, on the counters whose truth the generator
    # knows exactly (bytes include framing the sensor may count apart).
    exact = ("tls_conns", "connections", "dns_lookups", "dns_nxdomain")
    pairs = differ = 0
    err_c = err_avg = 0.0
    for key, vals in loc.obs.items():
        lv = next(iter(vals))
        cv = cen.get(key)
        t = T.value(key[0], key[1], key[2], key[3], key[4])
        if not lv or not cv or t < 1:
            continue
        pairs += 1
        differ += lv != cv
        if key[4] in exact:
            err_c += abs(cv - t) / t
            err_avg += abs((lv + cv) / 2 - t) / t
    told = [r for r in refused if r.startswith("aicensus query: " + CENTRAL_MSG) and "--site " in r]
    print("# local file: %d periods, %d blind figures, %d cell figures; %d CLI reads refused; "
          "central: %d figures; %d published by both (%d with two different values); "
          "sum of relative errors on counters: average %.2f, central alone %.2f"
          % (nperiod, nblind, direct, len(refused), ncen, pairs, differ, err_avg, err_c))
    for p in problems[:5]:
        print("# " + p)
    if VULN:
        # the control: a sensor that publishes its own cells (no central
        # group: what a shipping sensor did before spec12 D2)
        line(not (differ > 0 and err_avg < err_c),
             "local and central releases combined: %d figures published twice, %d of them "
             "with two different noise draws; their average is closer to the truth "
             "(relative errors %.2f) than the central figure alone (%.2f)"
             % (pairs, differ, err_avg, err_c))
        return verdict()
    line(ncen > 0 and nperiod > 0 and direct == 0 and pairs == 0 and not loc.obs and not problems and
         len(told) == len(NEW_BYS_WEEK + NEW_BYS_DAY),
         "local and central releases combined: the shipping sensor's file holds %d periods and "
         "%d blind figures but %d cell figures (read directly) and %d through the CLI, whose %d reads "
         "all exit 1 naming the central release and the site; %d cells published twice"
         % (nperiod, nblind, direct, ncli, len(told), pairs))
    return verdict()


def cmd_scrape(a):
    """Scrape /metrics every second for --seconds; JSON lines to --out."""
    import urllib.request
    with open(a.token_file) as f:
        tok = f.read().strip()
    end = time.time() + a.seconds
    with open(a.out, "w") as out:
        while time.time() < end:
            t = time.time()
            try:
                rq = urllib.request.Request("http://127.0.0.1:8080/metrics",
                                            headers={"Authorization": "Bearer " + tok})
                text = urllib.request.urlopen(rq, timeout=2).read().decode()
                out.write(json.dumps({"t": t, "text": text}) + "\n")
                out.flush()
            except OSError as e:
                print("# scrape failed: %s" % e)
            time.sleep(max(0, 1 - (time.time() - t)))
    return 0


def main():
    global VULN
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("outputs")
    o.add_argument("--run", required=True)
    o.add_argument("--run1")
    o.add_argument("--bin", default="build")
    o.add_argument("--db")
    o.add_argument("--api-ns")
    o.add_argument("--token-file")
    o.add_argument("--restart-cmd")
    o.add_argument("--seed", type=int, default=1)
    o.add_argument("--expect-vulnerable", action="store_true")
    m = sub.add_parser("metrics")
    m.add_argument("--scrapes", required=True)
    m.add_argument("--expect-vulnerable", action="store_true")
    r = sub.add_parser("rest")
    r.add_argument("--copy", required=True)
    r.add_argument("--truth", required=True)
    r.add_argument("--expect-vulnerable", action="store_true")
    ex = sub.add_parser("export")
    ex.add_argument("--file", required=True)
    ex.add_argument("--truth", required=True)
    cb = sub.add_parser("combined")
    cb.add_argument("--local", required=True)
    cb.add_argument("--central", required=True)
    cb.add_argument("--truth", required=True)
    cb.add_argument("--bin", default="build")
    cb.add_argument("--expect-vulnerable", action="store_true")
    sc = sub.add_parser("scrape")
    sc.add_argument("--token-file", required=True)
    sc.add_argument("--seconds", type=float, default=20)
    sc.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "scrape":
        return cmd_scrape(a)
    VULN = getattr(a, "expect_vulnerable", False)
    if a.cmd == "outputs":
        a.token = None
        if a.bin and not a.bin.startswith("/"):
            a.bin = os.path.abspath(a.bin)
        return cmd_outputs(a)
    if a.cmd == "metrics":
        return cmd_metrics(a)
    if a.cmd == "export":
        return cmd_export(a)
    if a.cmd == "combined":
        return cmd_combined(a)
    return cmd_rest(a)


if __name__ == "__main__":
    sys.exit(main())
