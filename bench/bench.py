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
     does not; and the same side by side for capture.workers = 1 and 2
     (rounds alternating 1, 2, 1, 2, ...; median of --workers-runs): drops
     at topspeed, the highest rate without loss, CPU per thread, whether
     the released counts are identical, and a stated model of the scaling
     on a many-core gateway.  Alone: --only workers;
  7. week: a capture spanning a week of capture time (bench/gen traffic
     -w 7: 2.6 M packets with an office's daily and weekly rhythm) read
     by `aicensusd -r` against bench/pcaploop, alternated with the
     cadence before issue 13 (a vault write at every flush point,
     AICENSUS_OFFLINE_FLUSH=every); median ratio against the target
     (>= 0.5 of the bare loop) and the two cadences' release databases
     compared byte for byte (keys made the same in both runs, clock
     frozen).  Alone: --only week;
  8. central: 100 simulated sites x one ISO week shipped flush by flush
     through the sensor's shipping code (bench/centralbench) into a
     throwaway PostgreSQL 15 cluster; ingest time, database size, the
     central release and the organisation-wide weekly report.  Alone:
     --only central (make bench BENCH_ARGS="--only central").

Prints a table and writes results.md and results.json in the work
directory.  `--profile` instead runs aicensusd -r under callgrind on a
smaller capture and prints the top functions.

usage: bench.py [--build DIR] [--work DIR] [--packets N] [--runs N]
                [--tshark-runs N] [--seed N] [--flood N] [--skip-live]
                [--profile] [--only central|workers|week] [--skip-central]
                [--workers-runs N] [--workers-packets N]
                [--skip-week] [--week-packets N]
                [--central-runs N] [--central-sites N] [--central-depts N]
                [--central-flush SECONDS]
"""
import argparse
import base64
import glob
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


# ---- 7. a week of capture time ------------------------------------------------

# getrandom() for the week row's comparison runs only (LD_PRELOAD): every
# call gets the same bytes, so both runs draw the same week keys however
# many times they ask, and sketches above 1,024 devices (HyperLogLog,
# whose estimate depends on the keyed hashes) come out the same.
FIXED_RANDOM_C = r"""
#include <stddef.h>
#include <sys/types.h>
ssize_t getrandom(void *buf, size_t len, unsigned int flags);
ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned long long s = 0x9e3779b97f4a7c15ULL;
	unsigned char *p = buf;
	size_t i;

	(void)flags;
	for (i = 0; i < len; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (unsigned char)(s >> 56);
	}
	return (ssize_t)len;
}
"""


def week(T, work, runs, seed, packets):
    """aicensusd -r on a week of capture time against the bare loop, and
    the released results of the old cadence (a vault write at every
    flush point) against the new one."""
    t_row = time.time()
    d = fresh_dir(os.path.join(work, "week"))
    src = os.path.join(ROOT, "config", "catalog.conf")
    pcap = os.path.join(d, "week.pcap")

    def gen(*args):
        r = subprocess.run([T.gen, *args], capture_output=True, text=True)
        check(r.returncode == 0, f"gen {args[0]} failed: {r.stderr}")
        return r.stderr

    t0 = time.time()
    mix = gen("traffic", "-c", src, "-s", str(seed), "-n", str(packets),
              "-w", "7", "-o", pcap)
    gen("catalog", "-c", src, "-S", "300", "-o",
        os.path.join(d, "catalog-300.conf"))
    conf = os.path.join(d, "aicensus.conf")
    gen("config", "-d", "100", "-k", "catalog-300.conf", "-b", "bench.db",
        "-o", conf)
    t_gen = time.time() - t0
    warm(pcap)
    npk, nbytes, _ = capture_size(T.pcaploop, pcap)
    span = re.search(r"([\d.]+) s, ", mix)
    res = {"pcaploop": [], "new": [], "every": []}
    writes = {}
    for i in range(runs):
        log(f"bench: week round {i + 1}/{runs}")
        r = run_measured([T.pcaploop, pcap])
        check(r["rc"] == 0, "pcaploop failed")
        res["pcaploop"].append(r)
        for k in ("new", "every"):
            rundir = os.path.join(d, "run-" + k)
            run_dir(conf, rundir)
            r = run_measured(["env", "AICENSUS_OFFLINE_FLUSH=" +
                              ("every" if k == "every" else "default"),
                              T.aicensusd, "-c", "aicensus.conf", "-r",
                              pcap], cwd=rundir)
            check(r["rc"] == 0, f"aicensusd -r failed: {r['err'][-500:]}")
            m = re.search(r"(\d+) of (\d+) flush points written", r["err"])
            writes[k] = (int(m.group(1)), int(m.group(2))) if m else None
            res[k].append(r)
    # the same released results: both cadences with the same keys and
    # clock, release databases compared byte for byte
    same = dict(ok=False, note="libfaketime or cc missing")
    fake = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    cc = shutil.which("cc")
    if fake and cc:
        shim_c = os.path.join(d, "fixedrandom.c")
        shim = os.path.join(d, "fixedrandom.so")
        open(shim_c, "w").write(FIXED_RANDOM_C)
        r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", shim,
                            shim_c], capture_output=True, text=True)
        check(r.returncode == 0, f"cc fixedrandom.so: {r.stderr}")
        dbs = {}
        for k in ("new", "every"):
            rundir = os.path.join(d, "same-" + k)
            run_dir(conf, rundir)
            env = dict(os.environ, LD_PRELOAD=f"{shim} {fake[0]}",
                       FAKETIME="2026-12-01 12:00:00",
                       AICENSUS_OFFLINE_FLUSH="every" if k == "every"
                       else "default")
            r = subprocess.run([T.aicensusd, "-c", "aicensus.conf", "-r",
                                pcap], cwd=rundir, env=env,
                               capture_output=True, text=True)
            check(r.returncode == 0, f"aicensusd -r (same-{k}) failed: "
                  f"{r.stderr[-500:]}")
            dbs[k] = os.path.join(rundir, "released.db")
        a, b = (open(dbs[k], "rb").read() for k in ("every", "new"))
        con = sqlite3.connect(dbs["new"])
        cells = con.execute("SELECT COUNT(*) FROM cell").fetchone()[0]
        periods = con.execute("SELECT COUNT(*) FROM period").fetchone()[0]
        con.close()
        same = dict(ok=a == b and cells > 0, cells=cells, periods=periods,
                    bytes=len(b),
                    note=f"{periods} periods, {cells:,} cells, "
                    f"{len(b):,} bytes" + ("" if a == b else
                                           ": DIFFERENT"))
    wall = {k: med([r["wall"] for r in v]) for k, v in res.items()}
    cpu = {k: med([r["user"] + r["sys"] for r in v]) for k, v in res.items()}
    return dict(packets=npk, bytes=nbytes, days=float(span.group(1)) / 86400
                if span else None, runs=runs, wall=wall, cpu=cpu,
                ratio=wall["pcaploop"] / wall["new"],
                ratio_every=wall["pcaploop"] / wall["every"],
                ratio_cpu=cpu["pcaploop"] / cpu["new"], writes=writes,
                same=same, res=res, gen_s=t_gen,
                row_s=time.time() - t_row)


def week_md(wk):
    out = []
    w = out.append
    w("## A week of capture time (aicensusd -r against the bare loop)\n")
    w(f"bench/gen traffic -w 7: {wk['packets']:,} packets, "
      f"{wk['bytes'] / 1e6:,.0f} MB over {wk['days'] or 0:.1f} days of "
      "capture time (working hours busy, nights and the weekend quiet), "
      "100 departments, 300 services; from the page cache; "
      f"{wk['runs']} rounds alternated (loop, aicensusd, aicensusd at the "
      f"old cadence); median. Row time {wk['row_s']:.0f} s "
      f"(generation {wk['gen_s']:.0f} s).\n")
    w("| program | time (median, min–max) | CPU s | vault writes / flush "
      "points | of the loop's speed |")
    w("|---|---|---|---|---|")
    for k, name in (("pcaploop", "bench/pcaploop"),
                    ("new", "aicensusd -r"),
                    ("every", "aicensusd -r, a write at every flush point "
                     "(before issue 13)")):
        rs = wk["res"][k]
        ws = wk["writes"].get(k)
        wtxt = f"{ws[0]:,} / {ws[1]:,}" if ws else "-"
        w(f"| {name} | {wk['wall'][k]:.2f} s ({min(r['wall'] for r in rs):.2f}"
          f"–{max(r['wall'] for r in rs):.2f}) | {wk['cpu'][k]:.2f} | {wtxt} "
          f"| {wk['wall']['pcaploop'] / wk['wall'][k]:.2f} |")
    w("")
    w(f"Released results, old cadence = new: "
      f"{'identical' if wk['same']['ok'] else 'NOT identical'} "
      f"({wk['same']['note']}).\n")
    return out


def week_targets(wk, target):
    target("week of capture time: aicensusd -r / pcaploop (wall, median)",
           f"{wk['ratio']:.2f} (CPU {wk['ratio_cpu']:.2f}; old cadence "
           f"{wk['ratio_every']:.2f})", wk["ratio"] >= 0.5, ">= 0.5")
    target("week of capture time: released results = old cadence's",
           wk["same"]["note"], wk["same"]["ok"], "byte-identical")


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
            # jumbo: full-size frames with VLAN tags must pass the veth
            sh("ip", "-n", ns, "link", "set", dev, "mtu", "9000")
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


def thread_cpu(pid):
    """{tid: (name, CPU seconds)} of every thread of pid, from
    /proc/pid/task/*/schedstat (nanoseconds on a CPU), else stat's
    utime + stime (clock ticks, 10 ms)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        try:
            st = open(f"/proc/{pid}/task/{t}/stat").read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        try:
            ns = int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
            out[int(t)] = (name, ns / 1e9)
        except (OSError, ValueError, IndexError):
            out[int(t)] = (name, (int(f[11]) + int(f[12])) / hz)
    return out


def live_once(T, ns, work, conf, pcap, pps=None, workers=None,
              finalise=False, preload=False):
    rundir = fresh_dir(os.path.join(work, "live"))
    cap = "promisc = true;" + ("" if workers is None else
                               f" workers = {workers};")
    # released counts compared between runs: lab mode (min_group_size
    # 1), so that the release is the counts, neither suppressed nor noised
    # and a flush every second, so that the main thread's merges of the
    # workers' aggregates happen during the replay and are measured
    lab = "\n  min_group_size = 1;\n  flush_interval = 1;" if finalise \
        else ""
    text = open(conf).read().replace(
        "  user = \"\";",
        "  user = \"\";\n  capture = { " + cap + " };" + lab)
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
        time.sleep(0.3)     # the workers start after the capture line
        threads0 = thread_cpu(d.pid)
        rate = ["--topspeed"] if pps is None else ["--pps", str(int(pps))]
        # the sender's own CPU (its system time includes the veth's
        # receive softirq, which runs in the sending thread's context)
        ru0 = os.times()
        r = subprocess.run(["ip", "netns", "exec", ns.tx, "tcpreplay",
                            *rate, *(["-K"] if preload else []), "-i", "vtx",
                            pcap],
                           capture_output=True, text=True)
        ru1 = os.times()
        sender_cpu = (ru1.children_user - ru0.children_user +
                      ru1.children_system - ru0.children_system)
        check(r.returncode == 0, f"tcpreplay failed: {r.stderr[-300:]}")
        time.sleep(1.0)
        # CPU of the replay alone: start-up (catalog, keys) taken out
        threads = {t: (n, c - threads0.get(t, ("", 0.0))[1])
                   for t, (n, c) in thread_cpu(d.pid).items()}
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
    cells = None
    if finalise:
        f = subprocess.run([T.aicensusd, "-c", "aicensus.conf", "--finalise"],
                           cwd=rundir, capture_output=True, text=True)
        check(f.returncode == 0, f"aicensusd --finalise: {f.stderr[-300:]}")
        cells = released_sums(os.path.join(rundir, "released.db"))
    main_cpu = threads.get(d.pid, ("", 0.0))[1]
    return dict(sent=int(sent.group(1)) if sent else None,
                threads=sorted(((c, n, t) for t, (n, c) in threads.items()
                                if t != d.pid), reverse=True),
                main_cpu=main_cpu, workers=workers, cells=cells,
                sender_cpu=sender_cpu,
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


def released_sums(db):
    """The released week cells summed over the weeks (a run may straddle
    a week), and the day blind spots, as one comparable dict.  Device-
    hours are left out: a run that straddles an hour counts them in two
    hours, and that is the clock, not the capture threads."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ms = ["devices", "tls", "quic", "ech", "conns", "dns", "nxdomain",
          "bytes_up", "bytes_down"]
    out = {}
    for row in con.execute(f"SELECT dept, svc, {', '.join(ms)} FROM cell "
                           "WHERE kind = 2"):
        c = out.setdefault(f"{row[0]}|{row[1]}", dict.fromkeys(ms, 0))
        for m, v in zip(ms, row[2:]):
            c[m] += v or 0
    for name, v in con.execute("SELECT name, SUM(value) FROM blind "
                               "GROUP BY name"):
        out[f"blind|{name}"] = v
    con.close()
    return out


def live_matched(pcap):
    """Frames a live socket with the default filter must see (the
    kernel takes the outer VLAN tag out before the filter runs; see
    tests/workers_check.py)."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import workers_check
    return workers_check.matched(pcap, os.path.join(
        ROOT, "daemon", "capture", "capture.h"))


def lost(t, matched):
    """Packets dropped or never seen: pcap's and the interface's drop
    counters, and what the kernel lost before the socket (a full
    backlog) that no counter names."""
    return t["pcap_drops"] + t["if_drops"] + \
        max(0, matched - t["seen"] - t["pcap_drops"] - t["if_drops"])


def workers_live(T, work, conf, pcap, matched, runs, counts=(1, 2)):
    """capture.workers side by side: rounds of 1, 2, 1, 2, ...; in each,
    topspeed, then rates 25 % lower each step until nothing is lost.
    The runs without loss are released (--finalise) and compared."""
    if os.geteuid() != 0 or not shutil.which("ip") or \
            not shutil.which("tcpreplay"):
        return dict(skipped="needs root, ip and tcpreplay")
    res = {w: [] for w in counts}
    with Netns() as ns:
        for i in range(runs):
            for w in counts:
                log(f"bench: workers = {w}, round {i + 1}/{runs}: topspeed")
                top = live_once(T, ns, work, conf, pcap, workers=w,
                                finalise=True, preload=True)
                tries = [top]
                rate = top["pps"] or 100000
                while lost(tries[-1], matched) > 0 and len(tries) < 8:
                    rate *= 0.75
                    log(f"bench: workers = {w}: {lost(tries[-1], matched):,}"
                        f" lost, trying {rate:,.0f} pps")
                    tries.append(live_once(T, ns, work, conf, pcap,
                                           pps=rate, workers=w,
                                           finalise=True, preload=True))
                clean = tries[-1] if lost(tries[-1], matched) == 0 else None
                res[w].append(dict(top=top, tries=tries, clean=clean))
    return dict(rounds=res, matched=matched)


def workers_row(T, work, seed, npackets, runs):
    """The capture.workers rows on a capture of their own (npackets of
    bench/gen traffic, 100 departments): workers_live and its table."""
    pcap = os.path.join(work, "workers.pcap")
    r = subprocess.run([T.gen, "traffic", "-c",
                        os.path.join(ROOT, "config", "catalog.conf"),
                        "-s", str(seed), "-n", str(npackets),
                        "-o", pcap], capture_output=True, text=True)
    check(r.returncode == 0, f"gen traffic failed: {r.stderr}")
    conf = os.path.join(work, "aicensus-workers.conf")
    shutil.copy(os.path.join(ROOT, "config", "catalog.conf"),
                os.path.join(work, "catalog.conf"))
    r = subprocess.run([T.gen, "config", "-d", "100", "-k",
                        "catalog.conf", "-b", "bench.db", "-o", conf],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"gen config failed: {r.stderr}")
    warm(pcap)
    packets, nbytes, _ = capture_size(T.pcaploop, pcap)
    _, _, matched = live_matched(pcap)
    wl = workers_live(T, work, conf, pcap, matched, runs)
    m = machine()
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} "
             f"GiB, Linux {m['kernel']}.  Capture: bench/gen seed "
             f"{seed}, {packets:,} packets, {nbytes / 1e6:,.0f} MB.\n"]
    md = workers_md(wl, packets, nbytes)
    return wl, md[:1] + lines + md[1:]


def workers_md(wl, packets, nbytes):
    """The workers rows: medians over the rounds, and the model."""
    out = []
    w = out.append
    if "skipped" in wl:
        return [f"## Live, capture.workers 1 vs 2\n\nskipped: "
                f"{wl['skipped']}\n"]
    R = wl["rounds"]
    matched = wl["matched"]
    cores = os.cpu_count()
    w("## Live, capture.workers 1 vs 2 (netns + veth, tcpreplay)\n")
    w(f"{matched:,} of the {packets:,} packets pass the default capture "
      f"filter on a live socket; rounds alternate 1, 2, 1, 2, ...; "
      f"median of {len(next(iter(R.values())))} rounds (min–max). "
      "'lost' = pcap drops + interface drops + packets never seen; "
      "'≥': some round lost nothing even at topspeed (tcpreplay -K, "
      "the sender, was the limit).\n")
    w("| workers | topspeed: pps | topspeed: lost | max rate without loss: "
      "pps | Mbit/s | CPU s per capture thread at that rate | main "
      "thread CPU s | packets per capture-thread CPU s |")
    w("|---|---|---|---|---|---|---|---|")
    model = {}
    for k, rounds in R.items():
        tp = [r["top"]["pps"] or 0 for r in rounds]
        tl = [lost(r["top"], matched) for r in rounds]
        cl = [r["clean"] for r in rounds if r["clean"]]
        if cl:
            cp = [c["pps"] or 0 for c in cl]
            cm = [c["mbps"] or 0 for c in cl]
            # capture threads: the main thread itself with 1 worker;
            # with N > 1 the N busiest other threads (the workers; the
            # rest are the vault's commit thread and such)
            per = []
            mains = []
            rate = []
            for c in cl:
                if k == 1:
                    wc = [c["main_cpu"]]
                else:
                    wc = [t[0] for t in c["threads"][:k]]
                    mains.append(c["main_cpu"])
                per.extend(wc)
                if sum(wc) > 0:
                    rate.append(c["seen"] / sum(wc))
            model[k] = dict(per_thread=med(rate) if rate else None,
                            main=med(mains) if mains else None,
                            seen=med([c["seen"] for c in cl]),
                            clean_pps=med(cp))
            pt = model[k]["per_thread"]
            # no loss at topspeed: the sender is the limit, not aicensusd
            ge = "≥ " if any(r["clean"] is r["top"] for r in rounds) else ""
            w(f"| {k} | {med(tp):,.0f} ({min(tp):,.0f}–{max(tp):,.0f}) | "
              f"{med(tl):,.0f} ({min(tl):,}–{max(tl):,}) | "
              f"{ge}{med(cp):,.0f} ({min(cp):,.0f}–{max(cp):,.0f}) | "
              f"{med(cm):,.0f} | "
              + ", ".join(f"{x:.2f}" for x in per) + " | "
              + (f"{med(mains):.2f}" if mains else "(is the capture thread)")
              + " | " + (f"{pt:,.0f}" if pt else "-") + " |")
        else:
            w(f"| {k} | {med(tp):,.0f} | {med(tl):,.0f} | lost at every "
              "rate tried | | | | |")
    w("")
    sets = [(k, r["clean"]["cells"]) for k, rounds in R.items()
            for r in rounds if r["clean"] and r["clean"]["cells"]]
    # Distinct devices are exact up to SKETCH_SPARSE_MAX (1024, sketch.h)
    # and an estimate above, under the week key each run makes afresh:
    # those vary from run to run whatever the worker count.
    est = {}

    def exact(cells):
        out = {}
        for key, v in cells.items():
            if isinstance(v, dict) and v.get("devices", 0) > 1024:
                est.setdefault(key, []).append(v["devices"])
                v = {m: x for m, x in v.items() if m != "devices"}
            out[key] = v
        return out
    sets = [(k, exact(c)) for k, c in sets]
    ident = bool(sets) and all(c == sets[0][1] for _, c in sets) and \
        len({k for k, _ in sets}) == len(R)
    diff = []
    if sets and not ident:
        a = sets[0][1]
        for k, c in sets[1:]:
            for key in sorted(set(a) | set(c)):
                if a.get(key) != c.get(key):
                    diff.append(f"workers {k}: {key} {c.get(key)} vs "
                                f"{a.get(key)}")
    w(f"identical: {'yes' if ident else 'no'} (released week cells and "
      f"day blind spots of the {len(sets)} runs without loss, "
      f"{', '.join(str(k) for k, _ in sets)} workers; device-hours left "
      "out)" + ("" if ident else ": " + "; ".join(diff[:4])) + "\n")
    if est:
        w("Device counts above 1,024 are sketch estimates under each run's "
          "own week key and were compared apart: " + "; ".join(
              f"{key} {min(v):,}–{max(v):,}" for key, v in
              sorted(est.items())[:3]) +
          ".\n")
    m1, m2 = model.get(1), model.get(2)
    if m1 and m1["per_thread"]:
        pw = (m2 or m1)["per_thread"] or m1["per_thread"]
        main_cost = (m2["main"] / m2["seen"]) if m2 and m2["main"] else 0
        main_rate = 1 / main_cost if main_cost else None
        w("Model for a many-core gateway (stated, not measured): a capture "
          "thread handles r packets per CPU second of its own (with 2 "
          f"workers: {pw:,.0f}; with 1: {m1['per_thread']:,.0f}); this is "
          "the daemon's user and system time only, the kernel's receive "
          "path (softirq, copy into the ring) runs on the sender's core "
          "here and on the NIC queues' cores on a gateway.  The main "
          "thread, which merges the workers' aggregates at every flush, "
          "used "
          + (f"{main_cost * 1e6:.3f} µs of CPU per packet with a flush "
             "every second (the worst case: the default interval is 60 s), "
             f"so it becomes the limit only at ~{main_rate:,.0f} packets/s"
             if main_rate else "too little CPU to measure")
          + ".  With K cores for capture threads, ceiling ≈ min(K × r, "
          "main-thread rate):")
        for K in (1, 2, 4, 8, 16):
            est = K * pw
            if main_rate:
                est = min(est, main_rate)
            w(f"- K = {K}: ~{est:,.0f} packets/s "
              f"(~{est * nbytes / packets * 8 / 1e6:,.0f} Mbit/s at this "
              "capture's mean frame size)")
        sc = [r["top"]["sender_cpu"] / (r["top"]["sent"] / r["top"]["pps"])
              for rounds in R.values() for r in rounds
              if r["top"].get("pps") and r["top"].get("sent")]
        kp = [r["top"]["sender_cpu"] / r["top"]["sent"]
              for rounds in R.values() for r in rounds
              if r["top"].get("sent")]
        if kp:
            # the pessimistic bound: every packet also costs, on the same
            # core, what this machine's whole kernel path cost (send,
            # veth, receive into the ring: all in the sender's CPU here)
            lo = 1 / (med(kp) + 1 / pw)
            w(f"- pessimistic, if each packet also cost a capture core the "
              f"whole kernel path measured here ({med(kp) * 1e6:.2f} µs: "
              f"tcpreplay's send, the veth and the receive into the ring): "
              f"~{lo:,.0f} packets/s per core, K = 8: ~{min(8 * lo, main_rate or 8 * lo):,.0f}")
        all_top = all(r["clean"] is r["top"] for rounds in R.values()
                      for r in rounds)
        w(f"\nThis machine has {cores} cores, shared (load average "
          f"{os.getloadavg()[0]:.1f} at the end).  At topspeed tcpreplay, "
          "with the veth's receive path in its context, used "
          + (f"{med(sc):.2f} of a core (median)" if sc else "? of a core")
          + (": nothing was lost at the highest rate it reached, with "
             "either worker count, so the sender, not aicensusd, was the "
             "limit and the max rates above do not show the scaling"
             if all_top else "") +
          "; a second capture thread has no core of its own here.  The "
          "per-thread CPU figures are what the model uses.\n")
    return out


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
    ap.add_argument("--only", choices=["central", "workers", "week"],
                    help="only this row (central: sites x one week into "
                    "PostgreSQL; workers: live capture.workers 1 vs 2; "
                    "week: a week of capture time)")
    ap.add_argument("--workers-runs", type=int, default=3)
    ap.add_argument("--workers-packets", type=int, default=300000,
                    help="packets of the capture replayed by --only "
                    "workers (the full run uses --packets)")
    ap.add_argument("--skip-week", action="store_true")
    ap.add_argument("--week-packets", type=int, default=2600000)
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
    if a.only == "workers":
        t0 = time.time()
        wl, lines = workers_row(T, work, a.seed, a.workers_packets,
                                a.workers_runs)
        text = (f"# aicensusd benchmark, live capture.workers rows "
                f"({time.strftime('%Y-%m-%d %H:%M')}, "
                f"{(time.time() - t0) / 60:.1f} min)\n\n"
                + "\n".join(lines) + "\n")
        print(text)
        open(os.path.join(work, "results-workers.md"), "w").write(text)
        json.dump(wl, open(os.path.join(work, "results-workers.json"), "w"),
                  indent=1, default=str)
        log(f"bench: results in {work}/results-workers.md")
        return 0
    if a.only == "week":
        wk = week(T, work, a.runs, a.seed, a.week_packets)
        targets = []
        week_targets(wk, lambda *t: targets.append(t))
        text = "\n".join(week_md(wk) + [
            "| what | measured | target | |", "|---|---|---|---|"] + [
            f"| {n} | {v} | {want} | {'met' if ok else 'MISSED'} |"
            for n, v, ok, want in targets]) + "\n"
        print(text)
        open(os.path.join(work, "results-week.md"), "w").write(text)
        log(f"bench: results in {work}/results-week.md")
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
    wk = None if a.skip_week else \
        week(T, work, a.runs, a.seed, a.week_packets)
    lv = dict(skipped="--skip-live") if a.skip_live else \
        live(T, work, main_conf, files["pcap"])
    wl, wl_lines = (None, None) if a.skip_live else \
        workers_row(T, work, a.seed, a.workers_packets, a.workers_runs)
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
    if wk:
        week_targets(wk, target)
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
    if wk:
        out.extend(week_md(wk))
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
    if wl_lines:
        out.extend(wl_lines)
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
                   memory=mem, flush=fl, live=lv, workers=wl, central=cr,
                   week={k: v for k, v in wk.items() if k != "res"}
                   if wk else None,
                   targets=[dict(what=t[0], value=t[1], ok=t[2], want=t[3])
                            for t in targets]),
              open(os.path.join(work, "results.json"), "w"), indent=1,
              default=str)
    log(f"bench: results in {work}/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
