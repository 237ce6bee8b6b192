#!/bin/sh
# tests/valgrind/scan.sh LOGS: one "ok - "/"not ok - " line per program
# from the memcheck logs tests/valgrind/wrap.sh had written: not ok when
# any process of it had a memory error or a definite or indirect leak.
# A process killed by SIGKILL leaves no summary; it is counted, not failed
# (what it did before is in its log and still checked line by line).
logs=$1
bad='Invalid (read|write|free)|uninitialised|Mismatched free|Syscall param|Source and destination overlap|fishy|definitely lost in|indirectly lost in|Process terminating with default action of signal (4|6|7|8|11) '
for prog in $(ls "$logs" 2>/dev/null | sed -E 's/\.[0-9]+\.log$//' | sort -u); do
	n=0; killed=0; badlogs=
	for f in "$logs/$prog".*.log; do
		n=$((n + 1))
		if ! grep -q 'ERROR SUMMARY:' "$f"; then
			killed=$((killed + 1))
		fi
		if grep -qE 'ERROR SUMMARY: [1-9]' "$f" || grep -qE "^==[0-9]+== .*($bad)" "$f"; then
			badlogs="$badlogs $f"
		fi
	done
	if [ -z "$badlogs" ]; then
		k=
		[ "$killed" -eq 0 ] || k=" ($killed killed before their summary)"
		echo "ok - valgrind $prog: $n processes, no memory error, no definite or indirect leak$k"
	else
		echo "not ok - valgrind $prog: errors or leaks in $(echo "$badlogs" | wc -w) of $n processes:$badlogs"
		for f in $badlogs; do
			echo "# --- $f"
			grep -E "^==[0-9]+== .*($bad)|ERROR SUMMARY|^==[0-9]+== +(at|by) " "$f" | head -n 40 | sed 's/^/# /'
		done
	fi
done
