# image.sh: what QEMU boots (sourced)
#
#   WORK/xen              the hypervisor, gunzipped (QEMU's multiboot
#                         loader takes ELF, not .gz)
#   WORK/vmlinuz          dom0's kernel
#   WORK/dom0-base.cpio   dom0's root: the debootstrap tree, the Xen
#                         driver modules, the guest's kernel and initramfs;
#                         rebuilt only when one of them changes
#   WORK/dom0.cpio        dom0-base.cpio with the overlay appended: keel
#                         installed, /init and the test scripts (the kernel
#                         unpacks concatenated archives in order)
# The guest's kernel is Debian's, as an ELF vmlinux: a PV or PVH domain
# builds from it in about a second under TCG, against about five for the
# XZ-compressed bzImage, which libxenguest would unpack each time.

# Modules dom0 loads (dom0/init); their directories are copied.
XT_MODULE_DIRS=(drivers/xen)

# The uncompressed kernel inside a bzImage: the payload is XZ (Debian's
# CONFIG_KERNEL_XZ); find its magic and unpack from there. xz stops at
# the end of the stream and complains about what follows, hence 2>/dev/null
# and the check that the result is an ELF file. (bash drops the NUL that
# ends the 6-byte magic, so 5 bytes are matched.)
xt_extract_vmlinux() {
    local in=$1 out=$2 off
    off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$in" | head -n 1 | cut -d: -f1)
    [ -n "$off" ] || xt_die "no XZ payload in $in"
    { tail -c +$((off + 1)) "$in" | xz -dc 2>/dev/null || true; } >"$out.tmp"
    [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] ||
        xt_die "what $in holds at $off is not an ELF kernel"
    mv "$out.tmp" "$out"
}

# Xen and dom0's kernel from the .debs, once per .deb.
xt_kernels() {
    local xdeb kdeb stamp
    xdeb=$(xt_cached_deb "$XT_XEN_PKG")
    kdeb=$(ls -1 "$XT_CACHE"/debs/linux-image-*-amd64_*.deb | sort -V | tail -n 1)
    XT_KSTAMP="$(basename "$xdeb") $(basename "$kdeb")"
    stamp=$XT_WORK/kernels.stamp
    [ -s "$XT_WORK/xen" ] && [ -s "$XT_WORK/vmlinux" ] &&
        [ "$(cat "$stamp" 2>/dev/null)" = "$XT_KSTAMP" ] && return 0
    xt_say "unpacking $(basename "$xdeb") and $(basename "$kdeb")"
    rm -rf "$XT_WORK/debs" && mkdir -p "$XT_WORK/debs"
    dpkg-deb -x "$xdeb" "$XT_WORK/debs" || xt_die "dpkg-deb -x $xdeb"
    dpkg-deb --fsys-tarfile "$kdeb" | tar -C "$XT_WORK/debs" -xf - \
        --wildcards './boot/vmlinuz-*' './lib/modules/*/modules.*' \
        "${XT_MODULE_DIRS[@]/#/./lib/modules/*/kernel/}" ||
        xt_die "unpacking $kdeb"
    zcat "$XT_WORK"/debs/boot/xen-4.17-amd64.gz >"$XT_WORK/xen" ||
        xt_die "no boot/xen-4.17-amd64.gz in $xdeb"
    cp "$XT_WORK"/debs/boot/vmlinuz-* "$XT_WORK/vmlinuz"
    xt_extract_vmlinux "$XT_WORK/vmlinuz" "$XT_WORK/vmlinux"
    printf '%s\n' "$XT_KSTAMP" >"$stamp"
}

