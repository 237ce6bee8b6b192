#!/bin/bash
# The weekly and quarterly report: a database of three weeks filled by
# tests/tools/reportfill (real catalog, suppressed cells, first uses,
# blind spots), then
#  - JSON and CSV against figures recomputed from the database
#    (tests/report_check.py), for two weeks and the quarter;
#  - the HTML printed to PDF by headless Chromium: pages, the headline
#    figures and the section titles in English and in Dutch, nothing but
#    the marker where a figure is suppressed; page one is kept as
#    tests/artefacts/report-page1.png;
#  - Markdown, --week last, -c CONFIG, and errors that leave no file.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
AIC=$BUILD/aicensus
out=$(mktemp -d /tmp/aic-report.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
# Monday 2026-11-24 09:00 UTC: "last" is 2026-W47
NOW=1795510800

db=$out/aicensus.db
"$BUILD/tools/reportfill" "$db" config/catalog.conf 2>"$out/fill.log" ||
	{ nok "reportfill failed: $(tail -2 "$out/fill.log")"; exit 1; }

# --- JSON and CSV against the database ----------------------------------
for p in "--week 2026-W47" "--week 2026-W46" "--quarter 2026-Q4"; do
	tag=${p##* }
	if $AIC report --db "$db" $p --format json -o "$out/$tag.json" &&
		$AIC report --db "$db" $p --format csv -o "$out/$tag.csv"; then
		$PY tests/report_check.py "$AIC" "$db" "$out/$tag.json" \
			"$out/$tag.csv" | sed "s/^\(not \)\{0,1\}ok - /&$tag: /"
		[ "${PIPESTATUS[0]}" -eq 0 ] || fails=$((fails + 1))
	else
		nok "$tag: report --format json/csv failed"
	fi
done

# --- HTML through Chromium ------------------------------------------------
# pdf HTML PDF: print with headless Chromium, no network, throw-away profile
pdf() {
	local prof
	prof=$(mktemp -d "$out/chrome.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --no-pdf-header-footer \
		--user-data-dir="$prof" --print-to-pdf="$2" "file://$1" \
		>"$out/chrome.log" 2>&1
	rm -rf "$prof"
	[ -s "$2" ]
}

# has_all TEXT NEEDLE...: prints the first needle not in the text (table
# headers are upper-cased by the style sheet, so case does not count)
has_all() {
	local txt=$1 n
	shift
	for n in "$@"; do
		grep -qiF -- "$n" "$txt" || { echo "$n"; return 1; }
	done
}

if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null; then
	nok "chromium and poppler-utils are needed (make deps)"
else
	for lang in en nl; do
		html=$out/report-$lang.html
		if ! $AIC report --db "$db" --week 2026-W47 --lang $lang \
			--now $NOW -o "$html"; then
			nok "$lang: report --format html failed"
			continue
		fi
		grep -qiE '<script|<link|src="http|url\(' "$html" &&
			nok "$lang: HTML loads something or runs a script" ||
			ok "$lang: HTML is one self-contained file, no script ($(wc -c <"$html") bytes)"
		if ! pdf "$html" "$out/report-$lang.pdf"; then
			nok "$lang: Chromium printed no PDF: $(tail -3 "$out/chrome.log")"
			continue
		fi
		pages=$(pdfinfo "$out/report-$lang.pdf" | awk '/^Pages:/ {print $2}')
		# A4 is 595.3 x 841.9 points; Chromium rounds to its own units
		size=$(pdfinfo "$out/report-$lang.pdf" | awk '/^Page size:/ {print $3 "x" $5}')
		a4=$(echo "$size" | awk -Fx '{print ($1 > 593 && $1 < 598 && $2 > 839 && $2 < 845)}')
		[ "${pages:-0}" -ge 1 ] && [ "$a4" = 1 ] &&
			ok "$lang: PDF has $pages A4 pages" ||
			nok "$lang: PDF has ${pages:-0} pages of $size"
		pdftotext -layout "$out/report-$lang.pdf" - | tr -s ' \n' '  ' \
			>"$out/report-$lang.txt"
		# the headline figures, in the language's own number format
		want=$($PY - "$out/2026-W47.json" $lang <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
h, nl = r["headline"], sys.argv[2] == "nl"
def num(v): return "{:,}".format(v).replace(",", "." if nl else ",")
def pct(v): return ("%.1f%%" % v).replace(".", "," if nl else ".")
print(num(h["devices"]["devices"]))
print("%d %s %d" % (h["departments_using"], "van" if nl else "of",
                    h["departments_total"]))
print(pct(h["shadow_share_pct"]))
print(num(h["connections"]))
print(pct(h["devices_change_pct"]).lstrip("-"))
EOF
)
		if [ $lang = en ]; then
			titles=("Generative-AI use: weekly report" "Week 47, 2026"
				"Key points" "Departments" "Devices per department and service"
				"Services seen for the first time" "Vendor jurisdiction"
				"Upload volume per department and service"
				"Lookups blocked by the resolver's policy"
				"Blind spots: how far the counts undercount"
				"Methodology and privacy" "Shadow AI" "European Union")
		else
			titles=("Gebruik van generatieve AI: weekrapport" "Week 47, 2026"
				"Kernpunten" "Afdelingen" "Apparaten per afdeling en dienst"
				"Voor het eerst geziene diensten" "Jurisdictie van de leverancier"
				"Uploadvolume per afdeling en dienst"
				"Door het DNS-beleid geblokkeerde opzoekingen"
				"Blinde vlekken: hoeveel de tellingen missen"
				"Methode en privacy" "Schaduw-AI" "Europese Unie")
		fi
		mapfile -t figs <<<"$want"
		miss=$(has_all "$out/report-$lang.txt" "${figs[@]}")
		[ -z "$miss" ] && ok "$lang: PDF shows the headline figures: ${figs[*]}" ||
			nok "$lang: PDF lacks headline figure '$miss'"
		miss=$(has_all "$out/report-$lang.txt" "${titles[@]}")
		[ -z "$miss" ] && ok "$lang: PDF has every section title (${#titles[@]})" ||
			nok "$lang: PDF lacks '$miss'"
		# suppressed cells: the marker with its legend, never a number
		n=$(grep -o '<td class="n sup">&lt;5</td>' "$html" | wc -l)
		grep -qF '“<5” = fewer than 5 devices' "$out/report-$lang.txt" ||
			grep -qF '„<5” = minder dan 5 apparaten' "$out/report-$lang.txt" &&
			[ "$n" -ge 4 ] &&
			ok "$lang: $n suppressed figures shown as <5, with the legend" ||
			nok "$lang: suppression marker or legend missing ($n markers)"
		if [ $lang = en ]; then
			mkdir -p tests/artefacts
			pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$out/report-en.pdf" \
				tests/artefacts/report-page1 &&
				[ -s tests/artefacts/report-page1.png ] &&
				ok "page one kept as tests/artefacts/report-page1.png" ||
				nok "pdftoppm could not make page one"
		fi
	done
	# the quarterly roll-up prints too, and says devices are per week
	if $AIC report --db "$db" --quarter 2026-Q4 --now $NOW -o "$out/q.html" &&
		pdf "$out/q.html" "$out/q.pdf"; then
		pdftotext "$out/q.pdf" - | tr -s ' \n' '  ' >"$out/q.txt"
		miss=$(has_all "$out/q.txt" "quarterly report" "Q4 2026" "Per week" \
			"Busiest week" "cannot count distinct devices over the quarter")
		[ -z "$miss" ] && ok "quarterly HTML prints, per-week devices explained" ||
			nok "quarterly PDF lacks '$miss'"
	else
		nok "quarterly HTML report or its PDF failed"
	fi
fi

# --- Markdown, --week last, -c, errors -------------------------------------
$AIC report --db "$db" --week 2026-W47 --format md -o "$out/r.md" &&
	grep -q '^## Blind spots' "$out/r.md" && grep -qF '\<5' "$out/r.md" &&
	ok "Markdown report with sections and suppressed cells" ||
	nok "Markdown report"
cat >"$out/aicensus.conf" <<EOF
aicensus = {
  database = "aicensus.db";
  state_dir = "state";
  language = "nl";
  retention_days = 120;
  timezone = "Europe/Amsterdam";
};
EOF
$AIC report -c "$out/aicensus.conf" --week last --now $NOW --format json \
	-o "$out/last.json" &&
	$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["period"]=="2026-W47" and r["language"]=="nl"))' "$out/last.json" &&
	ok "-c CONFIG: database and language from the configuration; --week last is 2026-W47" ||
	nok "-c CONFIG / --week last"
$AIC report -c "$out/aicensus.conf" --week last --now $NOW --format md |
	grep -q 'totalen ouder dan 120 dagen worden verwijderd' &&
	ok "-c CONFIG: retention stated from the configuration" ||
	nok "retention from the configuration not stated"
$AIC report --db "$db" --quarter last --now $NOW --format json -o "$out/ql.json" &&
	grep -q '"period": "2026-Q3"' "$out/ql.json" &&
	ok "--quarter last is the last complete quarter (2026-Q3)" ||
	nok "--quarter last"
$AIC report --db "$db" --week 2026-W30 --format json -o "$out/empty.json" &&
	grep -q '"weeks_with_data": 0' "$out/empty.json" &&
	ok "a week without data still makes a report" ||
	nok "a week without data"
$AIC report --db "$db" --week 2026-W99 >/dev/null 2>&1
[ $? -eq 2 ] && ok "a malformed week is a usage error (2)" ||
	nok "a malformed week was not refused"
$AIC report --db "$db" --week last -o "$out/no/such/dir/r.html" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && ! ls "$out/no" >/dev/null 2>&1 &&
	ok "an unwritable output fails (1) and leaves no file" ||
	nok "unwritable output: exit $rc"
# a pipe or a device is written in place, never renamed over
mkfifo "$out/fifo"
cat "$out/fifo" >"$out/fifo.out" &
$AIC report --db "$db" --week 2026-W47 --format csv -o "$out/fifo"
rc=$?
wait
[ $rc -eq 0 ] && [ -p "$out/fifo" ] && grep -q '^2026-W47,headline,' "$out/fifo.out" &&
	ok "-o to a pipe writes through it and leaves it a pipe" ||
	nok "-o to a pipe: exit $rc"
exit $((fails > 0))
