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
. "$top_srcdir/tests/integration/cli/lib.sh"
if [ ! -x "$keeld" ]; then
    echo "SKIP: no $keeld"
    exit 77
fi

# fixture NAME: as lib.sh's, with the test directory masked too.
fixture_dir() {
    fixture "$1" "s|$dir|DIR|g"
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
fixture_dir pool-list.txt
ok cpupool-list -c
fixture_dir pool-list-c.txt
ok cpupool-cpu-remove Pool-0 node:1
ok cpupool-create name=\"cp\" sched=\"credit\" 'cpus=["6","7"]'
fixture_dir pool-create.txt
cat >"$dir/rt.cfg" <<'CFG'
# an RTDS pool (xlcpupool.cfg)
name = "rt"   ; sched = 'rtds'
cpus = "5"    # one CPU
CFG
ok cpupool-cpu-add Pool-0 4
ok cpupool-create "$dir/rt.cfg"
fixture_dir pool-create-file.txt
ok cpupool-list
fixture_dir pool-list-3.txt
ok cpupool-list cp
fixture_dir pool-list-one.txt
ok --json cpupool-list cp
fixture_dir pool-list-json.txt
refused_like 1 "Pool 'nosuch' does not exist" cpupool-list nosuch
refused_like 1 "" cpupool-create name=\"cp\" cpus=\"7\"
refused_like 1 "missing cpupool name" cpupool-create sched=\"credit\"
printf 'name = "x"\ncpus = [ "1",\nsched = "credit"\n' >"$dir/bad.cfg"
refused_like 1 "bad.cfg:3:1: expected a string, a number or a list" \
    cpupool-create "$dir/bad.cfg"
refused_like 1 "nope.cfg: No such file" cpupool-create "$dir/nope.cfg"
refused_like 2 "usage: keel cpupool-destroy" cpupool-destroy
refused_like 2 "usage: keel cpupool-list" cpupool-list -x
refused_like 2 "usage: keel cpupool-rename" cpupool-rename cp
refused_like 1 "" cpupool-destroy nosuch

# --- sched-* ---------------------------------------------------------------------

guest a 32 1
guest b 32 1
guest c 32 2
ok cpupool-migrate b cp
ok cpupool-migrate c rt
ok cpupool-rename cp credpool
refused_like 1 "" cpupool-migrate nosuch credpool

ok sched-credit
fixture_dir sched-credit.txt
ok sched-credit -d b -w 512 -c 25
ok sched-credit -d b
fixture_dir sched-credit-d.txt
ok sched-credit -s -p credpool -t 10 -r 500
ok sched-credit -s -p credpool
fixture_dir sched-credit-s.txt
refused_like 1 "domain a is in a credit2 pool, not credit" sched-credit -d a
refused_like 2 "not allowed with domain options" sched-credit -d b -p credpool
refused_like 2 "must specify a domain" sched-credit -w 5
refused_like 2 "must specify schedparam" sched-credit -t 5
refused_like 2 "weight must be an integer" sched-credit -d b -w x

ok sched-credit2 -d a -w 128
ok sched-credit2 -s -r 2000
ok sched-credit2
fixture_dir sched-credit2.txt
ok sched-credit2 -s
fixture_dir sched-credit2-s.txt
ok --json sched-credit2 -d a
fixture_dir sched-credit2-json.txt

ok sched-rtds
fixture_dir sched-rtds.txt
ok sched-rtds -d c -v 1 -p 20000 -b 5000 -e 0
ok sched-rtds -d c -v all -b 3000
ok sched-rtds -d c -v all
fixture_dir sched-rtds-v.txt
ok sched-rtds -v all
fixture_dir sched-rtds-all.txt
refused_like 1 "c has no vCPU 7" sched-rtds -d c -v 7
refused_like 2 "must specify a vCPU" sched-rtds -d c -p 100
refused_like 2 "incorrect vCPU IDs" sched-rtds -d c -v 0 -v all
refused_like 2 "cpupool is not allowed" sched-rtds -c rt -d c
refused_like 2 "extratime must be an integer in 0..1" sched-rtds -d c -v 0 -e 2
refused_like 2 "incorrect number" sched-rtds -d c -v 0 -v 1 -p 100

# Back to one pool, then one per node.
ok cpupool-cpu-remove credpool 7
ok cpupool-cpu-add Pool-0 7
refused_like 1 "not free" cpupool-cpu-add credpool 0
ok cpupool-list -c
fixture_dir pool-list-c2.txt
ok cpupool-migrate b Pool-0
ok cpupool-migrate c Pool-0
ok cpupool-destroy credpool
ok cpupool-destroy rt
ok cpupool-cpu-add Pool-0 5-6
ok cpupool-numa-split
ok cpupool-list
fixture_dir pool-numa-split.txt
refused_like 1 "" cpupool-numa-split
ok cpupool-migrate b Pool-node0
ok cpupool-destroy Pool-node1
ok cpupool-create name=\"n1\" 'nodes=[1]'
ok cpupool-list -c
fixture_dir pool-nodes.txt

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
fixture_dir jobs-events.txt

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
fixture_dir jobs-define.txt
ok autostart db on
ok autostart db off
refused_like 2 "say on or off" autostart db maybe
ok start -p db
sed -E 's/id [0-9]+/id N/' "$dir/out" >"$dir/out2" && mv "$dir/out2" "$dir/out"
fixture_dir jobs-start.txt
refused_like 1 "already running" start db
printf 'name = "bad"\nmemory = "x"\n' >"$dir/bad-dom.cfg"
refused_like 1 "bad-dom.cfg:2:[0-9]+: memory" define "$dir/bad-dom.cfg"
refused_like 1 "missing.cfg: No such file" define "$dir/missing.cfg"
refused_like 2 "KEY=VALUE goes with xl.cfg files only" define "$dir/x.json" a=b
refused_like 2 "usage: keel define" define
ok undefine db
refused_like 1 "no defined domain 'db'" undefine db
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
refused_like 1 "no domain called 'sv'" sched-credit2 -d sv
(cd "$dir" && "$keel" -c "$sock" restore -p sv.save >"$dir/out" 2>"$dir/err") ||
    fail "keel restore: $(cat "$dir/err")"
plain_progress restore
sed -E 's/domain [0-9]+/domain N/' "$dir/out" >"$dir/out2" && mv "$dir/out2" "$dir/out"
fixture_dir jobs-restore.txt

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

refused_like 1 "no domain called 'nosuch'" save nosuch "$dir/x.save"
refused_like 1 "opening $dir/none.save: No such file" restore "$dir/none.save"
echo garbage >"$dir/garbage.save"
refused_like 1 "not a migration-v2 stream" restore "$dir/garbage.save"
refused_like 1 "opening /nonexistent/x.save" save sv /nonexistent/x.save
refused_like 2 "usage: keel save" save sv
refused_like 2 "usage: keel restore" restore -x f

ok job-list
fixture_dir jobs-list.txt
ok --json job-list
grep -q '"kind": *"restore"' "$dir/out" || fail "job-list --json: $(cat "$dir/out")"
refused_like 1 "job 1 has ended" job-cancel 1
refused_like 1 "no job 999" job-cancel 999
refused_like 2 "JOB must be an integer" job-cancel x

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

# --- migrate: live, to a copy on this host -----------------------------------------

guest mover 64 2
ok domid mover
old=$(cat "$dir/out")
k migrate mover localhost
[ "$st" -eq 0 ] || fail "migrate: $(cat "$dir/err")"
grep -qE '^migrate: job [0-9]+: done 100%' "$dir/err" || fail "migrate: no progress: $(cat "$dir/err")"
grep -qE '^Migrated as domain [0-9]+$' "$dir/out" || fail "migrate: $(cat "$dir/out")"
new=$(sed -n 's/^Migrated as domain //p' "$dir/out")
[ "$new" != "$old" ] || fail "migrate: the copy kept domid $old"
ok domid mover
[ "$(cat "$dir/out")" = "$new" ] || fail "mover is domain $(cat "$dir/out"), not $new"
ok list
[ "$(grep -c '^mover ' "$dir/out")" -eq 1 ] || fail "list after migrate: $(cat "$dir/out")"
! grep -q 'incoming' "$dir/out" || fail "a copy's name is left: $(cat "$dir/out")"
k migrate --policy keel --downtime 50 mover localhost
[ "$st" -eq 0 ] || fail "migrate --policy keel: $(cat "$dir/err")"
refused_like 2 "usage: keel migrate" migrate mover
refused_like 1 "migration to another machine is not supported" migrate mover elsewhere
refused_like 1 "policy takes xen or keel" migrate --policy fast mover localhost
refused_like 1 "no domain called 'nosuch'" migrate nosuch localhost

# --- no keeld --------------------------------------------------------------------------

stop_keeld
refused_like 1 "keeld is not running" job-list
refused_like 1 "keeld is not running" cpupool-list
echo "cli-jobs: all checks passed"
