#!/bin/sh
# cli-jobs.sh: keel's CPU pool, scheduler and job commands against a real
# keeld on the sim backend (8 CPUs on 2 NUMA nodes): cpupool-*, sched-*,
# define/undefine/start/autostart, events, save/restore with their plain
# progress lines (stderr is not a terminal here), job-list, job-cancel
# and Ctrl-C during a save. Output is compared with the fixtures
# tests/data/cli/{pool,sched,jobs}-*.txt; error paths must exit 1 (2 for
# a usage mistake) with one line on stderr. KEEL_TEST_REGENERATE=1
# rewrites the fixtures. Skipped (77) without daemon/keeld.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
top_builddir=$(cd "$top_builddir" && pwd) # save and restore run elsewhere
keel="$top_builddir/cli/keel"
keeld="$top_builddir/daemon/keeld"
fixtures="$top_srcdir/tests/data/cli"
if [ ! -x "$keeld" ]; then
    echo "SKIP: no $keeld"
    exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-cli-jobs-XXXXXX")
sock="$dir/run/keeld.sock"
keeld_pid=
bg_pid=

fail() {
    echo "FAIL: $*" >&2
    [ -f "$dir/keeld.log" ] && tail -n 40 "$dir/keeld.log" | sed 's/^/keeld: /' >&2
    exit 1
}

start_keeld() {
    mkdir -p "$dir/state" "$dir/run"
    "$keeld" --backend sim --state-dir "$dir/state" --run-dir "$dir/run" \
        --sim-dir "$dir/sim" --sim-host cpus=8,nodes=2,memory=16G \
        --foreground </dev/null >"$dir/keeld.log" 2>&1 &
    keeld_pid=$!
    i=0
    until [ -S "$sock" ]; do
        kill -0 "$keeld_pid" 2>/dev/null || fail "keeld exited while starting"
        i=$((i + 1))
        [ $i -lt 300 ] || fail "keeld did not open its socket in 30 s"
        sleep 0.1
    done
}

stop_keeld() {
    if [ -n "$keeld_pid" ]; then
        kill "$keeld_pid" 2>/dev/null || :
        wait "$keeld_pid" 2>/dev/null || :
        keeld_pid=
    fi
    if grep -qE 'Sanitizer|runtime error:' "$dir/keeld.log" 2>/dev/null; then
        fail "keeld reported a sanitizer error"
    fi
}

