#!/bin/bash
# dracut sets moddir, initdir and the systemd*dir variables when it sources this.
# shellcheck disable=SC2154
# dracut module for the Python Ignition. Opt-in: add it with `--add ignition`.
#
# Environment read at build time:
#   IGNITION_PYTHON  interpreter to embed (default /usr/bin/python3); a distro
#                    points it at its own build.
#   IGNITION_SITE    colon-separated directories searched first for the
#                    `ignition` distribution and its requirements (e.g. a
#                    `pip install --no-deps --target DIR .` staging dir, then a
#                    venv's site-packages). Default: the interpreter's own path.

# Where the embedded interpreter finds ignition and its dependencies.
IGNITION_SITE_DEST=/usr/lib/ignition/site-packages

check() {
    # Never in a host-only image by accident: only when asked for.
    return 255
}

depends() {
    # `network`: the fetch stage runs with the network up when the config or
    # the platform needs it (dracut picks the distro's handler; on Debian
    # systemd-networkd). The kernel command line configures it, e.g.
    # `ip=dhcp`; fetch waits for its source, so a late lease costs no failure.
    echo systemd qemu network
}

installkernel() {
    # fw_cfg carries the config on the qemu platform; the rest are what the
    # disks stage builds (RAID, LUKS, filesystems).
    instmods qemu_fw_cfg
    instmods raid0 raid1 raid10 raid456 md_mod dm_crypt \
        ext4 xfs btrfs vfat nls_cp437 nls_iso8859_1 nls_utf8 loop
}

install_ignition_unit() {
    local unit="$1" target="${2:-ignition-complete.target}"
    inst_simple "$moddir/$unit" "$systemdsystemunitdir/$unit"
    mkdir -p "$initdir/$systemdsystemunitdir/$target.requires"
    ln_r "$systemdsystemunitdir/$unit" "$systemdsystemunitdir/$target.requires/$unit"
}

install_python() {
    local python pyver stdlib dirs=() site_args=() dir line src dst
    python=$(readlink -f "${IGNITION_PYTHON:-/usr/bin/python3}")
    if [[ ! -x $python ]]; then
        derror "ignition: IGNITION_PYTHON=${IGNITION_PYTHON:-/usr/bin/python3} is not an executable"
        return 1
    fi
    pyver=$("$python" -I -S -c 'import sys; print("%d.%d" % sys.version_info[:2])') || return 1
    stdlib=$("$python" -I -S -c 'import sysconfig; print(sysconfig.get_path("stdlib"))') || return 1
    IFS=: read -r -a dirs <<<"${IGNITION_SITE:-}"
    for dir in "${dirs[@]}"; do
        [[ $dir ]] && site_args+=(--site "$dir")
    done

    # With IGNITION_SITE, only those directories (-S: not the build machine's
    # site-packages); without, where the interpreter itself finds packages.
    local listing no_site=-S
    [[ ${#site_args[@]} -gt 0 ]] || no_site=
    listing=$("$python" -I ${no_site:+"$no_site"} "$moddir/ignition-pyfiles.py" "${site_args[@]}" \
        --dest "$IGNITION_SITE_DEST") || {
        derror "ignition: cannot list the Python files to install (see above)"
        return 1
    }

    inst_binary "$python"
    [[ $python == /usr/bin/python$pyver ]] || ln_r "$python" "/usr/bin/python$pyver"
    local elves=()
    while IFS=$'\t' read -r src dst; do
        [[ $src ]] || continue
        mkdir -p "$initdir/${dst%/*}"
        cp --preserve=mode "$src" "$initdir/$dst" || return 1
        [[ $src == *.so ]] && elves+=("$src")
    done <<<"$listing"

    # Shared libraries of the extension modules (libssl, libffi, libparted...),
    # and libudev, which pyudev opens with ctypes. No ldconfig (1 MB): pyudev's
    # lookup (`ldconfig -p`) then finds nothing and ignition's import_pyudev()
    # (stages/disks/udev.py) names libudev by its soname for the dynamic loader.
    local libs
    libs=$(ldd "${elves[@]}" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | sort -u)
    for line in $libs; do
        inst_library "$line"
    done
    inst_libdir_file "libudev.so*"

    # Compiled here, once, so no stage spends its start-up compiling; then the
    # sources go: the image carries byte code only (each module's .pyc where
    # its .py was, which the interpreter imports without a source; hash-based,
    # so the image is the same on every build). Tracebacks name file and line
    # without the source text. os.py stays: the interpreter finds its prefix
    # by it. Without the column tables of each instruction (no_debug_ranges,
    # a quarter of the packed byte code): they only place the ^^^ markers
    # under a traceback's source line, and the image has no source lines.
    "$python" -I -S -X no_debug_ranges -m compileall -q -j0 -b --invalidation-mode unchecked-hash \
        -s "$initdir" -p / "$initdir$stdlib" "$initdir$IGNITION_SITE_DEST" >/dev/null || {
        derror "ignition: byte-compiling the embedded Python failed"
        return 1
    }
    find "$initdir$stdlib" "$initdir$IGNITION_SITE_DEST" -name '*.py' ! -path "$initdir$stdlib/os.py" \
        -type f -delete

    # The launcher: isolated mode (no PYTHON* variables, no user or system
    # site-packages), the module's own site directory first.
    cat >"$initdir/usr/bin/ignition" <<LAUNCHER
#!/usr/bin/python$pyver -IS
import sys
sys.path.insert(0, "$IGNITION_SITE_DEST")
from ignition.cli import main
sys.exit(main())
LAUNCHER
    chmod 0755 "$initdir/usr/bin/ignition"
}

install() {
    install_python || return 1

    # The programs the stages run (ignition/distro.py). Optional ones are
    # installed when the build machine has them. Not sgdisk, which Go's module
    # adds (with libstdc++, 0.8 MB packed): no stage runs it; partitions are
    # written with pyparted and sfdisk, placed the way sgdisk would place them.
    inst_multiple basename lsblk blkid mount umount udevadm modprobe systemctl
    inst_multiple -o \
        sfdisk partx wipefs dmsetup \
        mkfs.ext4 mkfs.xfs mkfs.btrfs mkfs.fat mkfs.vfat mkswap \
        mdadm cryptsetup \
        useradd usermod userdel groupadd groupmod groupdel \
        setfiles

    inst_simple "$moddir/ignition-generator" "$systemdutildir/system-generators/ignition-generator"
    inst_simple "$moddir/ignition-console.conf" "$systemdutildir/journald.conf.d/50-ignition-console.conf"

    for t in complete diskful subsequent diskful-subsequent; do
        inst_simple "$moddir/ignition-$t.target" "$systemdsystemunitdir/ignition-$t.target"
    done
    install_ignition_unit ignition-fetch-offline.service
    install_ignition_unit ignition-fetch.service
    install_ignition_unit ignition-kargs.service
    install_ignition_unit ignition-disks.service
    install_ignition_unit ignition-mount.service
    install_ignition_unit ignition-files.service
    install_ignition_unit ignition-remount-sysroot.service ignition-diskful.target
}
