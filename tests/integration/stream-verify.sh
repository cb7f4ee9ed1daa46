#!/bin/sh
# stream-verify.sh: keel stream-verify over the stream fixtures
# (tests/data/stream/, see its README.md): every valid stream is sound
# (exit 0, a listing and summary with -v, from a file and from stdin);
# every bad one in bad/list exits with its status and prints exactly its
# message, naming the byte offset; usage mistakes and unreadable input
# exit 2.
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keel="$top_builddir/cli/keel"
data="$top_srcdir/tests/data/stream"
dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-stream-test-XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

n=0
for f in "$data"/*.bin; do
    name=$(basename "$f")
    "$keel" stream-verify "$f" >"$dir/out" 2>"$dir/err" ||
        fail "$name: exited with $?: $(cat "$dir/err")"
    [ ! -s "$dir/out" ] && [ ! -s "$dir/err" ] ||
        fail "$name: printed something without -v"
    "$keel" stream-verify -v - <"$f" >"$dir/out" ||
        fail "$name from stdin exited with $?"
    head -n 1 "$dir/out" | grep -q '^@0 ' || fail "$name: no listing"
    tail -n 1 "$dir/out" | grep -q '^<stdin>: sound .* stream, image version' ||
        fail "$name: no summary: $(tail -n 1 "$dir/out")"
    n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "only $n valid fixtures in $data"

out=$("$keel" stream-verify -v "$data/xl-hvm-checkpoint.bin")
echo "$out" | tail -n 1 | grep -qF "xl-hvm-checkpoint.bin: sound xl stream, image version 3 (x86 HVM), 34 records, 9 pages, 2 checkpoints, 26078 bytes" ||
    fail "wrong summary: $(echo "$out" | tail -n 1)"
echo "$out" | grep -q '^@[0-9]* LIBXL CHECKPOINT_END length=0$' ||
    fail "no CHECKPOINT_END in the listing"
"$keel" stream-verify --format libxc "$data/libxc-pv.bin" ||
    fail "--format libxc refused a libxc stream"

# Bad streams: NAME, FORMAT, EXIT STATUS, MESSAGE, tab-separated.
tab=$(printf '\t')
n=0
while IFS="$tab" read -r name format status msg; do
    set +e
    "$keel" stream-verify --format "$format" "$data/bad/$name" \
        >"$dir/out" 2>"$dir/err"
    got=$?
    set -e
    [ "$got" -eq "$status" ] || fail "$name: exit $got, expected $status"
    want="keel: stream-verify: $data/bad/$name: $msg"
    [ "$(cat "$dir/err")" = "$want" ] ||
        fail "$name: stderr is '$(cat "$dir/err")', expected '$want'"
    [ ! -s "$dir/out" ] || fail "$name: printed on stdout"
    n=$((n + 1))
done <"$data/bad/list"
[ "$n" -ge 10 ] || fail "only $n bad fixtures in $data/bad/list"

# Bytes after the END are found on a pipe too.
set +e
cat "$data/bad/trailing.bin" | "$keel" stream-verify - 2>"$dir/err"
got=$?
set -e
[ "$got" -eq 1 ] || fail "trailing bytes on stdin: exit $got"
grep -q "<stdin>: offset 17102: 4 bytes after the stream's last END" \
    "$dir/err" || fail "trailing bytes on stdin: $(cat "$dir/err")"

# Usage mistakes and unreadable input exit 2.
set +e
"$keel" stream-verify >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing FILE did not exit 2"
"$keel" stream-verify --format xc "$data/libxc-pv.bin" >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown format did not exit 2"
"$keel" stream-verify "$dir/none.bin" 2>"$dir/err"
[ $? -eq 2 ] || fail "a missing file did not exit 2"
grep -q "cannot open" "$dir/err" || fail "no reason for a missing file"
"$keel" stream-verify "$data" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a directory did not exit 2"
set -e
echo "stream-verify: all checks passed"
