#!/usr/bin/python3
"""Helpers for tests/e2e/api.sh and tests/e2e/dashboard.sh.

    api_check.py shift IN.pcap OUT.pcap SECONDS   move every packet in time
    api_check.py weeks-since YYYY-MM-DD           whole weeks from that Monday
                                                  to this week's (UTC)
    api_check.py week-label [EPOCH]               ISO week of now (UTC)
    api_check.py compare CLI.json API.json        the same document (one encoder)
    api_check.py grid DOC.json TRUTH.json BY      every row of the full grid of
                                                  each released period, zeros
                                                  included, equal to what was
                                                  released (relfixture --truth)
    api_check.py status STATUS.json TRUTH.json    health only: no figure, no label
    api_check.py metrics METRICS.txt TRUTH.json   health families without labels,
                                                  released gauges of the last
                                                  week and day, full grids
    api_check.py addresses TRUTH.json... -- FILE...
                                                  no client address in any file
    api_check.py expect WEEK DEPTDAYS.json SVCDAYS.json WEEKCELLS.json
                        HISTORY.json SANCTIONED_IDS
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

MEASURES = {"devices": "devices", "devhours": "device_hours",
            "tls": "tls_conns", "quic": "quic_conns", "ech": "ech_conns",
            "conns": "connections", "dns": "dns_lookups",
            "nxdomain": "dns_nxdomain", "bytes_up": "bytes_up",
            "bytes_down": "bytes_down"}
DAY_KEYS = ("devices", "device_hours", "connections", "dns_lookups",
            "dns_nxdomain")
FIGURES = set(MEASURES.values()) | {"suppressed", "suppressed_cells"}


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


def compare(cli_path, api_path):
    cli = json.load(open(cli_path))
    api = json.load(open(api_path))
    what = "%s: %d rows of %d periods, the same document as aicensus query" % (
        api_path.rsplit("/", 1)[-1], len(cli["rows"]), len(cli["periods"]))
    if cli != api:
        diff = [k for k in set(cli) | set(api) if cli.get(k) != api.get(k)]
        nok(what + ": differs in " + ", ".join(sorted(diff)))
        return 1
    if not cli["rows"]:
        nok(what + ": no rows")
        return 1
    ok(what)
    return 0


def period_id(label):
    if "-W" in label:
        return label[:4] + label[6:8]
    return label.replace("-", "")


def grid(doc_path, truth_path, by):
    """Rows: the full grid of every period listed, values as released."""
    doc = json.load(open(doc_path))
    t = json.load(open(truth_path))
    by = set(x for x in by.split(",") if x)
    g = t["grid"]
    depts = g["departments"] if "department" in by else ["*"]
    svcs = ((g["services"] if "service" in by else []) +
            (["cat:" + c for c in g["categories"]] if "category" in by
             else [])) or ["*"]
    day = "day" in by
    bad = []
    if doc.get("derived") != (not day and "week" not in by):
        bad.append("derived is %r" % doc.get("derived"))
    want_n = len(doc["periods"]) * len(depts) * len(svcs)
    if doc["derived"]:
        want_n = len(depts) * len(svcs) if doc["periods"] else 0
    if len(doc["rows"]) != want_n:
        bad.append("%d rows, the grid has %d" % (len(doc["rows"]), want_n))
    zeros = 0
    store = t["days" if day else "weeks"]
    for r in doc["rows"]:
        if "suppressed" in r or any(v == "<5" for v in r.values()):
            bad.append("a suppression mark in %r" % r)
        if r["department"] not in depts or r["service"] not in svcs:
            bad.append("row outside the grid: %s/%s" % (r["department"],
                                                        r["service"]))
        pers = ([period_id(p["period"]) for p in doc["periods"]]
                if doc["derived"] else [period_id(r["period"])])
        key = "%s|%s" % (r["department"], r["service"])
        keys = DAY_KEYS if day else tuple(MEASURES.values())
        want = {k: 0 for k in keys}
        for per in pers:
            cell = store.get(per, {}).get(key, {})
            for m, k in MEASURES.items():
                if k in want:
                    want[k] += cell.get(m, 0)
        got = {k: r.get(k) for k in keys}
        if got != want:
            bad.append("%s %s: %r != %r" % (r["period"], key, got, want))
        extra = set(r) - set(keys) - {"kind", "period", "department",
                                      "service"}
        if extra:
            bad.append("%s %s: extra keys %s" % (r["period"], key, extra))
        zeros += r.get("devices") == 0
    what = "%s: %d rows = the full grid (%d x %d per period), %d zeros " \
        "included, values as released" % (doc_path.rsplit("/", 1)[-1],
                                          len(doc["rows"]), len(depts),
                                          len(svcs), zeros)
    if bad or not doc["rows"]:
        nok(what + ": " + "; ".join(bad[:4]) if bad else what + ": no rows")
        return 1
    ok(what)
    return 0


def status(path, truth_path):
    s = json.load(open(path))
    t = json.load(open(truth_path))
    need = ("version", "capture", "last_packet", "packets", "pcap_drops",
            "if_drops", "last_flush", "last_release", "last_released_week",
            "last_released_day", "encap")
    text = json.dumps(s)
    bad = [k for k in need if k not in s]
    bad += ["figure %s" % k for k in FIGURES if k in text]
    bad += ["label %s" % n for n in t["grid"]["departments"] +
            t["grid"]["services"] if '"%s"' % n in text]
    bad += ["blind figure %s" % k for k in ("blind_spots", "anomalies",
                                            "nosni_conns") if k in text]
    kinds = ("vlan", "mpls", "gre", "erspan1", "erspan2", "erspan3", "vxlan",
             "geneve", "ipip", "gtpu", "other")
    enc = s.get("encap")
    if not isinstance(enc, dict) or sorted(enc) != sorted(kinds) or \
            not all(isinstance(v, int) and v >= 0 for v in enc.values()):
        bad.append("encap %r" % enc)
    # the configured language (the fixture sets none: the default)
    if s.get("language") != "en":
        bad.append("language %r (want the default, en)" % s.get("language"))
    if s.get("capture") not in ("running", "down", "offline"):
        bad.append("capture %r" % s.get("capture"))
    # the heartbeat: a live capture is "traffic" or "quiet", never
    # "capture_down" while the capture runs; idle seconds since a packet
    hb = s.get("heartbeat") or {}
    want_hb = {"running": ("traffic", "quiet"), "down": ("capture_down",),
               "offline": ("no_capture",)}.get(s.get("capture"), ())
    if hb.get("state") not in want_hb or \
            hb.get("quiet_after_seconds") != 300 or \
            (hb.get("state") != "no_capture" and
             not isinstance(hb.get("idle_seconds"), int)):
        bad.append("heartbeat %r with capture %r" % (hb, s.get("capture")))
    elif s.get("last_packet") and hb["state"] == "traffic" and \
            hb["idle_seconds"] != s["now"] - s["last_packet"]:
        bad.append("heartbeat idle %r, now - last_packet %r" %
                   (hb["idle_seconds"], s["now"] - s["last_packet"]))
    if s.get("last_released_week") != "2026-W47" or \
            s.get("last_released_day") != "2026-11-24":
        bad.append("last released %r %r" % (s.get("last_released_week"),
                                             s.get("last_released_day")))
    what = "status: health only (%s), last released 2026-W47 and " \
        "2026-11-24, no figure and no department or service" % \
        ", ".join(need[:6])
    if bad:
        nok(what + ": " + "; ".join(bad[:5]))
        return 1
    ok(what)
    return 0


def metrics(path, truth_path):
    t = json.load(open(truth_path))
    g = t["grid"]
    health = ("aicensus_up", "aicensus_packets_total",
              "aicensus_capture_drops_total", "aicensus_anomalies_total",
              "aicensus_last_flush_timestamp_seconds",
              "aicensus_last_release_timestamp_seconds",
              "aicensus_capture_up", "aicensus_encap_packets_total",
              "aicensus_heartbeat", "aicensus_capture_idle_seconds",
              "aicensus_api_connections",
              "aicensus_api_connections_refused_total",
              "aicensus_api_connections_timed_out_total")
    # the API's own HTTP connections (api.max_connections), not AI traffic
    http = ("aicensus_api_connections",
            "aicensus_api_connections_refused_total",
            "aicensus_api_connections_timed_out_total")
    series = {}
    fams = set()
    for line in open(path).read().splitlines():
        if line.startswith("# TYPE "):
            fams.add(line.split()[2])
        if not line or line.startswith("#"):
            continue
        m = re.match(r'(\w+)(?:\{(.*)\})? (\S+)$', line)
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                 m[2] or ""))
        series.setdefault(m[1], []).append((labels, m[3]))
    bad = ["family %s missing" % f for f in health if f not in fams]
    hb = {lb.get("state"): v for lb, v in series.get("aicensus_heartbeat", [])}
    if sorted(hb) != ["capture_down", "no_capture", "quiet", "traffic"] or \
            sorted(hb.values()) != ["0", "0", "0", "1"]:
        bad.append("aicensus_heartbeat: one state at 1, got %r" % hb)
    for name, ss in series.items():
        if name.startswith("aicensus_released_"):
            continue
        if any("department" in lb or "service" in lb for lb, _ in ss):
            bad.append("%s has department/service labels" % name)
        if name not in http and \
                any(k in name for k in ("devices", "connections", "dns_lookups",
                                        "device_hour", "bytes")):
            bad.append("%s looks like an AI count" % name)
    cats = ["cat:" + c for c in g["categories"]]
    depts = g["departments"] + ["*"]
    week_grid = [(d, s) for d in depts for s in g["services"] + cats + ["*"]]
    day_grid = [(d, s) for d in depts for s in cats + ["*"]] + \
        [("*", s) for s in g["services"]]
    lastw = max(t["weeks"])
    lastd = max(t["days"])
    n = 0
    for kind, last, grid_, keys in (("week", lastw, week_grid, MEASURES),
                                    ("day", lastd, day_grid,
                                     {m: k for m, k in MEASURES.items()
                                      if k in DAY_KEYS})):
        store = t[kind + "s"][last]
        for m, k in keys.items():
            name = "aicensus_released_%s_%s" % (kind, k)
            got = {(lb["department"], lb["service"]): int(v)
                   for lb, v in series.get(name, [])}
            want = {c: store.get("%s|%s" % c, {}).get(m, 0) for c in grid_}
            n += len(got)
            if got != want:
                bad.append("%s: %d series, want %d%s" % (
                    name, len(got), len(want), "" if len(got) != len(want)
                    else " (values differ)"))
        other = [x for x in series if x.startswith("aicensus_released_%s_"
                                                   % kind)
                 and x[len("aicensus_released_%s_" % kind):] not in
                 list(keys.values()) + ["info"]]
        if other:
            bad.append("unpublished %s measures: %s" % (kind, other))
    what = ("/metrics: health families %s without department/service "
            "labels; %d released series = the full W1 grid of %s and "
            "D1+D2 grid of %s, equal to the release database" %
            (", ".join(h[9:] for h in health), n, lastw, lastd))
    if bad:
        nok(what + ": " + "; ".join(bad[:5]))
        return 1
    ok(what)
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
    "service_names": {id: name}, "sanctioned": n, "unsanctioned": n,
    "new": [ids]}"""
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
              "the released day cells %s" % (chart, bars, sorted(want.items())
                                             if got == want else
                                             "(got %r, want %r)" % (got, want)))
    arcs = {a["data-series"]: int(a["data-value"]) for a in p.paths}
    check(arcs.get("sanctioned", 0) == exp["sanctioned"] and
          arcs.get("unsanctioned", 0) == exp["unsanctioned"],
          "sanctioned/unsanctioned donut: %r (released week cells: "
          "sanctioned %d, unsanctioned %d)" % (arcs, exp["sanctioned"],
                                               exp["unsanctioned"]))
    text = " ".join(p.texts)
    marks = [m for m in ("<5", "suppressed", "withheld") if m in text]
    check(not marks, "no suppression mark anywhere on the page%s" %
          (": " + ", ".join(marks) if marks else ""))
    check("–" in text, "zeros are shown as – (the one glyph for 0 or too few)")
    check(sorted(p.tables.get("new-services", [])) == sorted(exp["new"]),
          "new services this week listed: %s (want %s)" % (
              p.tables.get("new-services"), exp["new"]))
    check("Malformed packets" in text and "DNS-over-HTTPS" in text and
          "ClientHello not readable" in text and
          "Conflicting copies" in text,
          "sensor health and blind spots panel rendered")
    print("# dashboard DOM: %d data bars, %d donut arcs" % (len(p.rects),
                                                            len(p.paths)))
    return 1 if fails else 0


