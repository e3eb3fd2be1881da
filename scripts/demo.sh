#!/usr/bin/env bash
# `make demo`: set up, build our initramfs and a Debian 12 OS image (both
# cached), first-boot the image in QEMU with examples/demo.ign in fw_cfg: show
# Ignition's journal lines as the guest logs them, the switch to the
# provisioned OS, its boot to the login prompt and the service the config
# enabled, what the OS reports about itself, then what the first boot left on
# the disk image (read from the host): partition table, filesystems, files.
# examples/demo_vm.py does the boot and the report.
#
#   scripts/demo.sh [--local] [CONFIG]      (or DEMO_MODE=local)
#
# --local runs the stages against a temporary target root directory instead
# (examples/demo-local.ign, files only: the disks stage never touches the
# machine's own disks). The demo falls back to it, saying so, only where no
# VM can boot: no QEMU (or dracut, mmdebstrap), not root, or QEMU cannot
# start a guest. A failed build on a machine that can boot is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${DEMO_MODE:-vm}
if [ "${1:-}" = --local ]; then mode=local; shift; fi
bash scripts/setup.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# --- the directory-based demo (--local, and the fallback) ------------------
local_demo() {
  local config=${1:-examples/demo-local.ign}
  local work root
  work=$(mktemp -d /tmp/ignition-demo.XXXXXX)
  chmod 755 "$work"
  mkdir -p "$work/run"
  : >"$work/cmdline"
  # A minimal target root, as a distribution image would have it.
  root=$work/sysroot
  mkdir -p "$root/etc/skel" "$root/home" "$root/root" "$root/var" "$root/usr/bin"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nwheel:x:10:\nusers:x:100:\n' >"$root/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
  printf 'root:*::\nwheel:*::\nusers:*::\n' >"$root/etc/gshadow"
  printf 'USERGROUPS_ENAB yes\nUID_MIN 1000\nGID_MIN 1000\n' >"$root/etc/login.defs"
  chmod 600 "$root/etc/shadow" "$root/etc/gshadow"
  chmod 700 "$root/root"
  sleep 1; touch "$work/.base-tree-done"  # what is newer than this, the stages wrote
  # Keep the demo off the build machine's config dirs, command line and journal.
  export IGNITION_CONFIG_FILE=$config
  export IGNITION_KERNEL_CMDLINE_PATH=$work/cmdline
  export IGNITION_SYSTEM_CONFIG_DIR=$work/usr-lib-ignition
  export IGNITION_SYSTEM_LOCAL_CONFIG_DIR=$work/etc-ignition
  export IGNITION_SYSTEM_RUNTIME_CONFIG_DIR=$work/run-ignition
  local flags=(-platform file -root "$work/sysroot" -config-cache "$work/run/ignition.json"
               -state-file "$work/run/ignition/state" -neednet "$work/run/ignition/neednet")
  ign() { .venv/bin/ignition "$@"; }

  step "ignition-validate $config"
  .venv/bin/ignition-validate "$config" && echo "valid"

  step "dry run of fetch-offline: the plan, nothing written"
  ign --dry-run -stage fetch-offline "${flags[@]}" 2>/dev/null

  step "fetch-offline, for real (the stage log)"
  ign -stage fetch-offline "${flags[@]}" -log-to-stdout

  step "what it left behind (outside the target)"
  (cd "$work/run" && find . -mindepth 1 -printf '%M %u:%g %6s  %p\n' | sort -k4)
  echo "state:  $(tr -d ' \n' <"$work/run/ignition/state")"
  echo "cache:  $(.venv/bin/python -c 'import json,sys; c=json.load(open(sys.argv[1])); print("spec", c["ignition"]["version"] + ",", len(c.get("storage", {}).get("files", [])), "files,", len(c.get("systemd", {}).get("units", [])), "units,", len(c.get("passwd", {}).get("users", [])), "users")' "$work/run/ignition.json")"

  step "dry run of files: the plan, nothing written"
  ign --dry-run -stage files "${flags[@]}" 2>/dev/null

  local stage
  for stage in kargs disks mount files umount; do
    step "$stage"
    ign -stage "$stage" "${flags[@]}" -log-to-stdout
  done

  step "what the stages wrote into the target root (new or changed nodes; numeric owners)"
  (cd "$root" && find . -mindepth 1 -newer "$work/.base-tree-done" -printf '%M %U:%G %6s  %p %l\n' | sort -k4)
  step "a few of them"
  local f
  for f in etc/hostname etc/motd.d/10-welcome etc/systemd/system-preset/20-ignition.preset \
           home/core/.ssh/authorized_keys.d/ignition; do
    echo "--- /$f"; cat "$root/$f"
  done
  echo "--- core in /etc/passwd: $(grep '^core:' "$root/etc/passwd")"
  echo
  echo "demo files are in $work"
}

