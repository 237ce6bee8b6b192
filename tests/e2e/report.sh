#!/bin/bash
# The weekly and quarterly report, read from a release database of eight
# weeks published by tests/tools/reportfill through the release stage
# (real catalog, small cells, first uses, blind spots; k = 5, and k = 1
# for exact figures), then
#  - JSON and CSV against the released cells, read straight from the
#    database's tables (tests/report_check.py), for two weeks and the
#    quarter (sums of the weekly cells), at k = 5 and k = 1; the Dutch
#    CSV (';', decimal comma, UTF-8 BOM) parsed with delimiter=';' and
#    held to the English one's figures;
#  - no "<5", "suppressed" or "at least" in any format or language;
#  - the HTML printed to PDF by headless Chromium: pages, the headline
#    figures, the section titles and the legend in English and in Dutch;
#    page one is kept as tests/artefacts/report-page1.png (English) and
#    tests/artefacts/report-nl-page1.png (Dutch);
#  - headline cards give a comparison or say there is none, never both;
#    the shadow share's change in the key points; a partly covered week
#    marked in the header and the key points; the current quarter
#    warned; the Dutch wording (gesleutelde hash, zoekopdrachten, niet
#    toegewezen);
#  - Markdown, --week last, -c CONFIG, weeks not released or in the
#    future refused, and errors that leave no file.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
AIC=$BUILD/aicensus
out=$(mktemp -d /tmp/aic-report.XXXXXX)
trap 'rm -rf "$out"' EXIT
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
# Tuesday 2026-11-24 09:00 UTC, in 2026-W48: "last" is 2026-W47, the
# last released week; 2026-W48 is not released, 2026-W49 is the future
NOW=1795510800

# released.db beside aicensus.db: where -c CONFIG looks for it
db=$out/released.db
db1=$out/k1/released.db
mkdir -p "$out/k1"
if ! "$BUILD/tools/reportfill" "$db" config/catalog.conf 5 2>"$out/fill.log" ||
	! "$BUILD/tools/reportfill" "$db1" config/catalog.conf 1 2>>"$out/fill.log"; then
	nok "reportfill failed: $(grep -v WITHOUT "$out/fill.log" | tail -2)"
	exit 1
fi

# --- JSON and CSV against the released cells ---------------------------------
for d in "$db" "$db1"; do
	k=5
	[ "$d" = "$db1" ] && k=1
	for p in "--week 2026-W47" "--week 2026-W46" "--quarter 2026-Q4"; do
		tag=${p##* }
		if $AIC report --db "$d" $p --now $NOW --format json -o "$out/$tag.k$k.json" &&
			$AIC report --db "$d" $p --now $NOW --format csv -o "$out/$tag.k$k.csv" &&
			$AIC report --db "$d" $p --now $NOW --format csv --lang nl \
				-o "$out/$tag.k$k.nl.csv"; then
			$PY tests/report_check.py "$d" "$out/$tag.k$k.json" \
				"$out/$tag.k$k.csv" "$out/$tag.k$k.nl.csv" |
				sed "s/^\(not \)\{0,1\}ok - /&$tag k=$k: /"
			[ "${PIPESTATUS[0]}" -eq 0 ] || fails=$((fails + 1))
		else
			nok "$tag k=$k: report --format json/csv failed"
		fi
	done
done

# --- no suppression notion anywhere --------------------------------------------
bad=
for p in "--week 2026-W47" "--week 2026-W44" "--quarter 2026-Q4"; do
	for f in html md csv json; do
		for lang in en nl; do
			$AIC report --db "$db" $p --now $NOW --format $f --lang $lang \
				-o "$out/any.$f" || { bad="$bad $p/$f/$lang:failed"; continue; }
			grep -qE '<5|&lt;5|\\<5|[Ss]uppress|[Oo]nderdrukt|lower_bound|≥' \
				"$out/any.$f" && bad="$bad $p/$f/$lang"
			# a card gives a comparison or says there is none
			grep -qE '(no comparison|geen vergelijking)[^<]*(vs\.|t\.o\.v\.)' \
				"$out/any.$f" && bad="$bad $p/$f/$lang:comparison"
			case $f in html | md)
				grep -q '–' "$out/any.$f" || bad="$bad $p/$f/$lang:no-dash"
			esac
		done
	done
