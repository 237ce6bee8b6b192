#!/usr/bin/python3
"""Deterministic traffic synthesizer for the aicensusd end-to-end test.

usage: /usr/bin/python3 tests/synth/synth.py --seed 1 --out DIR [--scale N]

Writes DIR/traffic.pcap (EN10MB), DIR/truth.json (what the daemon must
count), DIR/aicensus.conf and DIR/catalog.conf.  See README.md for the
network model and the exact counting semantics.
"""

import argparse
import ipaddress
import json
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dnsbuild as db  # noqa: E402
import model as M  # noqa: E402
import pkt  # noqa: E402
import quic as q  # noqa: E402
import tlsbuild as tb  # noqa: E402

GW_MAC = bytes.fromhex("020000000001")
DNS_QTYPES = {"A": db.QT_A, "AAAA": db.QT_AAAA, "HTTPS": db.QT_HTTPS}


def rbytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "big") if n > 0 else b""


def case_mix(rng, name):
    """0x20 / mixed case: flip letters at random, guaranteeing one change."""
    out = [c.upper() if c.isalpha() and rng.random() < 0.5 else c for c in name]
    s = "".join(out)
    if s == name:
        i = next(i for i, c in enumerate(name) if c.isalpha())
        s = name[:i] + name[i].upper() + name[i + 1:]
    return s


class Host:
    def __init__(self, rng, addr, role, tags=()):
        self.addr = ipaddress.ip_address(addr)
        self.role = role
        self.tags = list(tags)
        self.mac = bytes([0x02]) + rbytes(rng, 5)
        inner = [vid for tpid, vid in self.tags if tpid == pkt.TPID_8021Q]
        self.vlan = inner[-1] if inner else None
        self.dept = M.dept_of(self.addr, self.vlan)
        self.ignored = str(self.addr) in M.IGNORE
        self.v6 = self.addr.version == 6
        self.port = rng.randrange(33000, 50000)
        self.ipid = rng.randrange(65536)
        self.ttl = rng.choice([64, 128]) if role != "server" else rng.choice([52, 54, 57, 118])
        self.favorites = []

    def eport(self, rng):
        self.port += rng.randrange(1, 8)
        if self.port > 65000:   # only the resolver gets here, at large --scale
            self.port -= 32000
        return self.port

    def next_ipid(self):
        self.ipid = (self.ipid + 1) & 0xFFFF
        return self.ipid


