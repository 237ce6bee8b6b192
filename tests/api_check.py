#!/usr/bin/python3
"""Helpers for tests/e2e/api.sh and tests/e2e/dashboard.sh.

    api_check.py shift IN.pcap OUT.pcap SECONDS   move every packet in time
    api_check.py weeks-since YYYY-MM-DD           whole weeks from that Monday
                                                  to this week's (UTC)
    api_check.py week-label [EPOCH]               ISO week of now (UTC)
    api_check.py compare CLI.json API.json        usage rows equal
    api_check.py suppressed API.json...           suppressed rows carry no number
    api_check.py addresses TRUTH.json... -- FILE...
                                                  no client address in any file
    api_check.py expect WEEK DAYS.json WEEKCELLS.json HISTORY.json SANCTIONED_IDS
                                                  what the dashboard must show,
                                                  from `aicensus query` answers
    api_check.py dom DOM.html EXPECT.json         the dashboard rendered the data
    api_check.py prom-value ANSWER.json           value of a Prometheus query

Each check prints "ok - ..." / "not ok - ..." lines and exits 1 on failure.
"""
import datetime
import html.parser
import json
import re
import struct
import sys

METRICS = ("tls_conns", "quic_conns", "ech_conns", "dns_lookups",
           "dns_nxdomain", "bytes_up", "bytes_down", "device_hours",
           "devices", "devices_exact")
LABELS = ("period", "department", "service", "service_name", "category",
          "suppressed")


def ok(msg):
    print("ok - " + msg)


def nok(msg):
    print("not ok - " + msg)


def shift(src, dst, seconds):
    """Classic pcap (either byte order, us or ns): add seconds to each record."""
    seconds = int(seconds)
    data = bytearray(open(src, "rb").read())
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit("%s: not a classic pcap file" % src)
    off = 24
    while off + 16 <= len(data):
        ts, _, incl, _ = struct.unpack_from(end + "IIII", data, off)
        struct.pack_into(end + "I", data, off, ts + seconds)
        off += 16 + incl
    open(dst, "wb").write(data)
    return 0


def this_monday(now=None):
    today = (datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
             if now else datetime.datetime.now(datetime.timezone.utc)).date()
    return today - datetime.timedelta(days=today.weekday())


