#!/bin/sh
# tour.sh: the README's tour runs through libkeel's host API (create from
# xl.cfg, a pool, a crash restarted by its on_crash action, a polite
# shutdown), and a second run on the same sim directory finds the host as
# the first left it (Domain-0 alone, all memory free again).
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
    "event: web shutdown (domain 1): crash, action restart" \
    "event: web restarted (domain 1): now domain 4" \
    "event: batch shutdown (domain 3): poweroff, action destroy" \
    "fast         credit       1  4-7" \
    "host after the tour: 8 CPUs in 2 sockets, 2 NUMA nodes, 16384 MiB, 15360 MiB free"; do
    echo "$out" | grep -qF "$want" || fail "tour output lacks: $want"
done
echo "$out" | grep -Eq '^db +2 +2048 +4 r----- +[0-9.]+ +fast$' ||
    fail "db did not show as running in pool fast"

# Second run on the same directory: domids carry on from 5.
out=$("$tour" "$dir/sim") || fail "the second tour exited with $?"
echo "$out" | grep -qF "created web (pvh, 2 vCPUs, 512 MiB) as domain 5" ||
    fail "the second run did not continue the first one's domids"
echo "tour: ok"
