#!/bin/bash
# sd_notify: readiness, watchdog and stopping, as systemd would see them.
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
ns=aic-ntf-$$
tmp=$(mktemp -d /tmp/aic-ntf.XXXXXX)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add $ns && ip netns exec $ns ip link set lo up || {
	echo "not ok - cannot create a network namespace"; exit 1; }
cat >"$tmp/aicensus.conf" <<CONF
aicensus: {
  catalog = "$PWD/config/catalog.conf";
  state_dir = "$tmp/state";
  user = "";
  timezone = "UTC";
};
CONF
/usr/bin/python3 tests/notify_check.py "$PWD/$BUILD/aicensusd" "$tmp/aicensus.conf" $ns
