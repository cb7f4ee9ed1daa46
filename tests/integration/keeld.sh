#!/bin/sh
# keeld.sh: keeld's integration tests (tests/integration/keeld/, Python 3
# standard library only): each test starts a real keeld on a temporary
# directory with the sim backend and drives it through its sockets (every
# method and error, the read-only socket, events, malformed input,
# concurrency, SIGKILL and restart, jobs, socket modes). Skipped (77) when
# python3 or daemon/keeld is missing. Arguments go to run.py (-k NAME).
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keeld="$top_builddir/daemon/keeld"
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: no python3 (scripts/setup-deps installs it)"
    exit 77
fi
if [ ! -x "$keeld" ]; then
    echo "SKIP: no $keeld"
    exit 77
fi
KEELD=$keeld
export KEELD
exec python3 -B "$top_srcdir/tests/integration/keeld/run.py" "$@"
