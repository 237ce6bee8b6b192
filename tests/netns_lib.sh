# Shared by the end-to-end tests that capture live (sourced, not run).
# Nothing here sends a packet: the namespaces and the veth pair are made
# by the test and removed by it (its own trap), and no address on them
# routes anywhere else.

# wait_for SECONDS COMMAND...: poll every tenth of a second until
# COMMAND succeeds; 1 when SECONDS pass first.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# netns_pair TX RX: two namespaces joined by a veth pair, vtx in TX and
# vrx in RX, made directly inside them (no name can clash outside), IPv6
# off (no link-local chatter), no address, MTU 9000 (the captures have
# full-size frames with VLAN tags, or tunnel headers around them), lo up
# in RX (for the API).  Sets netns_made=1 once the first one exists, so
# the caller's trap knows to delete them.
netns_pair() {
	local ns
	ip netns add "$1" || return 1
	netns_made=1
	ip netns add "$2" || return 1
	for ns in "$1" "$2"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 ||
			return 1
	done
	ip link add vtx netns "$1" type veth peer name vrx netns "$2" &&
	ip -n "$1" link set vtx mtu 9000 &&
	ip -n "$2" link set vrx mtu 9000 &&
	ip -n "$2" link set lo up &&
	ip -n "$1" link set vtx up &&
	ip -n "$2" link set vrx up
}

# hour_clear SECONDS: when the next hour (and so the next day) begins in
# less than SECONDS, wait until it has begun.  Live runs compared with
# each other count device-hours and days by the clock: a pair of runs
# that straddles an hour counts devices in both hours.
hour_clear() {
	local left=$((3600 - $(date +%s) % 3600))
	if [ "$left" -lt "$1" ]; then
		echo "# waiting ${left}s for the hour to turn before the compared runs"
		sleep $((left + 1))
	fi
}
