#!/usr/bin/python3
"""The daemon's include graph, checked from the sources.

daemon/ has one folder per stage of the flow, in this order:

    common < capture < decode < proto < detect < attribute < aggregate
           < store < release < out < out/report, out/api < the two mains

A file may include a header of its own folder or of an earlier one,
never of a later one: the packet path cannot reach the store, the store
cannot reach the release stage, nothing but the outputs reads what the
release stage publishes.  out/report and out/api share a rank and may
not include each other.  plugins/aicensus_plugin.h is the plugin ABI,
below everything.  Modules may form no circle, even inside one folder: a
module is a .c file; including a header is an arrow to the module of
the same name, and to every module that defines a function the header
declares and the including file names (a call or an entry of a table;
so a shared header such as out/api/api_int.h points at whoever
implements what is used from it, and a renderer calling back into
report.c is seen).

Prints one "ok - " or "not ok - " line per rule and, with --dot, the
module graph in Graphviz form.  Exit status 1 when a rule is broken.
"""
import os
import re
import sys

RANK = {"common": 0, "capture": 1, "decode": 2, "proto": 3, "detect": 4,
        "attribute": 5, "aggregate": 6, "store": 7, "release": 8, "out": 9,
        "out/report": 10, "out/api": 10, "": 11,
        # the dashboard's static files (no C), served by out/api
        "out/dashboard": 10}
ABI = "plugins/aicensus_plugin.h"
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# a function definition in this tree's style: the name at column 0
DEF = re.compile(r'^([A-Za-z_]\w*)\(', re.M)
CALLISH = re.compile(r'\b([A-Za-z_]\w*)\s*\(')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def sources(root):
    for d, _, files in os.walk(os.path.join(root, "daemon")):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(d, f), root)


def folder(path):
    """daemon/out/api/api.c -> out/api; daemon/aicensusd.c -> ''"""
    return os.path.dirname(path)[len("daemon/"):] if "/" in path[7:] else ""


def module(path):
    return os.path.splitext(path)[0]


def resolve(root, inc):
    for cand in ("daemon/" + inc, "plugins/" + inc):
        if os.path.exists(os.path.join(root, cand)):
            return cand
    return None


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    dot = "--dot" in sys.argv
    fails = 0
    files = list(sources(root))
    unknown, backward, unresolved = [], [], []
    edges = {}
    defined = {}            # function name -> module defining it
    for f in files:
        if f.endswith(".c"):
            for name in DEF.findall(open(os.path.join(root, f)).read()):
                defined.setdefault(name, module(f))
    implementors = {}       # header -> modules defining what it declares
    for f in files:
        if f.endswith(".h"):
            text = COMMENT.sub(" ", open(os.path.join(root, f)).read())
            text = re.sub(r'^\s*#.*$', " ", text, flags=re.M)
            implementors[f] = {n: defined[n] for n in CALLISH.findall(text)
                               if n in defined}
    for f in files:
        # every identifier, not only calls: a function named in a table
        # (renderers, routes) is as much a dependency as a call
        used = set(re.findall(r'\b[A-Za-z_]\w*\b', COMMENT.sub(" ", open(
            os.path.join(root, f)).read())))
        fo = folder(f)
        if fo not in RANK:
            unknown.append(f)
            continue
        for inc in INC.findall(open(os.path.join(root, f)).read()):
            tgt = resolve(root, inc)
            if tgt is None:
                unresolved.append(f"{f} -> {inc}")
                continue
            if tgt == ABI:
                continue
            to = folder(tgt)
            if to not in RANK:
                unknown.append(tgt)
                continue
            if to != fo and RANK[to] >= RANK[fo]:
                backward.append(f"{f} -> {tgt}")
            a = module(f)
            targets = {m for n, m in implementors.get(tgt, {}).items()
                       if n in used}
            if os.path.exists(os.path.join(root, module(tgt) + ".c")):
                targets.add(module(tgt))
            for b in targets:
                if a != b:
                    edges.setdefault(a, set()).add(b)
    if unknown:
        fails += 1
        print(f"not ok - every daemon source is in a stage folder: "
              f"{', '.join(sorted(set(unknown)))}")
    else:
        print(f"ok - every one of {len(files)} daemon sources is in a stage "
              "folder or is one of the two mains")
    if unresolved:
        fails += 1
        print("not ok - includes that name no file under daemon/ or "
              "plugins/: " + "; ".join(unresolved))
    else:
        print("ok - every quoted include names a file under daemon/ or "
              "plugins/ by its stage path")
    if backward:
        fails += 1
        print(f"not ok - {len(backward)} includes point to a later stage "
              "(or to the other output): " + "; ".join(backward))
    else:
        print("ok - no include points to a later stage of the flow, and "
              "out/report and out/api do not include each other")
    cycles = circles(edges)
    if cycles:
        fails += 1
        print(f"not ok - {len(cycles)} include circles between modules: "
              + "; ".join(" <-> ".join(c) for c in cycles))
    else:
        n = sum(len(v) for v in edges.values())
        print(f"ok - the module graph ({len(edges)} modules with includes, "
              f"{n} arrows) has no circle")
    if dot:
        print("digraph aicensus {")
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f'  "{a[7:]}" -> "{b[7:]}";')
        print("}")
    return 1 if fails else 0


def circles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    nodes = set(edges) | {b for v in edges.values() for b in v}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(c[7:] for c in comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