def weeks_since(day):
    start = datetime.date.fromisoformat(day)
    print((this_monday() - start).days // 7)
    return 0


def week_label(now=None):
    y, w, _ = this_monday(int(now) if now else None).isocalendar()
    print("%d-W%02d" % (y, w))
    return 0


def row_key(r):
    return tuple(r.get(k) for k in ("period", "department", "service",
                                    "category"))


def compare(cli_path, api_path):
    cli = json.load(open(cli_path))
    api = json.load(open(api_path))
    bad = []
    for k in ("interval", "from", "to", "min_group_size", "suppressed_cells"):
        if cli.get(k) != api.get(k):
            bad.append("%s: cli %r api %r" % (k, cli.get(k), api.get(k)))
    a = {row_key(r): r for r in api["rows"]}
    if len(a) != len(api["rows"]) or len(cli["rows"]) != len(api["rows"]):
        bad.append("row count: cli %d api %d" % (len(cli["rows"]),
                                                 len(api["rows"])))
    numbers = 0
    for r in cli["rows"]:
        other = a.get(row_key(r))
        if other is None:
            bad.append("row %r missing from the API" % (row_key(r),))
            continue
        for k in LABELS + METRICS:
            if r.get(k) != other.get(k):
                bad.append("row %r %s: cli %r api %r" % (row_key(r), k,
                                                        r.get(k), other.get(k)))
            elif k in METRICS and k in r:
                numbers += 1
        if not r.get("suppressed"):
            conns = r["tls_conns"] + r["quic_conns"] + r["ech_conns"]
            if other.get("connections") != conns:
                bad.append("row %r connections %r != %d" % (
                    row_key(r), other.get("connections"), conns))
    what = "%s: %d rows, %d numbers equal to aicensus query" % (
        api_path.rsplit("/", 1)[-1], len(cli["rows"]), numbers)
    if bad or not cli["rows"]:
        nok(what + ": " + "; ".join(bad[:5]) if bad else what + ": no rows")
        return 1
    ok(what)
    return 0


def suppressed(paths):
    n = 0
    bad = []
    for p in paths:
        for r in json.load(open(p))["rows"]:
            if not r.get("suppressed"):
                continue
            n += 1
            extra = [k for k, v in r.items() if k not in LABELS and
                     k != "period_start"]
            nums = [k for k, v in r.items() if isinstance(v, (int, float))
                    and not isinstance(v, bool) and k != "period_start"]
            if extra or nums:
                bad.append("%r has %s" % (row_key(r), extra + nums))
    if not n:
        nok("no suppressed cell in the answers checked (the test data "
            "should have some)")
        return 1
    if bad:
        nok("suppressed cells carry numbers: " + "; ".join(bad[:3]))
        return 1
    ok("%d suppressed cells carry no number, only their labels" % n)
    return 0


def addresses(args):
    sep = args.index("--")
    addrs = set()
    for t in args[:sep]:
        addrs.update(json.load(open(t))["client_addresses"])
    # an address, not a part of a longer number or address
    pats = [(a, re.compile(r"(?<![0-9A-Za-z:.])" + re.escape(a) +
                           r"(?![0-9A-Za-z:])", re.I)) for a in addrs]
    files = args[sep + 1:]
    hits = []
    for f in files:
        text = open(f, "rb").read().decode("utf-8", "replace")
        hits += ["%s in %s" % (a, f) for a, pat in pats if pat.search(text)]
    if hits or not addrs:
        nok("client addresses in API answers: " + ", ".join(hits[:5]))
        return 1
    ok("none of %d client addresses appears in %d API answers" % (
        len(addrs), len(files)))
    return 0


class DomParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rects = []
        self.marks = 0
        self.paths = []
        self.tables = {}
        self.ready = None
        self.svgs = []
        self.login_hidden = None
        self.texts = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.ready = a.get("data-ready")
        elif tag == "svg" and "data-chart" in a:
            self.svgs.append(a["data-chart"])
        elif tag == "rect" and "data-value" in a:
            self.rects.append(a)
        elif tag == "rect" and "data-suppressed" in a:
            self.marks += 1
        elif tag == "path" and "data-value" in a:
            self.paths.append(a)
        elif tag == "tr" and "data-service" in a:
            self.tables.setdefault("new-services", []).append(
                a["data-service"])
        elif tag == "div" and a.get("id") == "login":
            self.login_hidden = "hidden" in a

    def handle_data(self, data):
        self.texts.append(data)


def dom(path, expect_path):
    """expect: {"week": ..., "department": {name: n}, "service": {id: n},
    "service_names": {id: name}, "sanctioned": n, "unsanctioned": n}"""
    p = DomParser()
    p.feed(open(path, encoding="utf-8", errors="replace").read())
    exp = json.load(open(expect_path))
    fails = 0

    def check(cond, msg):
        nonlocal fails
        if cond:
            ok(msg)
        else:
            nok(msg)
            fails += 1

    check(p.ready == "1", "the dashboard finished loading (body data-ready=%r)"
          % p.ready)
    check(p.login_hidden is True, "the login form stayed hidden (token "
          "from the URL fragment accepted)")
    check(exp["week"] in "".join(p.texts), "the page shows week %s"
          % exp["week"])
    for chart, key in (("department", "department"), ("service", "service")):
        got = {}
        for r in p.rects:
            if r.get("data-chart") == chart:
                got[r["data-series"]] = got.get(r["data-series"], 0) + \
                    int(r["data-value"])
        want = exp[key]
        if chart == "service":
            want = {exp["service_names"].get(k, k): v for k, v in want.items()}
        bars = sum(1 for r in p.rects if r.get("data-chart") == chart)
        check(chart in p.svgs and bars > 0 and got == want,
              "chart '%s': %d SVG bars whose data-value sums per series equal "
              "the database %s" % (chart, bars, sorted(want.items())
                                   if got == want else
                                   "(got %r, want %r)" % (got, want)))
    arcs = {a["data-series"]: int(a["data-value"]) for a in p.paths}
    check(arcs.get("sanctioned", 0) == exp["sanctioned"] and
          arcs.get("unsanctioned", 0) == exp["unsanctioned"],
          "sanctioned/unsanctioned donut: %r (database sanctioned %d, "
          "unsanctioned %d)" % (arcs, exp["sanctioned"], exp["unsanctioned"]))
    marks = p.marks
    check(marks > 0 if exp["suppressed_days"] else marks == 0,
          "suppressed cells are marked as such (%d hatched markers; %d daily "
          "cells suppressed in the database)" % (marks, exp["suppressed_days"]))
    check(sorted(p.tables.get("new-services", [])) == sorted(exp["new"]),
          "new services this week listed: %s" % p.tables.get("new-services"))
    text = " ".join(p.texts)
    check("Malformed packets" in text and "DNS-over-HTTPS" in text,
          "sensor health and blind spots panel rendered")
    print("# dashboard DOM: %d data bars, %d donut arcs, %d suppressed markers"
          % (len(p.rects), len(p.paths), marks))
    return 1 if fails else 0


def expect(week, days_path, cells_path, hist_path, sanctioned):
    """The dashboard sums the shown department x service cells."""
    days = json.load(open(days_path))["rows"]
    cells = json.load(open(cells_path))["rows"]
    hist = json.load(open(hist_path))["rows"]
    sanct = set(x for x in sanctioned.split(",") if x)
    conns = lambda r: r["tls_conns"] + r["quic_conns"] + r["ech_conns"]
    out = {"week": week, "department": {}, "service": {},
           "service_names": {}, "sanctioned": 0, "unsanctioned": 0,
           "new": [], "suppressed_days": 0}
    for r in days:
        out["service_names"][r["service"]] = r["service_name"]
        if r["suppressed"]:
            out["suppressed_days"] += 1
            continue
        if not conns(r):
            continue
        for k in ("department", "service"):
            out[k][r[k]] = out[k].get(r[k], 0) + conns(r)
    for r in cells:
        if not r["suppressed"]:
            out["sanctioned" if r["service"] in sanct else
                "unsanctioned"] += conns(r)
    seen = {}
    for r in hist:
        seen.setdefault(r["service"], []).append(r)
    for svc, rows in seen.items():
        now = [r for r in rows if r["period"] == week]
        if now and not now[0]["suppressed"] and \
                not any(r["period"] < week for r in rows):
            out["new"].append(svc)
    json.dump(out, sys.stdout, indent=1)
    return 0


def prom_value(path):
    ans = json.load(open(path))
    res = ans.get("data", {}).get("result", [])
    if ans.get("status") != "success" or len(res) != 1:
        print("")
        return 1
    print(res[0]["value"][1])
    return 0


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "shift":
        return shift(*args)
    if cmd == "weeks-since":
        return weeks_since(*args)
    if cmd == "week-label":
        return week_label(*args)
    if cmd == "compare":
        return compare(*args)
    if cmd == "suppressed":
        return suppressed(args)
    if cmd == "addresses":
        return addresses(args)
    if cmd == "expect":
        return expect(*args)
    if cmd == "dom":
        return dom(*args)
    if cmd == "prom-value":
        return prom_value(*args)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