class Tcp:
    """One TCP connection; the client is the opener.  Tracks sequence
    numbers so payload bytes and retransmissions are exact."""

    def __init__(self, S, cli, srv, sport, srv_mss=None, ts_opt=None):
        rng = S.rng
        self.S, self.cli, self.srv = S, cli, srv
        self.cport, self.sport = cli.eport(rng), sport
        self.c_isn, self.s_isn = rng.getrandbits(32), rng.getrandbits(32)
        self.cnxt, self.snxt = (self.c_isn + 1) & 0xFFFFFFFF, (self.s_isn + 1) & 0xFFFFFFFF
        self.fid = S.new_flow()
        S.flow_tuples[self.fid] = ("tcp", str(cli.addr), self.cport, str(srv.addr), sport)
        self.rtt = rng.uniform(0.004, 0.06)
        self.ts_opt = rng.random() < 0.6 if ts_opt is None else ts_opt
        self.tsval = rng.getrandbits(31)
        cmss = 1440 if cli.v6 else 1460
        self.mss = min(cmss, srv_mss or cmss)
        self.seg = self.mss - (12 if self.ts_opt else 0)
        self.cwin = rng.choice([501, 502, 2048, 64240])

    def _opts(self, syn):
        self.tsval += 1
        ts = struct.pack("!BBII", 8, 10, self.tsval, self.tsval - 7 if self.tsval > 7 else 0)
        if syn:
            o = struct.pack("!BBH", 2, 4, self.mss) + b"\x04\x02"
            return o + (ts if self.ts_opt else b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01") + \
                b"\x01\x03\x03\x07"
        return b"\x01\x01" + ts if self.ts_opt else b""

    def send(self, t, from_cli, flags, payload=b"", seq=None):
        src, dst = (self.cli, self.srv) if from_cli else (self.srv, self.cli)
        sp, dp = (self.cport, self.sport) if from_cli else (self.sport, self.cport)
        nxt = self.cnxt if from_cli else self.snxt
        s = nxt if seq is None else seq
        a = (self.snxt if from_cli else self.cnxt) if flags & pkt.TCP_ACK else 0
        l4 = pkt.tcp(src.addr, dst.addr, sp, dp, s, a, flags, payload,
                     window=self.cwin if from_cli else 65535,
                     options=self._opts(bool(flags & pkt.TCP_SYN)))
        self.S.emit(t, self.cli, src, dst, 6, l4, self.fid, from_cli, len(payload))
        if seq is None:
            adv = len(payload) + (1 if flags & (pkt.TCP_SYN | pkt.TCP_FIN) else 0)
            if from_cli:
                self.cnxt = (self.cnxt + adv) & 0xFFFFFFFF
            else:
                self.snxt = (self.snxt + adv) & 0xFFFFFFFF

    def handshake(self, t):
        self.cnxt, self.snxt = self.c_isn, self.s_isn
        self.send(t, True, pkt.TCP_SYN)
        t += self.rtt
        self.send(t, False, pkt.TCP_SYN | pkt.TCP_ACK)
        t += 0.00005 + self.S.rng.uniform(0, 0.0002)
        self.send(t, True, pkt.TCP_ACK)
        return t

    def bulk(self, t, from_cli, data):
        """Send data split into MSS-sized segments; the peer ACKs every
        second segment and the last one."""
        rng = self.S.rng
        n = 0
        for i in range(0, len(data), self.seg):
            t += rng.uniform(0.00003, 0.0004)
            self.send(t, from_cli, pkt.TCP_ACK | pkt.TCP_PSH, data[i:i + self.seg])
            n += 1
            if n % 2 == 0 or i + self.seg >= len(data):
                self.send(t + self.rtt / 2, not from_cli, pkt.TCP_ACK)
        return t + self.rtt / 2

    def close(self, t):
        rng = self.S.rng
        if rng.random() < 0.1:
            self.send(t, True, pkt.TCP_RST | pkt.TCP_ACK)
            return t
        self.send(t, True, pkt.TCP_FIN | pkt.TCP_ACK)
        t += self.rtt
        self.send(t, False, pkt.TCP_FIN | pkt.TCP_ACK)
        t += 0.0001
        self.send(t, True, pkt.TCP_ACK)
        return t


class Synth:
    def __init__(self, seed, scale):
        self.rng = random.Random(seed)
        self.scale = scale
        self.recs = []
        self.seq = 0
        self.nflows = 0
        self.T = M.Truth()
        self.hosts = {}
        self.resolver = self.host(M.RESOLVER, "resolver")
        self.upstream = self.host(M.UPSTREAM, "server")
        self.devices = {}
        self.pending_ech = []
        self.flow_tuples = {}

    # ------------------------------------------------------------ basics

    def host(self, addr, role, tags=()):
        a = str(ipaddress.ip_address(addr))
        if a not in self.hosts:
            self.hosts[a] = Host(self.rng, a, role, tags)
        return self.hosts[a]

    def server(self, addr):
        return self.host(addr, "server")

    def new_flow(self):
        self.nflows += 1
        return self.nflows

    def raw(self, t, frame, fid=None, up=None, plen=0):
        self.recs.append((int(round(t * 1e6)), self.seq, frame, fid, up, plen))
        self.seq += 1

    def emit(self, t, link, src, dst, proto, l4, fid=None, up=None, plen=0):
        et, ipb = pkt.ip_packet(src.addr, dst.addr, proto, l4, ident=src.next_ipid(), ttl=src.ttl)
        if src is link:
            frame = pkt.eth(GW_MAC, link.mac, link.tags, et, ipb)
        else:
            frame = pkt.eth(link.mac, GW_MAC, link.tags, et, ipb)
        self.raw(t, frame, fid, up, plen)
        (self.T.servers if src.role == "server" else self.T.clients).add(str(src.addr))

    def udp(self, t, link, src, dst, sport, dport, payload, fid=None, up=None):
        l4 = pkt.udp(src.addr, dst.addr, sport, dport, payload)
        self.emit(t, link, src, dst, 17, l4, fid, up, len(payload))

    # --------------------------------------------------------------- DNS

    def resolver_for(self, cli):
        if cli.v6:
            return self.server(M.PUBLIC_RESOLVER_V6)
        return self.resolver if self.rng.random() < 0.85 else self.server(M.PUBLIC_RESOLVER_V4)

    def dns(self, cli, t, qname, qtype="A", rcode=0, addrs=None, cnames=None,
            retransmit=False, res=None, upstream=None, ttl=None):
        """One UDP exchange (query, optional retransmission, optional
        resolver upstream exchange, response).  Returns the response time."""
        rng = self.rng
        res = res or self.resolver_for(cli)
        qt = DNS_QTYPES[qtype]
        svc = M.match_service(qname)
        if addrs is None:
            addrs = self.answer_addrs(qname, qtype)
        if cnames is None:
            cnames = self.cname_chain(qname) if rcode == 0 and addrs else []
        if ttl is None:
            ttl = rng.choice([60, 300, 300, 600, 1800, 3600])
        t0 = t
        sport = cli.eport(rng)
        qid = rng.getrandbits(16)
        qmsg = db.query(qid, qname, qt, edns=rng.random() < 0.7)
        for k in range(2 if retransmit else 1):
            if k:
                t += 1.0 + rng.uniform(0, 0.02)  # resolver timeout; same id
            self.udp(t, cli, cli, res, sport, 53, qmsg)
            self.T.names["dns_query"][qname.lower()] += 1
            self.T.count("dns_lookups", t, cli, svc)
        if upstream is None:
            upstream = res is self.resolver and rng.random() < 0.4
        if upstream:
            r = self.resolver
            t += rng.uniform(0.0002, 0.001)
            up_port, uqid, lname = r.eport(rng), rng.getrandbits(16), qname.lower()
            self.udp(t, r, r, self.upstream, up_port, 53, db.query(uqid, lname, qt))
            self.T.names["dns_query"][lname] += 1
            self.T.count("dns_lookups", t, r, svc)        # ignored client: no-op
            t += rng.uniform(0.008, 0.04)
            self.udp(t, r, self.upstream, r, 53, up_port,
                     db.response(uqid, lname, qt, rcode, cnames, addrs, ttl))
            self.T.names["dns_response"][lname] += 1
            if rcode == db.RC_NXDOMAIN:
                self.T.count("dns_nxdomain", t, r, svc, use=False)
        t += rng.uniform(0.0003, 0.003) if res is self.resolver else rng.uniform(0.006, 0.03)
        self.udp(t, cli, res, cli, 53, sport,
                 db.response(qid, qname, qt, rcode, cnames, addrs, ttl, edns=rng.random() < 0.7))
        self.T.names["dns_response"][qname.lower()] += 1
        if rcode == db.RC_NXDOMAIN:
            self.T.count("dns_nxdomain", t, cli, svc, use=False)
        elif rcode == 0:
            for a in addrs:
                self.T.answers.append((t, str(cli.addr), a, qname, ttl))
        assert M.hour_of(t0) == M.hour_of(t), "DNS exchange crosses an hour"
        return t

    def answer_addrs(self, qname, qtype):
        rng = self.rng
        n = qname.lower().rstrip(".")
        svc = M.match_service(n)
        if qtype == "HTTPS":
            return []
        v6 = qtype == "AAAA"
        if svc:
            pool = (M.SVC_V6 if v6 else M.SVC_V4)[svc]
        elif n in M.DECOY_V4:
            pool = (M.DECOY_V6 if v6 else M.DECOY_V4)[n]
        else:
            pool = M.NOISE_V6 if v6 else M.NOISE_V4
            return [rng.choice(pool)]
        return rng.sample(pool, rng.randint(1, len(pool)))

    def cname_chain(self, qname):
        rng = self.rng
        k = rng.choice([0, 0, 1, 1, 2])
        base = qname.lower().rstrip(".")
        return ["%s.edge%d.cdn.example.net" % (base, i) if i == 0 else
                "lb%d.cdn.example.net" % rng.randrange(100) for i in range(k)]

    def lookup(self, cli, t, name, nx=False, retransmit=False):
        """A typical stub-resolver burst; returns (time, usable addresses)."""
        rng = self.rng
        if cli.v6:
            kinds = ["AAAA"] + (["HTTPS"] if rng.random() < 0.3 else [])
        else:
            kinds = ["A"] + (["AAAA"] if rng.random() < 0.5 else []) + \
                (["HTTPS"] if rng.random() < 0.3 else [])
        qname = case_mix(rng, name) if rng.random() < 0.15 else name
        res = self.resolver_for(cli)
        usable = []
        tend = t
        for i, k in enumerate(kinds):
            tt = t + i * rng.uniform(0.00005, 0.0003)
            r = self.dns(cli, tt, qname, k, rcode=3 if nx else 0, res=res,
                         retransmit=retransmit and i == 0)
            tend = max(tend, r)
            if not nx and k == ("AAAA" if cli.v6 else "A"):
                usable = [a for ts, c, a, n, ttl in self.T.answers[-8:]
                          if c == str(cli.addr) and ts == r]
        return tend, usable

    def dns_tcp(self, cli, t, queries, plan):
        """DNS over TCP to the internal resolver.  plan: list of client
        segments as (list of (msg index, start, end)) or ("retx", k) to
        resend client segment k with its original sequence number."""
        rng = self.rng
        res = self.resolver if not cli.v6 else self.server(M.PUBLIC_RESOLVER_V6)
        c = Tcp(self, cli, res, 53)
        t = c.handshake(t)
        msgs = []
        for name, qt in queries:
            msgs.append(db.tcp_frame(db.query(rng.getrandbits(16), name, DNS_QTYPES[qt])))
        sent = []  # (seq, bytes)
        done = set()
        for step in plan:
            t += rng.uniform(0.0005, 0.02)
            if step[0] == "retx":
                seq, data = sent[step[1]]
                t += 0.2
                c.send(t, True, pkt.TCP_ACK | pkt.TCP_PSH, data, seq=seq)
                continue
            data = b"".join(msgs[i][a:b] for i, a, b in step)
            sent.append((c.cnxt, data))
            c.send(t, True, pkt.TCP_ACK | pkt.TCP_PSH, data)
            complete = [i for i, a, b in step if b >= len(msgs[i])]
            for i in complete:
                name, qt = queries[i]
                self.T.names["dns_query"][name.lower()] += 1
                self.T.names["dns_query_tcp"][name.lower()] += 1
                self.T.count("dns_lookups", t, cli, M.match_service(name))
            if complete:
                t += c.rtt
                out = b""
                answered = []
                for i in complete:
                    name, qt = queries[i]
                    qid = struct.unpack("!H", msgs[i][2:4])[0]
                    cnames = self.cname_chain(name)
                    addrs = self.answer_addrs(name, qt)
                    out += db.tcp_frame(db.response(qid, name, DNS_QTYPES[qt], 0,
                                                    cnames, addrs, 300))
                    self.T.names["dns_response"][name.lower()] += 1
                    answered += [(a, name) for a in addrs]
                    done.add(i)
                t = c.bulk(t, False, out)
                # the daemon reads these answers too (never an ECH address)
                for a, name in answered:
                    self.T.answers.append((t - c.rtt / 2, str(cli.addr), a, name, 300))
            else:
                c.send(t + c.rtt / 2, False, pkt.TCP_ACK)
        assert done == set(range(len(queries)))
        return c.close(t + 0.01)

    def dns_tcp_answers(self, cli, t, queries, cuts=(), order=None):
        """DNS over TCP read both ways: the queries in one segment, then
        the stream of their length-prefixed answers cut at the byte
        offsets `cuts` and sent in `order` (segment indexes; default in
        order).  queries: (qname, qtype, rcode, addrs).  Returns the time
        the last answer segment was sent."""
        rng = self.rng
        res = self.server(M.PUBLIC_RESOLVER_V6) if cli.v6 else self.resolver
        c = Tcp(self, cli, res, 53)
        t = c.handshake(t)
        t0 = t
        qmsgs, amsgs = [], []
        for name, qt, rcode, addrs in queries:
            qid = rng.getrandbits(16)
            qmsgs.append(db.tcp_frame(db.query(qid, name, DNS_QTYPES[qt])))
            amsgs.append(db.tcp_frame(db.response(qid, name, DNS_QTYPES[qt], rcode, [],
                                                  addrs if rcode == 0 else [], 300)))
        t += rng.uniform(0.0005, 0.005)
        c.send(t, True, pkt.TCP_ACK | pkt.TCP_PSH, b"".join(qmsgs))
        for name, qt, rcode, addrs in queries:
            self.T.names["dns_query"][name.lower()] += 1
            self.T.names["dns_query_tcp"][name.lower()] += 1
            self.T.count("dns_lookups", t, cli, M.match_service(name))
        t += c.rtt
        stream = b"".join(amsgs)
        cuts = sorted(set([0, len(stream)] + list(cuts)))
        segs = list(zip(cuts, cuts[1:]))
        base = c.snxt
        for k in (order if order is not None else range(len(segs))):
            a, b = segs[k]
            c.send(t, False, pkt.TCP_ACK | pkt.TCP_PSH, stream[a:b],
                   seq=(base + a) & 0xFFFFFFFF)
            t += rng.uniform(0.00003, 0.0004)
        c.snxt = (base + len(stream)) & 0xFFFFFFFF
        for name, qt, rcode, addrs in queries:
            self.T.names["dns_response"][name.lower()] += 1
            if rcode == db.RC_NXDOMAIN:
                self.T.count("dns_nxdomain", t, cli, M.match_service(name), use=False)
            else:
                for a in addrs:
                    self.T.answers.append((t, str(cli.addr), a, name, 300))
        assert M.hour_of(t0) == M.hour_of(t), "DNS exchange crosses an hour"
        c.send(t + c.rtt / 2, True, pkt.TCP_ACK)
        c.close(t + c.rtt / 2 + 0.01)
        return t

    def dns_tcp_specials(self):
        """Answers over TCP that the daemon must read: ECH connections
        attributed through them, NXDOMAINs counted.  Generated after the
        bulk traffic, so the rest of the capture is what it was before
        these cases existed."""
        rng = self.rng
        slot = [0]

        def at():
            i = slot[0]
            slot[0] += 1
            return M.START + (i % 3) * 3600 + 3000 + (i // 3) * 30 + rng.uniform(0, 5)

        D = self.dev

        def ech(cli, addr, t, case):
            self.tls(cli, addr, t + 3.0, M.ECH_PUBLIC_NAME, ech="real", chrome=True, case=case)

        d = D("Finance", 13)
        ech(d, "203.0.113.14", self.dns_tcp_answers(
            d, at(), [("chatgpt.com", "A", 0, ["203.0.113.14"])]),
            "ech-after-dns-tcp-answer")
        d = D("Sales", 7)
        ech(d, "203.0.113.27", self.dns_tcp_answers(
            d, at(), [("claude.ai", "A", 0, ["203.0.113.27"])], cuts=[25], order=[1, 0]),
            "ech-after-dns-tcp-answer-out-of-order")
        d = D("Engineering", 11, True)
        ech(d, "2001:db8:ffff::26", self.dns_tcp_answers(
            d, at(), [("claude.ai", "AAAA", 0, ["2001:db8:ffff::26"])], cuts=[1, 40]),
            "ech-after-dns-tcp-aaaa-3-segments")
        d = D("Research", 8)
        t = self.dns_tcp_answers(d, at(), [("deepseek.com", "A", 0, ["198.51.100.52"]),
                                           ("api.mistral.ai", "A", 0, ["198.51.100.42"])])
        ech(d, "198.51.100.52", t, "ech-after-dns-tcp-two-answers-first")
        ech(d, "198.51.100.42", t + 1.0, "ech-after-dns-tcp-two-answers-second")
        d = D("unassigned", 4)
        ech(d, "203.0.113.74", self.dns_tcp_answers(
            d, at(), [("example.org", "A", 0, ["203.0.113.74"])]),
            "ech-unattributed-dns-tcp-decoy-answer")
        d = D("Finance", 14)
        self.dns_tcp_answers(d, at(), [("gemini.google.com", "A", db.RC_NXDOMAIN, []),
                                       ("chatgpt.com", "AAAA", db.RC_NXDOMAIN, [])],
                             cuts=[70])
        self.T.cases.append(dict(case="dns-tcp-nxdomain-two-split", kind="dns"))
        d = D("Engineering", 12, True)
        self.dns_tcp_answers(d, at(), [("claude.ai", "AAAA", db.RC_NXDOMAIN, [])])
        self.T.cases.append(dict(case="dns-tcp-nxdomain-ipv6", kind="dns"))

    # --------------------------------------------------------------- TLS

    def tls(self, cli, srv_addr, t, sni, *, port=443, mode="auto", pq=None, chrome=None,
            ech=None, exchanges=None, gap=(0.02, 0.6), srv_mss=None, case=None):
        """One TLS-over-TCP connection.  mode: auto, single, split2, split3,
        ooo, retx, trunc, recfrag, nosyn.  Returns the end time."""
        rng = self.rng
        srv = self.server(srv_addr)
        if chrome is None:
            chrome = rng.random() < 0.75
        if pq is None:
            pq = chrome and rng.random() < 0.8
        if ech is None and chrome and rng.random() < 0.6:
            ech = "grease"
        if mode == "auto":
            mode = "split3" if pq and rng.random() < 0.15 else ("split2" if pq else "single")
        if mode == "ooo":
            pq = True
        hs = tb.client_hello(rng, sni, pq=pq, chrome=chrome, ech=ech,
                             sni_early=(mode == "trunc"))
        if mode == "recfrag":
            rec = tb.records(hs, sizes=[rng.randint(180, 700)])
        else:
            rec = tb.records(hs)
        ts_opt = rng.random() < 0.6
        if mode == "split3" and srv_mss is None:
            # a small path MSS (tunnel, PPPoE) gives exactly three segments
            srv_mss = -(-len(rec) // 3) + (12 if ts_opt else 0) + rng.randint(0, 30)
        c = Tcp(self, cli, srv, port, srv_mss=srv_mss, ts_opt=ts_opt)
        if mode != "nosyn":
            t = c.handshake(t)
        else:
            c.cnxt, c.snxt = c.c_isn, c.s_isn  # capture began after the handshake
        segs = [rec[i:i + c.seg] for i in range(0, len(rec), c.seg)]
        if mode == "trunc":
            p = rec.find(tb.sni_ext(sni))
            cut = p + len(tb.sni_ext(sni)) + rng.randint(8, 120)
            assert 0 < p and cut < len(rec) - 100
            segs = [rec[:cut]]
        if mode in ("single", "nosyn"):
            assert len(segs) == 1, "ClientHello does not fit one segment"
        if mode == "split3":
            assert len(segs) == 3
        if mode in ("ooo", "retx", "split2"):
            assert len(segs) >= 2
        base = c.cnxt
        offs, o = [], base
        for s in segs:
            offs.append(o)
            o = (o + len(s)) & 0xFFFFFFFF
        order = list(range(len(segs)))
        if mode == "ooo":
            order[0], order[1] = 1, 0
        t += rng.uniform(0.0002, 0.003)
        t_ch = t
        for i in order:
            c.send(t, True, pkt.TCP_ACK | pkt.TCP_PSH, segs[i], seq=offs[i])
            t += rng.uniform(0.00002, 0.0002)
        if mode == "retx":
            t += 0.2 + rng.uniform(0, 0.05)
            c.send(t, True, pkt.TCP_ACK | pkt.TCP_PSH, segs[0], seq=offs[0])
        c.cnxt = o
        assert M.hour_of(t_ch) == M.hour_of(t), "ClientHello crosses an hour"
        self.count_tls(cli, srv_addr, t_ch, sni, ech, c.fid, case)
        if mode == "trunc":
            c.cnxt = offs[0] + len(segs[0])
            c.send(t + c.rtt, False, pkt.TCP_ACK)
            return t + c.rtt
        t += c.rtt
        t = c.bulk(t, False, tb.server_flight(rng, rng.randint(1300, 4300)))
        if exchanges is None:
            exchanges = rng.randint(1, 3)
        for _ in range(exchanges):
            t += rng.uniform(*gap)
            t = c.bulk(t, True, tb.app_data(rng, rng.randint(60, 1400)))
            t += c.rtt / 2
            t = c.bulk(t, False, tb.app_data(rng, rng.choice([rng.randint(100, 2000),
                                                                rng.randint(2000, 9000)])))
        return c.close(t + rng.uniform(0.01, 0.5))

    def count_tls(self, cli, srv_addr, t, sni, ech, fid, case):
        T = self.T
        if sni is not None:
            T.names["tls_sni"][sni] += 1
        is_ech = ech == "real" and sni is not None and \
            sni.lower().rstrip(".") == M.ECH_PUBLIC_NAME
        svc = M.match_service(sni)
        if is_ech:
            # resolved in finish(), once every DNS answer has been generated
            self.pending_ech.append((t, cli, str(ipaddress.ip_address(srv_addr)), fid, sni, case))
            return
        if svc:
            T.count("tls_conns", t, cli, svc)
            T.count_flow(fid, cli, svc)
        elif sni is None and not cli.ignored:
            T.blind["tls_no_sni"] += 1
        if case:
            T.cases.append(dict(case=case, kind="tls", time=int(t),
                                department="ignored" if cli.ignored else cli.dept,
                                sni=sni, service=None if cli.ignored else svc,
                                counted=bool(svc) and not cli.ignored))

    # -------------------------------------------------------------- QUIC

    def initials(self, version, dcid, scid, token, ch, nparts, pn, tail=0):
        """Client Initial datagrams (PN order) carrying ch as shuffled CRYPTO
        frames with PING/PADDING interleaved, each datagram 1250 bytes
        (the last one leaves `tail` bytes for a coalesced packet)."""
        rng = self.rng
        keys = q.initial_keys(version, dcid)
        pnls = [rng.randint(1, 4) for _ in range(nparts)]
        caps = [1250 - (tail if i == nparts - 1 else 0) -
                q.long_header_len(version, dcid, scid, token, pnl) - q.TAG_LEN
                for i, pnl in enumerate(pnls)]
        pieces, off = [], 0
        while off < len(ch):
            n = min(rng.randint(24, 380), len(ch) - off)
            pieces.append((off, ch[off:off + n]))
            off += n
        rng.shuffle(pieces)
        remaining = len(ch)
        out = []
        for i in range(nparts):
            left = nparts - i
            budget = caps[i] - 64
            quota = remaining if left == 1 else int(remaining / left * rng.uniform(0.85, 1.1))
            # later packets must still be able to hold the rest
            quota = max(quota, remaining - sum(caps[j] - 64 - 80 for j in range(i + 1, nparts)))
            frames, used, taken = [], 0, 0
            while pieces and taken < quota:
                o, data = pieces[0]
                hdr = 1 + len(q.varint(o)) + len(q.varint(len(data)))
                room = min(quota - taken, budget - used - hdr)
                if room <= 0:
                    break
                if len(data) > room:
                    pieces[0] = (o + room, data[room:])
                    data = data[:room]
                else:
                    pieces.pop(0)
                f = q.frame_crypto(o, data)
                frames.append(f)
                used += len(f)
                taken += len(data)
            remaining -= taken
            frames += [b"\x01"] * rng.randint(0, 2)
            frames += [b"\0" * rng.randint(1, 16) for _ in range(rng.randint(0, 3))]
            rng.shuffle(frames)
            pt = b"".join(frames)
            assert len(pt) <= caps[i]
            pt += b"\0" * (caps[i] - len(pt))
            out.append(q.protect_long(version, "initial", dcid, scid, pn, pnls[i], pt, keys,
                                      token=token))
            pn += 1
        assert not pieces and remaining == 0
        return out, pn

    def quic(self, cli, srv_addr, t, sni, *, version=None, nparts=None, reverse=None, pq=None,
             chrome=None, zero_rtt=False, corrupt=False, retry=False, exchanges=None,
             gap=(0.01, 0.5), case=None):
        rng = self.rng
        srv = self.server(srv_addr)
        if version is None:
            version = q.V2 if rng.random() < 0.15 else q.V1
        if chrome is None:
            chrome = rng.random() < 0.8
        if pq is None:
            pq = chrome and rng.random() < 0.85
        if nparts is None:
            nparts = rng.choice([2, 2, 3]) if pq else 1
        if reverse is None:
            reverse = nparts > 1 and rng.random() < 0.25
        fid = self.new_flow()
        cport = cli.eport(rng)
        self.flow_tuples[fid] = ("udp", str(cli.addr), cport, str(srv.addr), 443)
        dcid = rbytes(rng, 8)
        scid = rbytes(rng, 8) if rng.random() < 0.5 else b""
        ch = tb.client_hello(rng, sni, quic=True, pq=pq, chrome=chrome, scid=scid,
                             ech="grease" if chrome and rng.random() < 0.5 else None)
        rtt = rng.uniform(0.005, 0.06)

        def up(tt, d):
            self.udp(tt, cli, cli, srv, cport, 443, d, fid, True)

        def down(tt, d):
            self.udp(tt, cli, srv, cli, 443, cport, d, fid, False)

        def client_flight(tt, dc, token, pn):
            zlen = rng.randint(180, 420) if zero_rtt else 0
            dg, pn = self.initials(version, dc, scid, token, ch, nparts, pn, tail=zlen)
            if zero_rtt:
                hl = q.long_header_len(version, dc, scid, None, 2, ptype="0rtt")
                dg[-1] += q.unprotected_long(version, "0rtt", dc, scid, 2,
                                             rbytes(rng, zlen - hl + 2))
                assert len(dg[-1]) == 1250
            if corrupt:
                assert len(dg) == 1
                dg[0] = dg[0][:-1] + bytes([dg[0][-1] ^ 0x5A])
            order = list(range(len(dg)))
            if reverse:
                order.reverse()
            t1 = tt
            for i in order:
                up(tt, dg[i])
                tt += rng.uniform(0.00003, 0.0003)
            assert M.hour_of(t1) == M.hour_of(tt)
            return tt, pn, t1

        t, pn, t_ch = client_flight(t, dcid, b"", 0)
        self.count_quic(cli, t_ch, sni, corrupt, fid, case)
        if corrupt:
            return t
        if retry:
            t += rtt
            new_cid = rbytes(rng, 8)
            token = rbytes(rng, rng.randint(24, 60))
            down(t, q.retry_packet(version, dcid, scid, new_cid, token, rng.randrange(16)))
            self.T.blind["quic_retry"] += 1
            t += rng.uniform(0.0005, 0.002)
            dcid = new_cid
            t, pn, t_ch = client_flight(t, dcid, token, pn)
            self.count_quic(cli, t_ch, sni, False, fid, case and case + "/after-retry")
        # server: Initial (ACK + ServerHello) coalesced with a Handshake filler
        t += rtt
        srv_cid = rbytes(rng, 8)
        skeys = q.initial_keys(version, dcid, "server")
        spt = q.frame_ack(pn - 1, rng.randint(0, 40)) + q.frame_crypto(0, tb.server_hello(rng))
        sinit = q.protect_long(version, "initial", scid, srv_cid, 0, 2, spt, skeys)
        hlen = rng.randint(1100, 1250) - len(sinit)
        hhl = q.long_header_len(version, scid, srv_cid, None, 2, ptype="handshake")
        down(t, sinit + q.unprotected_long(version, "handshake", scid, srv_cid, 2,
                                           rbytes(rng, hlen - hhl + 2)))
        for _ in range(rng.randint(1, 3)):
            t += rng.uniform(0.00005, 0.0004)
            hl = rng.randint(300, 1250)
            down(t, q.unprotected_long(version, "handshake", scid, srv_cid, 2,
                                       rbytes(rng, hl - hhl + 2)))
        t += rng.uniform(0.001, 0.01)
        up(t, q.unprotected_long(version, "handshake", srv_cid, scid, 2,
                                 rbytes(rng, rng.randint(60, 120))))

        def short(dc, n):
            return bytes([0x40 | rng.randrange(64)]) + dc + rbytes(rng, n)

        if exchanges is None:
            exchanges = rng.randint(2, 5)
        for _ in range(exchanges):
            t += rng.uniform(*gap)
            up(t, short(srv_cid, rng.randint(30, 1200)))
            t += rtt
            for _ in range(rng.randint(1, 4)):
                t += rng.uniform(0.00005, 0.0004)
                down(t, short(scid, rng.randint(30, 1240)))
            t += rng.uniform(0.001, 0.02)
            up(t, short(srv_cid, rng.randint(25, 60)))
        return t

    def count_quic(self, cli, t, sni, corrupt, fid, case):
        T = self.T
        if corrupt:
            if not cli.ignored:
                T.blind["auth_fail_quic"] += 1
        else:
            if sni is not None:
                T.names["quic_sni"][sni] += 1
            svc = M.match_service(sni)
            if svc:
                T.count("quic_conns", t, cli, svc)
                T.count_flow(fid, cli, svc)
        if case:
            svc = None if corrupt or cli.ignored else M.match_service(sni)
            T.cases.append(dict(case=case, kind="quic", time=int(t),
                                department="ignored" if cli.ignored else cli.dept,
                                sni=sni, service=svc, counted=bool(svc)))

    def quic_vn(self, cli, srv_addr, t):
        """Client offers a reserved version; server answers Version
        Negotiation.  Nothing to count."""
        rng = self.rng
        srv = self.server(srv_addr)
        cport = cli.eport(rng)
        fid = self.new_flow()
        dcid, scid = rbytes(rng, 8), rbytes(rng, 8)
        ver = 0x1A2A3A4A
        hdr = bytes([0xC0 | rng.randrange(16)]) + struct.pack("!I", ver) + b"\x08" + dcid + \
            b"\x08" + scid + b"\x00"
        body_len = 1250 - len(hdr) - 2
        d = hdr + q.varint(body_len, 2) + rbytes(rng, body_len)
        self.udp(t, cli, cli, srv, cport, 443, d, fid, True)
        t += rng.uniform(0.005, 0.05)
        self.udp(t, cli, srv, cli, 443, cport,
                 q.version_negotiation(scid, dcid, [q.V1, q.V2, 0x0A1A2A3A], rng.randrange(128)),
                 fid, False)
        self.T.blind["quic_version_negotiation"] += 1
        self.T.cases.append(dict(case="quic-version-negotiation", kind="quic", time=int(t),
                                 department=cli.dept, sni=None, service=None, counted=False))
        return t

    # ------------------------------------------------------------- noise

    def noise_tcp(self, cli, t):
        rng = self.rng
        srv = self.server(rng.choice(M.NOISE_V6 if cli.v6 else M.NOISE_V4))
        port = rng.choice([443, 443, 80, 22, 8080])
        c = Tcp(self, cli, srv, port)
        t = c.handshake(t)
        if port == 80:
            host = rng.choice(M.NOISE_NAMES)
            req = ("GET /%x HTTP/1.1\r\nHost: %s\r\nUser-Agent: synth\r\nAccept: */*\r\n\r\n"
                   % (rng.getrandbits(32), host)).encode()
            t = c.bulk(t + 0.001, True, req)
            body = rbytes(rng, rng.randint(100, 3000))
            t = c.bulk(t + c.rtt, False, b"HTTP/1.1 200 OK\r\nContent-Type: application/"
                       b"octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        else:
            for _ in range(rng.randint(1, 3)):
                t = c.bulk(t + rng.uniform(0.001, 0.3), True, rbytes(rng, rng.randint(20, 1500)))
                t = c.bulk(t + c.rtt, False, rbytes(rng, rng.randint(20, 4000)))
        return c.close(t + 0.01)

    def noise_udp(self, cli, t):
        rng = self.rng
        srv = self.server(rng.choice(M.NOISE_V6 if cli.v6 else M.NOISE_V4))
        dport = rng.choice([123, 3478, 5004, 51820, 4500, 1194])
        sport = cli.eport(rng)
        for _ in range(rng.randint(1, 4)):
            self.udp(t, cli, cli, srv, sport, dport, rbytes(rng, rng.randint(8, 600)))
            t += rng.uniform(0.005, 0.05)
            self.udp(t, cli, srv, cli, dport, sport, rbytes(rng, rng.randint(8, 600)))
            t += rng.uniform(0.01, 0.5)
        return t

    def noise_tls(self, cli, t):
        rng = self.rng
        name = rng.choice(M.NOISE_NAMES)
        t, addrs = self.lookup(cli, t, name)
        addr = addrs[0] if addrs else rng.choice(M.NOISE_V6 if cli.v6 else M.NOISE_V4)
        return self.tls(cli, addr, t + 0.001, name, exchanges=1)

    def benign_non_ip(self, t):
        """ARP and ICMP: not interesting, not malformed."""
        rng = self.rng
        dev = rng.choice(self.all_devices())
        if not dev.v6:
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, dev.mac, dev.addr.packed,
                              b"\0" * 6, ipaddress.ip_address("10.0.0.1").packed)
            self.raw(t, pkt.eth(b"\xff" * 6, dev.mac, dev.tags, pkt.ETH_ARP, arp))
            icmp = b"\x08\x00\x00\x00" + struct.pack("!HH", rng.getrandbits(16), 1) + rbytes(rng, 48)
            icmp = icmp[:2] + struct.pack("!H", pkt.checksum(icmp)) + icmp[4:]
            srv = self.server(rng.choice(M.NOISE_V4))
            self.emit(t + 0.001, dev, dev, srv, 1, icmp)

    # ------------------------------------------------------------ devices

    def make_devices(self):
        rng = self.rng
        sc = self.scale

        def n(k):
            return max(1, int(round(k * sc)))

        def pick(net, count, used):
            out = []
            net = ipaddress.ip_network(net)
            while len(out) < count:
                if net.version == 4:
                    a = net.network_address + rng.randrange(2, min(net.num_addresses - 2, 65000))
                else:
                    a = net.network_address + rng.getrandbits(64)
                if a not in used:
                    used.add(a)
                    out.append(a)
            return out

        used = set()
        D = self.devices
        D["Finance"] = [self.host(a, "client") for a in pick("10.10.0.0/16", n(30), used)]
        D["Engineering"] = [self.host(a, "client") for a in pick("10.20.0.0/16", n(24), used)] + \
            [self.host(a, "client") for a in pick("2001:db8:20::/48", n(14), used)]
        sales_tag = [(pkt.TPID_8021Q, 30)]
        D["Sales"] = [self.host(a, "client", sales_tag) for a in pick("10.30.0.0/16", n(22), used)] + \
            [self.host(a, "client", sales_tag) for a in pick("172.16.30.0/24", n(3), used)]
        rs_tags = [(pkt.TPID_8021AD, 100), (pkt.TPID_8021Q, 40)]
        D["Research"] = [self.host(a, "client", rs_tags) for a in pick("10.40.0.0/16", n(20), used)]
        D["unassigned"] = [self.host(a, "client") for a in pick("192.168.77.0/24", n(8), used)]
        svcs = list(M.POPULARITY)
        weights = [M.POPULARITY[s] for s in svcs]
        for dept, devs in D.items():
            for d in devs:
                assert d.dept == dept, (dept, d.dept)
                k = rng.choice([1, 1, 2, 2, 3])
                fav = []
                while len(fav) < k:
                    s = rng.choices(svcs, weights)[0]
                    if s not in fav:
                        fav.append(s)
                d.favorites = fav

    def all_devices(self):
        return [d for dept in sorted(self.devices) for d in self.devices[dept]]

    def dev(self, dept, i, v6=False):
        devs = [d for d in self.devices[dept] if d.v6 == v6]
        return devs[i % len(devs)]

    # ------------------------------------------------------------- bulk

    def session(self, d, t):
        rng = self.rng
        r = rng.random()
        if r < 0.66:
            svc = rng.choice(d.favorites) if rng.random() < 0.85 else \
                rng.choice(list(M.POPULARITY))
            name = rng.choice(M.TRAFFIC_NAMES[svc])
        elif r < 0.78:
            name = rng.choice(M.DECOYS)
        elif r < 0.88:
            return self.noise_tcp(d, t) if rng.random() < 0.7 else self.noise_udp(d, t)
        else:
            return self.noise_tls(d, t)
        nx = rng.random() < 0.06
        addrs = []
        if rng.random() < 0.85 or nx:
            t, addrs = self.lookup(d, t, name, nx=nx, retransmit=rng.random() < 0.05)
            if nx:
                return t
        if rng.random() < 0.15:
            return t   # looked up but did not connect
        if not addrs:
            addrs = self.answer_addrs(name, "AAAA" if d.v6 else "A")
        addr = rng.choice(addrs)
        sni = case_mix(rng, name) if rng.random() < 0.05 else name
        t += rng.uniform(0.0005, 0.02)
        if rng.random() < 0.35:
            return self.quic(d, addr, t, sni)
        return self.tls(d, addr, t, sni)

    def bulk(self):
        rng = self.rng
        for d in self.all_devices():
            slots = []
            for _ in range(rng.randint(2, 5)):
                h = rng.randrange(M.DAY1_HOURS)
                slots.append(M.START + h * 3600 + rng.uniform(5, 3600 - 60))
            if rng.random() < 0.35:
                for _ in range(rng.randint(1, 2)):
                    slots.append(M.DAY2_START + rng.uniform(5, M.DAY2_SPAN - 60))
            for t in sorted(slots):
                self.session(d, t)
        for _ in range(int(40 * self.scale)):
            self.benign_non_ip(M.START + rng.uniform(0, M.DAY1_HOURS * 3600))

    # ---------------------------------------------------------- specials

    def specials(self):
        rng = self.rng
        slot = [0]

        def at():
            i = slot[0]
            slot[0] += 1
            return M.START + (i % 3) * 3600 + 200 + (i // 3) * 45 + rng.uniform(0, 5)

        D = self.dev
        c4 = M.SVC_V4
        c6 = M.SVC_V6
        # --- TLS variants
        self.tls(D("Finance", 0), c4["openai-chatgpt"][0], at(), "chatgpt.com",
                 mode="single", chrome=False, pq=False, case="tls-single-segment")
        self.tls(D("Engineering", 0, False), c4["openai-chatgpt"][1], at(), "chatgpt.com",
                 mode="split2", pq=True, chrome=True, case="tls-pq-2-segments")
        self.tls(D("Sales", 0), c4["anthropic-claude"][0], at(), "claude.ai",
                 mode="split3", pq=True, chrome=True, case="tls-pq-3-segments")
        self.tls(D("Engineering", 0, True), c6["deepseek"][0], at(), "chat.deepseek.com",
                 mode="split3", pq=True, chrome=True, case="tls-pq-3-segments-ipv6")
        self.tls(D("Research", 0), c4["google-gemini"][0], at(), "gemini.google.com",
                 mode="ooo", case="tls-out-of-order")
        self.tls(D("Finance", 1), c4["mistral-lechat"][0], at(), "chat.mistral.ai",
                 mode="retx", pq=True, chrome=True, case="tls-retransmitted-segment")
        self.tls(D("Sales", 1), c4["openai-chatgpt"][2], at(), "ab.chatgpt.com",
                 mode="trunc", pq=True, chrome=True, case="tls-truncated-after-sni")
        self.tls(D("Engineering", 1, False), c4["anthropic-claude"][1], at(), "claude.ai.",
                 case="tls-trailing-dot")
        self.tls(D("Research", 1), c4["openai-chatgpt"][0], at(), "ChatGPT.com",
                 case="tls-mixed-case")
        self.tls(D("unassigned", 0), c4["google-gemini"][1], at(), "Gemini.Google.COM",
                 case="tls-mixed-case-unassigned")
        self.tls(D("Finance", 2), c4["openai-chatgpt"][0], at(), None, case="tls-no-sni")
        for i, name in enumerate(M.DECOYS):
            dept = ["Finance", "Engineering", "Sales", "Research", "unassigned"][i]
            self.tls(D(dept, 2), M.DECOY_V4[name][0], at(), name, case="tls-decoy")
        self.tls(D("Finance", 3), c4["anthropic-claude"][0], at(), "claude.ai", port=8443,
                 case="tls-port-8443")
        self.tls(D("Engineering", 2, False), c4["openai-chatgpt"][1], at(), "chatgpt.com",
                 mode="recfrag", pq=True, chrome=True, case="tls-record-fragmented")
        self.tls(D("Research", 2), c4["deepseek"][0], at(), "deepseek.com", mode="nosyn",
                 pq=False, chrome=False, case="tls-no-syn-captured")
        self.tls(self.resolver, c4["openai-chatgpt"][0], at(), "chatgpt.com",
                 case="tls-from-ignored-address")
        # --- ECH
        self.ech_case(D("Sales", 2), at(), "claude.ai", "203.0.113.23", "ech-attributed-claude")
        self.ech_case(D("Finance", 4), at(), "chatgpt.com", "203.0.113.13",
                      "ech-attributed-chatgpt")
        self.ech_case(D("Engineering", 3, True), at(), "claude.ai", "2001:db8:ffff::23",
                      "ech-attributed-claude-ipv6")
        self.ech_case(D("Research", 3), at(), None, "203.0.113.99", "ech-unattributed-no-answer")
        self.ech_case(D("unassigned", 1), at(), "example.org", "203.0.113.73",
                      "ech-unattributed-decoy-answer")
        ts = at()
        self.ech_case(D("Finance", 5), ts, "claude.ai", "203.0.113.24", "ech-unattributed-stale",
                      delay=1800, ttl=60)
        ts = at()
        x, y = D("Engineering", 4, False), D("Engineering", 5, False)
        self.dns(x, ts, "claude.ai", "A", addrs=["203.0.113.26"], cnames=[], ttl=300)
        self.tls(y, "203.0.113.26", ts + 3, M.ECH_PUBLIC_NAME, ech="real", chrome=True,
                 case="ech-unattributed-other-client")
        # --- hour-boundary straddlers (bytes land in two hours)
        for h, (dept, kind) in enumerate([("Finance", "tls"), ("Sales", "quic"),
                                          ("Research", "tls")]):
            hb = M.START + (1 + h % 2) * 3600
            dv = D(dept, 6)
            if kind == "tls":
                self.tls(dv, c4["openai-chatgpt"][h % 3], hb - 3.5, "chatgpt.com", exchanges=4,
                         gap=(1.5, 2.0), case="straddle-hour-tls")
            else:
                self.quic(dv, c4["anthropic-claude"][0], hb - 3.5, "claude.ai", exchanges=4,
                          gap=(1.5, 2.0), case="straddle-hour-quic")
        # --- QUIC variants
        self.quic(D("Finance", 7), c4["openai-chatgpt"][0], at(), "chatgpt.com", version=q.V1,
                  nparts=2, pq=True, chrome=True, reverse=False, case="quic-v1-pq-2-packets")
        self.quic(D("Sales", 3), c4["anthropic-claude"][1], at(), "claude.ai", version=q.V1,
                  nparts=3, pq=True, chrome=True, reverse=True, case="quic-v1-pq-3-reversed")
        self.quic(D("Engineering", 6, True), c6["google-gemini"][0], at(), "gemini.google.com",
                  version=q.V2, nparts=2, pq=True, chrome=True, case="quic-v2-ipv6")
        self.quic(D("Research", 4), c4["deepseek"][1], at(), "chat.deepseek.com", version=q.V2,
                  nparts=3, pq=True, chrome=True, reverse=True, case="quic-v2-3-reversed")
        self.quic(D("unassigned", 2), c4["mistral-lechat"][0], at(), "chat.mistral.ai",
                  version=q.V1, nparts=1, pq=False, chrome=False, case="quic-v1-single-packet")
        self.quic(D("Finance", 8), c4["openai-chatgpt"][1], at(), "chatgpt.com", version=q.V1,
                  nparts=1, pq=False, chrome=False, corrupt=True, case="quic-corrupted-tag")
        self.quic_vn(D("Engineering", 7, False), c4["openai-chatgpt"][2], at())
        self.quic(D("Sales", 4), c4["openai-chatgpt"][2], at(), "chatgpt.com", version=q.V1,
                  nparts=2, pq=True, chrome=True, retry=True, case="quic-retry")
        self.quic(D("Research", 5), c4["anthropic-claude"][0], at(), "claude.ai", version=q.V2,
                  nparts=1, pq=False, chrome=False, retry=True, case="quic-v2-retry")
        self.quic(D("Finance", 9), c4["anthropic-claude"][1], at(), "api.claude.ai",
                  version=q.V1, nparts=1, pq=False, chrome=False, zero_rtt=True,
                  case="quic-initial-coalesced-0rtt")
        self.quic(D("Engineering", 8, False), M.DECOY_V4["www.google.com"][0], at(),
                  "www.google.com", case="quic-decoy")
        self.quic(D("Research", 6), c4["anthropic-claude"][1], at(), "Claude.AI.",
                  version=q.V1, nparts=2, pq=True, chrome=True, case="quic-mixed-case-trailing-dot")
        self.quic(self.resolver, c4["deepseek"][0], at(), "deepseek.com",
                  case="quic-from-ignored-address")
        # --- DNS
        qs = [("chatgpt.com", "A"), ("claude.ai", "A"), ("claude.ai", "AAAA"),
              ("gemini.google.com", "A"), ("www.google.com", "A"), ("deepseek.com", "A"),
              ("api.mistral.ai", "A")]
        L = [len(db.tcp_frame(db.query(0, n, DNS_QTYPES[t_]))) for n, t_ in qs]
        plan_a = [[(0, 0, L[0])], [(1, 0, L[1]), (2, 0, L[2])],
                  [(3, 0, L[3]), (4, 0, L[4]), (5, 0, L[5])], ("retx", 2),
                  [(6, 0, 9)], [(6, 9, L[6])]]
        self.dns_tcp(D("Finance", 10), at(), qs, plan_a)
        self.T.cases.append(dict(case="dns-tcp-batched-split-retransmitted", kind="dns"))
        qs_b = [("ChatGPT.com", "A"), ("api.openai.com", "A"), ("mistral.ai", "AAAA"),
                ("example.org", "A")]
        L = [len(db.tcp_frame(db.query(0, n, DNS_QTYPES[t_]))) for n, t_ in qs_b]
        plan_b = [[(0, 0, 1)], [(0, 1, L[0]), (1, 0, L[1])], [(2, 0, L[2]), (3, 0, 20)],
                  [(3, 20, L[3])]]
        self.dns_tcp(D("Sales", 5), at(), qs_b, plan_b)
        self.T.cases.append(dict(case="dns-tcp-split-length-prefix", kind="dns"))
        dv = D("Research", 7)
        for svc in M.SVC_IDS:
            self.dns(dv, at(), M.TRAFFIC_NAMES[svc][0], "A", rcode=db.RC_NXDOMAIN)
        self.dns(dv, at(), "notchatgpt.com", "A", rcode=db.RC_NXDOMAIN)
        self.T.cases.append(dict(case="dns-nxdomain-each-service", kind="dns"))
        self.dns(D("Finance", 11), at(), "cHaTgPt.CoM", "A", retransmit=True)
        self.T.cases.append(dict(case="dns-0x20-retransmitted", kind="dns"))
        self.dns(D("Engineering", 9, True), at(), "claude.ai", "AAAA",
                 cnames=["claude.ai.edge0.cdn.example.net", "lb7.cdn.example.net"])
        self.dns(self.resolver, at(), "chatgpt.com", "A", res=self.upstream, rcode=db.RC_NXDOMAIN)
        self.T.cases.append(dict(case="dns-from-ignored-resolver", kind="dns"))
        for name in M.DECOYS:
            self.dns(D("unassigned", 3), at(), name, "A")
        # --- hostile
        self.hostile(at)

    def ech_case(self, cli, t, qname, addr, case, delay=3.0, ttl=300):
        """Optional answer of `addr` for `qname` to cli, then an ECH
        connection (outer SNI = public name) to addr `delay` seconds later."""
        if qname is not None:
            qt = "AAAA" if ipaddress.ip_address(addr).version == 6 else "A"
            t = self.dns(cli, t, qname, qt, addrs=[addr], cnames=[], ttl=ttl)
        self.tls(cli, addr, t + delay, M.ECH_PUBLIC_NAME, ech="real", chrome=True, case=case)

    # ----------------------------------------------------------- hostile

    def hostile(self, at):
        rng = self.rng
        T = self.T
        cli = self.dev("Finance", 12)
        cli6 = self.dev("Engineering", 10, True)
        srv = self.server(M.SVC_V4["openai-chatgpt"][0])
        n0 = self.seq

        def frame(t, ethertype, payload, link=cli, pad=True):
            self.raw(t, pkt.eth(GW_MAC, link.mac, link.tags, ethertype, payload, pad=pad))
            T.clients.add(str(link.addr))

        dnsq = db.query(0x4242, "chatgpt.com", db.QT_A)
        udpq = pkt.udp(cli.addr, self.resolver.addr, 40001, 53, dnsq)
        t = at()
        # truncated IPv4 header
        frame(t, pkt.ETH_IPV4, pkt.ipv4(cli.addr, srv.addr, 6, b"")[:10], pad=False)
        # IPv4 OK but TCP header cut to 8 bytes
        tcpseg = pkt.tcp(cli.addr, srv.addr, 40002, 443, 1, 0, pkt.TCP_SYN)
        frame(t + 0.01, pkt.ETH_IPV4, pkt.ipv4(cli.addr, srv.addr, 6, tcpseg[:8]))
        # UDP header cut to 4 bytes
        frame(t + 0.02, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17, udpq[:4]))
        # TCP data offset 15 with a 20-byte header
        bad = bytearray(pkt.tcp(cli.addr, srv.addr, 40003, 443, 1, 0, pkt.TCP_SYN))
        bad[12] = 0xF0
        frame(t + 0.03, pkt.ETH_IPV4, pkt.ipv4(cli.addr, srv.addr, 6, bytes(bad)))
        # IPv4 total length larger than the frame (DNS query for chatgpt.com inside)
        frame(t + 0.04, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17, udpq,
                                               total_len=20 + len(udpq) + 100))
        # IPv4 total length smaller than its header
        frame(t + 0.05, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17, udpq,
                                               total_len=12))
        # IHL 3
        frame(t + 0.06, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17, udpq, ihl=3))
        # IPv6 payload length larger than the frame (DNS query for claude.ai)
        r6 = self.server(M.PUBLIC_RESOLVER_V6)
        u6 = pkt.udp(cli6.addr, r6.addr, 40004, 53, db.query(0x4343, "claude.ai", db.QT_AAAA))
        frame(t + 0.07, pkt.ETH_IPV6, pkt.ipv6(cli6.addr, r6.addr, 17, u6, plen=len(u6) + 200),
              link=cli6)
        # UDP length larger than the IP payload / smaller than 8
        frame(t + 0.08, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17,
                                               pkt.udp(cli.addr, self.resolver.addr, 40005, 53,
                                                       dnsq, length=400)))
        frame(t + 0.09, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17,
                                               pkt.udp(cli.addr, self.resolver.addr, 40006, 53,
                                                       dnsq, length=4)))
        # IPv6 hop-by-hop header running past the packet
        hbh = bytes([17, 30]) + b"\x01\x04\0\0\0\0"
        frame(t + 0.10, pkt.ETH_IPV6, pkt.ipv6(cli6.addr, r6.addr, 0, hbh), link=cli6)
        # non-first IPv4 fragment whose payload looks like UDP/53 + DNS query
        frag = pkt.udp(cli.addr, self.resolver.addr, 40007, 53, dnsq)
        frame(t + 0.11, pkt.ETH_IPV4, pkt.ipv4(cli.addr, self.resolver.addr, 17, frag,
                                               df=False, frag_off=185))
        # 802.1Q tag and then nothing
        self.raw(t + 0.12, GW_MAC + cli.mac + b"\x81\x00\x00\x1e", None)
        # short / garbage frames
        self.raw(t + 0.13, b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a")
        for i in range(8):
            et = [0x0800, 0x86DD, 0x8100, 0x88A8, 0x1234, 0x0800, 0x86DD, 0x8864][i]
            self.raw(t + 0.14 + i * 0.001, rbytes(rng, 12) + struct.pack("!H", et) +
                     rbytes(rng, rng.randint(0, 300)))
        t = at()
        # DNS queries with broken names
        hdr = struct.pack("!HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
        loops = [
            hdr + b"\x07chatgpt\xc0\x0c" + b"\x00\x01\x00\x01",              # points at itself
            hdr + b"\xc0\x12\x00\x01\x00\x01" + b"\x07chatgpt\xc0\x0c",        # forward then back
            hdr + b"\x07chatgpt\x03com\xc0\x14" + b"\x00\x01\x00\x01",         # into its own labels
            hdr + b"\x07chatgpt\x43com\x00" + b"\x00\x01\x00\x01",             # 0x40 label type
            hdr + b"\x07chatgpt\x03co",                                        # cut inside name
            hdr + b"".join(b"\x3f" + b"a" * 63 for _ in range(4)) + b"\x07chatgpt\x03com\x00"
            + b"\x00\x01\x00\x01",                                              # > 255 octets
        ]
        for i, m in enumerate(loops):
            self.udp(t + i * 0.01, cli, cli, self.resolver, 40010 + i, 53, m)
        # TLS ClientHello: an extension length runs past the extension block
        c = Tcp(self, cli, srv, 443)
        tt = c.handshake(t + 0.2)
        hs = tb.client_hello(rng, "chatgpt.com", pq=False, chrome=False, bad_ext_len=True)
        c.send(tt + 0.001, True, pkt.TCP_ACK | pkt.TCP_PSH, tb.records(hs))
        c.send(tt + 0.001 + c.rtt, False, pkt.TCP_RST | pkt.TCP_ACK)
        # TLS record claiming 0xffff bytes (above the TLS maximum)
        c = Tcp(self, cli, srv, 443)
        tt = c.handshake(t + 0.4)
        hs = tb.client_hello(rng, "claude.ai", pq=False, chrome=False)
        c.send(tt + 0.001, True, pkt.TCP_ACK | pkt.TCP_PSH, b"\x16\x03\x01\xff\xff" + hs)
        c.send(tt + 0.001 + c.rtt, False, pkt.TCP_RST | pkt.TCP_ACK)
        # QUIC Initial with an absurd Length
        dcid = rbytes(rng, 8)
        h = bytes([0xC1]) + struct.pack("!I", q.V1) + b"\x08" + dcid + b"\x00\x00" + \
            q.varint(0x3FFF0000, 4)
        self.udp(t + 0.6, cli, cli, srv, cli.eport(rng), 443, h + rbytes(rng, 1250 - len(h)))
        T.blind["hostile_frames"] += self.seq - n0
        T.cases.append(dict(case="hostile", kind="hostile", frames=self.seq - n0))

    # ------------------------------------------------------------ output

    def resolve_ech(self):
        T = self.T
        for t, cli, addr, fid, sni, case in self.pending_ech:
            esvc = None if cli.ignored else T.ech_lookup(t, str(cli.addr), addr)
            if cli.ignored:
                pass
            elif esvc:
                T.count("ech_conns", t, cli, esvc)
                T.count_flow(fid, cli, esvc)
            else:
                T.blind["ech_unattributed"] += 1
            if case:
                T.cases.append(dict(case=case, kind="tls-ech", time=int(t), department=cli.dept,
                                    sni=sni, service=esvc, counted=bool(esvc)))

    def finish(self, out):
        self.resolve_ech()
        self.recs.sort(key=lambda r: (r[0], r[1]))
        os.makedirs(out, exist_ok=True)
        pkt.write_pcap(os.path.join(out, "traffic.pcap"), ((r[0], r[2]) for r in self.recs))
        self.T.add_bytes(self.recs)
        write_confs(out)
        T = self.T
        truth = {
            "meta": {
                "generator": "tests/synth/synth.py", "seed": self.seed, "scale": self.scale,
                "packets": len(self.recs), "flows": self.nflows,
                "first_ts": self.recs[0][0] / 1e6, "last_ts": self.recs[-1][0] / 1e6,
                "timezone": "UTC", "min_group_size_applied": False,
                "exact_blind_keys": ["ech_unattributed", "auth_fail_quic"],
            },
            "usage": T.usage_rows(),
            "devices_day": T.device_rows(T.dev_day, "day"),
            "devices_week": T.device_rows(T.dev_week, "week"),
            # the device sets themselves, so margins (a department over all
            # its services, a category) can be checked exactly
            "device_sets": {
                "day": [[k[0], k[1], k[2], sorted(v)] for k, v in sorted(T.dev_day.items())],
                "week": [[k[0], k[1], k[2], sorted(v)] for k, v in sorted(T.dev_week.items())],
            },
            "blind": {k: T.blind[k] for k in sorted(T.blind)},
            "client_addresses": sorted(T.clients),
            "server_addresses": sorted(T.servers),
            "names": {k: dict(sorted(v.items())) for k, v in T.names.items()},
            "totals": totals(T),
            "counted_flows": [
                dict(zip(("proto", "client", "client_port", "server", "server_port"),
                         self.flow_tuples[f]), service=T.flows[f][0], department=T.flows[f][1])
                for f in sorted(T.flows)],
            "cases": T.cases,
        }
        with open(os.path.join(out, "truth.json"), "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True)
            f.write("\n")
        return truth


def totals(T):
    tot = {}
    for (hour, dept, svc), c in T.cells.items():
        d = tot.setdefault(svc, {f: 0 for f in M.FIELDS})
        for f in M.FIELDS:
            d[f] += c[f]
    return {k: tot[k] for k in sorted(tot)}


def write_confs(out):
    deps = []
    for d in M.DEPARTMENTS:
        s = '    { name = "%s"; prefixes = [%s];' % (
            d["name"], ", ".join('"%s"' % p for p in d["prefixes"]))
        if d["vlans"]:
            s += " vlans = [%s];" % ", ".join(str(v) for v in d["vlans"])
        deps.append(s + " }")
    conf = (
        "# aicensusd configuration for the synthetic end-to-end test\n"
        "# (generated by tests/synth/synth.py)\n"
        "aicensus: {\n"
        '  database = "aicensus.db";\n'
        '  state_dir = "state";\n'
        '  catalog = "catalog.conf";\n'
        '  user = "";\n'
        '  timezone = "UTC";\n'
        "  min_group_size = 2;\n"
        "  flush_interval = 60;\n"
        '  ignore = ["%s"];\n'
        '  ech_public_names = ["%s"];\n'
        '  sanctioned = ["openai-chatgpt"];\n'
        "  vlan_departments = true;\n"
        "  departments = (\n%s\n  );\n"
        "};\n") % (M.RESOLVER, M.ECH_PUBLIC_NAME, ",\n".join(deps))
    with open(os.path.join(out, "aicensus.conf"), "w") as f:
        f.write(conf)

    def arr(v):
        return "[" + ", ".join('"%s"' % x for x in v) + "]"
    svcs = []
    for s in M.SERVICES:
        svcs.append(
            '  {\n    id = "%s";\n    name = "%s";\n    vendor = "%s";\n    category = "%s";\n'
            '    jurisdiction = "%s";\n    domains = %s;\n    hosts = %s;\n  }'
            % (s["id"], s["name"], s["vendor"], s["category"], s["jurisdiction"],
               arr(s["domains"]), arr(s["hosts"])))
    cat = ("# Catalog for the synthetic end-to-end test (generated by tests/synth/synth.py)\n"
           "version = 1;\nservices = (\n%s\n);\n") % ",\n".join(svcs)
    with open(os.path.join(out, "catalog.conf"), "w") as f:
        f.write(cat)


# ---------------------------------------------------------- self-check

def _decode(fr):
    """Independent frame walker for the self-check: returns (vlan, proto,
    src, dst, sport, dport, payload) for well-formed unfragmented TCP/UDP
    packets, else None."""
    p, vlan = 12, None
    if len(fr) < 14:
        return None
    et = struct.unpack_from("!H", fr, p)[0]
    while et in (0x8100, 0x88A8):
        if len(fr) < p + 6:
            return None
        if et == 0x8100:
            vlan = struct.unpack_from("!H", fr, p + 2)[0] & 0xFFF
        p += 4
        et = struct.unpack_from("!H", fr, p)[0]
    p += 2
    if et == 0x0800 and len(fr) >= p + 20:
        ihl = (fr[p] & 15) * 4
        tl = struct.unpack_from("!H", fr, p + 2)[0]
        if fr[p] >> 4 != 4 or ihl < 20 or tl < ihl or p + tl > len(fr) or \
                struct.unpack_from("!H", fr, p + 6)[0] & 0x3FFF:
            return None
        proto = fr[p + 9]
        src = ipaddress.ip_address(fr[p + 12:p + 16])
        dst = ipaddress.ip_address(fr[p + 16:p + 20])
        l4 = fr[p + ihl:p + tl]
    elif et == 0x86DD and len(fr) >= p + 40:
        pl = struct.unpack_from("!H", fr, p + 4)[0]
        if p + 40 + pl > len(fr):
            return None
        proto = fr[p + 6]
        src = ipaddress.ip_address(fr[p + 8:p + 24])
        dst = ipaddress.ip_address(fr[p + 24:p + 40])
        l4 = fr[p + 40:p + 40 + pl]
    else:
        return None
    if proto == 17:
        if len(l4) < 8 or struct.unpack_from("!H", l4, 4)[0] != len(l4):
            return None
        sport, dport = struct.unpack_from("!HH", l4)
        return vlan, "udp", str(src), str(dst), sport, dport, l4[8:]
    if proto == 6:
        if len(l4) < 20 or (l4[12] >> 4) * 4 < 20 or (l4[12] >> 4) * 4 > len(l4):
            return None
        sport, dport = struct.unpack_from("!HH", l4)
        return vlan, "tcp", str(src), str(dst), sport, dport, l4[(l4[12] >> 4) * 4:]
    return None


def self_check(path, truth):
    """Independent pass over the written pcap (its own frame walker, DNS
    parser, QUIC decryptor using cryptography's HKDF): QUIC SNIs per
    (client, original DCID), UDP DNS query names, QUIC tag failures, and
    bytes per (hour, department, service) of the counted 5-tuples, all
    compared with truth.json."""
    import collections
    from cryptography.exceptions import InvalidTag
    crypto = collections.defaultdict(dict)
    auth_fail = 0
    dns_q = collections.Counter()
    flows = {}
    for f in truth["counted_flows"]:
        flows[(f["proto"], f["client"], f["client_port"], f["server"], f["server_port"])] = f
    nbytes = collections.Counter()
    for ts, fr in pkt.read_pcap(path):
        d = _decode(fr)
        if d is None:
            continue
        vlan, proto, src, dst, sport, dport, data = d
        for key, up in (((proto, src, sport, dst, dport), True),
                        ((proto, dst, dport, src, sport), False)):
            f = flows.get(key)
            if f and data:
                dept = M.dept_of(f["client"], vlan)
                assert dept == f["department"]
                nbytes[(M.hour_of(ts // 1000000), dept, f["service"],
                        "bytes_up" if up else "bytes_down")] += len(data)
        if proto != "udp":
            continue
        if dport == 53:
            try:
                qr, rc, name = db.parse_qname(data)
            except (ValueError, IndexError, UnicodeDecodeError):
                continue
            if qr == 0:
                dns_q[name.lower()] += 1
        if dport == 443:
            try:
                r = q.decrypt_initial(data)
            except InvalidTag:
                auth_fail += 1
                continue
            except (ValueError, IndexError):
                continue
            if r is None:
                continue
            ver, dcid, pn, pt, _ = r
            for off, cd in q.crypto_frames(pt):
                crypto[(src, dcid)][off] = cd
    quic_sni = collections.Counter()
    for key, parts in crypto.items():
        buf = b""
        for off in sorted(parts):
            assert off == len(buf), "CRYPTO gap"
            buf += parts[off]
        quic_sni[tb.parse_client_hello(buf)["sni"]] += 1
    want_q = collections.Counter(truth["names"]["quic_sni"])
    assert quic_sni == want_q, (quic_sni, want_q)
    assert auth_fail == truth["blind"].get("auth_fail_quic", 0), auth_fail
    want_d = collections.Counter(truth["names"]["dns_query"])
    want_d.subtract(truth["names"]["dns_query_tcp"])
    want_d = +want_d
    assert dns_q == want_d, set(dns_q.items()) ^ set(want_d.items())
    want_b = collections.Counter()
    for r in truth["usage"]:
        for k in ("bytes_up", "bytes_down"):
            if r[k]:
                want_b[(r["hour"], r["department"], r["service"], k)] = r[k]
    assert nbytes == want_b, set(nbytes.items()) ^ set(want_b.items())
    return sum(quic_sni.values()), sum(dns_q.values()), sum(nbytes.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--no-check", action="store_true", help="skip the self-check pass")
    a = ap.parse_args()
    if a.scale <= 0:
        ap.error("--scale must be positive")
    t0 = time.time()
    S = Synth(a.seed, a.scale)
    S.seed = a.seed
    S.make_devices()
    S.specials()
    S.bulk()
    S.dns_tcp_specials()
    truth = S.finish(a.out)
    msg = "%d packets, %d usage rows" % (truth["meta"]["packets"], len(truth["usage"]))
    if not a.no_check:
        nq, nd, nb = self_check(os.path.join(a.out, "traffic.pcap"), truth)
        msg += "; self-check ok (%d QUIC SNIs decrypted, %d UDP DNS queries, %d flow bytes)" \
            % (nq, nd, nb)
    print("synth: %s in %.1fs -> %s" % (msg, time.time() - t0, a.out))


if __name__ == "__main__":
    main()
