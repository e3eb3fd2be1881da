#!/usr/bin/env bash
# Installs what the project needs on Debian 12, as root: the Debian packages the
# code and tests use, then a venv in .venv with the package in editable mode.
# Idempotent, and fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: build deps of pyparted, the tools the stages call,
# Debian's Go Ignition (the oracle of the differential tests), and what the
# QEMU vm-tests build and boot with (dracut-core, not `dracut`, which would
# take over the build machine's own initramfs generation; mmdebstrap builds
# the Debian OS image the journey and the demo provision).
APT_PACKAGES=(
  python3 python3-venv python3-dev gcc pkg-config libparted-dev
  util-linux udev e2fsprogs passwd
  fdisk xfsprogs btrfs-progs dosfstools gdisk mdadm cryptsetup-bin time
  ignition
  qemu-system-x86 dracut-core dracut-network cpio zstd kmod mmdebstrap
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv uses Debian's Python: the same interpreter the dracut module embeds.
PY=${IGNITION_PYTHON:-/usr/bin/python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
# Editable in setuptools' compat mode: a plain path in a .pth file. The default
# mode installs an import hook whose module pulls in pathlib, re and
# urllib.parse when the interpreter starts, ~10 ms on every command of the venv.
install_args=(-e '.[test]' --config-settings editable_mode=compat)
stamp=.venv/.installed-$( (cat setup.cfg pyproject.toml; echo "${install_args[*]}") | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing the package and its test dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check "${install_args[@]}" 2>&1 \
    | grep -v -e '^WARNING: Location' -e 'DEPRECATION: pyparted' || true
  .venv/bin/python -c 'import ignition, parted, pyudev, requests, jsonschema' 
  rm -f .venv/.installed-*
  touch "$stamp"
fi