def expect(week, dept_path, svc_path, cells_path, hist_path, sanctioned,
           names_path):
    """What the page must draw, from released cells (aicensus query)."""
    depts = json.load(open(dept_path))["rows"]
    svcs = json.load(open(svc_path))["rows"]
    cells = json.load(open(cells_path))["rows"]
    hist = json.load(open(hist_path))["rows"]
    sanct = set(x for x in sanctioned.split(",") if x)
    out = {"week": week, "department": {}, "service": {},
           "service_names": {s["id"]: s["name"] for s in
                             json.load(open(names_path))["services"]},
           "sanctioned": 0, "unsanctioned": 0, "new": []}
    for rows, k in ((depts, "department"), (svcs, "service")):
        for r in rows:
            if r["connections"]:
                out[k][r[k]] = out[k].get(r[k], 0) + r["connections"]
    for r in cells:
        out["sanctioned" if r["service"] in sanct else
            "unsanctioned"] += r["connections"]
    seen = {}
    for r in hist:
        seen.setdefault(r["service"], []).append(r)
    for svc, rows in seen.items():
        now = [r for r in rows if r["period"] == week]
        if now and now[0]["devices"] > 0 and \
                not any(r["period"] < week and r["devices"] > 0
                        for r in rows):
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
    if cmd == "grid":
        return grid(*args)
    if cmd == "status":
        return status(*args)
    if cmd == "metrics":
        return metrics(*args)
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
