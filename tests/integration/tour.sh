#!/bin/sh
# tour.sh: the README's tour runs, and a second run on the same sim
# directory finds the host as the first left it (Domain-0 alone, all
# memory free again).
set -eu
: "${top_builddir:=.}"
tour="$top_builddir/cli/keel-sim-tour"
dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-tour-test-XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

out=$("$tour" "$dir/sim") || fail "the tour exited with $?"
echo "$out"
for want in "created web (pvh, 2 vCPUs, 512 MiB) as domain 1" \
    "created db (hvm, 4 vCPUs, 2048 MiB) as domain 2" \
    "event: domain 3 changed state" \
    "host after the tour: 8 CPUs in 2 sockets, 2 NUMA nodes, 16384 MiB, 15360 MiB free"; do
    echo "$out" | grep -qF "$want" || fail "tour output lacks: $want"
done
echo "$out" | grep -Eq '^batch +3 +256 +1 ---s--' ||
    fail "batch did not show as shut down"

# Second run on the same directory: domids carry on from 4.
out=$("$tour" "$dir/sim") || fail "the second tour exited with $?"
echo "$out" | grep -qF "created web (pvh, 2 vCPUs, 512 MiB) as domain 4" ||
    fail "the second run did not continue the first one's domids"
echo "tour: ok"
