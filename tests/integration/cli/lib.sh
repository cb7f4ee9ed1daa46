# lib.sh: what tests/integration/cli.sh and cli-jobs.sh use (POSIX sh,
# sourced): a keeld
# of its own on a temporary directory, running keel against it, and
# comparing output with the fixtures in tests/data/cli/.
#
# KEEL_TEST_REGENERATE=1 rewrites the fixtures from what keel prints.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keel="$top_builddir/cli/keel"
keeld="$top_builddir/daemon/keeld"
fixtures="$top_srcdir/tests/data/cli"
dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-cli-test-XXXXXX")
sock="$dir/run/keeld.sock"
keeld_pid=
bg_pid= # a background keel a test started, killed at the end

fail() {
    echo "FAIL: $*" >&2
    [ -f "$dir/keeld.log" ] && sed 's/^/keeld: /' "$dir/keeld.log" >&2
    exit 1
}

# Starts keeld on the sim backend (8 CPUs, 16 GiB) and waits up to 30 s
# for its sockets.
start_keeld() {
    mkdir -p "$dir/state" "$dir/run"
    "$keeld" --backend sim --state-dir "$dir/state" --run-dir "$dir/run" \
        --sim-dir "$dir/sim" --sim-host cpus=8,memory=16G --foreground \
        </dev/null >"$dir/keeld.log" 2>&1 &
    keeld_pid=$!
    i=0
    until [ -S "$sock" ] && [ -S "$dir/run/keeld-ro.sock" ]; do
        kill -0 "$keeld_pid" 2>/dev/null || fail "keeld exited while starting"
        i=$((i + 1))
        [ $i -lt 300 ] || fail "keeld did not open its sockets in 30 s"
        sleep 0.1
    done
}

# Stops keeld (SIGTERM, then waits) and fails on sanitizer reports.
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

# ok ARGS...: keel must succeed, with nothing on stderr.
ok() {
    k "$@"
    [ "$st" -eq 0 ] || fail "keel $* exited with $st: $(cat "$dir/err")"
    [ ! -s "$dir/err" ] || fail "keel $* wrote on stderr: $(cat "$dir/err")"
}

# refused STATUS ARGS...: keel must exit with STATUS, one line on stderr
# (a usage mistake, 2, may add the usage line) and nothing on stdout.
refused() {
    want=$1
    shift
    k "$@"
    [ "$st" -eq "$want" ] ||
        fail "keel $* exited with $st, not $want: $(cat "$dir/err")"
    lines=$(wc -l <"$dir/err")
    [ "$lines" -eq 1 ] || { [ "$want" -eq 2 ] && [ "$lines" -eq 2 ]; } ||
        fail "keel $* did not write one line on stderr: $(cat "$dir/err")"
    [ ! -s "$dir/out" ] || fail "keel $* wrote on stdout: $(cat "$dir/out")"
}

# refused_like STATUS PATTERN ARGS...: as refused, and the line on
# stderr matches PATTERN (grep -E).
refused_like() {
    pattern=$2
    want=$1
    shift 2
    refused "$want" "$@"
    grep -qE "$pattern" "$dir/err" ||
        fail "keel $*: stderr '$(cat "$dir/err")' does not match '$pattern'"
}

# err_is TEXT: stderr was exactly TEXT.
err_is() {
    [ "$(cat "$dir/err")" = "$1" ] ||
        fail "stderr is '$(cat "$dir/err")', not '$1'"
}

# What varies from run to run: uuids, CPU times, uptimes, clocks.
normalise() {
    sed -E \
        -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UUID/g' \
        -e 's/("(cpu_time_s|uptime_s|start_time)": )[0-9.e+-]+/\1N/' \
        -e 's/ [0-9]+:[0-9]{2}:[0-9]{2}$/ H:MM:SS/' \
        -e 's/^ [0-9]{2}:[0-9]{2}:[0-9]{2} up  ?[0-9]+:[0-9]{2},/ HH:MM:SS up  H:MM,/'
}

# fixture NAME [SED-SCRIPT]: $dir/out, normalised (and put through the
# sed script), must equal tests/data/cli/NAME.
fixture() {
    normalise <"$dir/out" | sed -E "${2:-}" >"$dir/got"
    if [ "${KEEL_TEST_REGENERATE:-}" = 1 ]; then
        cp "$dir/got" "$fixtures/$1"
        return
    fi
    cmp -s "$dir/got" "$fixtures/$1" ||
        fail "output differs from tests/data/cli/$1:
$(diff -u "$fixtures/$1" "$dir/got")"
}
