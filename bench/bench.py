#!/usr/bin/python3
"""The aicensusd benchmark (`make bench`).

Generates a busy gateway's capture with bench/gen (fixed seed, not kept in
the repository), then, on that one file read from the page cache:

  1. throughput: bench/pcaploop (the ceiling of any libpcap reader),
     `aicensusd -r` with the default configuration (the database written
     as in production), `tshark -T fields` and `ndpiReader -i`, run in
     alternation (A B C D A B C D ...) so that machine noise hits all alike;
     median, min-max, peak RSS, and the ratios the issue sets targets for;
  2. names: aicensusd's (`aicensus inspect`) against tshark's;
  3. scaling: catalogs of 30, 300 and 3,000 services, 10, 100 and 1,000
     departments: packets/s must stay within 10 %;
  4. memory: peak RSS under 1 million half-open TCP flows and under 1
     million distinct random DNS names, against limits.memory_mb;
  5. flush: one full hour of aggregates (100 departments x 300 services)
     written by vault_flush, at once and in the daemon's slices
     (bench/flushbench);
  6. live: inside two network namespaces of its own joined by a veth pair
     (no address on either end: nothing can leave), the capture replayed
     with `tcpreplay --topspeed` into a running aicensusd; pcap's drop
     counters from the database; when it drops, slower rates until it
     does not;
  7. central: 100 simulated sites x one ISO week shipped flush by flush
     through the sensor's shipping code (bench/centralbench) into a
     throwaway PostgreSQL 15 cluster; ingest time, database size, the
     central release and the organisation-wide weekly report.  Alone:
     --only central (make bench BENCH_ARGS="--only central").

Prints a table and writes results.md and results.json in the work
directory.  `--profile` instead runs aicensusd -r under callgrind on a
smaller capture and prints the top functions.

usage: bench.py [--build DIR] [--work DIR] [--packets N] [--runs N]
                [--tshark-runs N] [--seed N] [--flood N] [--skip-live]
                [--profile] [--only central] [--skip-central]
                [--central-runs N] [--central-sites N] [--central-depts N]
                [--central-flush SECONDS]
"""
import argparse
import base64
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = "/tmp"        # set to the work directory by main()
TSHARK_FIELDS = ["-T", "fields", "-e", "dns.qry.name",
                 "-e", "tls.handshake.extensions_server_name"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_measured(argv, cwd=None, stdout=subprocess.DEVNULL):
    """Run argv; return wall, user and system seconds, peak RSS in KiB
    and the exit status.  GNU time starts the program, so the peak RSS
    is the program's own and not that of a copy of this interpreter
    (Linux keeps ru_maxrss across exec)."""
    tf = os.path.join(TMP, "time.out")
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-o", tf, "-f", "%U %S %M", *argv],
                       cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    user, sys_, rss = open(tf).read().split("\n")[-2].split()
    return dict(wall=wall, user=float(user), sys=float(sys_),
                rss_kb=int(rss), rc=p.returncode,
                err=p.stderr.decode(errors="replace"),
                out=p.stdout.decode(errors="replace") if p.stdout else "")


def check(cond, what):
    if not cond:
        log(f"bench: {what}")
        sys.exit(1)


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def capture_size(pcaploop, path):
    """Packets, bytes, and packets aicensusd's default capture filter
    passes (what a live capture of this file hands to the daemon)."""
    out = subprocess.run([pcaploop, "-f", path], capture_output=True,
                         text=True, check=True).stdout
    m = re.match(r"(\d+) packets (\d+) bytes \(\d\) (\d+) matched", out)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def med(xs):
    return statistics.median(xs)


class Tools:
    def __init__(self, build):
        b = os.path.join(ROOT, build)
        self.gen = os.path.join(b, "bench", "gen")
        self.pcaploop = os.path.join(b, "bench", "pcaploop")
        self.flushbench = os.path.join(b, "bench", "flushbench")
        self.centralbench = os.path.join(b, "bench", "centralbench")
        self.aicensusd = os.path.join(b, "aicensusd")
        self.aicensus = os.path.join(b, "aicensus")
        self.tshark = shutil.which("tshark")
        self.ndpi = shutil.which("ndpiReader")
        for t in (self.gen, self.pcaploop, self.flushbench,
                  self.centralbench, self.aicensusd, self.aicensus):
            check(os.access(t, os.X_OK), f"{t} missing: run make bench")


# ---- inputs ---------------------------------------------------------------

def generate(T, work, packets, seed, flood):
    src = os.path.join(ROOT, "config", "catalog.conf")
    files = {}

    def gen(*args):
        r = subprocess.run([T.gen, *args], capture_output=True, text=True)
        check(r.returncode == 0, f"gen {args[0]} failed: {r.stderr}")
        return r.stderr

    t0 = time.time()
    files["pcap"] = os.path.join(work, "bench.pcap")
    mix = gen("traffic", "-c", src, "-s", str(seed), "-n", str(packets),
              "-o", files["pcap"])
    for n in (30, 300, 3000):
        gen("catalog", "-c", src, "-S", str(n), "-o",
            os.path.join(work, f"catalog-{n}.conf"))
    confs = {}
    for svc, dep in ((300, 100), (30, 100), (3000, 100), (300, 10),
                     (300, 1000)):
        name = f"aicensus-{svc}s-{dep}d.conf"
        gen("config", "-d", str(dep), "-k", f"catalog-{svc}.conf", "-b",
            "bench.db", "-o", os.path.join(work, name))
        confs[(svc, dep)] = os.path.join(work, name)
    files["syn"] = os.path.join(work, "synflood.pcap")
    gen("synflood", "-s", str(seed), "-n", str(flood), "-o", files["syn"])
    files["dns"] = os.path.join(work, "dnsflood.pcap")
    gen("dnsflood", "-c", src, "-s", str(seed), "-n", str(flood), "-o",
        files["dns"])
    log(f"bench: inputs generated in {time.time() - t0:.1f} s")
    return files, confs, mix


# ---- 1. throughput ----------------------------------------------------------

def run_dir(conf, rundir):
    """A fresh directory holding the configuration and the catalog it
    names, where aicensusd -r writes its database and key file."""
    fresh_dir(rundir)
    shutil.copy(conf, os.path.join(rundir, "aicensus.conf"))
    shutil.copy(os.path.join(os.path.dirname(conf),
                             re.search(r'catalog = "([^"]+)"',
                                       open(conf).read()).group(1)), rundir)


def aicensusd_run(T, conf, pcap, rundir):
    """aicensusd -r in a fresh directory (database and key file there)."""
    run_dir(conf, rundir)
    r = run_measured([T.aicensusd, "-c", "aicensus.conf", "-r", pcap],
                     cwd=rundir)
    check(r["rc"] == 0, f"aicensusd -r failed: {r['err'][-500:]}")
    return r


def throughput(T, work, pcap, conf, runs, tshark_runs):
    res = {"pcaploop": [], "pcaploop64k": [], "aicensusd": [], "tshark": [],
           "ndpiReader": []}
    tshark_out = os.path.join(work, "tshark-names.txt")
    for i in range(runs):
        log(f"bench: throughput round {i + 1}/{runs}")
        r = run_measured([T.pcaploop, pcap])
        check(r["rc"] == 0, "pcaploop failed")
        res["pcaploop"].append(r)
        r = run_measured([T.pcaploop, "-b", "65536", pcap])
        check(r["rc"] == 0, "pcaploop -b failed")
        res["pcaploop64k"].append(r)
        res["aicensusd"].append(aicensusd_run(T, conf, pcap,
                                              os.path.join(work, "run")))
        if T.ndpi:
            r = run_measured([T.ndpi, "-i", pcap])
            check(r["rc"] == 0, f"ndpiReader failed: {r['err'][-300:]}")
            res["ndpiReader"].append(r)
        if T.tshark and i < tshark_runs:
            with open(tshark_out, "wb") as f:
                r = run_measured([T.tshark, "-r", pcap, *TSHARK_FIELDS],
                                 stdout=f)
            check(r["rc"] == 0, f"tshark failed: {r['err'][-300:]}")
            res["tshark"].append(r)
    return res, tshark_out


# ---- 2. names ---------------------------------------------------------------

def names_check(T, conf, pcap, tshark_out, work):
    rundir = fresh_dir(os.path.join(work, "inspect"))
    shutil.copy(conf, os.path.join(rundir, "aicensus.conf"))
    cat = re.search(r'catalog = "([^"]+)"', open(conf).read()).group(1)
    shutil.copy(os.path.join(os.path.dirname(conf), cat), rundir)
    r = subprocess.run([T.aicensus, "inspect", "-c", "aicensus.conf", pcap],
                       cwd=rundir, capture_output=True)
    check(r.returncode == 0, f"aicensus inspect failed: {r.stderr[-300:]}")
    ours = set()
    for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
        c = line.split("\t")
        if len(c) >= 7 and c[3] and c[1] in ("dns", "tls", "quic"):
            ours.add(c[3].lower().rstrip("."))
    theirs = set()
    if os.path.exists(tshark_out):
        for line in open(tshark_out, encoding="utf-8",
                         errors="surrogateescape"):
            for col in line.rstrip("\n").split("\t"):
                for n in col.split(","):
                    if n:
                        theirs.add(n.lower().rstrip("."))
    return dict(aicensusd=len(ours), tshark=len(theirs),
                only_aicensusd=sorted(ours - theirs)[:10],
                only_tshark=sorted(theirs - ours)[:10],
                same=ours == theirs)


# ---- 3. scaling -------------------------------------------------------------

def scaling(T, work, pcap, confs, runs, packets):
    """Each configuration on the capture, and on an empty capture (what
    start-up and the final flush cost with no traffic: loading the
    catalog, creating the database rows of departments and services)."""
    keys = [(30, 100), (300, 100), (3000, 100), (300, 10), (300, 1000)]
    res = {k: [] for k in keys}
    empty = {k: [] for k in keys}
    epcap = os.path.join(work, "empty.pcap")
    with open(pcap, "rb") as f, open(epcap, "wb") as g:
        g.write(f.read(24))
    for i in range(runs):
        log(f"bench: scaling round {i + 1}/{runs}")
        for k in keys:
            res[k].append(aicensusd_run(T, confs[k], pcap,
                                        os.path.join(work, "run")))
            if i < 3:
                empty[k].append(aicensusd_run(T, confs[k], epcap,
                                              os.path.join(work, "run")))
    out = {}
    for k in keys:
        pps = [packets / r["wall"] for r in res[k]]
        cpu = med([r["user"] + r["sys"] for r in res[k]])
        start = med([r["user"] + r["sys"] for r in empty[k]])
        out[k] = dict(pps=med(pps), min=min(pps), max=max(pps), cpu=cpu,
                      start=start,
                      pps_traffic=packets / max(cpu - start, 1e-3))
    return out


# ---- 4. memory --------------------------------------------------------------

def memory(T, work, files, conf, flood):
    out = {}
    for what, key in ((f"{flood:,} half-open TCP flows", "syn"),
                      (f"{flood:,} distinct DNS names", "dns")):
        rundir = os.path.join(work, "run")
        r = aicensusd_run(T, conf, files[key], rundir)
        # the sensor's own health, from its log (released figures are
        # perturbed; these are not figures about people)
        pk = re.search(r"(\d+) packets read", r["err"])
        am = re.search(r"anomalies: (.*)", r["err"])
        anom = sorted(((a.split("=")[0], int(a.split("=")[1]))
                       for a in (am.group(1).split() if am else [])
                       if "=" in a), key=lambda x: -x[1])
        out[what] = dict(rss_kb=r["rss_kb"], wall=r["wall"],
                         packets=int(pk.group(1)) if pk else None,
                         anomalies=anom)
    return out


# ---- 5. flush -----------------------------------------------------------------

def flush(T, work):
    r = subprocess.run([T.flushbench, work, "100", "300", "5"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"flushbench failed: {r.stderr[-300:]}")
    res = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(new hour|same hour again|sliced: total|"
                     r"sliced: longest|sliced: slices)\s+median\s+([\d.]+) "
                     r"(?:ms)?\s+"
                     r"min\s+([\d.]+)\s+max\s+([\d.]+)", line)
        if m:
            res[m.group(1)] = dict(median=float(m.group(2)),
                                   min=float(m.group(3)),
                                   max=float(m.group(4)))
    return res, r.stdout


# ---- 6. live ------------------------------------------------------------------

class Netns:
    """Two namespaces joined by a veth pair with no address at all."""

    def __init__(self):
        tag = os.getpid()
        self.tx, self.rx = f"aicb-tx-{tag}", f"aicb-rx-{tag}"
        self.made = False

    def __enter__(self):
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True)
        sh("ip", "netns", "add", self.tx)
        self.made = True
        sh("ip", "netns", "add", self.rx)
        for ns in (self.tx, self.rx):
            for k in ("all", "default"):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                   f"net.ipv6.conf.{k}.disable_ipv6=1")
        sh("ip", "link", "add", "vtx", "netns", self.tx, "type", "veth",
           "peer", "name", "vrx", "netns", self.rx)
        for ns, dev in ((self.tx, "vtx"), (self.rx, "vrx")):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        for _ in range(50):
            o = subprocess.run(["ip", "-n", self.rx, "link", "show", "vrx"],
                               capture_output=True, text=True).stdout
            if "LOWER_UP" in o:
                break
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        if self.made:
            for ns in (self.tx, self.rx):
                subprocess.run(["ip", "netns", "del", ns],
                               capture_output=True)


