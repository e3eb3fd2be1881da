#!/usr/bin/env bash
# Builds what the QEMU vm-tests boot, into a cache directory (default
# vm-tests/.cache, git-ignored):
#   kernel/<kver>/vmlinuz, kernel/<kver>/root/lib/modules/<kver>
#       a Debian cloud kernel, extracted from its .deb (not installed); in
#       $VM_DOWNLOAD_CACHE instead when that is set
#   initramfs-<name>.img
#       dracut with our dracut/30ignition plus the modules named on the command
#       line (directories holding NNname/module-setup.sh), no host-only
#
# The build machine's /usr/lib/dracut and /etc are only read: dracut runs from
# a copy of its base directory (dracutbasedir) with our module put in place of
# any 30ignition there (Debian's Go Ignition ships one), and with no
# configuration files from /etc.
#
# Usage: scripts/vm-build.sh [-o NAME] [--without-ignition] [EXTRA_MODULE_DIR...]
#   --without-ignition  the same image without our module (the baseline that
#                       the size of our addition is measured against)
#   VM_KERNEL=6.1.0-53-cloud-amd64 pins the kernel (default: the one
#   linux-image-cloud-amd64 depends on); its .deb is taken from
#   /var/cache/apt/archives when there, else downloaded
# Prints `KEY=value` lines at the end (KVER, KERNEL, KMODDIR, INITRD,
# BUILD_SECONDS, INITRD_BYTES) for the harness and scripts/os-image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

name=ignition
with_ignition=1
while [ $# -gt 0 ]; do
  case $1 in
    -o) name=$2; shift 2 ;;
    --without-ignition) with_ignition=0; shift ;;
    -*) echo "vm-build: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
extra_modules=("$@")

cache=${VM_CACHE:-$repo/vm-tests/.cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Downloads (the kernel) may live in another cache, e.g. shared by the test
# that runs the demo from a fresh clone.
downloads=${VM_DOWNLOAD_CACHE:-$cache}
mkdir -p "$downloads"
downloads=$(cd "$downloads" && pwd)
python=${IGNITION_PYTHON:-/usr/bin/python3}
venv_python=$repo/.venv/bin/python

need() {
  command -v "$1" >/dev/null || { echo "vm-build: $1 not found; run scripts/setup.sh as root" >&2; exit 1; }
}
need dracut
need dpkg-deb
need depmod
need apt-get

# --- the kernel -----------------------------------------------------------
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null \
    | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1
}
if [ -n "${VM_KERNEL:-}" ]; then
  # Pinned, e.g. to the one whose .deb apt's cache already holds (no network).
  kernel_pkg=linux-image-${VM_KERNEL#linux-image-}
else
  kernel_pkg=$(resolve_kernel)
fi
if [ -z "$kernel_pkg" ] && [ "$(id -u)" -eq 0 ] && [ ! -d "$downloads/kernel" ]; then
  apt-get update -q >/dev/null
  kernel_pkg=$(resolve_kernel)
fi
if [ -z "$kernel_pkg" ]; then
  # An older download still serves when the package lists are gone.
  kernel_pkg=$(find "$downloads/kernel" -mindepth 1 -maxdepth 1 -printf 'linux-image-%f\n' 2>/dev/null | sort -V | tail -n1)
fi
[ -n "$kernel_pkg" ] || { echo "vm-build: cannot resolve linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
kver=${kernel_pkg#linux-image-}
kdir=$downloads/kernel/$kver
if [ ! -f "$kdir/vmlinuz" ]; then
  echo "vm-build: extracting $kernel_pkg" >&2
  tmp=$(mktemp -d "$downloads/kernel-dl.XXXXXX")
  chmod 755 "$tmp"  # apt's download user must be able to write there
  # A .deb of that package already in apt's cache is used as it is.
  cached=$(find /var/cache/apt/archives -maxdepth 1 -name "${kernel_pkg}_*_amd64.deb" 2>/dev/null | sort -V | tail -n1)
  if [ -n "$cached" ]; then
    cp "$cached" "$tmp/"
  else
    (cd "$tmp" && apt-get download -q "$kernel_pkg" >/dev/null)
  fi
  dpkg-deb -x "$tmp"/"$kernel_pkg"_*.deb "$tmp/root"
  moddir=$tmp/root/lib/modules/$kver
  [ -d "$moddir" ] || moddir=$tmp/root/usr/lib/modules/$kver
  # The .deb leaves modules.dep to its postinst.
  depmod -b "${moddir%/lib/modules/*}" "$kver"
  cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  rm -f "$tmp"/*.deb
  rm -rf "$kdir"
  mkdir -p "$downloads/kernel"
  mv "$tmp" "$kdir"
fi
kmoddir=$kdir/root/lib/modules/$kver
[ -d "$kmoddir" ] || kmoddir=$kdir/root/usr/lib/modules/$kver

# --- the dracut base directory --------------------------------------------
start=$(date +%s.%N)
work=$(mktemp -d "$cache/build.XXXXXX")
out=$cache/initramfs-$name.img
trap 'rm -rf "$work" "$out.$$.tmp"' EXIT
cp -a /usr/lib/dracut "$work/dracut"
rm -rf "$work/dracut/modules.d/30ignition"
cp -a "$repo/dracut/30ignition" "$work/dracut/modules.d/30ignition"
add=()
[ "$with_ignition" = 1 ] && add+=(ignition)
for m in "${extra_modules[@]}"; do
  base=$(basename "$m")
  rm -rf "$work/dracut/modules.d/$base"
  cp -a "$m" "$work/dracut/modules.d/$base"
  add+=("${base#[0-9][0-9]}")
done
mkdir -p "$work/conf.d"

# --- ignition, installed for real (the venv has it editable) ---------------
# Built from a copy of the sources so the tree gets no build/ or egg-info.
mkdir -p "$work/src"
cp -a "$repo/setup.cfg" "$repo/pyproject.toml" "$repo/README.md" "$repo/ignition" "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$venv_python" -m pip install -q --disable-pip-version-check --no-deps --no-compile \
  --target "$work/site" "$work/src" >&2
venv_site=$("$venv_python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')

# --- the image --------------------------------------------------------------
IGNITION_PYTHON=$python IGNITION_SITE=$work/site:$venv_site dracutbasedir=$work/dracut \
  dracut --quiet --force --no-hostonly --no-hostonly-cmdline \
    --conf /dev/null --confdir "$work/conf.d" --tmpdir "$work" \
    --kver "$kver" --kmoddir "$kmoddir" \
    --add "${add[*]}" --omit "plymouth i18n" \
    --no-early-microcode --compress zstd \
    "$out.$$.tmp" >&2
mv "$out.$$.tmp" "$out"
end=$(date +%s.%N)

echo "KVER=$kver"
echo "KERNEL=$kdir/vmlinuz"
echo "KMODDIR=$kmoddir"
echo "INITRD=$out"
echo "BUILD_SECONDS=$("$python" -c "print(f'{$end - $start:.1f}')")"
echo "INITRD_BYTES=$(stat -c %s "$out")"
