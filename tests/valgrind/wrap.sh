#!/bin/sh
# tests/valgrind/wrap.sh REAL WRAP LOGS: make WRAP a build directory the
# suite can use as $BUILD in which every program of REAL (the daemon, the
# CLI, the unit tests, the test tools) is a script that runs the real one
# under memcheck, writing one log per process to LOGS/<program>.<pid>.log.
# The scripts keep their names and paths, so the end-to-end scripts start
# them as they start the plain build: "$BUILD/aicensusd", $PWD/$BUILD/...,
# through ip netns exec or setpriv.  The exec keeps the PID: a signal to
# the started process reaches the program.  Forked children stay silent
# (the daemon forks only to exec or to _exit); programs it execs run
# natively.  VALGRIND=1 in their environment tells the scripts timing
# assertions cannot hold (tests/valgrind/README.md).
set -eu
real=$(cd "$1" && pwd)
wrap=$2
logs=$(mkdir -p "$3" && cd "$3" && pwd)
rm -rf "$wrap"
mkdir -p "$wrap/tests" "$wrap/tools"
# the daemon's user writes its logs too (setpriv --reuid=aicensus)
chmod 1777 "$logs"
ln -s "$real/plugins" "$wrap/plugins"
for b in "$real/aicensusd" "$real/aicensus" "$real"/tests/test_* "$real"/tools/*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	rel=${b#"$real"/}
	name=$(basename "$b")
	cat >"$wrap/$rel" <<EOS
#!/bin/sh
VALGRIND=1
export VALGRIND
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \\
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \\
	--track-origins=no --child-silent-after-fork=yes --num-callers=30 \\
	--vgdb=no \\
	--log-file="$logs/$name.%p.log" "$b" "\$@"
EOS
	chmod 0755 "$wrap/$rel"
done