def live_once(T, ns, work, conf, pcap, pps=None):
    rundir = fresh_dir(os.path.join(work, "live"))
    text = open(conf).read().replace(
        "  user = \"\";",
        "  user = \"\";\n  capture = { promisc = true; };")
    open(os.path.join(rundir, "aicensus.conf"), "w").write(text)
    cat = re.search(r'catalog = "([^"]+)"', text).group(1)
    shutil.copy(os.path.join(os.path.dirname(conf), cat), rundir)
    logf = open(os.path.join(rundir, "daemon.log"), "w")
    d = subprocess.Popen(["ip", "netns", "exec", ns.rx, T.aicensusd, "-c",
                          "aicensus.conf", "-i", "vrx"], cwd=rundir,
                         stdout=logf, stderr=subprocess.STDOUT)
    try:
        for _ in range(150):
            if "capturing on vrx" in open(logf.name).read():
                break
            check(d.poll() is None, "live aicensusd exited: " +
                  open(logf.name).read()[-300:])
            time.sleep(0.1)
        rate = ["--topspeed"] if pps is None else ["--pps", str(int(pps))]
        r = subprocess.run(["ip", "netns", "exec", ns.tx, "tcpreplay",
                            *rate, "-i", "vtx", pcap],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"tcpreplay failed: {r.stderr[-300:]}")
        time.sleep(1.0)
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=60)
        except subprocess.TimeoutExpired:
            d.kill()
            d.wait()
        logf.close()
    sent = re.search(r"Actual: (\d+) packets", r.stdout)
    rated = re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps, ([\d.]+) pps",
                      r.stdout)
    dlog = open(logf.name).read()
    m = re.search(r"(\d+) packets seen, (\d+) dropped by the kernel, "
                  r"(\d+) by the interface", dlog)
    row = tuple(int(x) for x in m.groups()) if m else (0, 0, 0)
    return dict(sent=int(sent.group(1)) if sent else None,
                mbps=float(rated.group(1)) if rated else None,
                pps=float(rated.group(2)) if rated else None,
                seen=row[0] or 0, pcap_drops=row[1] or 0,
                if_drops=row[2] or 0, requested=pps,
                log_warnings=[l for l in dlog.splitlines()
                              if "warn" in l or "error" in l][:5])


