#!/bin/bash
# deps-fresh.sh SRC - run by tests/e2e/deps.sh inside tests/tools/overlay-root.sh
# (an overlay of this machine's root, private mount, pid and network
# namespaces): purge prometheus and postgresql-15, install them plainly
# (the control), purge again, install them through quiet-install.sh;
# after each installation print what listens, runs, is enabled and which
# PostgreSQL clusters exist, one "control ..." or "quiet ..." line each.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C DEBIAN_FRONTEND=noninteractive
cd "$1" || exit 1
ip link set lo up
rm -f /usr/sbin/policy-rc.d
# a runlevel as on a booted sysvinit machine (there is no init here):
# invoke-rc.d then really starts what a package's maintainer scripts ask
# it to, unless policy-rc.d forbids it
rm -f /sbin/runlevel
printf '#!/bin/sh\necho N 2\n' >/sbin/runlevel
chmod 0755 /sbin/runlevel
# apt's cache is the only source (no network here); an apt configuration
# that empties it after each installation must not leave the second
# installation without packages
mkdir -p /var/tmp/aic-debs
for p in prometheus postgresql-15; do
	v=$(dpkg-query -W -f='${Version}' "$p" | sed 's/^[0-9]*://')
	cp /var/cache/apt/archives/"${p}_${v}"_*.deb /var/tmp/aic-debs/ ||
		echo "not ok - no $p $v in apt's cache"
done
fresh() {	# as if the packages had never been installed
	cp -n /var/tmp/aic-debs/*.deb /var/cache/apt/archives/ 2>/dev/null
	pkill -x prometheus; pkill -x postgres; sleep 2
	systemctl unmask prometheus.service postgresql.service >/dev/null 2>&1
	# postgresql-common stays (its package is not in apt's cache); its
	# service back to the state its installation leaves: enabled
	systemctl enable postgresql.service >/dev/null 2>&1
	dpkg --purge postgresql-contrib postgresql postgresql-15 prometheus >/tmp/purge.log 2>&1
	rm -rf /etc/postgresql/15 /var/lib/postgresql/15 /var/lib/prometheus
	dpkg-query -W -f='${Status}\n' prometheus postgresql-15 2>/dev/null | grep -q ' installed' &&
		echo "not ok - could not purge prometheus and postgresql-15: $(tail -n 2 /tmp/purge.log | tr '\n' ' ')"
}
look() {	# listeners, processes, unit states, clusters
	sleep 2
	echo "listen: $(ss -Hltn | awk '{print $4}' | sort | tr '\n' ' ')"
	echo "procs: $(($(pgrep -cx prometheus) + $(pgrep -cx postgres)))"
	echo "units: $(systemctl is-enabled prometheus.service postgresql.service 2>/dev/null | tr '\n' ' ')"
	echo "clusters: $(pg_lsclusters -h 2>/dev/null | awk '{print $1 "/" $2 ":" $4}' | tr '\n' ' ')"
}
fresh
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus postgresql-15 >/tmp/plain.log 2>&1 ||
	echo "not ok - plain apt-get install failed: $(tail -n 2 /tmp/plain.log | tr '\n' ' ')"
look | sed 's/^/control /'
fresh
sh tests/tools/quiet-install.sh "prometheus.service postgresql.service" prometheus postgresql-15 >/tmp/quiet.log 2>&1 ||
	echo "not ok - quiet-install.sh failed: $(tail -n 2 /tmp/quiet.log | tr '\n' ' ')"
grep '^test-deps: ' /tmp/quiet.log | sed 's/^/quiet-log /'
look | sed 's/^/quiet /'
[ -e /usr/sbin/policy-rc.d ] && echo "not ok - quiet-install.sh left a policy-rc.d behind"
exit 0
