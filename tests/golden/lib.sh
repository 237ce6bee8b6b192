# Shared by tests/e2e/golden.sh and tests/golden/update.sh (sourced, bash).
# A scenario is a folder tests/golden/<name>/ with
#   input         one line: how to get the capture (see README.md)
#   expected.txt  the stable dump of the release database that capture
#                 gives in lab mode (golden_dump below)
#   README.md     why the scenario exists
# Needs: $BUILD (the build folder, relative to the repository root),
# $PCAPS (the public captures, ../shared/pcaps by default), run from
# the repository root.
PY=${PY:-/usr/bin/python3}
PCAPS=${PCAPS:-../shared/pcaps}

# The release database as sorted text, one CSV block per table.  Only
# the wall clock is left out (period.released_at: when the release ran,
# not what it released); everything else the daemon wrote is here, in
# primary-key order, so a changed count is one changed line of a diff.
golden_dump() {
	local db=$1
	sqlite3 -batch -csv -header "$db" <<'SQL'
.print "# meta"
SELECT key, value FROM meta ORDER BY key;
.print "# period (kind 1 day, 2 week; released_at left out: the wall clock)"
SELECT kind, period, week, coverage_hours, hours_total, complete, min_group
  FROM period ORDER BY kind, period;
.print "# dim (axis 0 departments, 1 services, in release order)"
SELECT kind, period, axis, ord, name FROM dim ORDER BY kind, period, axis, ord;
.print "# service"
SELECT sid, name, vendor, category, jurisdiction, sanctioned
  FROM service ORDER BY sid;
.print "# cell"
SELECT kind, period, dept, svc, devices, devhours, tls, quic, ech, conns,
  dns, nxdomain, bytes_up, bytes_down FROM cell ORDER BY kind, period, dept, svc;
.print "# blind"
SELECT day, name, value FROM blind ORDER BY day, name;
SQL
}

# golden_run SCENARIO_DIR WORK_DIR: make the capture the scenario's
# input names, run "$BUILD/aicensusd -r" on it in lab mode in WORK_DIR
# (fresh, mode 0700), and print the dump on stdout.  Returns non-zero,
# with the reason on stderr, when the input or the daemon fails.
golden_run() {
	local sc=$1 w=$2 root=$PWD kind arg conf bin
	read -r kind arg <"$sc/input" || { echo "$sc/input: empty" >&2; return 1; }
	rm -rf "$w" && mkdir -p "$w" && chmod 700 "$w" || return 1
	case $kind in
	pcap)
		[ -f "$PCAPS/$arg" ] || { echo "$PCAPS/$arg: not found" >&2; return 1; }
		cp tests/golden/pcaps.conf tests/golden/pcaps.catalog.conf "$w/"
		conf=pcaps.conf
		ln -s "$(cd "$(dirname "$PCAPS/$arg")" && pwd)/$(basename "$arg")" "$w/traffic"
		;;
	synth)
		# shellcheck disable=SC2086  # arg holds the synthesizer's options
		$PY tests/synth/synth.py $arg --no-check --out "$w/gen" >/dev/null || {
			echo "synth.py $arg failed" >&2; return 1; }
		;;
	weekgen)
		# shellcheck disable=SC2086
		$PY tests/adversary/weekgen.py $arg --out "$w/gen" >/dev/null || {
			echo "weekgen.py $arg failed" >&2; return 1; }
		;;
	*)
		echo "$sc/input: unknown kind '$kind'" >&2; return 1 ;;
	esac
	if [ -d "$w/gen" ]; then
		mv "$w/gen/traffic.pcap" "$w/traffic"
		cp "$w/gen/catalog.conf" "$w/"
		sed -e 's|min_group_size = [0-9]*;|min_group_size = 1;|' \
			"$w/gen/aicensus.conf" >"$w/aicensus.conf"
		conf=aicensus.conf
		rm -rf "$w/gen"
	fi
	case $BUILD in /*) bin=$BUILD ;; *) bin=$root/$BUILD ;; esac
	(cd "$w" && "$bin/aicensusd" -c "$conf" -r traffic \
		>daemon.log 2>&1) || {
		echo "aicensusd -r failed: $(tail -n 3 "$w/daemon.log")" >&2; return 1; }
	golden_dump "$w/released.db"
}