# The guest's initramfs: a static busybox and tests/xen/guest/.
xt_guest_initrd() {
    local root=$1 g=$XT_WORK/guest a
    rm -rf "$g" && mkdir -p "$g"/{bin,sbin,proc,sys,dev,tmp}
    cp "$root/bin/busybox" "$g/bin/busybox"
    for a in $("$g/bin/busybox" --list); do
        [ -e "$g/bin/$a" ] || ln -s busybox "$g/bin/$a"
    done
    install -m 755 "$XT_DIR/guest/init" "$g/init"
    install -m 755 "$XT_DIR/guest/poweroff" "$g/sbin/poweroff"
    install -m 755 "$XT_DIR/guest/reboot" "$g/sbin/reboot"
    (cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
        gzip -1 >"$XT_WORK/guest-initrd.gz"
}

# dom0-base.cpio, unless the one there was made from the same inputs.
xt_dom0_base() {
    local root=$XT_WORK/rootfs stamp want kver
    want="$(basename "$XT_ROOTFS_TAR") $XT_KSTAMP $(cat "$XT_DIR"/guest/* | sha256sum | cut -c1-12)"
    stamp=$XT_WORK/dom0-base.stamp
    [ -s "$XT_WORK/dom0-base.cpio" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
        return 0
    xt_say "making dom0's root"
    rm -rf "$root" && mkdir -p "$root"
    zstd -q -dc "$XT_ROOTFS_TAR" | tar -C "$root" -xf - || xt_die "unpacking $XT_ROOTFS_TAR"
    cp -a "$XT_WORK"/debs/lib/modules "$root/lib/"
    kver=$(basename "$XT_WORK"/debs/lib/modules/*)
    chroot "$root" depmod -a "$kver" || xt_die "depmod in dom0's root"
    xt_guest_initrd "$root"
    mkdir -p "$root/boot/keel-guest"
    cp "$XT_WORK/vmlinux" "$root/boot/keel-guest/vmlinux"
    cp "$XT_WORK/guest-initrd.gz" "$root/boot/keel-guest/initrd.gz"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) \
        >"$XT_WORK/dom0-base.cpio" || xt_die "cpio of dom0's root"
    printf '%s\n' "$want" >"$stamp"
}

# keel, built out of tree from SRC in BUILD for dom0's paths, installed
# into WORK/keel-dest.
xt_build_keel() {
    local src=$1 build=$2
    local want=(--with-xen=yes --prefix=/usr --sysconfdir=/etc --localstatedir=/var)
    if [ ! -x "$src/configure" ]; then
        xt_say "autogen.sh in $src"
        (cd "$src" && ./autogen.sh) >/dev/null || xt_die "$src/autogen.sh failed"
    fi
    mkdir -p "$build"
    if [ ! -f "$build/Makefile" ] ||
        [ "$("$build/config.status" --config 2>/dev/null | tr -d "'")" != "${want[*]}" ]; then
        xt_say "configuring keel in $build"
        (cd "$build" && "$src/configure" "${want[@]}") >"$build/configure.out" 2>&1 ||
            { tail -n 20 "$build/configure.out" >&2;
              xt_die "configure --with-xen=yes failed (is libxen-dev installed? log: $build/config.log)"; }
    fi
    xt_say "building keel in $build"
    make -C "$build" -j2 >"$build/make.out" 2>&1 ||
        { grep -B2 -A8 -m 5 'error' "$build/make.out" >&2 || tail -n 30 "$build/make.out" >&2;
          xt_die "make failed (log: $build/make.out)"; }
    rm -rf "$XT_WORK/keel-dest"
    make -C "$build" install DESTDIR="$XT_WORK/keel-dest" >"$build/install.out" 2>&1 ||
        { tail -n 20 "$build/install.out" >&2; xt_die "make install failed"; }
}

# Every library keel's programs need must be in dom0's root.
xt_check_libs() {
    local root=$XT_WORK/rootfs lib missing=()
    for lib in $(ldd "$XT_WORK"/keel-dest/usr/bin/keel "$XT_WORK"/keel-dest/usr/sbin/keeld 2>/dev/null |
        awk '$2 == "=>" { print $1 }' | sort -u); do
        case $lib in libkeel.so*) continue ;; esac
        [ -n "$(find "$root/usr/lib" "$root/lib" -name "$lib" -print -quit 2>/dev/null)" ] ||
            missing+=("$lib")
    done
    [ ${#missing[@]} -eq 0 ] ||
        xt_die "dom0's root lacks ${missing[*]}: add their packages to XT_ROOT_PKGS in tests/xen/lib.sh"
}

# The overlay, then dom0.cpio.
xt_dom0_cpio() {
    local o=$XT_WORK/overlay
    rm -rf "$o" && mkdir -p "$o/keeltest" "$o/etc/keel-test"
    cp -a "$XT_WORK/keel-dest/." "$o/"
    install -m 755 "$XT_DIR/dom0/init" "$o/init"
    install -m 755 "$XT_DIR"/dom0/*.sh "$o/keeltest/"
    install -m 644 "$XT_DIR"/dom0/*.cfg "$o/etc/keel-test/"
    (cd "$o" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) \
        >"$XT_WORK/overlay.cpio" || xt_die "cpio of the overlay"
    cat "$XT_WORK/dom0-base.cpio" "$XT_WORK/overlay.cpio" >"$XT_WORK/dom0.cpio"
}
