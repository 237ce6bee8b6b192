#!/usr/bin/python3
"""deps_check.py - the dependency closure of installed Debian packages.

  deps_check.py closure PKG...   every installed package PKG... needs,
                                 through Depends and Pre-Depends (one per
                                 line, PKG... included)
  deps_check.py priority PKG...  "PKG PRIORITY" per line

Read from dpkg's database (dpkg-query), so it follows the alternatives
this machine actually chose; used by tests/e2e/deps.sh."""
import subprocess
import sys


def database():
    fmt = "${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\t${Priority}\n"
    out = subprocess.run(["dpkg-query", "-W", "-f", fmt], check=True,
                         capture_output=True, text=True).stdout
    deps, prov, prio = {}, {}, {}
    for line in out.splitlines():
        name, status, dep, provides, priority = line.split("\t")
        if not status.endswith(" installed"):
            continue
        name = name.split(":")[0]
        alts = []
        for group in dep.split(","):
            group = [a.split("(")[0].split(":")[0].strip()
                     for a in group.split("|")]
            group = [a for a in group if a]
            if group:
                alts.append(group)
        deps[name] = alts
        prio[name] = priority
        for p in provides.split(","):
            p = p.split("(")[0].split(":")[0].strip()
            if p:
                prov.setdefault(p, []).append(name)
    return deps, prov, prio


def resolve(name, deps, prov):
    if name in deps:
        return [name]
    return prov.get(name, [])


def closure(roots, deps, prov):
    seen = set()
    todo = []
    for r in roots:
        todo += resolve(r, deps, prov)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for group in deps[p]:
            # the first alternative that is installed is the one in use
            for a in group:
                got = resolve(a, deps, prov)
                if got:
                    todo += got
                    break
    return seen


def main():
    deps, prov, prio = database()
    if len(sys.argv) < 2 or sys.argv[1] not in ("closure", "priority"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "closure":
        for p in sorted(closure(sys.argv[2:], deps, prov)):
            print(p)
    else:
        for p in sys.argv[2:]:
            print(p, prio.get(p, "not-installed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
