#!/usr/bin/python3
"""Check `aicensus query` against the synthesizer's truth: sums, distinct
devices, and suppression of every cell below the minimum group size.

Usage: query_check.py AICENSUS DB TRUTH.json
"""
import collections
import json
import subprocess
import sys

METRICS = ["tls_conns", "quic_conns", "ech_conns", "dns_lookups",
           "dns_nxdomain", "bytes_up", "bytes_down", "device_hours"]
fails = 0


def check(ok, msg, detail=""):
    global fails
    print(("ok - " if ok else "not ok - ") + msg)
    if not ok:
        fails += 1
        if detail:
            print("#   " + str(detail)[:400])


def query(tool, db, *args):
    r = subprocess.run([tool, "query", "--db", db, "--format", "json", *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"not ok - aicensus query {args} failed: {r.stderr}")
    return json.loads(r.stdout)


def near(got, want):
    return abs(got - want) <= (1 if want < 50 else 0.02 * want)


def main():
    tool, db, truth_path = sys.argv[1:4]
    truth = json.load(open(truth_path))
    k = 2  # the synthesized configuration's min_group_size

    # department x service over the whole week
    res = query(tool, db, "--by", "department,service")
    check(res["min_group_size"] == k, f"minimum group size {k} read from the database")
    sums = collections.defaultdict(lambda: collections.Counter())
    for u in truth["usage"]:
        for m in METRICS:
            sums[(u["department"], u["service"])][m] += u[m]
    week = {(w["department"], w["service"]): w["devices"]
            for w in truth["devices_week"]}
    bad_sup, bad_val, nsup = [], [], 0
    for row in res["rows"]:
        key = (row["department"], row["service"])
        should = week.get(key, 0) < k
        if row["suppressed"] != should:
            bad_sup.append((key, row["suppressed"], week.get(key)))
        if row["suppressed"]:
            nsup += 1
            if any(m in row for m in METRICS + ["devices"]):
                bad_val.append((key, "suppressed cell shows numbers"))
            continue
        for m in METRICS:
            if row[m] != sums[key][m]:
                bad_val.append((key, m, row[m], sums[key][m]))
        if not near(row["devices"], week[key]):
            bad_val.append((key, "devices", row["devices"], week[key]))
    check(not bad_sup, f"suppressed exactly the {nsup} cells with fewer than "
          f"{k} devices", bad_sup[:5])
    check(not bad_val, f"{len(res['rows']) - nsup} shown cells: every metric "
          "equals the truth, devices within bounds", bad_val[:5])
    check(len(res["rows"]) == len(sums),
          f"one row per department and service ({len(sums)})")

    # service x day: devices add up across departments -- over the
    # published department cells only (a hidden one is withheld)
    res = query(tool, db, "--by", "service,day")
    want = collections.Counter()
    for d in truth["devices_day"]:
        if d["devices"] >= k:
            want[(d["service"], d["day"])] += d["devices"]
    bad = [(r["service"], r["period"], r.get("devices"),
            want[(r["service"], r["period"])]) for r in res["rows"]
           if not r["suppressed"] and
           not near(r["devices"], want[(r["service"], r["period"])])]
    check(not bad and res["rows"], f"devices per service and day ({len(res['rows'])} "
          "cells) add up across departments", bad[:5])

    # a huge minimum group size hides everything, and shows no number
    res = query(tool, db, "--by", "department,service,hour", "--min-group", "100000")
    check(res["rows"] and all(r["suppressed"] and "tls_conns" not in r
                              for r in res["rows"]),
          "with --min-group 100000 every cell is suppressed and shows no number")
    # a smaller --min-group than the database's cannot lower it
    res = query(tool, db, "--by", "department,service", "--min-group", "1")
    check(res["min_group_size"] == k, "--min-group cannot lower the configured size")

    # CSV: a suppressed cell is marked, never written as 0
    r = subprocess.run([tool, "query", "--db", db, "--by",
                        "department,service,day", "--format", "csv"],
                       capture_output=True, text=True)
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0].startswith("period,department,service"),
          "CSV output has a header row")
    sup = [l for l in lines[1:] if l.endswith("suppressed")]
    check(all(",0," not in l and l.count(",,") >= 1 for l in sup),
          f"CSV marks {len(sup)} suppressed cells as such, with empty metrics")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