done
[ -z "$bad" ] &&
	ok "no <5, suppressed, lower bound or ≥ in 24 reports (3 periods, 4 formats, en and nl); zeros are –" ||
	nok "suppression notions left in:$bad"

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
	nok "chromium and poppler-utils are needed (make test-deps)"
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
		want=$($PY - "$out/2026-W47.k5.json" $lang <<'EOF'
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
				"Door het DNS-beleid geblokkeerde zoekopdrachten"
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
		# zeros: one glyph, explained; the method named
		n=$(grep -o '<td class="n nil">–</td>' "$html" | wc -l)
		if [ $lang = en ]; then
			legend=("“–”: none, or too few devices to show"
				"cell key method" "need not add up"
				"cannot be linked across weeks or sites")
		else
			legend=("„–”: geen gebruik, of te weinig apparaten om te tonen"
				"celsleutelmethode" "niet per se op"
				"niet over weken of locaties heen te koppelen")
		fi
		miss=$(has_all "$out/report-$lang.txt" "${legend[@]}")
		[ -z "$miss" ] && [ "$n" -ge 4 ] &&
			ok "$lang: $n zero figures shown as –, legend and methodology (cell key method)" ||
			nok "$lang: legend or methodology lacks '$miss' ($n zeros as –)"
		# page one explains its "–" (the legend under the top services)
		pdftotext -f 1 -l 1 "$out/report-$lang.pdf" - | tr -s ' \n' '  ' \
			>"$out/page1-$lang.txt"
		miss=$(has_all "$out/page1-$lang.txt" "${legend[0]}")
		[ -z "$miss" ] && ok "$lang: page one has the legend: ${legend[0]}" ||
			nok "$lang: page one lacks the legend '${legend[0]}'"
		# page one as a picture: report-page1.png, report-nl-page1.png
		png=report-page1
		[ $lang = nl ] && png=report-nl-page1
		mkdir -p tests/artefacts
		pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$out/report-$lang.pdf" \
			"tests/artefacts/$png" &&
			[ -s "tests/artefacts/$png.png" ] &&
			ok "$lang: page one kept as tests/artefacts/$png.png" ||
			nok "$lang: pdftoppm could not make page one"
	done
	# the quarterly roll-up prints too, and says devices are per week
	if $AIC report --db "$db" --quarter 2026-Q4 --now $NOW -o "$out/q.html" &&
		pdf "$out/q.html" "$out/q.pdf"; then
		pdftotext "$out/q.pdf" - | tr -s ' \n' '  ' >"$out/q.txt"
		miss=$(has_all "$out/q.txt" "quarterly report" "Q4 2026" "Per week" \
			"Busiest week" "cannot count distinct devices over the quarter" \
			"device-weeks" "8 of the quarter's 14 weeks are released" \
			"not released" "2026-Q4 is not over yet (it ends on 3 January 2027)")
		[ -z "$miss" ] && ok "quarterly HTML prints, device-weeks and unreleased weeks explained, the unfinished quarter warned" ||
			nok "quarterly PDF lacks '$miss'"
	else
		nok "quarterly HTML report or its PDF failed"
	fi
fi

# --- Markdown, --week last, -c, errors -------------------------------------
$AIC report --db "$db" --week 2026-W47 --now $NOW --format md -o "$out/r.md" &&
	grep -q '^## Blind spots' "$out/r.md" && grep -qF '| – |' "$out/r.md" &&
	! grep -qF '<5' "$out/r.md" &&
	ok "Markdown report with sections, zeros as –" ||
	nok "Markdown report"
$AIC report --db "$db" --week 2026-W46 --now $NOW --format md |
	grep -qF '**Incomplete coverage:** the sensor covered 150 of 168 hours' &&
	$AIC report --db "$db" --week 2026-W44 --now $NOW --format md |
	grep -qF 'Released before the end of its period' &&
	ok "a partly covered week and one released before its end say so" ||
	nok "coverage or incomplete week not stated"
# the key points: the shadow share's change against the week before,
# in percentage points, from the released figures (the JSON's)
for lang in en nl; do
	$AIC report --db "$db" --week 2026-W47 --now $NOW --format md --lang $lang \
		-o "$out/w47.$lang.md"
	$AIC report --db "$db" --week 2026-W40 --now $NOW --format md --lang $lang \
		-o "$out/w40.$lang.md"
done
want=$($PY - "$out/2026-W47.k5.json" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["headline"]
pp, prev = h["shadow_share_change_pp"], h["shadow_share_previous_pct"]
def nl(v): return ("%.1f" % v).replace(".", ",")
if pp == 0:
    print("The shadow share is the same as in 2026-W46 (%.1f%%)." % prev)
    print("Het aandeel schaduw-AI is gelijk aan dat in 2026-W46 (%s%%)."
          % nl(prev))
else:
    print("The shadow share %s by %.1f percentage points compared with"
          " 2026-W46 (then %.1f%%)." % ("rose" if pp > 0 else "fell",
                                        abs(pp), prev))
    print("Het aandeel schaduw-AI %s met %s procentpunt ten opzichte van"
          " 2026-W46 (toen %s%%)." % ("steeg" if pp > 0 else "daalde",
                                      nl(abs(pp)), nl(prev)))
EOF
)
en_pp=$(echo "$want" | sed -n 1p)
nl_pp=$(echo "$want" | sed -n 2p)
grep -qxF -- "- $en_pp" "$out/w47.en.md" &&
	grep -qxF -- "- $nl_pp" "$out/w47.nl.md" &&
	grep -qxF -- "- The shadow share cannot be compared with 2026-W39: no figures of 2026-W39 are released." "$out/w40.en.md" &&
	grep -qxF -- "- Het aandeel schaduw-AI is niet te vergelijken met 2026-W39: van 2026-W39 zijn geen cijfers vrijgegeven." "$out/w40.nl.md" &&
	ok "key points: the shadow share's change vs. the week before ($en_pp / $nl_pp), or why there is none" ||
	nok "key points: shadow share change ('$en_pp' / '$nl_pp') missing"
# a partly covered week: marked in the header and in the key points
$AIC report --db "$db" --week 2026-W46 --now $NOW --format md --lang nl -o "$out/w46.nl.md"
$AIC report --db "$db" --week 2026-W46 --now $NOW --format html -o "$out/w46.html"
grep -qxF -- "- Onvolledige dekking: de sensor dekte 150 van de 168 uur van deze periode; over de andere 18 uur zeggen deze cijfers niets." "$out/w46.nl.md" &&
	grep -qF '**Onvolledige dekking:** de sensor dekte 150 van de 168 uur' "$out/w46.nl.md" &&
	grep -qF '<p class="warn">Incomplete coverage: the sensor covered 150 of 168 hours' "$out/w46.html" &&
	grep -qF '<li>Incomplete coverage: the sensor covered 150 of 168 hours of this period, so these figures say nothing about the other 18 hours.</li>' "$out/w46.html" &&
	! grep -q 'ncomplete coverage' "$out/w47.en.md" &&
	ok "2026-W46 (150 of 168 hours) marked in header and key points, en and nl; 2026-W47 (168) not" ||
	nok "incomplete coverage not marked"
# Netherlands Dutch
bad=$(grep -ohE 'versleutelde hash|[Nn]iet-toegewezen|[Oo]pzoeking[a-z]*|[Uu]nassigned|lookups' \
	"$out/w47.nl.md" "$out/report-nl.html" 2>/dev/null | sort -u | tr '\n' ' ')
[ -z "$bad" ] && grep -qF 'gesleutelde hash' "$out/w47.nl.md" &&
	grep -qF 'afdeling „Niet toegewezen”' "$out/w47.nl.md" &&
	grep -qF 'zoekopdrachten' "$out/w47.nl.md" &&
	ok "Dutch: gesleutelde hash, zoekopdrachten, „Niet toegewezen” in the blind spots; no Flemish or English left" ||
	nok "Dutch wording: $bad"
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
	ok "-c CONFIG: release database (released.db beside database) and language from the configuration; --week last is 2026-W47" ||
	nok "-c CONFIG / --week last"
$AIC report -c "$out/aicensus.conf" --week last --now $NOW --format md |
	grep -q 'totalen ouder dan 120 dagen worden verwijderd' &&
	ok "-c CONFIG: retention stated from the configuration" ||
	nok "retention from the configuration not stated"
# refused: not released (now's week, a week before the sensor ran), the
# future, a quarter with no released week; no file is left behind
refused() {	# refused MESSAGE ARGS...
	local msg=$1 rc
	shift
	$AIC report --db "$db" --now $NOW "$@" -o "$out/refused.html" \
		2>"$out/refused.err"
	rc=$?
	[ $rc -eq 1 ] && grep -qF "$msg" "$out/refused.err" &&
		[ "$(wc -l <"$out/refused.err")" -eq 1 ] &&
		[ ! -e "$out/refused.html" ]
}
refused "week 2026-W48 is not released yet; weeks are released at the end of the ISO week" \
	--week 2026-W48 &&
	refused "week 2026-W30 is not released yet" --week 2026-W30 &&
	ok "weeks not released are refused (2026-W48, 2026-W30), no file" ||
	nok "a week not released: $(cat "$out/refused.err")"
refused "week 2026-W49 is in the future" --week 2026-W49 &&
	refused "quarter 2027-Q1 is in the future" --quarter 2027-Q1 &&
	ok "a future week and quarter are refused: one line naming the period, exit 1" ||
	nok "the future: $(cat "$out/refused.err")"
refused "quarter 2026-Q3 has no released week yet" --quarter last &&
	ok "--quarter last (2026-Q3) with no released week is refused" ||
	nok "--quarter last: $(cat "$out/refused.err")"
$AIC report --db "$db" --week 2026-W99 >/dev/null 2>&1
[ $? -eq 2 ] && ok "a malformed week is a usage error (2)" ||
	nok "a malformed week was not refused"
$AIC report --db "$db" --week last --now $NOW -o "$out/no/such/dir/r.html" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && ! ls "$out/no" >/dev/null 2>&1 &&
	ok "an unwritable output fails (1) and leaves no file" ||
	nok "unwritable output: exit $rc"
# a pipe or a device is written in place, never renamed over
mkfifo "$out/fifo"
cat "$out/fifo" >"$out/fifo.out" &
$AIC report --db "$db" --week 2026-W47 --now $NOW --format csv -o "$out/fifo"
rc=$?
wait
[ $rc -eq 0 ] && [ -p "$out/fifo" ] && grep -q '^2026-W47,headline,' "$out/fifo.out" &&
	ok "-o to a pipe writes through it and leaves it a pipe" ||
	nok "-o to a pipe: exit $rc"
exit $((fails > 0))
