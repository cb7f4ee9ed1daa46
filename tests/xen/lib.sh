# lib.sh: what the host-side scripts of tests/xen share (sourced, bash)
#
# Paths. Everything downloaded or unpacked lives outside the source tree:
# CACHE keeps what is slow to make and survives runs (the .debs and the
# packed debootstrap tree); WORK is scratch, rebuilt or reused per run.

XT_CACHE=${KEEL_XEN_CACHE:-/var/cache/keel-xen}
XT_WORK=${KEEL_XEN_WORK:-/var/tmp/keel-xen}
XT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Debian's packages: the hypervisor, and the kernel that is both dom0 and
# the guests. XT_KERNEL_META is resolved to its versioned image package.
XT_SUITE=bookworm
XT_MIRROR=${KEEL_XEN_MIRROR:-http://deb.debian.org/debian}
XT_SECURITY=${KEEL_XEN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
XT_XEN_PKG=xen-hypervisor-4.17-amd64
XT_KERNEL_META=linux-image-amd64

# dom0's root: Xen's tools, what keel links against (keep in step with
# configure.ac and `ldd keeld`), and the few tools the scripts use.
XT_ROOT_PKGS=(
    xen-utils-4.17 xen-utils-common
    libyajl2 libxml2 libuv1
    kmod procps busybox-static python3-minimal
)

xt_say() { printf 'check-xen: %s\n' "$*"; }
xt_die() { printf 'check-xen: error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch, with tenths, for the phase timings.
xt_now() { date +%s.%N | cut -c1-13; }
xt_since() { awk -v a="$1" -v b="$(xt_now)" 'BEGIN { printf "%.1f", b - a }'; }
