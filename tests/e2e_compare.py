#!/usr/bin/python3
"""Check every stored count of an aicensusd database against the truth
written by tests/synth/synth.py.

Usage: e2e_compare.py DB TRUTH.json
Connections, lookups, NXDOMAIN, bytes and device-hours must be exact;
distinct devices per day and week within +-1 below 50 devices and 2%
above 1000 (in between: 2%).  Blind-spot counters are compared where the
truth has them.  Prints "ok - ..." / "not ok - ..." lines.
"""
import json
import sqlite3
import sys

METRICS = ["tls_conns", "quic_conns", "ech_conns", "dns_lookups",
           "dns_nxdomain", "bytes_up", "bytes_down", "device_hours"]


def close_enough(got, want):
    if want < 50:
        return abs(got - want) <= 1
    return abs(got - want) <= 0.02 * want


def main():
    db, truth_path = sys.argv[1], sys.argv[2]
    truth = json.load(open(truth_path))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    fails = 0

    def check(ok, msg, detail=""):
        nonlocal fails
        print(("ok - " if ok else "not ok - ") + msg)
        if not ok:
            fails += 1
            if detail:
                print("#   " + detail)

    rows = con.execute(
        "SELECT u.hour, d.name, s.sid, " + ", ".join("u." + m for m in METRICS)
        + " FROM usage_hour u JOIN department d ON d.id = u.dept"
        " JOIN service s ON s.id = u.svc").fetchall()
    got = {(r[0], r[1], r[2]): dict(zip(METRICS, r[3:])) for r in rows}
    want = {(u["hour"], u["department"], u["service"]):
            {m: u[m] for m in METRICS} for u in truth["usage"]}
    check(set(got) == set(want),
          f"usage cells: {len(got)} stored, {len(want)} in the truth",
          f"missing {sorted(set(want) - set(got))[:5]} "
          f"extra {sorted(set(got) - set(want))[:5]}")
    for m in METRICS:
        bad = [(k, got[k][m], want[k][m]) for k in want
               if k in got and got[k][m] != want[k][m]]
        tot_g = sum(got[k][m] for k in got)
        tot_w = sum(want[k][m] for k in want)
        check(not bad, f"{m}: {tot_g} stored = {tot_w} true, in every cell",
              f"{len(bad)} cells differ, e.g. {bad[:4]}")

    for kind, table, col in (("day", "devices_day", "day"),
                             ("week", "devices_week", "week")):
        rows = con.execute(
            f"SELECT x.{col}, d.name, s.sid, x.devices FROM {table} x"
            " JOIN department d ON d.id = x.dept"
            " JOIN service s ON s.id = x.svc").fetchall()
        fmt = ((lambda v: f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}")
               if kind == "day" else (lambda v: f"{v // 100:04d}-W{v % 100:02d}"))
        g = {(fmt(r[0]), r[1], r[2]): r[3] for r in rows}
        w = {(x[kind], x["department"], x["service"]): x["devices"]
             for x in truth["devices_" + kind]}
        bad = [(k, g.get(k), w[k]) for k in w
               if k not in g or not close_enough(g[k], w[k])]
        extra = set(g) - set(w)
        check(not bad and not extra,
              f"distinct devices per {kind}: {len(w)} cells within bounds",
              f"bad {bad[:5]} extra {sorted(extra)[:5]}")

    blind = truth.get("blind", {})
    cap = con.execute("SELECT SUM(ech_unattributed), SUM(nosni_conns),"
                      " SUM(packets) FROM capture_hour").fetchone()
    if "ech_unattributed" in blind:
        check(cap[0] == blind["ech_unattributed"],
              f"unattributed ECH connections: {cap[0]} stored, "
              f"{blind['ech_unattributed']} true")
    if "tls_no_sni" in blind:
        check(cap[1] >= blind["tls_no_sni"],
              f"ClientHellos without SNI counted as blind: {cap[1]} "
              f"(>= {blind['tls_no_sni']} over TCP)")
    if "packets" in truth.get("totals", {}):
        check(cap[2] == truth["totals"]["packets"],
              f"packets counted: {cap[2]} = {truth['totals']['packets']}")
    if "auth_fail_quic" in blind:
        n = con.execute("SELECT COALESCE(SUM(count), 0) FROM anomaly_hour"
                        " WHERE name = 'quic_auth_fail'").fetchone()[0]
        check(n >= blind["auth_fail_quic"],
              f"QUIC Initials failing authentication recorded: {n} "
              f"(>= {blind['auth_fail_quic']})")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
