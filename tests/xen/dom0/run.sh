#!/bin/bash
# run.sh GROUP: keel's tests against the real Xen, run inside dom0 by
# /init (GROUP all, or xl, keel, interop, figures).
#
# Every step prints one line on the console, which the host reads from
# the serial log:
#   STEP <name> PASS|FAIL <seconds> [reason]
# (after a "STEP-BEGIN <name>" line, so that a step during which Xen or
# dom0 died can be named) then, for a FAIL, a few "  | " lines of context (the command's error,
# the tail of keeld's log). FIGURE lines compare keel with xl in the same
# boot, and the last line is "SUMMARY <n> passed, <n> failed".
#
# Each step checks what the hypervisor and the guest say, not only what
# the tool says: xl list (which reads Xen itself), the store, and the
# guest's console log, where its init prints KEEL-GUEST-UP when it has
# booted and a tick every 2 s while it runs.
set -u
group=${1:-all}

cfg=/etc/keel-test
con=/var/log/xen/console
top=/var/lib/keel-test
save=$top/save
klog=/var/log/keeld.log
export KEEL_SOCKET=/run/keel-test/keeld.sock
out=/tmp/step.out
err=/tmp/step.err
# Save files get a tmpfs of their own: the root (the initramfs) is a
# tmpfs of half of dom0's memory, and mostly full.
mkdir -p "$save" /run/keel-test
mount -t tmpfs -o size=400m save "$save"

passed=0 failed=0 why= dom= klines=0
keeld_pid=

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME FUNCTION [ARGS...]: runs one step and prints its line. The
# function returns non-zero on failure, having set $why.
step() {
    local name=$1 t0 r
    shift
    echo "STEP-BEGIN $name"
    why= dom= t0=$(now)
    klines=$(cat "$klog" 2>/dev/null | wc -l)
    : >"$out"
    : >"$err"
    "$@"
    r=$?
    if [ $r -eq 0 ]; then
        passed=$((passed + 1))
        echo "STEP $name PASS $(secs "$t0")"
    else
        failed=$((failed + 1))
        echo "STEP $name FAIL $(secs "$t0") ${why:-exit $r}"
        context
    fi
    return $r
}

context() {
    [ -s "$err" ] && tail -n 8 "$err" | sed 's/^/  | err: /'
    [ -s "$out" ] && tail -n 6 "$out" | sed 's/^/  | out: /'
    if [ -n "$dom" ] && [ -s "$con/guest-$dom.log" ]; then
        echo "  | $dom's console (last 4 lines):"
        tail -n 4 "$con/guest-$dom.log" | sed 's/^/  | /'
    fi
    # xl's own log for a domain it made: how the domain ended, if it did.
    if [ -n "$dom" ] && [ -s "/var/log/xen/xl-$dom.log" ]; then
        echo "  | xl-$dom.log (last 6 lines):"
        tail -n 6 "/var/log/xen/xl-$dom.log" | sed 's/^/  | /'
    fi
    if [ -n "$keeld_pid" ] && [ -s "$klog" ]; then
        # What keeld logged during the step, but for connection chatter.
        echo "  | keeld.log during the step (at most 30 lines):"
        tail -n +$((klines + 1)) "$klog" |
            grep -Ev 'debug: conn [0-9]+ (from|closed)|: conn [0-9]+ \(uid' |
            tail -n 30 | sed 's/^/  | /'
    fi
}

# run CMD...: CMD with a time limit (TCG is about ten times slower than
# bare metal), its output in $out and $err; sets $why on failure.
run() {
    timeout 180 "$@" >"$out" 2>"$err"
    local r=$?
    [ $r -eq 0 ] && return 0
    why="'$*' exited $r: $(tail -n 1 "$err")"
    return 1
}

# fail MESSAGE: sets $why and fails.
fail() {
    why=$*
    return 1
}

# wait_until SECONDS CMD...: polls CMD (quietly) every half second.
wait_until() {
    local end=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.5
    done
}

# --- oracles ----------------------------------------------------------------

