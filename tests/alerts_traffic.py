#!/usr/bin/python3
"""Traffic for tests/e2e/alerts.sh: TLS connections with a known plan.

usage: alerts_traffic.py OUT.pcap PLAN...

Each PLAN is WEEK:DEPT_NET:DEVICES:DOMAIN:CONNS, e.g.
2026-W45:10.1:3:alpha.example:2 -- in ISO week 2026-W45 (Tuesday 10:00
UTC), DEVICES devices of 10.1.0.0/16 each make CONNS TLS connections to
DOMAIN (a full TCP handshake, one ClientHello with that SNI, a server
flight, a close).  Deterministic (seeded); addresses 10.x.0.10 upwards,
servers in 203.0.113.0/24.
"""
import datetime
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "synth"))
import pkt  # noqa: E402
import tlsbuild as tb  # noqa: E402

GW = bytes.fromhex("020000000001")


def mac(i):
    return bytes([2, 0, 0, 0, (i >> 8) & 0xFF, i & 0xFF])


def week_start(label):
    y, w = label.split("-W")
    d = datetime.date.fromisocalendar(int(y), int(w), 2)
    return datetime.datetime(d.year, d.month, d.day, 10, 0,
                             tzinfo=datetime.timezone.utc).timestamp()


def conn(recs, rng, t, cli, cmac, srv, sni, port):
    isn_c, isn_s = rng.getrandbits(32), rng.getrandbits(32)

    def emit(t, up, flags, seq, ack, payload=b""):
        src, dst = (cli, srv) if up else (srv, cli)
        sp, dp = (port, 443) if up else (443, port)
        l4 = pkt.tcp(src, dst, sp, dp, seq, ack, flags, payload)
        et, ipb = pkt.ip_packet(src, dst, 6, l4)
        frame = pkt.eth(GW, cmac, [], et, ipb) if up else \
            pkt.eth(cmac, GW, [], et, ipb)
        recs.append((int(t * 1e6), frame))

    A, S, F, P = pkt.TCP_ACK, pkt.TCP_SYN, pkt.TCP_FIN, pkt.TCP_PSH
    ch = tb.records(tb.client_hello(rng, sni, pq=False, chrome=False))
    sf = tb.server_flight(rng, 900)
    c, s = isn_c, isn_s
    emit(t, True, S, c, 0)
    emit(t + 0.01, False, S | A, s, c + 1)
    emit(t + 0.011, True, A, c + 1, s + 1)
    emit(t + 0.012, True, A | P, c + 1, s + 1, ch)
    emit(t + 0.03, False, A | P, s + 1, c + 1 + len(ch), sf)
    c2, s2 = c + 1 + len(ch), s + 1 + len(sf)
    emit(t + 0.04, True, F | A, c2, s2)
    emit(t + 0.05, False, F | A, s2, c2 + 1)
    emit(t + 0.051, True, A, c2 + 1, s2 + 1)


def main():
    out, plans = sys.argv[1], sys.argv[2:]
    rng = random.Random(14)
    recs = []
    servers = {}
    for n, plan in enumerate(plans):
        week, net, devs, dom, conns = plan.split(":")
        t0 = week_start(week) + n * 60
        srv = servers.setdefault(dom, "203.0.113.%d" % (10 + len(servers)))
        for d in range(int(devs)):
            cli = "%s.0.%d" % (net, 10 + d)
            cmac = mac(int(net.split(".")[1]) * 256 + d)
            for k in range(int(conns)):
                conn(recs, rng, t0 + d * 2 + k * 0.5, cli, cmac, srv, dom,
                     40000 + n * 1000 + d * 10 + k)
    recs.sort(key=lambda r: r[0])
    pkt.write_pcap(out, recs)


if __name__ == "__main__":
    main()
