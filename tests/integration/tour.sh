#!/bin/sh
# tour.sh: the README's tour runs through libkeel's host API (create from
# xl.cfg, a pool, a crash restarted by its on_crash action, a polite
# shutdown, save and restore, a live migration to a second host), and a
# second run on the same sim directories finds the hosts as the first left
# them (Domain-0 alone, all memory free again).
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
    "created db (hvm, 4 vCPUs, 512 MiB) as domain 2" \
    "event: web shutdown (domain 1): crash, action restart" \
    "event: web restarted (domain 1): now domain 4" \
    "event: batch shutdown (domain 3): poweroff, action destroy" \
    "fast         credit       1  4-7" \
    "an xl save file with a version-3 HVM image" \
    "restored db as domain 5; its memory digest equals the saved one" \
    "event: db restored (domain 5)" \
    "web runs on the second host as domain 1" \
    "event: web migrated (domain 4)" \
    "host after the tour: 8 CPUs in 2 sockets, 2 NUMA nodes, 16384 MiB, 15360 MiB free"; do
    echo "$out" | grep -qF "$want" || fail "tour output lacks: $want"
done
echo "$out" | grep -Eq '^db +2 +512 +4 r----- +[0-9.]+ +fast$' ||
    fail "db did not show as running in pool fast"

echo "$out" | grep -Eq '^  paused for [0-9.]+ ms; ' ||
    fail "the migration did not report its downtime"

# Second run on the same directories: domids carry on.
out=$("$tour" "$dir/sim") || fail "the second tour exited with $?"
echo "$out" | grep -qF "created web (pvh, 2 vCPUs, 512 MiB) as domain 6" ||
    fail "the second run did not continue the first one's domids"
echo "$out" | grep -qF "web runs on the second host as domain 2" ||
    fail "the second host did not continue its domids"
echo "tour: ok"