# The domid Xen has for NAME (through xl), or nothing.
domid_of() { xl domid "$1" 2>/dev/null; }
has_domain() { [ -n "$(domid_of "$1")" ]; }
no_domain() { ! has_domain "$1"; }
# xl list's State column, e.g. -b----.
state_of() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
is_paused() { case $(state_of "$1") in ??p*) return 0 ;; esac; return 1; }
is_running() {
    local s
    s=$(state_of "$1")
    [ -n "$s" ] && case $s in ??p* | ???s* | ????c* | *d) return 1 ;; esac
}
# Lines in the guest's console log, and how often PATTERN is there.
con_lines() { cat "$con/guest-$1.log" 2>/dev/null | wc -l; }
con_count() { grep -c -- "$2" "$con/guest-$1.log" 2>/dev/null || true; }
con_has() { [ "$(con_count "$1" "$2")" -ge "${3:-1}" ]; }
con_grows_from() { [ "$(con_lines "$1")" -gt "$2" ]; }

# A guest has booted once its console says so a COUNTth time.
booted() {
    wait_until 120 con_has "$1" KEEL-GUEST-UP "${2:-1}" ||
        fail "no KEEL-GUEST-UP on $1's console after 120 s: $(tail -n 2 "$con/guest-$1.log" 2>/dev/null | tr '\n' ' ')"
}

# A guest runs: its console grows within 30 s.
ticking() {
    local n
    n=$(con_lines "$1")
    wait_until 30 con_grows_from "$1" "$n" ||
        fail "$1's console has not grown in 30 s (state $(state_of "$1"))"
}

# --- xl: the image itself works ------------------------------------------------

xl_info() {
    run xl info || return 1
    grep -q '^xen_version *: 4\.17' "$out" || fail "xl info: no xen_version 4.17"
}

xl_create() { # NAME CFG
    dom=$1
    run xl create -q "$cfg/$2.cfg" "name=\"$1\"" || return 1
    has_domain "$1" || fail "xl create returned but xl list has no $1"
    booted "$1" && ticking "$1"
}

xl_destroy() {
    dom=$1
    run xl destroy "$1" || return 1
    no_domain "$1" || fail "$1 still listed"
}

group_xl() {
    step xl-info xl_info
    step xl-create-pv xl_create xpv pv
    step xl-create-pvh xl_create xpvh pvh
    step xl-destroy-pv xl_destroy xpv
    step xl-destroy-pvh xl_destroy xpvh
}

# --- keel through keeld -----------------------------------------------------------

keeld_start() {
    keeld --backend xen --foreground --log-level debug \
        --state-dir "$top/state" --run-dir /run/keel-test >"$klog" 2>&1 &
    keeld_pid=$!
    wait_until 60 test -S "$KEEL_SOCKET" ||
        fail "no socket after 60 s: $(tail -n 3 "$klog" | tr '\n' ' ')"
    kill -0 "$keeld_pid" 2>/dev/null || fail "keeld exited: $(tail -n 3 "$klog" | tr '\n' ' ')"
}

keel_info() {
    run keel info || return 1
    grep -q '^nr_cpus *: 4$' "$out" || fail "keel info: nr_cpus is not 4"
    grep -q '^xen_version *: 4\.17' "$out" || fail "keel info: no xen_version 4.17"
    grep -q '^backend *: xen$' "$out" || fail "keel info: backend is not xen"
}

keel_list() {
    run keel list || return 1
    awk 'NR == 2 && $1 == "Domain-0" && $2 == 0 { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel list: no Domain-0 with ID 0 first"
}

# The CPUs of POOL as xl sees them, e.g. 0,1.
pool_cpus() { xl cpupool-list -c "$1" 2>/dev/null | awk 'NR == 2 { print $2 }'; }

pool_cpu_remove() {
    run keel cpupool-cpu-remove Pool-0 2-3 || return 1
    [ "$(pool_cpus Pool-0)" = 0,1 ] || fail "Pool-0 has CPUs $(pool_cpus Pool-0), not 0,1"
}