cleanup() {
    [ -z "$bg_pid" ] || kill "$bg_pid" 2>/dev/null || :
    stop_keeld
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# k ARGS...: keel against our keeld; stdout in $dir/out, stderr in
# $dir/err, exit status in $st.
k() {
    set +e
    "$keel" -c "$sock" "$@" >"$dir/out" 2>"$dir/err"
    st=$?
    set -e
    if grep -qE 'Sanitizer|runtime error:' "$dir/err"; then
        fail "keel $*: sanitizer error: $(cat "$dir/err")"
    fi
}

# ok ARGS...: keel must succeed with nothing on stderr.
ok() {
    k "$@"
    [ "$st" -eq 0 ] || fail "keel $* exited with $st: $(cat "$dir/err")"
    [ ! -s "$dir/err" ] || fail "keel $* wrote on stderr: $(cat "$dir/err")"
}

# refused STATUS PATTERN ARGS...: keel must exit with STATUS, write
# nothing on stdout and one line on stderr matching PATTERN (grep -E);
# a usage mistake (2) may add getopt's line to the usage line.
refused() {
    want=$1 pattern=$2
    shift 2
    k "$@"
    [ "$st" -eq "$want" ] ||
        fail "keel $* exited with $st, not $want: $(cat "$dir/err")"
    lines=$(wc -l <"$dir/err")
    [ "$lines" -eq 1 ] || { [ "$want" -eq 2 ] && [ "$lines" -eq 2 ]; } ||
        fail "keel $* did not write one line on stderr: $(cat "$dir/err")"
    grep -qE "$pattern" "$dir/err" ||
        fail "keel $*: stderr '$(cat "$dir/err")' does not match '$pattern'"
    [ ! -s "$dir/out" ] || fail "keel $* wrote on stdout: $(cat "$dir/out")"
}

# fixture NAME: $dir/out, with uuids and the test directory masked, must
# equal tests/data/cli/NAME.
fixture() {
    sed -E -e 's/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/UUID/g' \
        -e "s|$dir|DIR|g" "$dir/out" >"$dir/got"
    if [ "${KEEL_TEST_REGENERATE:-}" = 1 ]; then
        cp "$dir/got" "$fixtures/$1"
        return
    fi
    cmp -s "$dir/got" "$fixtures/$1" ||
        fail "output differs from tests/data/cli/$1:
$(diff -u "$fixtures/$1" "$dir/got")"
}

# guest NAME MEMORY VCPUS: defines and starts a small PVH guest.
guest() {
    printf 'name = "%s"\ntype = "pvh"\nmemory = %s\nvcpus = %s\n' \
        "$1" "$2" "$3" >"$dir/$1.cfg"
    ok define "$dir/$1.cfg"
    ok start "$1"
}

# wait_for FILE PATTERN: up to 30 s for a line matching PATTERN in FILE.
wait_for() {
    i=0
    until grep -qE "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "no line '$2' in $1 after 30 s: $(cat "$1")"
        sleep 0.1
    done
}

start_keeld

# --- cpupool-* -----------------------------------------------------------------

ok cpupool-list
fixture pool-list.txt
ok cpupool-list -c
fixture pool-list-c.txt
ok cpupool-cpu-remove Pool-0 node:1
ok cpupool-create name=\"cp\" sched=\"credit\" 'cpus=["6","7"]'
fixture pool-create.txt
cat >"$dir/rt.cfg" <<'CFG'
# an RTDS pool (xlcpupool.cfg)
name = "rt"   ; sched = 'rtds'
cpus = "5"    # one CPU
CFG
ok cpupool-cpu-add Pool-0 4
ok cpupool-create "$dir/rt.cfg"
fixture pool-create-file.txt
ok cpupool-list
fixture pool-list-3.txt
ok cpupool-list cp
fixture pool-list-one.txt
ok --json cpupool-list cp
fixture pool-list-json.txt
refused 1 "Pool 'nosuch' does not exist" cpupool-list nosuch
refused 1 "" cpupool-create name=\"cp\" cpus=\"7\"
refused 1 "missing cpupool name" cpupool-create sched=\"credit\"
printf 'name = "x"\ncpus = [ "1",\nsched = "credit"\n' >"$dir/bad.cfg"
refused 1 "bad.cfg:3:1: expected a string, a number or a list" \
    cpupool-create "$dir/bad.cfg"
refused 1 "nope.cfg: No such file" cpupool-create "$dir/nope.cfg"
refused 2 "usage: keel cpupool-destroy" cpupool-destroy
refused 2 "usage: keel cpupool-list" cpupool-list -x
refused 2 "usage: keel cpupool-rename" cpupool-rename cp
refused 1 "" cpupool-destroy nosuch

# --- sched-* ---------------------------------------------------------------------

guest a 32 1
guest b 32 1
guest c 32 2
ok cpupool-migrate b cp
ok cpupool-migrate c rt
ok cpupool-rename cp credpool
refused 1 "" cpupool-migrate nosuch credpool

ok sched-credit
fixture sched-credit.txt
ok sched-credit -d b -w 512 -c 25
ok sched-credit -d b
fixture sched-credit-d.txt
ok sched-credit -s -p credpool -t 10 -r 500
ok sched-credit -s -p credpool
fixture sched-credit-s.txt
refused 1 "domain a is in a credit2 pool, not credit" sched-credit -d a
refused 2 "not allowed with domain options" sched-credit -d b -p credpool
refused 2 "must specify a domain" sched-credit -w 5
refused 2 "must specify schedparam" sched-credit -t 5
refused 2 "weight must be an integer" sched-credit -d b -w x

ok sched-credit2 -d a -w 128
ok sched-credit2 -s -r 2000
ok sched-credit2
fixture sched-credit2.txt
ok sched-credit2 -s
fixture sched-credit2-s.txt
ok --json sched-credit2 -d a
fixture sched-credit2-json.txt

ok sched-rtds
fixture sched-rtds.txt
ok sched-rtds -d c -v 1 -p 20000 -b 5000 -e 0
ok sched-rtds -d c -v all -b 3000
ok sched-rtds -d c -v all
fixture sched-rtds-v.txt
ok sched-rtds -v all
fixture sched-rtds-all.txt
refused 1 "c has no vCPU 7" sched-rtds -d c -v 7
refused 2 "must specify a vCPU" sched-rtds -d c -p 100
refused 2 "incorrect vCPU IDs" sched-rtds -d c -v 0 -v all
refused 2 "cpupool is not allowed" sched-rtds -c rt -d c
refused 2 "extratime must be an integer in 0..1" sched-rtds -d c -v 0 -e 2
refused 2 "incorrect number" sched-rtds -d c -v 0 -v 1 -p 100

# Back to one pool, then one per node.
ok cpupool-cpu-remove credpool 7
ok cpupool-cpu-add Pool-0 7
refused 1 "not free" cpupool-cpu-add credpool 0
ok cpupool-list -c
fixture pool-list-c2.txt
ok cpupool-migrate b Pool-0
ok cpupool-migrate c Pool-0
ok cpupool-destroy credpool
ok cpupool-destroy rt
ok cpupool-cpu-add Pool-0 5-6
ok cpupool-numa-split
ok cpupool-list
fixture pool-numa-split.txt
refused 1 "" cpupool-numa-split
ok cpupool-migrate b Pool-node0
ok cpupool-destroy Pool-node1
ok cpupool-create name=\"n1\" 'nodes=[1]'
ok cpupool-list -c
fixture pool-nodes.txt

# --- events ------------------------------------------------------------------------

# keel events runs until SIGINT; a background job of a script ignores
# SIGINT unless told otherwise.
env --default-signal=INT "$keel" -c "$sock" events >"$dir/events" \
    2>"$dir/events.err" &
bg_pid=$!
# Subscribed once a define shows up.
printf 'name = "probe"\nmemory = 16\n' >"$dir/probe.cfg"
i=0
until grep -q '^defined .*probe' "$dir/events"; do
    ok define "$dir/probe.cfg"
    ok undefine probe
    i=$((i + 1))
    [ $i -lt 100 ] || fail "keel events saw nothing: $(cat "$dir/events.err")"
    sleep 0.1
done
printf 'name = "evt"\ntype = "pvh"\nmemory = 16\n' >"$dir/evt.cfg"
k create -q "$dir/evt.cfg"
[ "$st" -eq 0 ] || fail "keel create evt: $(cat "$dir/err")"
ok pause evt
ok destroy evt
wait_for "$dir/events" '^stopped +evt'
kill -INT "$bg_pid"
set +e
wait "$bg_pid"
st=$?
set -e
bg_pid=
[ "$st" -eq 0 ] || fail "keel events exited with $st at SIGINT: $(cat "$dir/events.err")"
[ ! -s "$dir/events.err" ] || fail "keel events wrote on stderr: $(cat "$dir/events.err")"
grep ' evt ' "$dir/events" | sed -E 's/ +[0-9]+$/ ID/' >"$dir/out"
fixture jobs-events.txt

env --default-signal=INT "$keel" -c "$sock" --json events >"$dir/events" \
    2>"$dir/events.err" &
bg_pid=$!
i=0
until grep -q '"type":"defined"' "$dir/events"; do
    ok define "$dir/probe.cfg"
    ok undefine probe
    i=$((i + 1))
    [ $i -lt 100 ] || fail "keel --json events saw nothing"
    sleep 0.1
done
kill -INT "$bg_pid"
wait "$bg_pid" || fail "keel --json events did not exit 0 at SIGINT"
bg_pid=
grep -q '^{"type":"defined","domid":null,"uuid":"[0-9a-f-]*","name":"probe",' \
    "$dir/events" || fail "keel --json events: $(cat "$dir/events")"

# --- define, undefine, start, autostart ----------------------------------------------

printf 'name = "db"\ntype = "pvh"\nmemory = 32\n' >"$dir/db.cfg"
ok define "$dir/db.cfg" memory=48
fixture jobs-define.txt
ok autostart db on
ok autostart db off
refused 2 "say on or off" autostart db maybe
ok start -p db
sed -E 's/id [0-9]+/id N/' "$dir/out" >"$dir/out2" && mv "$dir/out2" "$dir/out"
fixture jobs-start.txt
refused 1 "already running" start db
printf 'name = "bad"\nmemory = "x"\n' >"$dir/bad-dom.cfg"
refused 1 "bad-dom.cfg:2:[0-9]+: memory" define "$dir/bad-dom.cfg"
refused 1 "missing.cfg: No such file" define "$dir/missing.cfg"
refused 2 "KEY=VALUE goes with xl.cfg files only" define "$dir/x.json" a=b
refused 2 "usage: keel define" define
ok undefine db
refused 1 "no defined domain 'db'" undefine db
ok --json define "$dir/db.cfg"
grep -q '"uuid"' "$dir/out" || fail "define --json: $(cat "$dir/out")"
ok undefine db

# --- save, restore, jobs -------------------------------------------------------------

progress_re='^(save|restore): job [0-9]+: (setup|memory|stopcopy|done) [0-9]+% \([0-9.]+ (B|KiB|MiB|GiB) of [0-9.]+ (B|KiB|MiB|GiB)\)$'

# plain_progress KIND: $dir/err holds only progress lines, ending at 100%.
plain_progress() {
    [ -s "$dir/err" ] || fail "$1: no progress lines"
    if grep -vE "$progress_re" "$dir/err" >"$dir/bad"; then
        fail "$1: not progress lines: $(cat "$dir/bad")"
    fi
    tail -n 1 "$dir/err" | grep -qE "^$1: job [0-9]+: done 100% " ||
        fail "$1: the last line is not done 100%: $(tail -n 1 "$dir/err")"
}

guest sv 64 1
# FILE is relative here: keel makes it absolute for keeld.
(cd "$dir" && "$keel" -c "$sock" save sv sv.save >"$dir/out" 2>"$dir/err") ||
    fail "keel save sv: $(cat "$dir/err")"
[ ! -s "$dir/out" ] || fail "save wrote on stdout: $(cat "$dir/out")"
plain_progress save
[ "$(wc -c <"$dir/sv.save")" -gt 33554432 ] || fail "the save file is too small"
refused 1 "no domain called 'sv'" sched-credit2 -d sv
(cd "$dir" && "$keel" -c "$sock" restore -p sv.save >"$dir/out" 2>"$dir/err") ||
    fail "keel restore: $(cat "$dir/err")"
plain_progress restore
sed -E 's/domain [0-9]+/domain N/' "$dir/out" >"$dir/out2" && mv "$dir/out2" "$dir/out"
fixture jobs-restore.txt

ok --json save -c sv "$dir/sv2.save"
head -n 1 "$dir/out" | grep -qE '^\{"job":[0-9]+\}$' ||
    fail "save --json: the first line is not the job: $(head -n 1 "$dir/out")"
grep -q '^{"method":"job.progress","params":{"job":' "$dir/out" ||
    fail "save --json: no progress line"
tail -n 1 "$dir/out" | grep -q '^{"method":"job.done","params":{"job":[0-9]*,"state":"done","error":null' ||
    fail "save --json: the last line is not job.done: $(tail -n 1 "$dir/out")"
ok sched-credit2 -d sv # -c: still there
k save -p sv "$dir/sv3.save"
[ "$st" -eq 0 ] || fail "save -p: $(cat "$dir/err")"
ok sched-credit2 -d sv # -p: still there

refused 1 "no domain called 'nosuch'" save nosuch "$dir/x.save"
refused 1 "opening $dir/none.save: No such file" restore "$dir/none.save"
echo garbage >"$dir/garbage.save"
refused 1 "not a migration-v2 stream" restore "$dir/garbage.save"
refused 1 "opening /nonexistent/x.save" save sv /nonexistent/x.save
refused 2 "usage: keel save" save sv
refused 2 "usage: keel restore" restore -x f

ok job-list
fixture jobs-list.txt
ok --json job-list
grep -q '"kind": *"restore"' "$dir/out" || fail "job-list --json: $(cat "$dir/out")"
refused 1 "job 1 has ended" job-cancel 1
refused 1 "no job 999" job-cancel 999
refused 2 "JOB must be an integer" job-cancel x

# Ctrl-C during a save cancels the job and removes the file.
guest big 8192 1
env --default-signal=INT "$keel" -c "$sock" save big "$dir/big.save" \
    >"$dir/big.out" 2>"$dir/big.err" &
bg_pid=$!
wait_for "$dir/big.err" ': memory [0-9]+%'
kill -INT "$bg_pid"
set +e
wait "$bg_pid"
st=$?
set -e
bg_pid=
[ "$st" -eq 1 ] || fail "an interrupted save exited with $st: $(cat "$dir/big.err")"
grep -qE "keel: save: interrupted: cancelling job [0-9]+ " "$dir/big.err" ||
    fail "no cancel message: $(cat "$dir/big.err")"
tail -n 1 "$dir/big.err" | grep -qE '^keel: save: job [0-9]+ cancelled$' ||
    fail "no cancelled message: $(cat "$dir/big.err")"
[ ! -e "$dir/big.save" ] || fail "a cancelled save left its file"
ok sched-credit2 -d big # still there
ok job-list
grep -qE "^[0-9]+ +save +big +cancelled " "$dir/out" || fail "no cancelled job: $(cat "$dir/out")"

# --- no keeld --------------------------------------------------------------------------

stop_keeld
refused 1 "keeld is not running" job-list
refused 1 "keeld is not running" cpupool-list
echo "cli-jobs: all checks passed"
