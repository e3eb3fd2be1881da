#!/bin/bash
# dracut sets moddir and systemdsystemunitdir when it sources this.
# shellcheck disable=SC2154
# `make demo` only: the root filesystem the disks stage creates on the demo's
# first boot is empty, where a distribution's image would carry its OS. This
# seeds the few files the users in examples/demo.ign need (passwd, group,
# shadow, gshadow, login.defs, /home), after /sysroot is mounted and before
# Ignition's mount and files stages, only when /sysroot has no /etc/passwd.
check() {
    return 255
}

depends() {
    echo systemd
}

install() {
    inst_script "$moddir/demo-seed-root.sh" /usr/bin/demo-seed-root
    inst_multiple mkdir chmod
    inst_simple "$moddir/demo-seed-root.service" "$systemdsystemunitdir/demo-seed-root.service"
    mkdir -p "$initdir/$systemdsystemunitdir/initrd.target.wants"
    ln_r "$systemdsystemunitdir/demo-seed-root.service" "$systemdsystemunitdir/initrd.target.wants/demo-seed-root.service"
}
