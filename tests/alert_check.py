#!/usr/bin/python3
"""The adversary's reading of alerts: every figure an alert carries must
be a released figure of the cell it names, as `aicensus query` prints it
from the release database; nothing else may be a number in it (but the
configured threshold).

usage: alert_check.py AICENSUS RELEASED_DB THRESHOLD POSTS.jsonl

Prints one "ok - " / "not ok - " line per alert; exit 1 on any failure.
"""
import json
import subprocess
import sys

aic, db, threshold, posts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fails = 0
cache = {}


def rows(week, by):
    if (week, by) not in cache:
        args = [aic, "query", "--db", db, "--week", week, "--format", "json"]
        if by:
            args += ["--by", by]
        out = subprocess.run(args, capture_output=True, text=True, check=True)
        cache[(week, by)] = json.loads(out.stdout)["rows"]
    return cache[(week, by)]


def cell(week, dept, svc):
    if dept == "*" and svc == "*":
        r = rows(week, "")
    elif dept == "*":
        r = rows(week, "service")
    else:
        r = rows(week, "department,service")
    for x in r:
        if x["department"] == dept and x["service"] == svc:
            return x
    return None


def numbers(o, path=""):
    if isinstance(o, bool):
        return
    if isinstance(o, (int, float)):
        yield path, o
    elif isinstance(o, dict):
        for k, v in o.items():
            yield from numbers(v, path + "." + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from numbers(v, "%s[%d]" % (path, i))


n = 0
for line in open(posts):
    n += 1
    a = json.loads(json.loads(line)["body"])
    week = a["period"]
    svc = a["service"]["id"]
    dept = a.get("department", "*")
    c = cell(week, dept, svc)
    allc = cell(week, "*", "*")
    want = {".published.devices": c and c["devices"],
            ".published.connections": c and c["connections"],
            ".published.all_ai_connections": allc and allc["connections"],
            ".threshold_percent": threshold}
    bad = [(p, v) for p, v in numbers(a) if want.get(p) != v]
    # the labels, too: a week that is released, a service of its grid
    if c is None or bad:
        fails += 1
        print("not ok - alert %s %s %s %s: %s" % (a["alert"], week, dept, svc,
              "no such released cell" if c is None else
              "figures not in the released table: %s" % bad))
    else:
        print("ok - alert %s %s %s %s: its %d figures are the released table's"
              % (a["alert"], week, dept, svc, len(list(numbers(a)))))
if n == 0:
    fails += 1
    print("not ok - no alert to check")
sys.exit(1 if fails else 0)
