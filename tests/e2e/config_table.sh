#!/bin/bash
# The configuration is described once, in the table of keys in
# daemon/common/config.c; this holds the two texts people read against
# it, so that neither can drift from what the daemon accepts:
#  - aicensus.conf(5) documents every key of the table, in the section of
#    its group, with the table's default, bounds and type, and documents
#    no key the table does not have;
#  - the shipped config/aicensus.conf sets only keys of the table (each
#    in its group), mentions every key at least in a comment, and every
#    range its comments give for a number is the table's.
# The table is read from the library through tests/tools/cfgkeys (built
# by `make unit`), not from a copy.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TOOL=$BUILD/tools/cfgkeys
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

[ -x "$TOOL" ] || { nok "$TOOL is not built (make unit)"; exit 1; }
out=$(mktemp -d /tmp/aic-cfgtable.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$TOOL" >"$out/keys" || { nok "cfgkeys failed"; exit 1; }
n=$(grep -c . "$out/keys")
[ "$n" -ge 30 ] && ok "the table has $n keys" ||
	nok "the table has only $n keys"

# The manual says @plugindir@ and @webdir@ where make install fills in
# the paths the build compiled in as the defaults: check that it does.
grep -q "s|@plugindir@|\$(PLUGINDIR)|g" Makefile &&
grep -q -- "-DAIC_PLUGINDIR='\"\$(PLUGINDIR)\"'" Makefile &&
grep -q "s|@webdir@|\$(AIC_WEBDIR)|g" Makefile &&
grep -q "AIC_WEBDIR = \$(WEBDIR)" Makefile &&
grep -q -- "-DAIC_WEBDIR='\"\$(WEBDIR)\"'" Makefile &&
	ok "@plugindir@ and @webdir@ in the manual are the compiled-in defaults" ||
	nok "the Makefile no longer fills @plugindir@/@webdir@ with the compiled-in defaults"

python3 - "$out/keys" docs/man/aicensus.conf.5 config/aicensus.conf <<'EOF'
import re, sys

keys_file, man_file, example_file = sys.argv[1:4]
fails = 0
def ok(m): print("ok - " + m)
def nok(m):
    global fails
    fails += 1
    print("not ok - " + m)

rows = {}
order = []
for line in open(keys_file):
    sec, name, typ, lo, hi, dflt, unit, rel = line.rstrip("\n").split("\t")
    sec = "" if sec == "-" else sec
    rows[(sec, name)] = dict(type=typ, min=lo, max=hi, dflt=dflt, rel=rel)
    order.append((sec, name))
INT_MAX = str(2**31 - 1)
macro = {"@plugindir@": ("", "plugin_dir"), "@webdir@": ("api", "web_dir")}

def label(k):
    return (k[0] + "." if k[0] else "") + k[1]

# ---- the manual page --------------------------------------------------

def troff_args(s):
    args, cur, inq, i = [], "", False, 0
    while i < len(s):
        ch = s[i]
        if ch == '"':
            inq = not inq
        elif ch == " " and not inq:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur:
        args.append(cur)
    return args

def unescape(s):
    for a, b in (("\\(dq", '"'), ("\\-", "-"), ("\\&", ""), ("\\ ", " "),
                 ("\\fB", ""), ("\\fR", ""), ("\\fI", "")):
        s = s.replace(a, b)
    return s

SECTIONS = {"GENERAL SETTINGS": "", "DEPARTMENTS": "department",
            "CAPTURE": "capture", "LIMITS": "limits", "HTTP API": "api",
            "REPORTS": "report", "ALERTS": "alerts",
            "CENTRAL DATABASE": "central"}
man = {}
body = {}
intro = {}	# section -> its text before the first key
in_intro = False
cur = None
sec = None
prev = ""
for line in open(man_file):
    line = line.rstrip("\n")
    if line.startswith(".TP") or line.startswith(".SH "):
        cur = None
    elif cur is not None:
        body[cur] += " " + unescape(line)
    if line.startswith(".SH "):
        sec = SECTIONS.get(line[4:].strip('"'))
        in_intro = sec is not None
        if in_intro:
            intro[sec] = ""
        continue
    if line.startswith(".TP"):
        in_intro = False
    if in_intro:
        intro[sec] += " " + unescape(line)
    elif sec is not None and prev == ".TP" and line.startswith(".BR "):
        args = [unescape(a) for a in troff_args(line[4:])]
        name, text = args[0], "".join(args[1:]).strip()
        m = re.fullmatch(r"\((.*)\)", text)
        if m is None:
            nok("manual: cannot read the entry of %s: %s" % (name, line))
        else:
            s = "" if name == "departments" else sec
            if (s, name) in man:
                nok("manual: %s is documented twice" % label((s, name)))
            man[(s, name)] = m.group(1)
            cur = (s, name)
            body[cur] = ""
    prev = line

for k in order:
    if k not in man:
        nok("manual: %s is in the table but not documented" % label(k))
for k in man:
    if k not in rows:
        nok("manual: %s is documented but not a key (not in the table)" %
            label(k))

def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v

checked = 0
for k in order:
    if k not in man:
        continue
    r, text = rows[k], man[k]
    what = label(k)
    d = re.search(r"default (.*)$", text)
    tdflt = None if r["dflt"] == "(required)" else unquote(r["dflt"])
    if d is None:
        if tdflt not in (None, ""):
            nok("manual: %s gives no default, the table's is %s" %
                (what, r["dflt"]))
    else:
        mdflt = unquote(d.group(1))
        if mdflt in macro:
            same = macro[mdflt] == k
        else:
            same = tdflt is not None and (mdflt == tdflt or
                mdflt.startswith(tdflt + " "))
        if not same:
            nok("manual: %s defaults to %s, the table to %s" %
                (what, d.group(1), r["dflt"]))
    t = r["type"]
    if t == "integer":
        m = re.match(r"(\d+)\.\.(\d+)", text)
        m2 = re.match(r"(\d+) or more", text)
        if m:
            rng = (m.group(1), m.group(2))
        elif m2:
            rng = (m2.group(1), INT_MAX)
        else:
            rng = None
        if rng != (r["min"], r["max"]):
            nok("manual: %s ranges over %s, the table over %s..%s" %
                (what, "%s..%s" % rng if rng else "nothing stated",
                 r["min"], r["max"]))
    elif t == "boolean" and not text.startswith("boolean"):
        nok("manual: %s is a boolean in the table: %s" % (what, text))
    elif t == "path" and not text.startswith("path"):
        nok("manual: %s is a path in the table: %s" % (what, text))
    elif t == "string" and not text.startswith("string"):
        nok("manual: %s is a string in the table: %s" % (what, text))
    elif t == "list" and not text.startswith("list"):
        nok("manual: %s is a list in the table: %s" % (what, text))
    elif t == "choice" and " or " not in text.split("default")[0]:
        nok("manual: %s is a choice in the table: %s" % (what, text))
    said = re.search(r"not on reload", body.get(k, "")) is not None
    sec_intro = intro.get(k[0] if k[1] != "departments" else "", "")
    if re.search(r"not on reload", sec_intro):
        exc = re.search(r"not on reload, except (.*)", sec_intro)
        said = exc is None or k[1] not in re.findall(r"\w+", exc.group(1))
    if said and r["rel"] != "no":
        nok("manual: %s takes effect at restart, the table says it is "
            "reloadable" % what)
    if not said and r["rel"] == "no":
        nok("manual: %s takes effect at restart (table) but its entry "
            "does not say \"not on reload\"" % what)
    checked += 1
if fails == 0:
    ok("aicensus.conf(5) documents all %d keys with the table's defaults, "
       "ranges and types (and restart-only ones as such), and no other "
       "key" % checked)

# ---- the shipped example ----------------------------------------------

before = fails
text = open(example_file).read()
# tokens outside comments, with their line numbers
tokens = []
commented = set()
for ln, line in enumerate(text.split("\n"), 1):
    code, i, inq = "", 0, False
    while i < len(line):
        ch = line[i]
        if ch == '"':
            inq = not inq
        if not inq and (ch == "#" or line.startswith("//", i)):
            for m in re.finditer(r"\b([a-z_]+)\s*=", line[i:]):
                commented.add(m.group(1))
            break
        code += ch
        i += 1
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|-?[0-9][\w.]*|\S', code):
        tokens.append((m.group(0), ln))

stack, set_keys, values = [], {}, {}
i = 0
while i < len(tokens):
    tok, ln = tokens[i]
    nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
    if re.fullmatch(r"[A-Za-z_]\w*", tok) and nxt in ("=", ":"):
        after = tokens[i + 2][0] if i + 2 < len(tokens) else ""
        if not stack:
            if tok != "aicensus":
                nok("example: line %d: top-level %s" % (ln, tok))
        else:
            sec = {("aicensus",): ""}.get(tuple(stack))
            if sec is None and len(stack) == 2 and stack[0] == "aicensus":
                sec = stack[1]
            if sec is None and stack[-1] == "{}" and stack[-2] == "departments":
                sec = "department"
            if sec is None:
                nok("example: line %d: %s in an unknown place %s" %
                    (ln, tok, "/".join(stack)))
            elif after != "{" or sec != "":
                set_keys[(sec, tok)] = ln
                if after not in ("{", "("):
                    j, val = i + 2, []
                    while j < len(tokens) and tokens[j][0] != ";":
                        val.append(tokens[j][0])
                        j += 1
                    values[(sec, tok)] = " ".join(val).replace(" ,", ",")
        if after in ("{", "("):
            stack.append(tok)
            i += 3
            continue
        i += 2
        continue
    if tok in ("{", "("):
        stack.append("{}")
    elif tok in ("}", ")"):
        if stack:
            stack.pop()
    elif tok == "[":
        while i < len(tokens) and tokens[i][0] != "]":
            i += 1
    i += 1

groups = {k[0] for k in order if k[0] not in ("", "department")}
for k, ln in set_keys.items():
    if k[0] == "" and k[1] in groups:
        continue
    if k not in rows:
        nok("example: line %d sets %s, which is not a key" % (ln, label(k)))
for k in order:
    if k not in set_keys and k[1] not in commented:
        nok("example: %s is neither set nor mentioned in a comment" %
            label(k))

# The example's header says each value shown is the default unless the
# comment says otherwise: a value that is not the default needs a
# comment (on its line or just above) saying "default", "example" or
# "required".  Numbers' comments give the table's range, if any.
lines = text.split("\n")
def near(ln):
    out = [lines[ln - 1]]
    j = ln - 2
    while j >= 0 and lines[j].strip().startswith("#"):
        out.append(lines[j])
        j -= 1
    return out
for k, ln in set_keys.items():
    r = rows.get(k)
    if r is None or k not in values or k[0] == "department":
        continue	# departments are examples by nature
    d = r["dflt"]
    if k in macro.values():
        d = None	# an install-time path: the build's own
    if d is not None and unquote(values[k]) != unquote(d) and not any(
            re.search(r"default|example|required", l, re.I)
            for l in near(ln)):
        nok("example: line %d sets %s = %s, not the default %s, and its "
            "comment does not say so" % (ln, label(k), values[k], d))
for k, ln in set_keys.items():
    r = rows.get(k)
    if r is None or r["type"] != "integer":
        continue
    for l in near(ln):
        for m in re.finditer(r"\((\d+)\.\.(\d+)\)", l):
            if (m.group(1), m.group(2)) != (r["min"], r["max"]):
                nok("example: line %d: %s is said to range over %s..%s, "
                    "the table says %s..%s" % (ln, label(k), m.group(1),
                    m.group(2), r["min"], r["max"]))
if fails == before:
    ok("config/aicensus.conf sets %d keys, all in the table; every key of "
       "the table is in it (set or in a comment); its ranges are the "
       "table's; values other than the default say so" % len(set_keys))
sys.exit(1 if fails else 0)
EOF
[ $? -eq 0 ] || fails=$((fails + 1))

[ "$fails" -eq 0 ]