def live(T, work, conf, pcap):
    if os.geteuid() != 0 or not shutil.which("ip") or \
            not shutil.which("tcpreplay"):
        return dict(skipped="needs root, ip and tcpreplay")
    tries = []
    with Netns() as ns:
        r = live_once(T, ns, work, conf, pcap)
        tries.append(r)
        rate = r["pps"] or 100000
        # dropping: slower, until a rate without drops
        while (r["pcap_drops"] + r["if_drops"]) > 0 and len(tries) < 6:
            rate *= 0.7
            r = live_once(T, ns, work, conf, pcap, pps=rate)
            tries.append(r)
    return dict(tries=tries)


# ---- 7. central -----------------------------------------------------------------

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


class PgCluster:
    """A throwaway PostgreSQL 15 cluster in DIR, as tests/central_lib.sh
    makes one: initdb as the postgres system user, a Unix socket in
    DIR/sock only (nothing on the network), SCRAM passwords for every
    role.  Unlike the tests' cluster it keeps PostgreSQL's durability
    defaults (fsync, synchronous_commit, full_page_writes on): the
    benchmark times commits as a production server makes them.  Stopped
    (fast, then immediate) and removed on exit."""

    def __init__(self, dir_, max_connections):
        self.dir = dir_
        self.data = os.path.join(dir_, "pg", "data")
        self.sock = os.path.join(dir_, "sock")
        self.maxconn = max_connections
        self.started = False

    def run_pg(self, *argv, **kw):
        return subprocess.run(["runuser", "-u", "postgres", "--", *argv],
                              capture_output=True, text=True, **kw)

    def __enter__(self):
        check(os.access(os.path.join(PG_BIN, "initdb"), os.X_OK),
              f"no PostgreSQL 15 in {PG_BIN} (make test-deps installs "
              "postgresql-15)")
        os.chmod(self.dir, 0o711)
        for p in (os.path.dirname(self.data), self.sock):
            os.makedirs(p)
            shutil.chown(p, "postgres", "postgres")
        os.chmod(os.path.dirname(self.data), 0o700)
        self.superpw = pg_password()
        pwf = os.path.join(self.dir, "superpw")
        with open(os.open(pwf, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.superpw + "\n")
        shutil.chown(pwf, "postgres", "postgres")
        r = self.run_pg(os.path.join(PG_BIN, "initdb"), "-D", self.data,
                        "-U", "postgres", f"--pwfile={pwf}",
                        "--auth=scram-sha-256", "--no-locale", "-E", "UTF8")
        os.unlink(pwf)
        check(r.returncode == 0, f"initdb failed: {r.stderr[-500:]}")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = ''\n"
                    f"unix_socket_directories = '{self.sock}'\n"
                    f"port = 5432\nmax_connections = {self.maxconn}\n"
                    "log_min_messages = warning\n")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all scram-sha-256\n")
        r = self.run_pg(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                        "-w", "-t", "60", "-l",
                        os.path.join(self.dir, "pg", "server.log"), "start")
        self.started = r.returncode == 0
        check(self.started, "the server did not start: " +
              open(os.path.join(self.dir, "pg", "server.log")).read()[-500:])
        return self

    def __exit__(self, *exc):
        if not self.started:
            return
        for mode in ("fast", "immediate"):
            r = self.run_pg(os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                            "-m", mode, "-w", "-t", "30", "stop")
            if r.returncode == 0:
                break
        self.started = False

    def postmaster_cpu(self):
        """CPU seconds of the server so far: the postmaster's own and
        that of its children that ended (backends of closed connections,
        autovacuum workers), plus those still running."""
        pid = int(open(os.path.join(self.data,
                                    "postmaster.pid")).readline())
        tck = os.sysconf("SC_CLK_TCK")

        def stat(p):
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            return f    # f[1] is ppid, f[11..14] utime stime cutime cstime
        f = stat(pid)
        total = sum(int(x) for x in f[11:15])
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == pid:
                continue
            try:
                g = stat(p)
            except OSError:
                continue
            if int(g[1]) == pid:
                total += int(g[11]) + int(g[12])
        return total / tck


