# api_fixture.sh - shared set-up of tests/e2e/api.sh and tests/e2e/dashboard.sh
# (sourced, not run).
#
# fixture_db: the configuration of a synthesized capture (seed 1: its
#   departments and catalog, its truth.json for the address checks) and
#   a release database for that grid written by tests/relfixture.py as
#   the release stage would: weeks 2026-W46 and 2026-W47 released whole,
#   two days of 2026-W48 released without their week.  It lies where the
#   API looks for it: released.db next to the database (DB).
# fixture_daemon WEBDIR: aicensusd LIVE on lo inside a network namespace
#   of its own, API on 127.0.0.1:8080 there, --db the database above.
#   Nothing listens or captures outside that namespace.
# fixture_cleanup: stop what was started (by pid), delete the namespace.
#
# The caller sets ROOT (the repository), BUILD, PY, tmp (a fresh
# directory) and defines ok/nok; optionally API_EXTRA (more keys of the
# api group, e.g. "max_connections = 8;") and FIXTURE_WRAP (a command
# that execs the daemon, e.g. "prlimit --nofile=512:512").  Provides NS, TOKEN, DB, REL, WEEK (the
# last released week), RUN, DPID, in_ns (run a command in the namespace),
# api_get (curl with the token).  FIXTURE_COHERENT=1: cells that add up
# as a real release's do (relfixture.py --coherent), for pictures.

NS=aic-api-$$
MIN_GROUP=${MIN_GROUP:-10}
TOKEN=
DB=
REL=
WEEK=
RUN=
DPID=
fixture_pids=()
fixture_ns=0

in_ns() { ip netns exec "$NS" "$@"; }

# the daemon, by absolute path (BUILD may be relative to ROOT or absolute)
daemon_bin() {
	case $BUILD in
	/*) echo "$BUILD/aicensusd" ;;
	*) echo "$ROOT/$BUILD/aicensusd" ;;
	esac
}

# api_get PATH [curl options...]: body on stdout, with the token.
api_get() {
	local p=$1
	shift
	in_ns curl -s -H "Authorization: Bearer $TOKEN" "$@" "http://127.0.0.1:8080$p"
}

fixture_db() {
	RUN=$tmp/run
	mkdir -p "$RUN"
	$PY tests/synth/synth.py --seed 1 --no-check --out "$tmp/gen1" \
		>/dev/null || return 1
	cp "$tmp/gen1/aicensus.conf" "$tmp/gen1/catalog.conf" "$RUN/"
	cp "$tmp/gen1/traffic.pcap" "$RUN/day1.pcap"
	DB=$RUN/aicensus.db
	REL=$RUN/released.db
	$PY tests/relfixture.py "$REL" --weeks 2026-W46,2026-W47 \
		--open-days 2 --min-group "$MIN_GROUP" ${FIXTURE_COHERENT:+--coherent} \
		--grid-from "$RUN/aicensus.conf" --truth "$RUN/released.json" \
		>>"$RUN/offline.log" 2>&1 || return 1
	WEEK=2026-W47
}

# fixture_daemon WEBDIR: start it and wait for /healthz.
fixture_daemon() {
	local webdir=$1 i
	TOKEN=$(openssl rand -hex 32) || return 1
	(umask 077 && echo "$TOKEN" >"$RUN/api.token")
	# the safe default group size: some cells of the week fall below it
	sed -e "s|^aicensus: {|aicensus: {\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; web_dir = \"$webdir\"; ${API_EXTRA:-} };|" \
		-e "s|min_group_size = 2;|min_group_size = $MIN_GROUP;|" \
		"$RUN/aicensus.conf" >"$RUN/api.conf"
	ip netns add "$NS" || return 1
	fixture_ns=1
	ip -n "$NS" link set lo up || return 1
	# not through in_ns: $! must be the daemon itself (ip execs it)
	ip netns exec "$NS" ${FIXTURE_WRAP:-} "$(daemon_bin)" -c "$RUN/api.conf" -i lo \
		--db "$DB" >"$RUN/daemon.log" 2>&1 &
	DPID=$!
	fixture_pids+=("$DPID")
	for i in $(seq 1 100); do
		[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' \
			http://127.0.0.1:8080/healthz)" = 200 ] && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RUN/daemon.log"
	return 1
}

# fixture_bg COMMAND...: start a helper in the namespace, remember its pid.
fixture_bg() {
	ip netns exec "$NS" "$@" &
	fixture_pids+=("$!")
}

fixture_cleanup() {
	local p i
	for p in "${fixture_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${fixture_pids[@]}"; do
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ $fixture_ns -eq 1 ] && ip netns del "$NS" 2>/dev/null
	[ -n "$tmp" ] && rm -rf "$tmp"
}