pool_create() {
    run keel cpupool-create 'name="kpool"' 'sched="credit"' 'cpus="3"' || return 1
    [ "$(pool_cpus kpool)" = 3 ] || fail "kpool has CPUs '$(pool_cpus kpool)', not 3"
    run keel cpupool-list kpool || return 1
    awk 'NR == 2 && $1 == "kpool" && $2 == 1 && $3 == "credit" { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel cpupool-list kpool: $(sed -n 2p "$out")"
}

pool_cpu_add() {
    run keel cpupool-cpu-add kpool 2 || return 1
    [ "$(pool_cpus kpool)" = 2,3 ] || fail "kpool has CPUs '$(pool_cpus kpool)', not 2,3"
}

# xl list -c: the pool a domain is in.
pool_of() { xl list -c "$1" 2>/dev/null | awk 'NR == 2 { print $NF }'; }

pool_migrate() {
    run keel cpupool-migrate kpv kpool || return 1
    [ "$(pool_of kpv)" = kpool ] || fail "kpv is in '$(pool_of kpv)', not kpool"
    ticking kpv || return 1
    run keel cpupool-migrate kpv Pool-0 || return 1
    [ "$(pool_of kpv)" = Pool-0 ] || fail "kpv is in '$(pool_of kpv)', not back in Pool-0"
}

pool_destroy() {
    run keel cpupool-destroy kpool || return 1
    xl cpupool-list 2>/dev/null | grep -q '^kpool ' && fail "xl still lists kpool" && return 1
    run keel cpupool-cpu-add Pool-0 2-3 || return 1
    [ "$(pool_cpus Pool-0)" = 0,1,2,3 ] || fail "Pool-0 has CPUs $(pool_cpus Pool-0) at the end"
}

keel_create() { # NAME CFG [KEY=VALUE...]
    local name=$1 c=$2
    dom=$1
    shift 2
    run keel create -q "$cfg/$c.cfg" "name=\"$name\"" "$@" || return 1
    has_domain "$name" || fail "keel create returned but xl list has no $name"
    booted "$name" || return 1
    ticking "$name" || return 1
    con_has "$name" "KEEL-GUEST-UP.* cpus=1" ||
        fail "$name did not come up with 1 vCPU online: $(grep KEEL-GUEST-UP "$con/guest-$name.log" | tail -n 1)" || return 1
    run keel list "$name" || return 1
    awk -v n="$name" 'NR == 2 && $1 == n { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel list $name: $(sed -n 2p "$out")"
}

keel_pause() {
    dom=$1
    run keel pause "$1" || return 1
    is_paused "$1" || fail "xl list state $(state_of "$1"), not paused"
    run keel list "$1" || return 1
    awk 'NR == 2 && $5 ~ /^..p/ { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel list does not show $1 paused: $(sed -n 2p "$out")"
}

keel_unpause() {
    dom=$1
    run keel unpause "$1" || return 1
    is_running "$1" || fail "xl list state $(state_of "$1") after unpause"
    ticking "$1"
}

# vCPU 0 pinned to CPU 1: Xen's own view (xl vcpu-list) has hard
# affinity 1; then back to all.
keel_vcpu_pin() {
    dom=kpv
    run keel vcpu-pin kpv 0 1 || return 1
    xl vcpu-list kpv >"$out" 2>&1
    awk '$1 == "kpv" && $3 == 0 && $7 == "1" { ok = 1 } END { exit !ok }' "$out" ||
        fail "xl vcpu-list: vCPU 0's hard affinity is not 1: $(grep '^kpv' "$out" | head -n 1)" || return 1
    run keel vcpu-pin kpv 0 all
}

# Pool-0's scheduler (credit2, Xen 4.17's default): a weight set by keel
# is the weight Xen reports to xl.
keel_sched() {
    dom=kpv
    run keel sched-credit2 -d kpv -w 512 || return 1
    xl sched-credit2 -d kpv >"$out" 2>&1
    awk '$1 == "kpv" && $3 == 512 { ok = 1 } END { exit !ok }' "$out" ||
        fail "xl sched-credit2: kpv's weight is not 512: $(tr '\n' ' ' <"$out")" || return 1
    run keel sched-credit2 -d kpv || return 1
    awk '$1 == "kpv" && $3 == 512 { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel sched-credit2 does not show weight 512: $(tr '\n' ' ' <"$out")"
}

