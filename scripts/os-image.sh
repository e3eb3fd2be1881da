#!/usr/bin/env bash
# Builds the OS disk image that the journey vm-tests and `make demo` provision:
# a minimal Debian 12 made by mmdebstrap from Debian packages, the way a
# distribution builds an image, on a GPT disk:
#   partition 1  "root", ext4 labelled debian-root (boot with root=LABEL=debian-root)
#   free space after it, for the first boot's config to partition
# /etc/machine-id says "uninitialized" (systemd 252 treats an empty file as
# "not the first boot", so no presets would be applied), no Ignition config
# inside. The kernel is the Debian cloud kernel scripts/vm-build.sh extracts;
# QEMU gets it with -kernel, so the image holds only its modules.
#
# Cached as <cache>/os/debian12-<key>.img, <key> a hash of the recipe (this
# script, the files under vm-tests/image, the kernel version): rebuilt when one
# of them changes. Downloaded .debs are kept in <cache>/debs for the next build
# ($VM_DOWNLOAD_CACHE/debs when that is set).
# No loop mounts: mkfs.ext4 -d fills a partition-sized file, sfdisk writes the
# table, dd places the filesystem.
#
# Usage: scripts/os-image.sh KVER KMODDIR     (as root; progress on stderr)
# Prints OS_IMAGE=, OS_ROOT_LABEL=, OS_BUILD_SECONDS= on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

kver=${1:?usage: os-image.sh KVER KMODDIR}
kmoddir=${2:?usage: os-image.sh KVER KMODDIR}
cache=${VM_CACHE:-$repo/vm-tests/.cache}
mkdir -p "$cache/os"
cache=$(cd "$cache" && pwd)
# Downloaded packages may live in another cache (VM_DOWNLOAD_CACHE), e.g.
# shared by the test that runs the demo from a fresh clone.
debs=${VM_DOWNLOAD_CACHE:-$cache}/debs
mkdir -p "$debs"
debs=$(cd "$debs" && pwd)

SUITE=bookworm
MIRROR=${OS_IMAGE_MIRROR:-http://deb.debian.org/debian}
ROOT_LABEL=debian-root
ROOT_MIB=896      # the root filesystem (about 330 MiB used)
DISK_MIB=1536     # the rest is the free space the first boot partitions
PACKAGES=(systemd systemd-sysv udev dbus passwd openssh-server e2fsprogs kmod)

log() { printf 'os-image: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "$1 not found; run scripts/setup.sh as root"; exit 1; }; }
need mmdebstrap
need mkfs.ext4
need sfdisk
[ "$(id -u)" -eq 0 ] || { log "must run as root (mmdebstrap --mode=root)"; exit 1; }

key=$( { cat "$repo/scripts/os-image.sh"; find vm-tests/image -type f -print0 | sort -z | xargs -0 cat; \
         echo "$kver ${PACKAGES[*]} $SUITE"; } | sha256sum | cut -c1-16)
out=$cache/os/debian12-$key.img
if [ -f "$out" ]; then
  log "cached: $out"
  echo "OS_IMAGE=$out"
  echo "OS_ROOT_LABEL=$ROOT_LABEL"
  echo "OS_BUILD_SECONDS=0"
  exit 0
fi

start=$(date +%s)
work=$(mktemp -d "$cache/os/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

log "building a Debian 12 image ($SUITE, ${PACKAGES[*]}) into $out"
log "step 1/4: mmdebstrap (packages cached in $debs)"
# Docs, man pages and translations are not needed to boot: left out.
mmdebstrap --mode=root --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in $debs /var/cache/apt/archives/" \
  --customize-hook="sync-out /var/cache/apt/archives $debs" \
  --quiet "$SUITE" "$root" "$MIRROR" >&2
rm -f "$debs/lock"
rm -rf "$debs/partial"

log "step 2/4: configuring the root (kernel modules $kver, fstab, first-boot machine-id)"
mkdir -p "$root/usr/lib/modules"
cp -a "$kmoddir" "$root/usr/lib/modules/$kver"
printf 'LABEL=%s / ext4 rw,errors=remount-ro 0 1\n' "$ROOT_LABEL" >"$root/etc/fstab"
echo debian >"$root/etc/hostname"
# First boot for systemd (presets applied, machine id committed once).
printf 'uninitialized\n' >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# Debian leaves locale, time zone and root password to its installer; the
# unit would stop the first boot to ask for them on the console.
ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"
# Where Ignition puts SSH keys (ssh-key-dir's layout, as Fedora CoreOS reads it).
mkdir -p "$root/etc/ssh/sshd_config.d"
printf 'AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys.d/ignition\n' \
  >"$root/etc/ssh/sshd_config.d/50-ignition-keys.conf"
# The test image's own check (vm-tests/image): runs only with journey.check
# on the kernel command line.
install -m 0755 vm-tests/image/journey-check "$root/usr/local/sbin/journey-check"
install -m 0644 vm-tests/image/journey-check.service "$root/etc/systemd/system/journey-check.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../journey-check.service "$root/etc/systemd/system/multi-user.target.wants/journey-check.service"
rm -rf "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"*_Packages
du_mib=$(du -sm "$root" | cut -f1)

log "step 3/4: mkfs.ext4 -d (${du_mib} MiB of files into a ${ROOT_MIB} MiB filesystem)"
truncate -s "${ROOT_MIB}M" "$work/root.ext4"
mkfs.ext4 -q -F -L "$ROOT_LABEL" -d "$root" "$work/root.ext4" >&2

log "step 4/4: GPT disk of ${DISK_MIB} MiB (sfdisk), root partition at 1 MiB"
truncate -s "${DISK_MIB}M" "$work/disk.img"
sfdisk -q "$work/disk.img" >&2 <<EOF
label: gpt
start=2048, size=$((ROOT_MIB * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
EOF
dd if="$work/root.ext4" of="$work/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$cache/os/"debian12-*.img  # older recipes
mv "$work/disk.img" "$out"
secs=$(( $(date +%s) - start ))
log "built $out in ${secs}s"
echo "OS_IMAGE=$out"
echo "OS_ROOT_LABEL=$ROOT_LABEL"
echo "OS_BUILD_SECONDS=$secs"
