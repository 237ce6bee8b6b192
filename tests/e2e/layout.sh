#!/bin/bash
# The layout: the include graph (tests/tools/layers.py, its ok / not ok
# lines as they are), and the README's layout table against the tree:
# every folder of daemon/ has a row, every folder a row names exists,
# the daemon/ rows come in flow order (layers.py's stage ranks), and
# every tracked top-level folder (not the hidden ones) has a row.
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

$PY tests/tools/layers.py
rc=$?
[ $rc -eq 0 ] || fails=$((fails + 1))

# The folders the table names: the first cell of each row of the
# "## Layout" section, `daemon/x/` -> daemon/x.
table=$(awk '/^## Layout$/ { on = 1; next } /^## / { on = 0 } on' README.md |
	sed -n 's/^| `\([^`]*\)`.*/\1/p' | sed 's|/$||; s| (top)||')
[ -n "$table" ] || { nok "README.md has no layout table under \"## Layout\""; exit 1; }

missing=
for d in $(find daemon -mindepth 1 -type d | sort); do
	echo "$table" | grep -qx "$d" || missing="$missing $d"
done
[ -z "$missing" ] && ok "the README's layout table names every folder under daemon/ ($(find daemon -mindepth 1 -type d | wc -l))" ||
	nok "folders under daemon/ missing from the README's layout table:$missing"

gone=
for d in $table; do
	[ -d "$d" ] || gone="$gone $d"
done
[ -z "$gone" ] && ok "every folder the layout table names exists ($(echo "$table" | wc -l))" ||
	nok "the layout table names folders that do not exist:$gone"

order=$(echo "$table" | grep '^daemon/.' | sed 's|^daemon/||' |
	$PY -c '
import sys
sys.path.insert(0, "tests/tools")
from layers import RANK
rows = [l.strip() for l in sys.stdin if l.strip()]
ranks = [RANK.get(r, -1) for r in rows]
bad = [r for r, k in zip(rows, ranks) if k < 0]
print("unknown stage: " + " ".join(bad) if bad else
      "ok" if ranks == sorted(ranks) else "out of order: " + " ".join(rows))')
[ "$order" = ok ] && ok "the daemon/ rows of the layout table are in flow order" ||
	nok "the daemon/ rows of the layout table: $order"

top=
for d in $(git ls-files | grep / | cut -d/ -f1 | grep -v "^\." | sort -u); do
	echo "$table" | grep -qx "$d" || top="$top $d"
done
[ -z "$top" ] && ok "the layout table names every top-level folder" ||
	nok "top-level folders missing from the layout table:$top"
exit $((fails > 0))