def pg_password():
    """A password made up for this run (as tests/central_lib.sh's)."""
    return "".join(c for c in base64.b64encode(os.urandom(24)).decode()
                   if c.isalnum())[:20]


def last_week_monday(grace_h):
    """The Monday 00:00 UTC (epoch) of the last ISO week that ended at
    least grace_h + 1 hours ago: a week the central release publishes
    now (its grace period is over)."""
    now = int(time.time())
    day0 = now - now % 86400
    monday = day0 - time.gmtime(day0).tm_wday * 86400
    week = monday - 7 * 86400
    if now - monday < (grace_h + 1) * 3600:
        week -= 7 * 86400
    return week


def central_once(T, work, sites, depts, flush, seed):
    """One run of the central row in a fresh cluster: returns its
    figures (times in seconds, sizes in bytes)."""
    d = fresh_dir(os.path.abspath(os.path.join(work, "central")))
    res = dict(sites=sites)
    with PgCluster(d, max_connections=sites + 20) as pg:
        pwd = dict(admin=pg_password(), sensor=pg_password(),
                   bi=pg_password())
        pgpass = os.path.join(d, "pgpass")
        with open(os.open(pgpass, os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write(f"*:*:*:postgres:{pg.superpw}\n"
                    f"*:*:*:aicadmin:{pwd['admin']}\n"
                    f"*:*:*:bi:{pwd['bi']}\n")
        sensorpw = os.path.join(d, "sensor.pass")
        with open(os.open(sensorpw, os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write(pwd["sensor"] + "\n")
        env = dict(os.environ, PGPASSFILE=pgpass, PGHOST=pg.sock,
                   PGPORT="5432")
        for k in ("PGPASSWORD", "PGUSER", "PGDATABASE", "PGSERVICE"):
            env.pop(k, None)
        base = f"host={pg.sock} port=5432 dbname=central"
        admin, bi = base + " user=aicadmin", base + " user=bi"

        def sql(conn, q):
            r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q",
                                "-v", "ON_ERROR_STOP=1", "-At", "-d", conn,
                                "-c", q], capture_output=True, text=True,
                               env=env)
            check(r.returncode == 0, f"psql: {r.stderr[-300:]}")
            return r.stdout.strip()

        def cli(*args, timed=False):
            t0 = time.perf_counter()
            r = subprocess.run([T.aicensus, *args], capture_output=True,
                               text=True, env=env)
            dt = time.perf_counter() - t0
            check(r.returncode == 0,
                  f"aicensus {args[0]} {args[1]}: {r.stderr[-300:]}")
            return (dt, r.stdout) if timed else r.stdout

        su = f"host={pg.sock} port=5432 dbname=postgres user=postgres"
        sql(su, f"CREATE ROLE aicadmin LOGIN CREATEROLE PASSWORD "
                f"'{pwd['admin']}'")
        sql(su, "CREATE DATABASE central OWNER aicadmin")
        cli("central", "init", "--db", admin)
        sql(su, "DO $$ BEGIN FOR i IN 0.." + str(sites - 1) + " LOOP "
                "EXECUTE format('CREATE ROLE sensor%s LOGIN PASSWORD %L', "
                f"lpad(i::text, 3, '0'), '{pwd['sensor']}'); END LOOP; "
                "END $$")
        sql(su, f"CREATE ROLE bi LOGIN PASSWORD '{pwd['bi']}' "
                "IN ROLE aicensus_reader")
        for i in range(sites):
            cli("central", "add-site", "--db", admin, f"site{i:03d}",
                f"sensor{i:03d}")
        # The organisation's configuration: 100 departments (the sites'),
        # the shipped catalog, every other setting the default.
        catalog = os.path.join(ROOT, "config", "catalog.conf")
        org = os.path.join(d, "org.conf")
        r = subprocess.run([T.gen, "config", "-d", "100", "-k", catalog,
                            "-b", "vault.db", "-o", org],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"gen config: {r.stderr}")
        monday = last_week_monday(6)
        wk = time.strftime("%G-W%V", time.gmtime(monday))
        res["week"] = wk
        # the ingest
        cpu0 = pg.postmaster_cpu()
        log(f"bench: central: {sites} sites x {wk}, flush every {flush} s")
        r = run_measured([T.centralbench, "-c", base, "-p", sensorpw,
                          "-k", catalog, "-m", str(monday), "-s",
                          str(sites), "-d", str(depts), "-o", "100", "-f",
                          str(flush), "-x", str(seed), "-w", d],
                         stdout=subprocess.PIPE)
        check(r["rc"] == 0, f"centralbench failed: {r['err'][-500:]}")
        log("bench: central: " + "; ".join(r["out"].splitlines()))
        time.sleep(1.0)      # the sensors' backends end
        res["server_cpu_ingest"] = pg.postmaster_cpu() - cpu0
        res["client"] = r
        for line in r.get("out", "").splitlines():
            k, v = line.split()
            res[k] = float(v) if "." in v else int(v)

        def sizes():
            s = dict(db=int(sql(admin, "SELECT pg_database_size("
                                       "current_database())")))
            for line in sql(admin, "SELECT c.relname, "
                            "pg_total_relation_size(c.oid) FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = 'aicensus' AND c.relkind = "
                            "'r' ORDER BY 1").splitlines():
                name, b = line.split("|")
                s[name] = int(b)
            return s

        def rows():
            q = {t: int(sql(admin, f"SELECT count(*) FROM aicensus.{t}"))
                 for t in ("site_cell", "site_period", "site_blind", "cell",
                           "period", "blind")}
            per = [int(x) for x in sql(
                admin, "SELECT count(*) FROM aicensus.site_cell GROUP BY "
                "site ORDER BY 1").split()] if q["site_cell"] else []
            q["site_cell_per_site"] = per
            q["site_cell_day"] = int(sql(admin, "SELECT count(*) FROM "
                                        "aicensus.site_cell WHERE kind = 1"))
            # release scopes (schema v3): the organisation's rows apart
            if sql(admin, "SELECT count(*) FROM information_schema.columns "
                   "WHERE table_schema = 'aicensus' AND table_name = 'cell' "
                   "AND column_name = 'site'") == "1":
                q["cell_org"] = int(sql(admin, "SELECT count(*) FROM "
                                    "aicensus.cell WHERE site = '*'"))
            return q
        res["size_ingest"] = sizes()
        res["rows_ingest"] = rows()
        # the central release of that week (its 7 days and the week)
        cpu0 = pg.postmaster_cpu()
        dt, txt = cli("central", "release", "--db", admin, "-c", org,
                      timed=True)
        res["release_s"] = dt
        res["release_out"] = txt.strip()
        time.sleep(1.0)      # its backend ends and is counted
        res["server_cpu_release"] = pg.postmaster_cpu() - cpu0
        res["size_release"] = sizes()
        res["rows_release"] = rows()
        # the organisation-wide weekly report, as the reader role
        for fmt in ("html", "json"):
            ts = []
            for i in range(3):
                o = os.path.join(d, f"report.{fmt}")
                dt, _ = cli("report", "--db", bi, "--week", wk, "--format",
                            fmt, "-o", o, timed=True)
                ts.append(dt)
            res[f"report_{fmt}_s"] = med(ts)
            res[f"report_{fmt}_bytes"] = os.path.getsize(o)
        # backup: the schema, as pg_dump -Fc makes it
        dump = os.path.join(d, "central.dump")
        t0 = time.perf_counter()
        r = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "-Fc", "-n",
                            "aicensus", "-f", dump, "-d", admin],
                           capture_output=True, text=True, env=env)
        res["dump_s"] = time.perf_counter() - t0
        check(r.returncode == 0, f"pg_dump: {r.stderr[-300:]}")
        res["dump_bytes"] = os.path.getsize(dump)
        # what a VACUUM gives back of the upserts' dead row versions
        sql(admin, "VACUUM (FULL, ANALYZE)")
        res["size_vacuum_full"] = sizes()
    if not os.environ.get("KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    return res


def central(T, work, runs, sites, depts, flush, seed):
    rs = []
    for i in range(runs):
        log(f"bench: central round {i + 1}/{runs}")
        rs.append(central_once(T, work, sites, depts, flush, seed))
    return rs


def central_md(rs, m):
    """The central row's tables: medians over the runs (min-max)."""
    def mm(f, fmt="{:,.1f}"):
        v = [f(r) for r in rs]
        if len(v) == 1:
            return fmt.format(v[0])
        return (fmt.format(med(v)) + " (" + fmt.format(min(v)) + "–" +
                fmt.format(max(v)) + ")")
    r0 = rs[0]
    mib = lambda b: b / 1048576
    n = r0["sites"]
    per = r0["rows_ingest"]["site_cell_per_site"]
    out = []
    w = out.append
    w(f"## Central database: {n} sites x one ISO week ({r0['week']}) "
      f"into one PostgreSQL 15 (median of {len(rs)}, min–max)\n")
    w(f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB; "
      "a throwaway cluster on a Unix socket with PostgreSQL's durability "
      "defaults (fsync, synchronous_commit on), shared_buffers 128 MB. "
      f"bench/centralbench: {n} sites of {r0['departments_per_site']} "
      f"departments ({r0['devices']:,} devices; 100 departments in the "
      f"organisation, each at up to {max(1, n // 10)} sites), the shipped "
      "catalog, each site "
      "an in-memory vault + outbox + shipper thread (out/ship.c) with "
      f"its own connection; flush every {r0['flush_seconds']} s of "
      f"simulated time ({r0['flushes']:,} flushes), all sites side by "
      "side.\n")
    w("| what | measured |")
    w("|---|---|")
    w(f"| ingest, whole week, wall | {mm(lambda r: r['ingest_wall_s'])} s |")
    w(f"| ingest per site-week (wall / sites) | "
      f"{mm(lambda r: r['ingest_wall_s'] / r['sites'] * 1000, '{:,.0f}')}"
      " ms |")
    w(f"| of which the sensors' side (flush, collect) | "
      f"{mm(lambda r: r['sensor_side_wall_s'])} s |")
    w(f"| server CPU during the ingest | "
      f"{mm(lambda r: r['server_cpu_ingest'])} s |")
    w(f"| records upserted (cells, coverage, blind figures) | "
      f"{mm(lambda r: r['records_shipped'], '{:,.0f}')} "
      f"in {mm(lambda r: r['batches'], '{:,.0f}')} transactions |")
    w(f"| upserts per second (records / wall) | "
      f"{mm(lambda r: r['records_shipped'] / r['ingest_wall_s'], '{:,.0f}')}"
      " |")
    w(f"| rows per site-week in site_cell | median {med(per):,.0f}, "
      f"min {min(per):,}, max {max(per):,} (days "
      f"{r0['rows_ingest']['site_cell_day'] / n:,.0f}, week "
      f"{(r0['rows_ingest']['site_cell'] - r0['rows_ingest']['site_cell_day']) / n:,.0f}"
      f" per site); site_period {r0['rows_ingest']['site_period'] / n:,.0f}"
      f", site_blind {r0['rows_ingest']['site_blind'] / n:,.0f} |")
    w(f"| database size after the ingest (pg_database_size) | "
      f"{mm(lambda r: mib(r['size_ingest']['db']))} MiB |")
    w(f"| `aicensus central release` (7 days + the week) | "
      f"{mm(lambda r: r['release_s'], '{:,.2f}')} s |")
    w(f"| released rows (cell / period / blind) | "
      f"{r0['rows_release']['cell']:,} / {r0['rows_release']['period']:,}"
      f" / {r0['rows_release']['blind']:,}" +
      (f"; organisation scope: {r0['rows_release']['cell_org']:,} cells, "
       f"the {n} site scopes the rest" if "cell_org" in r0["rows_release"]
       else "") + " |")
    w(f"| site_cell rows left after the release | "
      f"{r0['rows_release']['site_cell']:,} |")
    w(f"| database size after the release | "
      f"{mm(lambda r: mib(r['size_release']['db']))} MiB |")
    w(f"| database size after VACUUM FULL | "
      f"{mm(lambda r: mib(r['size_vacuum_full']['db']))} MiB |")
    w(f"| organisation-wide weekly report, html (as the reader role) | "
      f"{mm(lambda r: r['report_html_s'], '{:,.2f}')} s |")
    w(f"| organisation-wide weekly report, json | "
      f"{mm(lambda r: r['report_json_s'], '{:,.2f}')} s |")
    w(f"| pg_dump -Fc -n aicensus (after the release) | "
      f"{mm(lambda r: r['dump_s'], '{:,.2f}')} s, "
      f"{mm(lambda r: mib(r['dump_bytes']), '{:,.1f}')} MiB |")
    w("")
    w("Sizes per table (MiB, first run; pg_total_relation_size, indexes "
      "and TOAST included):\n")
    w("| table | after ingest | after release | after VACUUM FULL |")
    w("|---|---|---|---|")
    for t in sorted(k for k in r0["size_ingest"] if k != "db"):
        w(f"| {t} | {mib(r0['size_ingest'][t]):,.2f} | "
          f"{mib(r0['size_release'].get(t, 0)):,.2f} | "
          f"{mib(r0['size_vacuum_full'].get(t, 0)):,.2f} |")
    w("")
    w("`central release` said: " + "; ".join(
        r0["release_out"].splitlines()))
    w("")
    return out


# ---- profile ------------------------------------------------------------------

def profile(T, work, conf, seed):
    pcap = os.path.join(work, "profile.pcap")
    subprocess.run([T.gen, "traffic", "-c", os.path.join(ROOT, "config",
                    "catalog.conf"), "-s", str(seed), "-n", "500000", "-o",
                    pcap], check=True, capture_output=True)
    rundir = fresh_dir(os.path.join(work, "run"))
    shutil.copy(conf, os.path.join(rundir, "aicensus.conf"))
    shutil.copy(os.path.join(work, "catalog-300.conf"), rundir)
    out = os.path.join(work, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind",
                    f"--callgrind-out-file={out}", T.aicensusd, "-c",
                    "aicensus.conf", "-r", pcap], cwd=rundir, check=True,
                   capture_output=True)
    for incl in ("no", "yes"):
        r = subprocess.run(["callgrind_annotate", f"--inclusive={incl}",
                            out], capture_output=True, text=True)
        print(f"== callgrind, {'inclusive' if incl == 'yes' else 'self'} "
              f"(aicensusd -r, 500,000 packets)")
        lines = [l for l in r.stdout.splitlines() if re.match(r"\s*[\d,]+ ",
                                                              l)]
        for l in lines[:16]:
            print(l[:150])
    print(f"full profile: {out} (callgrind_annotate {out})")


