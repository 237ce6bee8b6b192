"""The synthetic network (departments, services, addresses) and the ground
truth accumulator.  The counting semantics live here, in one place; see
README.md for the prose version."""

import calendar
import datetime
import ipaddress
from collections import Counter, defaultdict

START = calendar.timegm((2026, 11, 16, 8, 0, 0))   # Monday, ISO week 47
DAY1_HOURS = 3
DAY2_START = calendar.timegm((2026, 11, 17, 9, 0, 0))
DAY2_SPAN = 1800

ECH_WINDOW = 600

SERVICES = [
    dict(id="openai-chatgpt", name="ChatGPT", vendor="OpenAI", category="chat",
         jurisdiction="US", domains=["chatgpt.com", "openai.com"], hosts=[]),
    dict(id="anthropic-claude", name="Claude", vendor="Anthropic", category="chat",
         jurisdiction="US", domains=["claude.ai"], hosts=[]),
    dict(id="google-gemini", name="Gemini", vendor="Google", category="chat",
         jurisdiction="US", domains=[], hosts=["gemini.google.com"]),
    dict(id="mistral-lechat", name="Le Chat", vendor="Mistral AI", category="chat",
         jurisdiction="EU", domains=["mistral.ai"], hosts=[]),
    dict(id="deepseek", name="DeepSeek", vendor="DeepSeek", category="chat",
         jurisdiction="CN", domains=["deepseek.com"], hosts=[]),
]
SVC_IDS = [s["id"] for s in SERVICES]
POPULARITY = {"openai-chatgpt": 45, "anthropic-claude": 20, "google-gemini": 15,
              "mistral-lechat": 10, "deepseek": 10}

# Names used in traffic per service (each must match its service).
TRAFFIC_NAMES = {
    "openai-chatgpt": ["chatgpt.com", "chatgpt.com", "chatgpt.com", "ab.chatgpt.com",
                       "ws.chatgpt.com", "api.openai.com", "openai.com", "cdn.openai.com"],
    "anthropic-claude": ["claude.ai", "claude.ai", "api.claude.ai", "statsig.claude.ai"],
    "google-gemini": ["gemini.google.com"],
    "mistral-lechat": ["chat.mistral.ai", "mistral.ai", "api.mistral.ai"],
    "deepseek": ["chat.deepseek.com", "deepseek.com", "api.deepseek.com"],
}
DECOYS = ["www.google.com", "notchatgpt.com", "chatgpt.com.evil.example",
          "example.org", "mail.google.com"]
NOISE_NAMES = ["cdn.example.net", "static.example.com", "updates.example.net",
               "api.example.com", "fonts.example.net", "telemetry.example.com"]
ECH_PUBLIC_NAME = "cloudflare-ech.com"

# Server pools.  The addresses used by the ECH special cases are kept out
# of these pools so that no other answer can ever contain them.
SVC_V4 = {
    "openai-chatgpt": ["203.0.113.10", "203.0.113.11", "203.0.113.12"],
    "anthropic-claude": ["203.0.113.20", "203.0.113.21"],
    "google-gemini": ["198.51.100.30", "198.51.100.31"],
    "mistral-lechat": ["198.51.100.40"],
    "deepseek": ["198.51.100.50", "198.51.100.51"],
}
SVC_V6 = {
    "openai-chatgpt": ["2001:db8:ffff::10", "2001:db8:ffff::11"],
    "anthropic-claude": ["2001:db8:ffff::20"],
    "google-gemini": ["2001:db8:ffff::30"],
    "mistral-lechat": ["2001:db8:ffff::40"],
    "deepseek": ["2001:db8:ffff::50"],
}
DECOY_V4 = {"www.google.com": ["198.51.100.60"], "mail.google.com": ["198.51.100.61"],
            "notchatgpt.com": ["203.0.113.70"], "chatgpt.com.evil.example": ["203.0.113.71"],
            "example.org": ["203.0.113.72"]}
DECOY_V6 = {"www.google.com": ["2001:db8:ffff::60"], "mail.google.com": ["2001:db8:ffff::61"],
            "notchatgpt.com": ["2001:db8:ffff::70"], "chatgpt.com.evil.example": ["2001:db8:ffff::71"],
            "example.org": ["2001:db8:ffff::72"]}
NOISE_V4 = ["198.51.100.%d" % i for i in range(100, 140)] + \
    ["203.0.113.%d" % i for i in range(150, 200)]
NOISE_V6 = ["2001:db8:ffff::1:%x" % i for i in range(1, 40)]

RESOLVER = "10.0.0.53"
UPSTREAM = "9.9.9.9"
PUBLIC_RESOLVER_V4 = "198.51.100.53"
PUBLIC_RESOLVER_V6 = "2001:db8:ffff::53"
IGNORE = [RESOLVER]