fallback() {
  printf '\n\033[1;33mdemo: %s\033[0m\n' "$*" >&2
  printf '\033[1;33mdemo: falling back to the directory-based demo (--local): the same stages against a temporary target root, no VM.\033[0m\n' >&2
  local_demo
  # Said again at the end, where the reader looks: this was not the VM demo.
  printf '\n\033[1;33mdemo: that was the directory-based demo, NOT the VM boot: %s\033[0m\n' "$*" >&2
  exit 0
}

if [ "$mode" = local ]; then
  local_demo "$@"
  exit 0
fi

# --- the VM demo -------------------------------------------------------------
config=${1:-examples/demo.ign}
for tool in qemu-system-x86_64 dracut dpkg-deb mmdebstrap; do
  command -v "$tool" >/dev/null || fallback "$tool is not installed, so no VM can boot here"
done
[ "$(id -u)" -eq 0 ] || fallback "the VM demo builds an initramfs and an OS image and loop-mounts it: run it as root"

cache=${VM_CACHE:-vm-tests/.cache}
# A fresh clone has no cache yet (it is git-ignored).
mkdir -p "$cache"
image=$cache/initramfs-journey.img
envfile=$cache/initramfs-journey.env
failed() {
  # This machine can boot a VM: a failed build is a failure, not a reason
  # to show something else.
  printf '\n\033[1;31mdemo: %s\033[0m\n' "$*" >&2
  exit 1
}
total_start=$(date +%s)
# The initramfs is rebuilt when anything that goes into it changed.
stale=$( { [ -f "$image" ] && [ -f "$envfile" ]; } || echo missing)
if [ -z "$stale" ]; then
  stale=$(find dracut ignition scripts/vm-build.sh setup.cfg pyproject.toml \
            -newer "$image" -not -path '*/__pycache__*' -print -quit 2>/dev/null)
fi
if [ -n "$stale" ]; then
  step "building the initramfs: our dracut module, the kernel from Debian's .deb (scripts/vm-build.sh; about a minute the first time)"
  start=$(date +%s)
  bash scripts/vm-build.sh -o journey >"$envfile.tmp" || { rm -f "$envfile.tmp"; failed "scripts/vm-build.sh could not build the initramfs (see above)"; }
  mv "$envfile.tmp" "$envfile"
  echo "built $image in $(( $(date +%s) - start ))s"
else
  step "initramfs: $image (cached; up to date with dracut/ and ignition/)"
fi
KERNEL=$(sed -n 's/^KERNEL=//p' "$envfile")
INITRD=$(sed -n 's/^INITRD=//p' "$envfile")
KVER=$(sed -n 's/^KVER=//p' "$envfile")
KMODDIR=$(sed -n 's/^KMODDIR=//p' "$envfile")
[ -n "$KMODDIR" ] || failed "$envfile is from an older vm-build.sh: remove it and run again"

step "the OS image: Debian 12 from Debian's packages (scripts/os-image.sh; cached, about a minute the first time)"
osenv=$(bash scripts/os-image.sh "$KVER" "$KMODDIR") || failed "scripts/os-image.sh could not build the OS image (see above)"
OS_IMAGE=$(sed -n 's/^OS_IMAGE=//p' <<<"$osenv")
echo "image: $OS_IMAGE"
echo "(building took $(( $(date +%s) - total_start ))s of this demo)"

rc=0
.venv/bin/python examples/demo_vm.py "$KERNEL" "$INITRD" "$KVER" "$OS_IMAGE" "$config" || rc=$?
if [ "$rc" = 3 ]; then
  fallback "QEMU could not boot a guest on this machine"
fi
echo "demo: ${SECONDS}s in all"
exit "$rc"
