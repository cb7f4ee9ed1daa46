#!/bin/sh
# cli.sh: keel's domain commands against a real keeld (sim backend):
# create, destroy, shutdown, reboot, pause, unpause, rename, list, info,
# domid, domname, uptime, mem-set, mem-max, vcpu-set, vcpu-list and
# vcpu-pin, their output formats (fixtures in tests/data/cli/, variable
# fields normalised by tests/integration/cli/lib.sh), --json, their error
# lines and exit statuses (0, 1 failure, 2 usage), the messages when no
# keeld answers, and that `keel list` parses as scripts parse `xl list`.
# KEEL_TEST_REGENERATE=1 rewrites the fixtures. Skipped (77) without
# cli/keel or daemon/keeld.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/cli/lib.sh"

for b in "$keel" "$keeld"; do
    if [ ! -x "$b" ]; then
        echo "SKIP: no $b"
        exit 77
    fi
done

cat >"$dir/web.cfg" <<'CFG'
name = "web"
type = "pvh"
memory = 512
vcpus = 2
CFG
cat >"$dir/db.cfg" <<'CFG'
name = "db"
memory = 1024
maxvcpus = 4
vcpus = 1
CFG
printf 'name = "x"\nmemory = "lots"\n' >"$dir/bad.cfg"

# --- no keeld ---------------------------------------------------------------
refused 1 list
err_is "keel: list: keeld is not running: no socket at $sock (start keeld, or point -c/KEEL_SOCKET at its socket)"
set +e
KEEL_SOCKET="$dir/env.sock" "$keel" info >/dev/null 2>"$dir/err"
st=$?
set -e
[ $st -eq 1 ] || fail "KEEL_SOCKET: exit $st"
grep -q "no socket at $dir/env.sock " "$dir/err" || fail "KEEL_SOCKET ignored: $(cat "$dir/err")"
set +e
KEEL_SOCKET="$dir/env.sock" "$keel" -c "$dir/opt.sock" info 2>"$dir/err"
set -e
grep -q "no socket at $dir/opt.sock " "$dir/err" || fail "-c does not win over KEEL_SOCKET"
if [ ! -e /run/keel/keeld.sock ]; then
    set +e
    env -u KEEL_SOCKET "$keel" list 2>"$dir/err"
    set -e
    grep -q "no socket at /run/keel/keeld.sock " "$dir/err" ||
        fail "not the default socket: $(cat "$dir/err")"
fi
: >"$dir/plain"
set +e
"$keel" --connect "$dir/plain" list 2>"$dir/err"
st=$?
set -e
[ $st -eq 1 ] || fail "a socket nobody listens on: exit $st"
grep -q "^keel: list: keeld is not running: connection refused at $dir/plain " "$dir/err" ||
    fail "connection refused: $(cat "$dir/err")"

# --- global options -----------------------------------------------------------
"$keel" --help | grep -q '^  vcpu-pin ' || fail "--help does not list vcpu-pin"
"$keel" --version | grep -q '^keel [0-9]' || fail "--version"
refused 2 frobnicate
refused 2 list --frobnicate
set +e
"$keel" --frobnicate list >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown global option did not exit 2"
set -e

start_keeld

# --- create ---------------------------------------------------------------------
k create "$dir/web.cfg"
[ "$st" -eq 0 ] || fail "create web: $(cat "$dir/err")"
err_is "Parsing config from $dir/web.cfg"
ok create -q -p "$dir/db.cfg" memory=768
ok --json create -q "$dir/web.cfg" 'name="tmp"'
grep -q '"name": "tmp"' "$dir/out" || fail "create --json: $(cat "$dir/out")"
grep -q '"domid": 3' "$dir/out" || fail "create --json: $(cat "$dir/out")"
ok destroy tmp
refused 1 create -q "$dir/bad.cfg"
err_is "keel: create: $dir/bad.cfg:2:10: memory: expected a number, found a string"
refused 1 create -q "$dir/none.cfg"
refused 1 create -q "$dir/web.cfg"
refused 2 create
refused 2 create -q "$dir/web.cfg" memory
refused 2 create -x "$dir/web.cfg"