DEPARTMENTS = [
    dict(name="Finance", prefixes=["10.10.0.0/16"], vlans=[]),
    dict(name="Engineering", prefixes=["10.20.0.0/16", "2001:db8:20::/48"], vlans=[]),
    dict(name="Sales", prefixes=["10.30.0.0/16"], vlans=[30]),
    dict(name="Research", prefixes=["10.40.0.0/16"], vlans=[]),
]
UNASSIGNED = "unassigned"
_NETS = [(d["name"], ipaddress.ip_network(p)) for d in DEPARTMENTS for p in d["prefixes"]]
_VLANS = {v: d["name"] for d in DEPARTMENTS for v in d["vlans"]}


def match_service(name):
    """Catalog matching: lowercase, one trailing dot stripped; 'domains'
    match the name itself or any subdomain, 'hosts' match exactly."""
    if name is None:
        return None
    n = name.lower()
    if n.endswith("."):
        n = n[:-1]
    for s in SERVICES:
        if n in s["hosts"]:
            return s["id"]
        for d in s["domains"]:
            if n == d or n.endswith("." + d):
                return s["id"]
    return None


def dept_of(addr, vlan):
    """vlan_departments = true: a frame whose innermost 802.1Q id is a
    department VLAN belongs to that department; otherwise the department
    whose prefix holds the address (prefixes here never overlap);
    otherwise 'unassigned'."""
    if vlan in _VLANS:
        return _VLANS[vlan]
    a = ipaddress.ip_address(addr)
    for name, net in _NETS:
        if a.version == net.version and a in net:
            return name
    return UNASSIGNED


def hour_of(ts):
    return int(ts) // 3600 * 3600


def day_of(ts):
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime("%Y-%m-%d")


def week_of(ts):
    y, w, _ = datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).isocalendar()
    return "%04d-W%02d" % (y, w)


FIELDS = ("tls_conns", "quic_conns", "ech_conns", "dns_lookups", "dns_nxdomain",
          "bytes_up", "bytes_down")


class Truth:
    def __init__(self):
        self.cells = defaultdict(Counter)
        self.dev_hour = defaultdict(set)
        self.dev_day = defaultdict(set)
        self.dev_week = defaultdict(set)
        self.flows = {}           # flow id -> (svc, dept)
        self.blind = Counter()
        self.names = {k: Counter() for k in ("dns_query", "dns_query_tcp", "dns_response", "tls_sni", "quic_sni")}
        self.answers = []         # (ts, client addr str, answered addr str, qname, ttl)
        self.cases = []
        self.clients = set()
        self.servers = set()

    def count(self, field, ts, host, svc, use=True):
        """One event for a (hour, department, service) cell.  use=True marks
        the client as a user of the service in that hour/day/week (DNS
        lookups and counted connections; not NXDOMAIN responses)."""
        if host.ignored or svc is None:
            return
        key = (hour_of(ts), host.dept, svc)
        self.cells[key][field] += 1
        if use:
            a = str(host.addr)
            self.dev_hour[key].add(a)
            self.dev_day[(day_of(ts), host.dept, svc)].add(a)
            self.dev_week[(week_of(ts), host.dept, svc)].add(a)

    def count_flow(self, fid, host, svc):
        if host.ignored:
            return
        prev = self.flows.get(fid)
        assert prev is None or prev == (svc, host.dept)
        self.flows[fid] = (svc, host.dept)

    def add_bytes(self, records):
        for ts_us, _seq, _frame, fid, up, plen in records:
            if fid is None or fid not in self.flows or plen == 0:
                continue
            svc, dept = self.flows[fid]
            self.cells[(hour_of(ts_us // 1000000), dept, svc)]["bytes_up" if up else "bytes_down"] += plen

    def ech_lookup(self, ts, client, addr):
        """Most recent answer of addr to client within the window; returns the
        service it maps to (None = unattributed).  Also evaluated with a
        TTL-bounded window; the scenario is built so both agree."""
        best = None
        for ats, c, a, qname, ttl in self.answers:
            if c == client and a == addr and ats <= ts and (best is None or ats >= best[0]):
                best = (ats, qname, ttl)
        if best is None:
            return None
        ats, qname, ttl = best
        in_600 = ts - ats <= ECH_WINDOW
        in_ttl = ts - ats <= min(ttl, ECH_WINDOW)
        assert in_600 == in_ttl, "ECH case would depend on TTL handling"
        return match_service(qname) if in_600 else None

    def usage_rows(self):
        rows = []
        for key in sorted(self.cells):
            c = self.cells[key]
            if not any(c[f] for f in FIELDS):
                continue
            hour, dept, svc = key
            row = dict(hour=hour, department=dept, service=svc)
            for f in FIELDS:
                row[f] = c[f]
            row["device_hours"] = len(self.dev_hour.get(key, ()))
            rows.append(row)
        return rows

    def device_rows(self, table, label):
        return [{label: k[0], "department": k[1], "service": k[2], "devices": len(v)}
                for k, v in sorted(table.items())]
