#!/bin/bash
# Names detected in every public capture of ../shared/pcaps equal the
# names tshark extracts (deliberate differences explained in the script).
cd "$(dirname "$0")/../.." || exit 1
PCAPS=${PCAPS:-../shared/pcaps}
if [ ! -d "$PCAPS" ]; then
	echo "not ok - capture set $PCAPS not found"
	exit 1
fi
/usr/bin/python3 tests/pcaps_compare.py "$PCAPS"
