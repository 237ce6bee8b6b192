#!/bin/sh
# quiet-install.sh "UNIT ..." PACKAGE ... - install the test packages
# (`make test-deps`) so that none of them leaves a service enabled,
# running or listening.
#
# Debian starts and enables a package's service on installation:
# prometheus.service listens on all interfaces on port 9090, and
# postgresql-15 creates and starts a "main" cluster on port 5432.  A test
# machine needs the programs (promtool, prometheus, initdb, pg_ctl), not
# the services: the tests start their own servers in their own
# directories and network namespaces.  So:
#  - while apt-get runs, /usr/sbin/policy-rc.d answers 101 (action
#    forbidden) to every invoke-rc.d and deb-systemd-invoke; an existing
#    policy-rc.d (a container's) is put back afterwards;
#  - each UNIT is then disabled, stopped and masked, also when an earlier
#    installation had enabled it (`systemctl unmask` and `enable` undo
#    it on a machine that wants the service);
#  - a PostgreSQL cluster that did not exist before this installation
#    (Debian's "main") is stopped and dropped; clusters that were there
#    before are left as they are.
set -eu
units=$1
shift
PATH=$PATH:/usr/sbin:/sbin

pol=/usr/sbin/policy-rc.d
saved=
if [ -e "$pol" ]; then
	saved=$(mktemp)
	cp -p "$pol" "$saved"
fi
restore() {
	if [ -n "$saved" ]; then
		cp -p "$saved" "$pol"
		rm -f "$saved"
	else
		rm -f "$pol"
	fi
}
trap restore EXIT
clusters() { command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2}' || true; }
before=$(clusters)

printf '#!/bin/sh\n# make test-deps: no service starts while test packages install\nexit 101\n' >"$pol"
chmod 0755 "$pol"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	install -y --no-install-recommends "$@"

for u in $units; do
	[ -n "$(systemctl list-unit-files --no-legend "$u" 2>/dev/null)" ] || continue
	systemctl disable --now "$u" 2>/dev/null || systemctl disable "$u"
	systemctl mask "$u"
	echo "test-deps: $u disabled, stopped and masked (the tests start their own servers)"
done
for c in $(clusters); do
	case " $(echo $before) " in *" $c "*) continue ;; esac
	pg_dropcluster --stop "${c%/*}" "${c#*/}"
	echo "test-deps: dropped the PostgreSQL cluster $c this installation created"
done
