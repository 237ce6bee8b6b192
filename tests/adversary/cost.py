#!/usr/bin/python3
"""The cost of protection: released figures (released.db, schema of
spec.md) against the truth of the synthesized week (weekgen.py).

usage: cost.py --truth truth.json --db released.db

Prints a table per grid level (W1 department x service, W1 margins, D1,
D2, B1): cells, share of cells with any figure changed, share of non-zero
true cells published as 0, mean and largest absolute error of devices,
mean and largest absolute and relative error of the magnitudes, and the
number of published magnitude figures (magc).  mag.rel/rel.max cover
every non-zero true magnitude (a cell published as 0 counts 100 %);
rel|pub and max|pub only cells published with devices > 0.  Then asserts (`ok`/`not ok`) the
documented error for weekly department x service cells of groups of at
least min_group_size devices: devices within k-1, each magnitude within
10 % + 1 of the truth; every true zero published as zero; the whole grid
present in `dim`.
"""

import argparse
import json
import sqlite3
import sys

COLS = [("devices", "devices"), ("devhours", "device_hours"), ("tls", "tls_conns"),
        ("conns", "connections"), ("dns", "dns_lookups"), ("nxdomain", "dns_nxdomain"),
        ("bytes_up", "bytes_up"), ("bytes_down", "bytes_down")]
DAY_COLS = [("devices", "devices"), ("devhours", "device_hours"), ("conns", "connections"),
            ("dns", "dns_lookups"), ("nxdomain", "dns_nxdomain")]

fails = 0


def line(good, msg):
    global fails
    if not good:
        fails += 1
    print("%s - %s" % ("ok" if good else "not ok", msg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--db", required=True)
    a = ap.parse_args()
    with open(a.truth) as f:
        T = json.load(f)
    k = T["min_group_size"]
    truth = {(c["level"], c["period"], c["department"], c["service"]): c for c in T["cells"]}
    depts = list(T["departments"]) + ["*"]
    svcs = [s["id"] for s in T["services"]]
    cats = ["cat:" + c for c in T["categories"]]
    wk = int(T["week"].replace("-W", ""))
    h = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
    rel = {}
    for row in h.execute("SELECT kind, period, dept, svc, devices, devhours, tls, conns, dns, "
                         "nxdomain, bytes_up, bytes_down FROM cell"):
        kind, period, dept, svc = row[:4]
        rel[(kind, period, dept, svc)] = dict(zip([c for c, _ in COLS], row[4:]))
    dims = {}
    for kind, period, axis, name in h.execute("SELECT kind, period, axis, name FROM dim"):
        dims.setdefault((kind, period, axis), set()).add(name)

    levels = {
        "W1 dept x svc": [(2, wk, "week", T["week"], d, s) for d in depts if d != "*" for s in svcs],
        "W1 margins": [(2, wk, "week", T["week"], d, s) for d in depts for s in svcs + cats + ["*"]
                       if d == "*" or s in cats or s == "*"],
        "D1 dept x cat": [(1, int(day.replace("-", "")), "day", day, d, s)
                          for day in T["days"] for d in depts for s in cats + ["*"]],
        "D2 svc": [(1, int(day.replace("-", "")), "day", day, "*", s) for day in T["days"] for s in svcs],
    }
    print("# cost of protection, k = %d (%s)" % (k, a.db))
    print("# %-14s %5s %8s %9s %8s %7s %9s %9s %9s %9s %9s %6s" % (
        "level", "cells", "changed", "nz->0", "dev.mae", "dev.max", "mag.mae", "mag.rel", "rel.max",
        "rel|pub", "max|pub", "magc"))
    w1_bad = []
    zero_bad = []
    for name, cells in levels.items():
        cols = COLS if name.startswith("W1") else DAY_COLS
        n = changed = nz = nz0 = 0
        dev_err = []
        mag_abs = []
        mag_rel = []
        mag_rel_pub = []    # only cells whose published devices > 0
        magc = 0
        for kind, period, lv, plabel, d, s in cells:
            t = truth.get((lv, plabel, d, s), {})
            r = rel.get((kind, period, d, s), {})
            n += 1
            diff = False
            for col, tm in cols:
                tv = t.get(tm, 0)
                rv = r.get(col, 0) or 0
                if tv != rv:
                    diff = True
                if col == "devices":
                    dev_err.append(abs(rv - tv))
                    if tv > 0:
                        nz += 1
                        nz0 += rv == 0
                    if tv == 0 and rv != 0:
                        zero_bad.append((name, plabel, d, s))
                else:
                    mag_abs.append(abs(rv - tv))
                    if tv > 0:
                        mag_rel.append(abs(rv - tv) / tv)
                        if (r.get("devices") or 0) > 0:
                            mag_rel_pub.append(abs(rv - tv) / tv)
                    magc += rv != 0
                    if tv == 0 and rv != 0:
                        zero_bad.append((name, plabel, d, s, col))
                if name == "W1 dept x svc" and t.get("devices", 0) >= k:
                    lim = k - 1 if col == "devices" else tv // 10 + 1
                    if abs(rv - tv) > lim:
                        w1_bad.append("%s %s %s: %d for %d" % (d, s, col, rv, tv))
            changed += diff
        print("# %-14s %5d %7.1f%% %8.1f%% %8.2f %7d %9.1f %8.1f%% %8.1f%% %8.1f%% %8.1f%% %6d" % (
            name, n, 100.0 * changed / max(n, 1), 100.0 * nz0 / max(nz, 1),
            sum(dev_err) / max(len(dev_err), 1), max(dev_err or [0]),
            sum(mag_abs) / max(len(mag_abs), 1), 100.0 * sum(mag_rel) / max(len(mag_rel), 1),
            100.0 * max(mag_rel or [0]),
            100.0 * sum(mag_rel_pub) / max(len(mag_rel_pub), 1), 100.0 * max(mag_rel_pub or [0]), magc))
    # B1: packets and bytes per day against the capture
    blind = {}
    for day, nm, v in h.execute("SELECT day, name, value FROM blind"):
        blind.setdefault(day, {})[nm] = v
    bt = T.get("blind_days", {})
    rels = []
    for day in T["days"]:
        b = blind.get(int(day.replace("-", "")), {})
        for nm in ("packets", "bytes"):
            tv = bt.get(day, {}).get(nm, 0)
            if tv:
                rels.append(abs(b.get(nm, 0) - tv) / tv)
    print("# %-14s %5d  packets/bytes per day: mean rel. error %.1f%%, largest %.1f%%" % (
        "B1 blind", len(blind), 100.0 * sum(rels) / max(len(rels), 1), 100.0 * max(rels or [0])))
    big = [c for c in levels["W1 dept x svc"] if truth.get(("week", T["week"], c[4], c[5]), {}).get("devices", 0) >= k]
    line(big and not w1_bad, "weekly department x service cells of >= %d devices within the documented "
         "error (devices +-%d, magnitudes 10%% + 1): %d cells, %d figures outside%s"
         % (k, k - 1, len(big), len(w1_bad), (": " + "; ".join(w1_bad[:3])) if w1_bad else ""))
    line(not zero_bad, "every true zero published as zero (%d not)" % len(zero_bad))
    # dim records the configured axes; "*" is every grid's and not stored
    want_d = set(T["departments"]) - {"*"}
    got_d = dims.get((2, wk, 0), set())
    got_s = dims.get((2, wk, 1), set())
    line(want_d <= got_d and set(svcs) <= got_s,
         "the W1 grid in dim lists every department and service (%d/%d departments, %d/%d services)"
         % (len(want_d & got_d), len(want_d), len(set(svcs) & got_s), len(svcs)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