# ---- scaling in instructions -------------------------------------------------

def callgrind_total(T, conf, pcap, rundir):
    """Instructions aicensusd -r executes (callgrind), in a fresh dir."""
    run_dir(conf, rundir)
    out = os.path.join(rundir, "callgrind.out")
    r = subprocess.run(["valgrind", "--tool=callgrind",
                        f"--callgrind-out-file={out}", T.aicensusd, "-c",
                        "aicensus.conf", "-r", pcap], cwd=rundir,
                       capture_output=True, text=True)
    check(r.returncode == 0, f"callgrind aicensusd failed: {r.stderr[-300:]}")
    m = re.search(r"Collected : (\d+)", r.stderr)
    check(m is not None, "no instruction total from callgrind")
    return int(m.group(1))


def scaling_instructions(T, work, pcap, confs, packets):
    """The scaling rows counted in instructions, which a shared machine's
    noise does not move: each configuration on the capture and on an
    empty capture (start-up), the difference per packet."""
    keys = [(30, 100), (300, 100), (3000, 100), (300, 10), (300, 1000)]
    epcap = os.path.join(work, "empty.pcap")
    with open(pcap, "rb") as f, open(epcap, "wb") as g:
        g.write(f.read(24))
    rows = {}
    for k in keys:
        log(f"bench: callgrind, {k[0]} services, {k[1]} departments")
        full = callgrind_total(T, confs[k], pcap, os.path.join(work, "run"))
        start = callgrind_total(T, confs[k], epcap,
                                os.path.join(work, "run"))
        rows[k] = dict(total=full, start=start,
                       per_packet=(full - start) / packets)
    print("| catalog | departments | instructions | start-up | per packet "
          "(less start-up) |")
    print("|---|---|---|---|---|")
    for k in keys:
        r = rows[k]
        print(f"| {k[0]:,} | {k[1]:,} | {r['total'] / 1e6:,.1f} M | "
              f"{r['start'] / 1e6:,.1f} M | {r['per_packet']:,.1f} |")
    for what, ks in (("catalog sizes", keys[:3]),
                     ("department counts", [keys[3], keys[1], keys[4]])):
        v = [rows[k]["per_packet"] for k in ks]
        print(f"spread across {what}: {max(v) / min(v) - 1:.1%} "
              "(target <= 10 %)")
    return rows


