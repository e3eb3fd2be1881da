#!/usr/bin/env bash
# `make demo`: set up, then run the provisioner on examples/demo.ign against a
# temporary sysroot: validate, dry-run, run the stages this build implements,
# and show what they left behind. (Booting a VM with our initramfs replaces the
# temporary sysroot once the dracut module lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

config=${1:-examples/demo.ign}
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
flags=(-platform file -root "$work/sysroot" -config-cache "$work/run/ignition.json"
       -state-file "$work/run/ignition/state" -neednet "$work/run/ignition/neednet")
ign() { .venv/bin/ignition "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

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

for stage in kargs disks mount files umount; do
  step "$stage"
  ign -stage "$stage" "${flags[@]}" -log-to-stdout
done

step "what the stages wrote into the target root (new or changed nodes; numeric owners)"
(cd "$root" && find . -mindepth 1 -newer "$work/.base-tree-done" -printf '%M %U:%G %6s  %p %l\n' | sort -k4)
step "a few of them"
for f in etc/hostname etc/motd.d/10-welcome etc/systemd/system-preset/20-ignition.preset \
         home/core/.ssh/authorized_keys.d/ignition; do
  echo "--- /$f"; cat "$root/$f"
done
echo "--- core in /etc/passwd: $(grep '^core:' "$root/etc/passwd")"
echo
echo "demo files are in $work"