# --- list -------------------------------------------------------------------------
# Time(s) is the last column (-v: before the uuid), 8 wide: T.T.
t_end='s/[ 0-9.]{8}$/     T.T/'
t_mid='s/^(.{71})[ 0-9.]{8}/\1     T.T/'
ok list
fixture list.txt "$t_end"
ok list -v
fixture list-v.txt "$t_mid"
ok list web
fixture list-web.txt "$t_end"
uuid=$("$keel" -c "$sock" list -v web | awk 'NR == 2 {print $7}')
for d in 1 "$uuid"; do
    ok list "$d"
    fixture list-web.txt "$t_end"
done
ok list -l
fixture list-l.json
ok list -l Domain-0
[ "$(cat "$dir/out")" = "[]" ] || fail "list -l Domain-0: $(cat "$dir/out")"
ok --json list db
grep -q '"flags": "--p---"' "$dir/out" || fail "list --json: $(cat "$dir/out")"
grep -q '"memory_kb": 786432' "$dir/out" || fail "create's override: $(cat "$dir/out")"
refused 1 list nosuch
err_is "keel: list: no domain called 'nosuch'"
refused 2 list -x

# As scripts read `xl list`: a header, then whitespace-separated columns.
ok list
[ "$(awk 'NR == 1 {print $1, $2, $3, $4, $5, $6}' "$dir/out")" = \
    "Name ID Mem VCPUs State Time(s)" ] || fail "list's header: $(head -1 "$dir/out")"
[ "$(awk 'NR > 1 {print $1, $2}' "$dir/out" | tr '\n' ' ')" = \
    "Domain-0 0 web 1 db 2 " ] || fail "names and ids: $(cat "$dir/out")"
[ "$(awk '$1 == "db" {print $3, $4, $5}' "$dir/out")" = "768 1 --p---" ] ||
    fail "db's Mem VCPUs State: $(cat "$dir/out")"
[ "$(awk 'NR > 1 && NF != 6' "$dir/out")" = "" ] || fail "a row without 6 fields"
[ "$(tail -n +2 "$dir/out" | wc -l)" -eq 3 ] || fail "not 3 rows"
awk 'NR > 1 && $6 !~ /^[0-9]+\.[0-9]$/ {exit 1}' "$dir/out" || fail "Time(s)"

# --- info, domid, domname, uptime -------------------------------------------------
ok info
fixture info.txt
ok info nr_cpus
[ "$(cat "$dir/out")" = 8 ] || fail "info nr_cpus: $(cat "$dir/out")"
refused 1 info nosuch
ok --json info
grep -q '"nr_cpus": 8' "$dir/out" || fail "info --json"
ok domid web
[ "$(cat "$dir/out")" = 1 ] || fail "domid web: $(cat "$dir/out")"
refused 1 domid nosuch
refused 2 domid
ok domname 2
[ "$(cat "$dir/out")" = db ] || fail "domname 2: $(cat "$dir/out")"
refused 2 domname db
refused 1 domname 99
err_is "keel: domname: no domain called '99'"
ok uptime
fixture uptime.txt
ok uptime web db
fixture uptime-named.txt
ok uptime -s web
fixture uptime-short.txt
refused 1 uptime nosuch

# --- pause, unpause, rename ------------------------------------------------------------
ok pause web
ok list web
awk 'NR == 2 {exit $5 != "--p---"}' "$dir/out" || fail "pause: $(cat "$dir/out")"
refused 1 pause web
err_is "keel: pause: domain 1 (web) is paused"
ok --json unpause web
[ "$(cat "$dir/out")" = "{}" ] || fail "unpause --json: $(cat "$dir/out")"
refused 1 unpause web
refused 1 pause nosuch
refused 2 pause
refused 2 pause web db
ok rename web www
ok domid www
refused 1 domid web
ok rename 1 web
refused 1 rename nosuch x
refused 2 rename web

