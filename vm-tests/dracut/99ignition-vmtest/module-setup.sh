#!/bin/bash
# dracut sets moddir, initdir and the systemd*dir variables when it sources this.
# shellcheck disable=SC2154
# vm-tests only: ends every boot by powering the VM off (QEMU runs with
# -no-reboot and exits), and first prints what the harness checks:
# Ignition's journal entries as JSON, one per console line after a marker,
# so priorities and fields are asserted, not guessed from console text.
# - the initrd's work is done: vmtest-poweroff.service;
# - emergency mode (`rd.shell=0 rd.emergency=poweroff`): the
#   shutdown-emergency hook, which dracut-emergency sources before powering off.
# With `vmtest.selfcheck` on the command line, vmtest-selfcheck.service first
# checks that the embedded Python loads its native libraries.
# With `vmtest.seedroot`, vmtest-seed-root.service puts a minimal /etc
# (passwd, group, shadow, login.defs) into a real root filesystem mounted at
# /sysroot, as a distribution image would have it, before the files stage.
# `vmtest.env.NAME=VALUE` arguments set NAME for the Ignition units
# (vmtest-generator), e.g. a provider's metadata URL on the host's loopback.

check() {
    return 255
}

depends() {
    echo systemd dracut-systemd
}

install() {
    inst_multiple journalctl
    inst_script "$moddir/vmtest-report.sh" /usr/bin/vmtest-report
    inst_hook shutdown-emergency 10 "$moddir/vmtest-emergency.sh"
    inst_script "$moddir/vmtest-selfcheck.sh" /usr/bin/vmtest-selfcheck
    inst_script "$moddir/vmtest-seed-root.sh" /usr/bin/vmtest-seed-root
    inst_multiple mkdir chmod
    inst_multiple sed
    inst_simple "$moddir/vmtest-generator" "$systemdutildir/system-generators/vmtest-generator"
    local stage
    for stage in fetch-offline fetch kargs disks mount files; do
        inst_simple "$moddir/50-vmtest.conf" "$systemdsystemunitdir/ignition-$stage.service.d/50-vmtest.conf"
    done
    mkdir -p "$initdir/$systemdsystemunitdir/initrd.target.wants"
    local unit
    for unit in vmtest-poweroff.service vmtest-selfcheck.service vmtest-seed-root.service; do
        inst_simple "$moddir/$unit" "$systemdsystemunitdir/$unit"
        ln_r "$systemdsystemunitdir/$unit" "$systemdsystemunitdir/initrd.target.wants/$unit"
    done
}
