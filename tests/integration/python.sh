#!/bin/sh
# python.sh: the Python binding's tests (bindings/python/tests/, unittest):
# the keel package against a real keeld, sim backend, on temporary
# directories: every method family, typed errors, events, save/restore
# jobs with progress, threads sharing a client. Skipped (77) when python3
# or daemon/keeld is missing. Arguments go to unittest (-k NAME, -v ...).
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keeld="$top_builddir/daemon/keeld"
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: no python3"
    exit 77
fi
if [ ! -x "$keeld" ]; then
    echo "SKIP: no $keeld (build keeld first)"
    exit 77
fi
KEELD=$keeld
export KEELD top_srcdir top_builddir
tests="$top_srcdir/bindings/python/tests"
if [ $# -eq 0 ]; then
    set -- -v
fi
exec python3 -B -m unittest discover -s "$tests" -p 'test_*.py' "$@"