target_kb() { xenstore-read "/local/domain/$(domid_of "$1")/memory/target" 2>/dev/null; }

keel_mem_set() {
    run keel mem-set kpv 96m || return 1
    [ "$(target_kb kpv)" = 98304 ] || fail "memory/target is '$(target_kb kpv)', not 98304"
}

vcpu_online() { # NAME VCPU: keel vcpu-list shows it running or blocked
    keel vcpu-list "$1" 2>/dev/null |
        awk -v n="$1" -v v="$2" '$1 == n && $3 == v && $5 ~ /^[rb-]+$/ && $5 !~ /p/ { ok = 1 } END { exit !ok }'
}

# vCPU 1 of 2 made available: the guest brings it up. A PVH guest knows
# it from its MADT (listed, not enabled), a PV guest from the store.
keel_vcpu_set() { # NAME
    dom=$1
    run keel vcpu-set "$1" 2 || return 1
    local a
    a=$(xenstore-read "/local/domain/$(domid_of "$1")/cpu/1/availability" 2>/dev/null)
    [ "$a" = online ] || fail "cpu/1/availability is '$a', not online" || return 1
    wait_until 60 vcpu_online "$1" 1 ||
        fail "keel vcpu-list does not show vCPU 1 online after 60 s: $(keel vcpu-list "$1" 2>&1 | tail -n 2 | tr '\n' ' ')"
}

keel_save() { # NAME
    dom=$1
    rm -f "$save/$1.save"
    run keel save "$1" "$save/$1.save" || return 1
    [ -s "$save/$1.save" ] || fail "no $save/$1.save" || return 1
    no_domain "$1" || fail "xl still lists $1 after the save" || return 1
    keel list "$1" >/dev/null 2>&1 && fail "keel still lists $1 after the save"
    return 0
}

keel_restore() { # NAME
    dom=$1
    run keel restore "$save/$1.save"
    local r=$?
    rm -f "$save/$1.save"
    [ $r -eq 0 ] || return 1
    has_domain "$1" || fail "xl list has no $1 after the restore" || return 1
    is_running "$1" || fail "$1 is $(state_of "$1") after the restore" || return 1
    ticking "$1"
}

# keeld killed (SIGKILL) in the middle of a save: the guest had suspended
# itself for the copy, which is stuck on a pipe no one reads. The next
# keeld finds the save's journal, resumes the guest, which runs on, and
# removes the partial file.
is_suspended() { case $(state_of "$1") in ???s*) return 0 ;; esac; return 1; }
keeld_killed_mid_save() {
    dom=kpv
    rm -f "$save/kpv.fifo" && mkfifo "$save/kpv.fifo" || return 1
    exec 7<>"$save/kpv.fifo" # holds the pipe open, never reads
    keel save kpv "$save/kpv.fifo" >"$out" 2>"$err" &
    local client=$! ok=0
    wait_until 60 is_suspended kpv && ok=1
    kill -9 "$keeld_pid"
    wait "$keeld_pid" 2>/dev/null
    wait "$client" 2>/dev/null
    exec 7<&-
    rm -f "$KEEL_SOCKET"
    keeld_start || return 1 # whatever happened: later steps need keeld
    [ $ok = 1 ] || fail "kpv never suspended for the save (state $(state_of kpv))" || return 1
    wait_until 30 is_running kpv ||
        fail "kpv is $(state_of kpv) after keeld's restart, not running" || return 1
    [ ! -e "$save/kpv.fifo" ] || fail "the partial save file is left" || return 1
    grep -q "resumed it from its suspend" "$klog" ||
        fail "keeld's log does not say it resumed kpv" || return 1
    ticking kpv
}

