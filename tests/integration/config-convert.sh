#!/bin/sh
# config-convert.sh: keel config-convert as a user runs it: files and
# stdin, format guessed from the extension, KEY=VALUE overrides, -d,
# a chain of conversions through every format that ends where it began,
# and refusals that name file:line:column with exit status 1 (2 for a
# usage mistake).
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keel="$top_builddir/cli/keel"
dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-convert-test-XXXXXX")
trap 'rm -rf "$dir"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

cat >"$dir/web.cfg" <<'CFG'
# a small PV guest
name = "web"
memory = 512
vcpus = 2
cpus = "0-3,^1"
on_crash = "preserve"
disk = [ '/srv/web.img,raw,xvda,rw', 'format=raw, vdev=xvdb, access=ro, target=/srv/a,b.iso' ]
vif = [ 'mac=00:16:3e:00:00:01, bridge=br0' ]
CFG

# xl -> xml -> json -> xl comes back to the same xl.cfg text keel writes.
"$keel" config-convert --to xl "$dir/web.cfg" >"$dir/direct.cfg" ||
    fail "xl -> xl exited with $?"
"$keel" config-convert --to xml "$dir/web.cfg" >"$dir/web.xml"
"$keel" config-convert --to json "$dir/web.xml" >"$dir/web.json"
"$keel" config-convert --from json --to xl - <"$dir/web.json" >"$dir/back.cfg"
cmp -s "$dir/direct.cfg" "$dir/back.cfg" ||
    fail "xl -> xml -> json -> xl changed the config: $(diff "$dir/direct.cfg" "$dir/back.cfg")"
grep -q "<name>web</name>" "$dir/web.xml" || fail "the XML lacks the name"
grep -q '"target_memkb": 524288' "$dir/web.json" ||
    fail "the JSON lacks target_memkb"

# Overrides apply after the file, last one winning.
out=$("$keel" config-convert --to xl "$dir/web.cfg" memory=1024 memory=2048)
echo "$out" | grep -q '^memory = 2048$' || fail "overrides not applied: $out"

# -d fills what the file left out.
out=$("$keel" config-convert -d --to xl "$dir/web.cfg")
echo "$out" | grep -q '^on_reboot = "restart"$' || fail "-d gave no on_reboot"
echo "$out" | grep -q '^uuid = ' || fail "-d gave no uuid"

# A refusal names the place and exits 1; nothing goes to stdout.
printf 'name = "x"\nmemory = "lots"\n' >"$dir/bad.cfg"
if "$keel" config-convert --to json "$dir/bad.cfg" >"$dir/out" 2>"$dir/err"; then
    fail "a bad config was accepted"
else
    [ $? -eq 1 ] || fail "a bad config did not exit 1"
fi
grep -q "bad.cfg:2:10: memory" "$dir/err" || fail "no position: $(cat "$dir/err")"
[ ! -s "$dir/out" ] || fail "a refused conversion wrote output"

# An unknown key is a warning, not an error.
printf 'name = "x"\nfrobnicate = 1\n' >"$dir/warn.cfg"
"$keel" config-convert --to xl "$dir/warn.cfg" >/dev/null 2>"$dir/err" ||
    fail "an unknown key made the conversion fail"
grep -q "warning: .*frobnicate" "$dir/err" || fail "no warning: $(cat "$dir/err")"

# Usage mistakes exit 2.
set +e
"$keel" config-convert "$dir/web.cfg" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing --to did not exit 2"
"$keel" config-convert --to yaml "$dir/web.cfg" >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown format did not exit 2"
set -e
echo "config-convert: all checks passed"
