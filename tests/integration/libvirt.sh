#!/bin/sh
# libvirt.sh: the libvirt endpoint's integration tests
# (tests/integration/libvirt/): a real keeld on the sim backend, driven by
# Debian's own virsh (libvirt-clients) and python3-libvirt, no libvirtd;
# and the wire by hand for malformed input. The Python that has the
# libvirt module runs them (Debian's /usr/bin/python3 when the python3 on
# PATH lacks it). Skipped (77) when keeld is not built or no python3 is
# found. Arguments go to run.py (-k NAME).
set -eu
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
keeld="$top_builddir/daemon/keeld"
if [ ! -x "$keeld" ]; then
    echo "SKIP: no $keeld"
    exit 77
fi
py=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import libvirt' 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -z "$py" ]; then
    py=$(command -v python3 || true)
    [ -n "$py" ] || { echo "SKIP: no python3"; exit 77; }
    echo "note: no python3-libvirt: its tests are skipped (scripts/setup-deps installs it)"
fi
KEELD=$keeld
export KEELD
exec "$py" -B "$top_srcdir/tests/integration/libvirt/run.py" "$@"