# keel migrate DOMAIN localhost: a copy built beside the source as
# DOMAIN--incoming takes over its name once it runs.
migrate_pvh() {
    local old new n
    dom=kpvh old=$(domid_of kpvh)
    run keel migrate kpvh localhost || return 1
    new=$(domid_of kpvh)
    [ -n "$new" ] || fail "xl list has no kpvh after the migration" || return 1
    [ "$new" != "$old" ] || fail "kpvh kept domid $old" || return 1
    no_domain kpvh--incoming || fail "kpvh--incoming is left" || return 1
    grep -q "Migrated as domain $new" "$out" "$err" ||
        fail "keel did not say 'Migrated as domain $new'" || return 1
    is_running kpvh || fail "kpvh is $(state_of kpvh) after the migration" || return 1
    # xenconsoled names a console log after the domain as it arrives and
    # keeps that file (as after xl migrate localhost): the copy's console
    # goes on in guest-kpvh--incoming.log until xenconsoled is sent SIGHUP.
    n=$(con_lines kpvh--incoming)
    wait_until 30 con_grows_from kpvh--incoming "$n" ||
        fail "the migrated kpvh's console has not grown in 30 s (state $(state_of kpvh))"
}

# PV live migration needs log-dirty, which needs shadow paging, which
# Debian's Xen is built without: keel must fail saying so, and leave the
# source running, with no copy.
migrate_pv_refused() {
    local old
    dom=kpv old=$(domid_of kpv)
    if timeout 180 keel migrate kpv localhost >"$out" 2>"$err"; then
        fail "the PV migration succeeded"
        return 1
    fi
    grep -Eqi 'log-?dirty|shadow' "$err" ||
        fail "the error does not say why: $(tail -n 1 "$err")" || return 1
    [ "$(domid_of kpv)" = "$old" ] || fail "kpv is not domid $old any more" || return 1
    no_domain kpv--incoming || fail "kpv--incoming is left" || return 1
    is_running kpv || fail "kpv is $(state_of kpv) after the refused migration" || return 1
    ticking kpv
}

keel_shutdown() {
    dom=$1
    run keel shutdown -w "$1" || return 1
    no_domain "$1" || fail "xl still lists $1" || return 1
    con_has "$1" KEEL-GUEST-POWEROFF || fail "the guest did not run its poweroff"
}

# on_reboot="restart": the guest reboots (asked through the store, as any
# toolstack asks), keeld sees it shut down with reason reboot and builds
# it again: same name, new domid, booted a second time.
new_domid() { local d; d=$(domid_of "$1"); [ -n "$d" ] && [ "$d" != "$2" ]; }
on_reboot() {
    local old
    dom=kboot
    keel_create kboot pv 'on_reboot="restart"' || return 1
    old=$(domid_of kboot)
    run xenstore-write "/local/domain/$old/control/shutdown" reboot || return 1
    wait_until 90 new_domid kboot "$old" ||
        fail "no new kboot after 90 s (now: '$(domid_of kboot)', was $old)" || return 1
    booted kboot 2 || return 1
    run keel list kboot || return 1
    awk -v d="$(domid_of kboot)" 'NR == 2 && $1 == "kboot" && $2 == d { ok = 1 } END { exit !ok }' "$out" ||
        fail "keel list kboot: $(sed -n 2p "$out")" || return 1
    run keel destroy kboot
}

keel_destroy() {
    run keel destroy "$1" || return 1
    wait_until 30 no_domain "$1" || fail "xl still lists $1 after 30 s"
}

group_keel() {
    step keeld-start keeld_start || return 0
    step info keel_info
    step list keel_list
    step cpupool-cpu-remove pool_cpu_remove
    step cpupool-create pool_create
    step cpupool-cpu-add pool_cpu_add
    step create-pv keel_create kpv pv
    step create-pvh keel_create kpvh pvh
    step cpupool-migrate pool_migrate
    step cpupool-destroy pool_destroy
    step pause keel_pause kpv
    step unpause keel_unpause kpv
    step mem-set keel_mem_set
    step vcpu-set keel_vcpu_set kpv
    step vcpu-pin keel_vcpu_pin
    step sched-credit2 keel_sched
    step vcpu-set-pvh keel_vcpu_set kpvh
    step save-pv keel_save kpv
    step restore-pv keel_restore kpv
    step save-killed keeld_killed_mid_save
    step save-pvh keel_save kpvh
    step restore-pvh keel_restore kpvh
    step migrate-pvh migrate_pvh
    step migrate-pv-refused migrate_pv_refused
    step shutdown keel_shutdown kpv
    step on-reboot-restart on_reboot
    step destroy keel_destroy kpvh
}

