# api_fixture.sh - shared set-up of tests/e2e/api.sh and tests/e2e/dashboard.sh
# (sourced, not run).
#
# fixture_db: a database filled by `aicensusd -r` from five synthesized
#   captures (seeds 1..5), moved in time to Monday..Friday of the current
#   ISO week so that /metrics (which counts the current week) has data.
# fixture_daemon WEBDIR: aicensusd LIVE on lo inside a network namespace
#   of its own, API on 127.0.0.1:8080 there, --db the database above.
#   Nothing listens or captures outside that namespace.
# fixture_cleanup: stop what was started (by pid), delete the namespace.
#
# The caller sets ROOT (the repository), BUILD, PY, tmp (a fresh
# directory) and defines ok/nok.  Provides NS, TOKEN, DB, WEEK, RUN, DPID,
# in_ns (run a command in the namespace), api_get (curl with the token).

NS=aic-api-$$
MIN_GROUP=${MIN_GROUP:-10}
TOKEN=
DB=
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
	local seed weeks
	RUN=$tmp/run
	mkdir -p "$RUN"
	weeks=$($PY tests/api_check.py weeks-since 2026-11-16) || return 1
	for seed in 1 2 3 4 5; do
		$PY tests/synth/synth.py --seed $seed --no-check \
			--out "$tmp/gen$seed" >/dev/null || return 1
		$PY tests/api_check.py shift "$tmp/gen$seed/traffic.pcap" \
			"$RUN/day$seed.pcap" $(((weeks * 7 + seed - 1) * 86400)) ||
			return 1
	done
	cp "$tmp/gen1/aicensus.conf" "$tmp/gen1/catalog.conf" "$RUN/"
	for seed in 1 2 3 4 5; do
		(cd "$RUN" && "$(daemon_bin)" -c aicensus.conf \
			-r "day$seed.pcap") >>"$RUN/offline.log" 2>&1 || return 1
	done
	DB=$RUN/aicensus.db
	WEEK=$($PY tests/api_check.py week-label)
}

# fixture_daemon WEBDIR: start it and wait for /healthz.
fixture_daemon() {
	local webdir=$1 i
	TOKEN=$(openssl rand -hex 32) || return 1
	(umask 077 && echo "$TOKEN" >"$RUN/api.token")
	# the safe default group size: some cells of the week fall below it
	sed -e "s|^aicensus: {|aicensus: {\n  api = { listen = \"127.0.0.1:8080\"; token_file = \"api.token\"; web_dir = \"$webdir\"; };|" \
		-e "s|min_group_size = 2;|min_group_size = $MIN_GROUP;|" \
		"$RUN/aicensus.conf" >"$RUN/api.conf"
	ip netns add "$NS" || return 1
	fixture_ns=1
	ip -n "$NS" link set lo up || return 1
	# not through in_ns: $! must be the daemon itself (ip execs it)
	ip netns exec "$NS" "$(daemon_bin)" -c "$RUN/api.conf" -i lo \
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
