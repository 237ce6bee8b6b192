#!/usr/bin/python3
"""Checks of the dashboard's rendered DOM for tests/e2e/dashboard.sh
(beside tests/api_check.py dom, which checks the figures).  Each prints
"ok - " / "not ok - " lines and exits 1 on a failure.

  dash_check.py fit DOM WIDTH     the harness's results (tests/dashboard_fit.js)
                                  in a WIDTH px window: nothing wider, the EN/NL
                                  switch, the choice stored, the drill-down
  dash_check.py lang DOM en|nl    the page is in that language
  dash_check.py ge DOM DEPTDAYS.json
                                  "≥" on the department chart where the day
                                  totals exceed the parts and a part is "–"
  dash_check.py noge DOM          no "≥" where no total exceeds its parts
  dash_check.py drill DOM DEPTCAT.json CELLS.json DEPT
                                  the drill-down of DEPT: its category bars
                                  and its services in the week
  dash_check.py trend DOM TREND.json SANCTIONED_IDS
                                  the trend's bars: sanctioned and shadow
                                  connections per released week
"""
import html.parser
import json
import re
import sys

fails = 0


def check(cond, msg):
    global fails
    if cond:
        print("ok - " + msg)
    else:
        print("not ok - " + msg)
        fails += 1


class Dom(html.parser.HTMLParser):
    """Elements with their attributes, the text, and the text inside
    each element that has an id or a data-legend/data-sum attribute."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "path", "line",
            "rect", "circle"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elems = []
        self.texts = []
        self.stack = []
        self.html_lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        a["_text"] = []
        if tag == "html":
            self.html_lang = a.get("lang")
        self.elems.append(a)
        if tag not in self.VOID:
            self.stack.append(a)

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        a["_text"] = []
        self.elems.append(a)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["_tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.texts.append(data)
        for a in self.stack:
            a["_text"].append(data)

    def text(self):
        return " ".join(self.texts)

    def find(self, **kw):
        return [e for e in self.elems
                if all(e.get(k.replace("_", "-")) == v for k, v in kw.items())]


def load(path):
    d = Dom()
    d.feed(open(path, encoding="utf-8", errors="replace").read())
    return d


def txt(e):
    return "".join(e["_text"])


# Strings the page must show in each language, and English ones that
# must not remain in the Dutch page.
WORDS = {
    "nl": ["Gebruik per afdeling", "Gebruik per dienst", "Verbindingen",
           "DNS-zoekopdrachten", "Verloop over de laatste weken",
           "Goedgekeurde AI en schaduw-AI", "Nieuwe diensten deze week",
           "Sensorstatus en blinde vlekken", "niet toegewezen",
           "gesleutelde hash", "Minimale groepsgrootte", "Afmelden",
           "Misvormde pakketten"],
    "en": ["Usage by department", "Usage by service", "Connections",
           "DNS lookups", "Trend over the last weeks",
           "Sanctioned and shadow AI", "New services this week",
           "Sensor health and blind spots", "unassigned", "keyed hash",
           "Minimum group size", "Sign out", "Malformed packets"],
}


def lang(path, want):
    d = load(path)
    text = d.text()
    other = "en" if want == "nl" else "nl"
    check(d.html_lang == want, "<html lang=%r> (want %s)" % (d.html_lang, want))
    missing = [w for w in WORDS[want] if w not in text]
    check(not missing, "%s strings on the page (%d)%s" % (
        want, len(WORDS[want]), ": missing " + ", ".join(missing) if missing
        else ""))
    # "unassigned" is also a department key in attributes, not text; the
    # other language's headings must be gone
    left = [w for w in WORDS[other][:9] if w in text and w not in
            WORDS[want]]
    check(not left, "no %s heading left in the %s page%s" % (
        other, want, ": " + ", ".join(left) if left else ""))
    # numbers per language: a share with one decimal, thousands grouped
    if want == "nl":
        pc = re.search(r"\d,\d%", text)
        th = re.search(r"\b\d{1,3}\.\d{3}\b", text)
        bad = re.search(r"\d\.\d%|\b\d{1,3},\d{3}\b", text)
        check(pc and th and not bad, "Dutch numbers: %r and %r, no English "
              "form%s" % (pc and pc.group(0), th and th.group(0),
                          ": " + bad.group(0) if bad else ""))
    else:
        pc = re.search(r"\d\.\d%", text)
        th = re.search(r"\b\d{1,3},\d{3}\b", text)
        check(pc and th, "English numbers: %r and %r" % (
            pc and pc.group(0), th and th.group(0)))


def fit(path, width):
    width = int(width)
    d = load(path)
    pre = [e for e in d.elems if e.get("id") == "fitcheck"]
    if not pre:
        check(False, "the harness wrote its results")
        return
    res = json.loads(txt(pre[0]))
    by = {r.get("tag"): r for r in res}
    check("timeout" not in by, "the page loaded, switched and drilled down "
          "within the time (%s)" % [r.get("tag") for r in res])
    for tag in ("first", "switched", "drill"):
        r = by.get(tag)
        if not r:
            check(False, "measured '%s'" % tag)
            continue
        check(r["innerWidth"] == width and
              r["scrollWidth"] <= r["clientWidth"] and
              r["scrollWidth"] <= r["innerWidth"] and r["nwide"] == 0,
              "%s (%s): the page is %d px wide in a %d px window (%d "
              "inside the scroll bar), no element sticks out%s" % (
                  tag, r["lang"], r["scrollWidth"], r["innerWidth"],
                  r["clientWidth"], ": " + ", ".join(r["wide"])
                  if r["wide"] else ""))
    f, s = by.get("first", {}), by.get("switched", {})
    check(f.get("lang") in ("en", "nl") and s.get("lang") not in
          (None, f.get("lang")) and
          all(w in s.get("text", "") for w in WORDS[s.get("lang", "en")][:3]),
          "EN/NL switches the page: %s -> %s" % (f.get("lang"), s.get("lang")))
    check(by.get("stored", {}).get("value") == s.get("lang"),
          "the choice is stored in localStorage (%r)" %
          by.get("stored", {}).get("value"))
    r = by.get("drill", {})
    check(r.get("department") and r.get("department") == r.get("picked") and
          r.get("rows", 0) > 0 and r.get("bars", 0) > 0,
          "a click on a department's legend entry opens its drill-down "
          "(%s: %s services, %s bars)" % (r.get("department"), r.get("rows"),
                                          r.get("bars")))


def legend_ge(d, chart):
    return {e["data-series"]: "data-ge" in e for e in d.elems
            if "data-series" in e and e["_tag"] in ("button", "span") and
            e.get("_legend") == chart}


def mark_legends(d):
    """which legend each legend item is in (document order)"""
    cur = None
    for e in d.elems:
        if "data-legend" in e:
            cur = e["data-legend"]
        elif e["_tag"] in ("button", "span") and "data-series" in e:
            e["_legend"] = cur


def ge(path, deptdays_path):
    d = load(path)
    mark_legends(d)
    rows = json.load(open(deptdays_path))["rows"]
    # the departments with a "–" day: every day's total exceeds its parts
    zero = {r["department"] for r in rows if not r["connections"]}
    shown = {r["department"] for r in rows if r["connections"]}
    want = {n: n in zero for n in shown}
    got = legend_ge(d, "department")
    check(got == want and any(want.values()),
          "department legend: ≥ exactly on the departments with a – day "
          "(%s)%s" % (sorted(n for n in want if want[n]),
                      "" if got == want else ", got %r" % got))
    items = [e for e in d.elems if "data-ge" in e and e["_tag"] in
             ("button", "span")]
    check(items and all("≥" in txt(e) for e in items),
          "each marked legend sum reads ≥ N (%d)" % len(items))
    s = [e for e in d.elems if e.get("data-sum") == "department"]
    check(s and "data-ge" in s[0] and int(s[0]["data-total"]) >
          int(s[0]["data-parts"]) and "≥" in txt(s[0]),
          "the department chart's sum line: %r" % (txt(s[0]) if s else None))
    leg = [e for e in d.elems if e.get("id") == "ge-legend"]
    check(leg and "hidden" not in leg[0] and txt(leg[0]).startswith("≥"),
          "the legend line explains ≥: %r" % (txt(leg[0])[:90] if leg else None))


def noge(path):
    d = load(path)
    sums = [e for e in d.elems if "data-sum" in e]
    bad = [e["data-sum"] for e in sums if "data-ge" in e and
           int(e["data-total"]) <= int(e["data-parts"])]
    n = sum(1 for e in d.elems if "data-ge" in e)
    leg = [e for e in d.elems if e.get("id") == "ge-legend"]
    hidden = bool(leg) and "hidden" in leg[0]
    # "≥ 0" says nothing (every part "–"): the page never writes it
    zero = re.findall(r"≥(?:\s|&nbsp;|\u00a0)*0(?![0-9.,])", open(path).read())
    check(not zero, "no \"≥ 0\" anywhere on the page (%d found)" % len(zero))
    check(sums and not bad and (n == 0) == hidden,
          "no ≥ on a sum its total does not exceed (%d sum lines, %d marks, "
          "legend %s)%s" % (len(sums), n, "hidden" if hidden else "shown",
                            ": " + ", ".join(bad) if bad else ""))


def drill(path, deptcat_path, cells_path, dept):
    d = load(path)
    card = [e for e in d.elems if e.get("id") == "drill"]
    check(card and "hidden" not in card[0] and
          card[0].get("data-department") == dept,
          "the drill-down card shows department %s" % dept)
    want = {}
    for r in json.load(open(deptcat_path))["rows"]:
        if r["department"] == dept and r["connections"]:
            c = r["service"][4:]
            want[c] = want.get(c, 0) + r["connections"]
    got = {}
    for e in d.elems:
        if e["_tag"] == "rect" and e.get("data-chart") == "drill":
            got[e["data-series"]] = got.get(e["data-series"], 0) + \
                int(e["data-value"])
    check(got == want and want, "its categories per day: %s" % (
        sorted(want.items()) if got == want else "got %r, want %r" %
        (got, want)))
    svcs = sorted(r["service"] for r in json.load(open(cells_path))["rows"]
                  if r["department"] == dept and r["connections"])
    rows = sorted(e["data-drill-service"] for e in d.elems
                  if "data-drill-service" in e)
    check(rows == svcs and svcs, "its services in the week: %s" % (
        svcs if rows == svcs else "got %r, want %r" % (rows, svcs)))


def trend(path, trend_path, sanctioned):
    d = load(path)
    sanct = set(x for x in sanctioned.split(",") if x)
    want = {}
    for r in json.load(open(trend_path))["rows"]:
        if r["connections"]:
            k = (r["period"], "sanctioned" if r["service"] in sanct
                 else "unsanctioned")
            want[k] = want.get(k, 0) + r["connections"]
    got = {}
    for e in d.elems:
        if e["_tag"] == "rect" and e.get("data-chart") == "trend":
            k = (e["data-period"], e["data-series"])
            got[k] = got.get(k, 0) + int(e["data-value"])
    weeks = sorted({k[0] for k in want})
    check(got == want and len(weeks) >= 2,
          "trend: sanctioned and shadow connections per week %s" % (
              sorted(want.items()) if got == want else "got %r, want %r" %
              (got, want)))
    rows = [e.get("data-week") for e in d.elems if "data-week" in e]
    check(sorted(rows) == weeks, "the trend's table has a row per week (%s)"
          % rows)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    {"fit": fit, "lang": lang, "ge": ge, "noge": noge, "drill": drill,
     "trend": trend}[cmd](*args)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