# --- interop: save files cross between keel and xl ---------------------------------

keel_to_xl() {
    keel_create ki pv || return 1
    rm -f "$save/ki.save"
    run keel save ki "$save/ki.save" || return 1
    no_domain ki || fail "ki still runs after keel save" || return 1
    run xl restore "$save/ki.save" || return 1
    has_domain ki || fail "xl restore: no ki" || return 1
    ticking ki || return 1
    rm -f "$save/ki.save"
    run xl destroy ki
}

xl_to_keel() {
    xl_create xi pv || return 1
    rm -f "$save/xi.save"
    run xl save xi "$save/xi.save" || return 1
    no_domain xi || fail "xi still runs after xl save" || return 1
    run keel restore "$save/xi.save" || return 1
    has_domain xi || fail "keel restore: no xi" || return 1
    ticking xi || return 1
    rm -f "$save/xi.save"
    run keel destroy xi || return 1
    wait_until 30 no_domain xi || fail "xi still listed after keel destroy"
}

group_interop() {
    [ -n "$keeld_pid" ] || step keeld-start keeld_start || return 0
    step interop-keel-save-xl-restore keel_to_xl
    step interop-xl-save-keel-restore xl_to_keel
}

# --- figures: keel against xl, same boot, same guest -------------------------------

# timed VAR CMD...: runs CMD (via run), stores its seconds in VAR.
timed() {
    local var=$1 t0
    shift
    t0=$(now)
    run "$@" || return 1
    printf -v "$var" '%s' "$(secs "$t0")"
}

# One tool's round: create, list (mean of 5), save, restore, destroy.
round() { # TOOL NAME
    local t=$1 n=$2 i t0
    dom=$n
    timed "f_${t}_create" "$t" create -q "$cfg/pv.cfg" "name=\"$n\"" || return 1
    booted "$n" || return 1
    t0=$(now)
    for i in 1 2 3 4 5; do run "$t" list || return 1; done
    printf -v "f_${t}_list" '%s' "$(awk -v s="$(secs "$t0")" 'BEGIN { printf "%.2f", s / 5 }')"
    rm -f "$save/$n.save"
    timed "f_${t}_save" "$t" save "$n" "$save/$n.save" || return 1
    timed "f_${t}_restore" "$t" restore "$save/$n.save" || return 1
    rm -f "$save/$n.save"
    timed "f_${t}_destroy" "$t" destroy "$n" || return 1
    wait_until 30 no_domain "$n"
}

figures() {
    local op k x ok=0
    round xl fxl || return 1
    round keel fkeel || ok=1
    for op in create list save restore destroy; do
        k=f_keel_$op x=f_xl_$op
        echo "FIGURE $op keel=${!k:-FAIL}s xl=${!x}s ratio=$(awk -v k="${!k:-0}" -v x="${!x}" \
            'BEGIN { if (k == 0 || x == 0) print "-"; else printf "%.2f", k / x }')"
    done
    return $ok
}

group_figures() {
    [ -n "$keeld_pid" ] || step keeld-start keeld_start || return 0
    step figures figures
}

# --- main -------------------------------------------------------------------------

echo "TESTS-BEGIN $group $(cut -d' ' -f1 /proc/uptime)"
case $group in
all) group_xl; group_keel; group_interop; group_figures ;;
xl) group_xl ;;
keel) group_keel ;;
interop) group_interop ;;
figures) group_figures ;;
*) echo "run.sh: no test group '$group' (all, xl, keel, interop, figures)" ;;
esac
if [ -n "$keeld_pid" ]; then
    kill "$keeld_pid" 2>/dev/null
    wait "$keeld_pid" 2>/dev/null
fi
echo "SUMMARY $passed passed, $failed failed"
[ "$failed" -eq 0 ]