# --- memory, vCPUs ---------------------------------------------------------------------
ok mem-set web 256
ok list web
awk 'NR == 2 {exit $3 != 256}' "$dir/out" || fail "mem-set 256: $(cat "$dir/out")"
ok mem-set web 393216k
ok --json list web
grep -q '"target_kb": 393216' "$dir/out" || fail "mem-set 393216k"
refused 2 mem-set web 0.5g
refused 2 mem-set web 1x
err_is "keel: mem-set: invalid memory size 1x (a number with b, k, m, g or t; m when bare)"
refused 2 mem-set web -1
refused 1 mem-set web 2g
refused 1 mem-set nosuch 1g
ok mem-max web 1g
ok --json list web
grep -q '"max_kb": 1048576' "$dir/out" || fail "mem-max 1g"
ok mem-set web 1073741824b
refused 2 mem-max web lots
refused 2 mem-max web
ok vcpu-set db 3
ok list db
awk 'NR == 2 {exit $4 != 3}' "$dir/out" || fail "vcpu-set 3: $(cat "$dir/out")"
refused 1 vcpu-set db 9
refused 2 vcpu-set db 0
refused 2 vcpu-set db two

# --- vcpu-pin, vcpu-list -------------------------------------------------------------------
# CPU (where a vCPU last ran) and Time(s) vary: C and T.T.
v_cpu='s/^(.{44}) {0,4}[0-9]{1,5} /\1    C /'
v_time='s/^(.{56})[ 0-9.]{9}/\1      T.T/'
ok vcpu-pin web 0 1-2
ok vcpu-pin web all - 3
ok vcpu-pin db 2 4 -
ok vcpu-list web db
fixture vcpu-list.txt "$v_cpu;$v_time"
ok vcpu-list
fixture vcpu-list-all.txt "$v_cpu;$v_time"
ok --json vcpu-list web
grep -q '"hard": "1-2"' "$dir/out" || fail "vcpu-list --json: $(cat "$dir/out")"
refused 1 vcpu-pin web 0 zz
err_is "keel: vcpu-pin: 'hard': CPU list \"zz\": term zz: expected a number or a range N-M below 4096"
refused 2 vcpu-pin web x 1
refused 2 vcpu-pin web 0 - -
refused 2 vcpu-pin web 0
refused 1 vcpu-pin nosuch 0 1
refused 1 vcpu-list nosuch

# --- shutdown, reboot, destroy -------------------------------------------------------------
ok unpause db
ok reboot -w db
ok domid db
[ "$(cat "$dir/out")" != 2 ] || fail "reboot -w kept domid 2"
ok shutdown -w web
refused 1 domid web
ok create -q "$dir/web.cfg"
ok create -q "$dir/web.cfg" 'name="web2"'
ok --json shutdown -a -w
grep -q '"name": "web2"' "$dir/out" || fail "shutdown -a --json: $(cat "$dir/out")"
ok list
[ "$(awk 'NR > 1 {print $1}' "$dir/out")" = Domain-0 ] ||
    fail "shutdown -a -w left: $(cat "$dir/out")"
ok create -q "$dir/web.cfg"
ok create -q "$dir/db.cfg"
ok reboot -a -w
ok list
[ "$(awk 'NR > 1 {print $1}' "$dir/out" | tr '\n' ' ')" = "Domain-0 web db " ] ||
    fail "reboot -a -w: $(cat "$dir/out")"
ok destroy web
refused 1 destroy web
err_is "keel: destroy: no domain called 'web'"
ok shutdown db
refused 2 shutdown
refused 2 shutdown -a db
refused 2 reboot -x db
refused 1 reboot nosuch

# --- keeld gone ----------------------------------------------------------------------------
stop_keeld
refused 1 list
grep -q "^keel: list: keeld is not running: " "$dir/err" || fail "after keeld: $(cat "$dir/err")"
echo "cli: all checks passed"
