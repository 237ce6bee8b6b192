#!/usr/bin/python3
"""Check `aicensus query` over a release database against the
synthesizer's truth.

Usage: query_check.py AICENSUS RELEASED.db TRUTH.json

Every released week holds the full department x service grid (zeros
included); every figure is the truth itself when the periods were
released with min_group_size 1 (no protection: the end-to-end tests),
and otherwise within what the cell key method allows: a count n is 0
when n = 0, 0 or k when n < k, within k-1 of n (and at least k) when
n >= k; a magnitude is 0 when the published devices are 0, else within
10 % of the truth.  Day cells (department x "*", "*" x service) are
checked the same way for the day measures.  Unpublished levels are
refused with exit 2; CSV carries the same rows, with no suppression
mark.
"""
import collections
import datetime
import json
import subprocess
import sys

WEEK_KEYS = ["tls_conns", "quic_conns", "ech_conns", "dns_lookups",
             "dns_nxdomain", "bytes_up", "bytes_down", "device_hours"]
DAY_KEYS = ["dns_lookups", "dns_nxdomain", "device_hours"]
fails = 0


def check(ok, msg, detail=""):
    global fails
    print(("ok - " if ok else "not ok - ") + msg)
    if not ok:
        fails += 1
        if detail:
            print("#   " + str(detail)[:400])


def run(tool, db, *args):
    return subprocess.run([tool, "query", "--db", db, *args],
                          capture_output=True, text=True)


def query(tool, db, *args):
    r = run(tool, db, "--format", "json", *args)
    if r.returncode != 0:
        raise SystemExit(f"not ok - aicensus query {args} failed: {r.stderr}")
    return json.loads(r.stdout)


def count_ok(k, got, n):
    if k == 1:
        return got == n
    if n == 0:
        return got == 0
    if n < k:
        return got in (0, k)
    return got >= k and abs(got - n) <= min(k - 1, n - k)


def mag_ok(k, got, x, devices):
    if k == 1:
        return got == x
    if devices == 0:
        return got == 0
    return abs(got - x) <= x // 10 + 1


def week_of(epoch):
    y, w, _ = datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).isocalendar()
    return "%d-W%02d" % (y, w)


def day_of(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).date().isoformat()


def judge(k, rows, truth, devices, keys):
    """Rows against truth sums; returns the list of misfits."""
    bad = []
    for r in rows:
        key = (r["period"], r["department"], r["service"])
        t = truth.get(key, collections.Counter())
        n = devices.get(key)
        if n is not None and not count_ok(k, r["devices"], n):
            bad.append((key, "devices", r["devices"], n))
        for m in keys:
            if not mag_ok(k, r[m], t[m], r["devices"]):
                bad.append((key, m, r[m], t[m]))
        if "connections" in r:
            c = t["tls_conns"] + t["quic_conns"] + t["ech_conns"]
            if not mag_ok(k, r["connections"], c, r["devices"]):
                bad.append((key, "connections", r["connections"], c))
    return bad


def main():
    tool, db, truth_path = sys.argv[1:4]
    truth = json.load(open(truth_path))

    res = query(tool, db, "--by", "department,service,week")
    k = res["min_group_size"]
    check(res["periods"] and k is not None and not res["derived"],
          f"released weeks {[p['period'] for p in res['periods']]}, "
          f"min_group_size {k}")
    weeks = collections.defaultdict(collections.Counter)
    days = collections.defaultdict(collections.Counter)
    for u in truth["usage"]:
        w, d = week_of(u["hour"]), day_of(u["hour"])
        for m in WEEK_KEYS:
            weeks[(w, u["department"], u["service"])][m] += u[m]
            days[(d, u["department"], "*")][m] += u[m]
            days[(d, "*", u["service"])][m] += u[m]
    wdev = {(w["week"], w["department"], w["service"]): w["devices"]
            for w in truth["devices_week"]}
    # the grid: one row per department and service per week, zeros too
    keys = [(r["period"], r["department"], r["service"]) for r in res["rows"]]
    depts = sorted(set(r["department"] for r in res["rows"]))
    svcs = sorted(set(r["service"] for r in res["rows"]))
    check(len(keys) == len(set(keys)) == len(res["periods"]) * len(depts) *
          len(svcs) and "*" not in depts and "*" not in svcs,
          f"{len(keys)} rows: the full grid {len(depts)} departments x "
          f"{len(svcs)} services per week, zeros included "
          f"({sum(1 for r in res['rows'] if r['devices'] == 0)} zero rows)")
    missing = [x for x in weeks if x not in set(keys)]
    check(not missing, "every department x service of the truth has its row",
          missing[:5])
    for w in wdev:
        weeks.setdefault(w, collections.Counter())
    bad = judge(k, res["rows"], weeks, {x: wdev.get(x, 0) for x in keys},
                WEEK_KEYS)
    check(not bad, f"{len(res['rows'])} week cells: every figure "
          f"{'equals the truth' if k == 1 else 'within the protection of k=%d' % k}",
          bad[:5])
    check(all("suppressed" not in r for r in res["rows"]),
          "no row carries a suppression flag")

    # days: department x all services, all departments x each service
    for by, what in (("department,day", "department"),
                     ("service,day", "service")):
        d = query(tool, db, "--by", by)
        bad = judge(k, d["rows"], days, {}, DAY_KEYS)
        only = all(set(r) <= {"kind", "period", "department", "service",
                              "devices", "device_hours", "connections",
                              "dns_lookups", "dns_nxdomain"}
                   for r in d["rows"])
        check(d["rows"] and not bad and only,
              f"{len(d['rows'])} day cells per {what}: day measures only, "
              "figures as released from the truth", bad[:5])

    # what is not published is refused
    r = run(tool, db, "--by", "department,service,day")
    check(r.returncode == 2 and "department x service is released per week "
          "only (use --by department,service,week)" in r.stderr,
          "day x department x service is refused (exit 2)", r.stderr)
    r = run(tool, db, "--by", "department,hour")
    check(r.returncode == 2, "hour is refused (exit 2)", r.stderr)
    r = run(tool, db, "--from", "2026-11-20", "--to", "2026-11-18")
    check(r.returncode == 2, "a reversed range is refused (exit 2)", r.stderr)

    # CSV: the same rows, numbers only
    r = run(tool, db, "--by", "department,service,week", "--format", "csv")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines and
          lines[0].startswith("period,department,service,devices") and
          len(lines) - 1 == len(res["rows"]) and
          not any("suppressed" in x or "<5" in x for x in lines),
          f"CSV: a header and the same {len(res['rows'])} rows, no mark")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
