#!/bin/bash
# overlay-root.sh [-n] SCRIPT ARG... - run SCRIPT (bash) as root of this
# machine seen through an overlay: in new mount and pid namespaces (-n:
# and a network namespace, loopback only), / is an overlay of the real
# root filesystem with a tmpfs on top, plus /proc, /dev and an empty
# /run.  Every path of the root filesystem (this source tree, /tmp) is
# where it was; whatever SCRIPT writes, installs, removes or starts (dpkg,
# apt-get from apt's cache, services) stays in the tmpfs and in the
# namespaces and is gone when SCRIPT returns: the processes with the pid
# namespace, the mounts with the mount namespace.  SCRIPT's output and
# exit status are its own.  Needs root.  Used by tests/e2e/deb.sh and
# tests/e2e/deps.sh.
net=
[ "$1" = -n ] && { net=-n; shift; }
script=$(readlink -f "$1")
shift
d=$(mktemp -d /tmp/aic-overlay.XXXXXX)
trap 'rmdir "$d/lower" "$d/ov" "$d" 2>/dev/null' EXIT
mkdir "$d/lower" "$d/ov"
unshare -m -p $net --fork --propagation private /bin/bash -s "$d" "$script" "$@" <<'INNER'
set -e
d=$1 script=$2
shift 2
mount --bind / "$d/lower"
mount -t tmpfs -o size=1g tmpfs "$d/ov"
mkdir "$d/ov/u" "$d/ov/w" "$d/ov/m"
m=$d/ov/m
mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/ov/u,workdir=$d/ov/w" "$m"
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
mount -t tmpfs tmpfs "$m/run"
mkdir -p "$m/run/lock"
set +e
chroot "$m" /bin/bash "$script" "$@" </dev/null
INNER
