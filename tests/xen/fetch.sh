# fetch.sh: the host's tools, Debian's packages and dom0's root (sourced)
#
# Only Debian's archive is used, through apt-get and debootstrap. What is
# fetched is kept in XT_CACHE, so a second run needs no network:
#   debs/                     the hypervisor and kernel packages
#   rootfs-KEY.tar.zst        dom0's root after debootstrap, trimmed;
#                             KEY hashes the suite and package list
# KEEL_XEN_REFRESH=1 fetches both again.

# Host commands check-xen runs, and the Debian packages that have them.
XT_HOST_TOOLS=(
    qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap cpio:cpio
    zstd:zstd xz:xz-utils dpkg-deb:dpkg
)

xt_host_tools() {
    local t cmd pkg need=()
    for t in "${XT_HOST_TOOLS[@]}"; do
        cmd=${t%%:*} pkg=${t#*:}
        command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    xt_say "installing host tools: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -q install -y --no-install-recommends "${need[@]}" </dev/null ||
        { apt-get -q update </dev/null &&
          apt-get -q install -y --no-install-recommends "${need[@]}" </dev/null; } ||
        xt_die "apt-get install ${need[*]} failed"
}

# The newest cached .deb of a package, or nothing.
xt_cached_deb() {
    ls -1 "$XT_CACHE/debs/$1"_*.deb 2>/dev/null | sort -V | tail -n 1
}

xt_fetch_debs() {
    local kpkg
    mkdir -p "$XT_CACHE/debs"
    if [ -z "${KEEL_XEN_REFRESH:-}" ] && [ -n "$(xt_cached_deb "$XT_XEN_PKG")" ] &&
        ls "$XT_CACHE"/debs/linux-image-*-amd64_*.deb >/dev/null 2>&1; then
        return 0
    fi
    kpkg=$(apt-cache depends "$XT_KERNEL_META" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    [ -n "$kpkg" ] || { apt-get -q update </dev/null >/dev/null &&
        kpkg=$(apt-cache depends "$XT_KERNEL_META" |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'); }
    [ -n "$kpkg" ] || xt_die "cannot tell which kernel $XT_KERNEL_META stands for"
    xt_say "apt-get download $XT_XEN_PKG $kpkg"
    rm -f "$XT_CACHE"/debs/*.deb
    (cd "$XT_CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$XT_XEN_PKG" "$kpkg" </dev/null) ||
        (apt-get -q update </dev/null >/dev/null &&
            cd "$XT_CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download "$XT_XEN_PKG" "$kpkg" </dev/null) ||
        xt_die "apt-get download $XT_XEN_PKG $kpkg failed (network?)"
}

xt_rootfs_key() {
    printf '%s\n' v2 "$XT_SUITE" "${XT_ROOT_PKGS[@]}" | sha256sum | cut -c1-12
}

# Packs dom0's root into the cache, unless a tarball with this key is
# there. debootstrap takes the suite itself; the Xen tools then come from
# bookworm-security, so they match the hypervisor and libxen-dev.
xt_rootfs() {
    local key tar tmp t0
    key=$(xt_rootfs_key)
    tar=$XT_CACHE/rootfs-$key.tar.zst
    XT_ROOTFS_TAR=$tar
    [ -z "${KEEL_XEN_REFRESH:-}" ] && [ -s "$tar" ] && return 0
    t0=$(xt_now)
    tmp=$XT_WORK/debootstrap
    rm -rf "$tmp" && mkdir -p "$tmp"
    xt_say "debootstrap --variant=minbase $XT_SUITE (about a minute)"
    debootstrap --variant=minbase --include="$(IFS=,; echo "${XT_ROOT_PKGS[*]}")" \
        "$XT_SUITE" "$tmp" "$XT_MIRROR" >"$XT_WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$XT_WORK/debootstrap.log" >&2; xt_die "debootstrap failed (log: $XT_WORK/debootstrap.log)"; }
    xt_say "upgrading dom0's root from $XT_SUITE-security"
    cat >"$tmp/etc/apt/sources.list" <<SRC
deb $XT_MIRROR $XT_SUITE main
deb $XT_MIRROR $XT_SUITE-updates main
deb $XT_SECURITY $XT_SUITE-security main
SRC
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
    chmod +x "$tmp/usr/sbin/policy-rc.d"
    cp /etc/resolv.conf "$tmp/etc/resolv.conf"
    { chroot "$tmp" apt-get -q update &&
      DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get -q -y \
          --no-install-recommends dist-upgrade; } </dev/null >>"$XT_WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$XT_WORK/debootstrap.log" >&2; xt_die "upgrading dom0's root failed"; }
    chroot "$tmp" apt-get clean
    rm -f "$tmp/etc/resolv.conf" "$tmp/usr/sbin/policy-rc.d"
    # What dom0 never reads: docs, man pages, locales, apt's lists.
    rm -rf "$tmp"/usr/share/{doc,man,info,locale,i18n,lintian} \
        "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/* "$tmp"/var/log/*.log
    xt_say "packing dom0's root into $tar"
    mkdir -p "$XT_CACHE"
    tar -C "$tmp" --numeric-owner -cf - . | zstd -q -T0 -3 -o "$tar.tmp" &&
        mv "$tar.tmp" "$tar" || xt_die "packing $tar failed"
    rm -rf "$tmp"
    xt_say "dom0's root: $(du -h "$tar" | cut -f1) packed, in $(xt_since "$t0") s"
}