# ---- report -------------------------------------------------------------------

def machine():
    cpu = "?"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = open("/proc/meminfo").readline().split()[1]

    def ver(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return dict(cpu=cpu, cores=os.cpu_count(), mem_gib=int(mem) // 1048576,
                kernel=platform.release(),
                tshark=ver(["tshark", "--version"]),
                ndpi=[l for l in subprocess.run(
                    ["ndpiReader", "-h"], capture_output=True,
                    text=True).stdout.splitlines() if "nDPI" in l][:1])


def fmt_row(name, rs, packets, nbytes, note=""):
    if not rs:
        return f"| {name} | not run | | | | |"
    pps = [packets / r["wall"] for r in rs]
    mbps = [nbytes * 8 / r["wall"] / 1e6 for r in rs]
    rss = max(r["rss_kb"] for r in rs) / 1024
    cpu = med([r["user"] + r["sys"] for r in rs])
    return (f"| {name} | {med(pps) / 1e3:,.0f} k ({min(pps) / 1e3:,.0f}–"
            f"{max(pps) / 1e3:,.0f} k) | {med(mbps):,.0f} | "
            f"{med([r['wall'] for r in rs]):.2f} s (cpu {cpu:.2f} s) | "
            f"{rss:.1f} MiB | {len(rs)}{note} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=os.environ.get("BENCH_DIR",
                                                     "/tmp/aicensus-bench"))
    ap.add_argument("--packets", type=int, default=2000000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tshark-runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flood", type=int, default=1000000)
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--instructions", action="store_true",
                    help="only the scaling rows, in callgrind instructions")
    ap.add_argument("--only", choices=["central"],
                    help="only this row (central: sites x one week into "
                    "PostgreSQL)")
    ap.add_argument("--skip-central", action="store_true")
    ap.add_argument("--central-runs", type=int, default=1)
    ap.add_argument("--central-sites", type=int, default=100)
    ap.add_argument("--central-depts", type=int, default=10)
    ap.add_argument("--central-flush", type=int, default=21600,
                    help="seconds of simulated time between two flushes")
    a = ap.parse_args()
    T = Tools(a.build)
    global TMP
    work = a.work
    os.makedirs(work, exist_ok=True)
    TMP = work
    t_start = time.time()
    if a.only == "central":
        t0 = time.time()
        cr = central(T, work, a.central_runs, a.central_sites,
                     a.central_depts, a.central_flush, a.seed)
        text = (f"# aicensusd benchmark, central row "
                f"({time.strftime('%Y-%m-%d %H:%M')}, "
                f"{(time.time() - t0) / 60:.1f} min)\n\n" +
                "\n".join(central_md(cr, machine())) + "\n")
        print(text)
        open(os.path.join(work, "results-central.md"), "w").write(text)
        json.dump(cr, open(os.path.join(work, "results-central.json"), "w"),
                  indent=1, default=str)
        log(f"bench: results in {work}/results-central.md")
        return 0
    files, confs, mix = generate(T, work, a.packets, a.seed, a.flood)
    main_conf = confs[(300, 100)]
    if a.profile:
        profile(T, work, main_conf, a.seed)
        return 0
    if a.instructions:
        packets, _, _ = capture_size(T.pcaploop, files["pcap"])
        scaling_instructions(T, work, files["pcap"], confs, packets)
        return 0
    for f in (files["pcap"], files["syn"], files["dns"]):
        warm(f)
    packets, nbytes, matched = capture_size(T.pcaploop, files["pcap"])
    res, tshark_out = throughput(T, work, files["pcap"], main_conf, a.runs,
                                 a.tshark_runs)
    names = names_check(T, main_conf, files["pcap"], tshark_out, work)
    scal = scaling(T, work, files["pcap"], confs, a.runs, packets)
    mem = memory(T, work, files, main_conf, a.flood)
    fl, fl_text = flush(T, work)
    lv = dict(skipped="--skip-live") if a.skip_live else \
        live(T, work, main_conf, files["pcap"])
    cr = None if a.skip_central else \
        central(T, work, a.central_runs, a.central_sites, a.central_depts,
                a.central_flush, a.seed)
    elapsed = time.time() - t_start

    pps = {k: med([packets / r["wall"] for r in v]) if v else None
           for k, v in res.items()}
    ratio = lambda a_, b_: (pps[a_] / pps[b_]) if pps[a_] and pps[b_] \
        else None
    r_ceil = ratio("aicensusd", "pcaploop")
    r_tsh = ratio("aicensusd", "tshark")
    r_ndpi = ratio("aicensusd", "ndpiReader")
    cpu = {k: med([r["user"] + r["sys"] for r in v]) if v else None
           for k, v in res.items()}
    mb = 64  # limits.memory_mb: the default, as the configuration has it
    out = []
    w = out.append
    m = machine()
    w(f"# aicensusd benchmark ({time.strftime('%Y-%m-%d %H:%M')}, "
      f"{elapsed / 60:.1f} min)\n")
    w(f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, "
      f"Linux {m['kernel']}; {m['tshark']}; "
      f"{(m['ndpi'] or ['nDPI ?'])[0].strip()}.\n")
    w(f"Capture: bench/gen seed {a.seed}: {packets:,} packets, "
      f"{nbytes / 1e6:,.0f} MB (from the page cache).\n")
    w("```\n" + mix.strip() + "\n```\n")
    w("## Throughput (one file, runs alternated; median, min–max)\n")
    w("| tool | packets/s | Mbit/s | time | peak RSS | runs |")
    w("|---|---|---|---|---|---|")
    w(fmt_row("bench/pcaploop (ceiling)", res["pcaploop"], packets, nbytes))
    w(fmt_row("bench/pcaploop -b 65536 (64 KiB reads; for comparison)",
              res["pcaploop64k"], packets, nbytes))
    w(fmt_row("aicensusd -r (default config, 300 services, 100 depts)",
              res["aicensusd"], packets, nbytes))
    w(fmt_row("tshark -T fields (dns.qry.name, SNI)", res["tshark"],
              packets, nbytes, " (fewer: ~100x slower)"))
    w(fmt_row("ndpiReader -i", res["ndpiReader"], packets, nbytes))
    w("")
    targets = []

    def target(name, value, ok, want):
        targets.append((name, value, ok, want))
    target("aicensusd / pcaploop", f"{r_ceil:.0%}" if r_ceil else "n/a",
           r_ceil is not None and r_ceil >= 0.5, ">= 50 %")
    if cpu["aicensusd"] and cpu["pcaploop64k"]:
        v = cpu["pcaploop64k"] / cpu["aicensusd"]
        target("aicensusd / pcaploop -b 65536 (information: the ceiling "
               "without 4 KiB reads)", f"{v:.0%}", True, "-")
    target("aicensusd / tshark", f"{r_tsh:.1f}x" if r_tsh else "n/a",
           r_tsh is not None and r_tsh >= 20, ">= 20x")
    target("aicensusd / ndpiReader", f"{r_ndpi:.1f}x" if r_ndpi else "n/a",
           r_ndpi is not None and r_ndpi >= 5, ">= 5x")
    target("names: aicensusd = tshark",
           f"{names['aicensusd']} / {names['tshark']} names",
           names["same"], "same set")
    for what, ks in (("catalog sizes", [(30, 100), (300, 100),
                                        (3000, 100)]),
                     ("department counts", [(300, 10), (300, 100),
                                            (300, 1000)])):
        wall = [scal[k]["pps"] for k in ks]
        traf = [scal[k]["pps_traffic"] for k in ks]
        spread_w = max(wall) / min(wall) - 1
        spread_t = max(traf) / min(traf) - 1
        target(f"flat across {what}: packets/s of the traffic (CPU time "
               "less start-up)", f"{spread_t:.1%}", spread_t <= 0.10,
               "<= 10 %")
        target(f"flat across {what}: packets/s, wall clock", f"{spread_w:.1%}",
               spread_w <= 0.10, "<= 10 %")
    for k, v in mem.items():
        target(f"peak RSS, {k}", f"{v['rss_kb'] / 1024:.1f} MiB",
               v["rss_kb"] <= mb * 1024, f"<= {mb} MiB")
    main_rss = max(r["rss_kb"] for r in res["aicensusd"]) / 1024
    target("peak RSS, benchmark capture", f"{main_rss:.1f} MiB",
           main_rss <= mb, f"<= {mb} MiB")
    if "sliced: longest" in fl:
        # The daemon writes a flush in 20 ms slices with the COMMIT on a
        # thread: what capture waits is the longest slice.
        target("flush of a full hour: longest wait of the capture loop "
               "(sliced, as the daemon writes)",
               f"{fl['sliced: longest']['median']:.0f} ms (max "
               f"{fl['sliced: longest']['max']:.0f})",
               fl["sliced: longest"]["median"] <= 50, "<= 50 ms")
        target("flush of a full hour: whole write, sliced (between "
               "packets)", f"{fl['sliced: total']['median']:.0f} ms in "
               f"{fl['sliced: slices']['median']:.0f} slices", True, "-")
    if "new hour" in fl:
        target("flush of a full hour: whole write at once (new hour; "
               "a stop or reload)", f"{fl['new hour']['median']:.0f} ms",
               True, "-")
        target("flush of a full hour: at once (same hour again)",
               f"{fl['same hour again']['median']:.0f} ms", True, "-")
    if "tries" in lv:
        first = lv["tries"][0]
        clean = [t for t in lv["tries"] if t["pcap_drops"] + t["if_drops"]
                 == 0]
        lost = [matched - t["seen"] - t["pcap_drops"] - t["if_drops"]
                for t in lv["tries"]]
        if not clean:
            v = (f"drops at every rate tried, down to "
                 f"{lv['tries'][-1]['pps'] or 0:,.0f} pps")
        elif clean[0] is first:
            v = f"no drops at {first['pps'] or 0:,.0f} pps (topspeed)"
        else:
            v = (f"{first['pcap_drops'] + first['if_drops']:,} drops at "
                 f"{first['pps'] or 0:,.0f} pps (topspeed); none at "
                 f"{clean[0]['pps'] or 0:,.0f} pps")
        target("live, tcpreplay into a running aicensusd", v,
               bool(clean) and all(x == 0 for x in lost),
               "no drops at the highest rate, or the rate where they start"
               "; every packet seen or counted as dropped")
    w("## Targets\n")
    w("| what | measured | target | |")
    w("|---|---|---|---|")
    for name, value, ok, want in targets:
        verdict = "information" if want == "-" else \
            "met" if ok else "MISSED"
        w(f"| {name} | {value} | {want} | {verdict} |")
    w("")
    w("## Scaling (aicensusd -r, packets/s, median of "
      f"{a.runs}, runs alternated)\n")
    w("| catalog | departments (x2 prefixes) | packets/s (wall) | min–max "
      "| CPU s | start-up CPU s | packets/s of the traffic (CPU less "
      "start-up) |")
    w("|---|---|---|---|---|---|---|")
    for k in ((30, 100), (300, 100), (3000, 100), (300, 10), (300, 1000)):
        s = scal[k]
        w(f"| {k[0]:,} | {k[1]:,} | {s['pps'] / 1e3:,.0f} k | "
          f"{s['min'] / 1e3:,.0f}–{s['max'] / 1e3:,.0f} k | "
          f"{s['cpu']:.2f} | {s['start']:.2f} | "
          f"{s['pps_traffic'] / 1e3:,.0f} k |")
    w("")
    w("## Memory (aicensusd -r, default limits)\n")
    w("| flood | peak RSS | time | anomalies counted |")
    w("|---|---|---|---|")
    for k, v in mem.items():
        an = ", ".join(f"{n} {c:,}" for n, c in v["anomalies"][:3]) or "-"
        w(f"| {k} | {v['rss_kb'] / 1024:.1f} MiB | {v['wall']:.2f} s | "
          f"{an} |")
    w("")
    w("## Flush of one full hour (bench/flushbench, 100 x 300)\n")
    w("```\n" + fl_text.strip() + "\n```\n")
    w("## Live (network namespaces, veth, tcpreplay)\n")
    if "tries" in lv:
        w(f"{matched:,} of the {packets:,} packets pass aicensusd's default "
          "capture filter (the kernel drops UDP that can be neither DNS nor "
          "QUIC, here WireGuard data); 'seen' is what the daemon logs it saw.\n")
        w("| requested rate | replayed pps | Mbit/s | packets sent | seen by "
          "aicensusd | pcap drops | if drops | unaccounted |")
        w("|---|---|---|---|---|---|---|---|")
        for t in lv["tries"]:
            req = "--topspeed" if t["requested"] is None else \
                f"--pps {t['requested']:,.0f}"
            w(f"| {req} | {t['pps'] or 0:,.0f} | {t['mbps'] or 0:,.0f} | "
              f"{t['sent'] or 0:,} | {t['seen']:,} | {t['pcap_drops']:,} | "
              f"{t['if_drops']:,} | "
              f"{matched - t['seen'] - t['pcap_drops'] - t['if_drops']:,} |")
        warns = [x for t in lv["tries"] for x in t["log_warnings"]]
        w("\nDaemon log warnings: " + ("; ".join(warns[:3]) if warns
                                       else "none") + "\n")
    else:
        w(f"skipped: {lv['skipped']}\n")
    if cr:
        out.extend(central_md(cr, m))
    w("## Names\n")
    w(f"aicensusd (aicensus inspect) found {names['aicensusd']} distinct "
      f"names, tshark {names['tshark']}: "
      f"{'the same set' if names['same'] else 'DIFFERENT'}.")
    if not names["same"]:
        w(f"only aicensusd: {names['only_aicensusd']}")
        w(f"only tshark: {names['only_tshark']}")
    text = "\n".join(out) + "\n"
    print(text)
    open(os.path.join(work, "results.md"), "w").write(text)
    json.dump(dict(machine=m, packets=packets, bytes=nbytes,
                   filter_matched=matched, pps=pps, cpu=cpu,
                   names=names, scaling={f"{k[0]}s-{k[1]}d": v for k, v in
                                         scal.items()},
                   memory=mem, flush=fl, live=lv, central=cr,
                   targets=[dict(what=t[0], value=t[1], ok=t[2], want=t[3])
                            for t in targets]),
              open(os.path.join(work, "results.json"), "w"), indent=1,
              default=str)
    log(f"bench: results in {work}/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
