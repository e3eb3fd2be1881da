#!/bin/sh
# vm-tests and `make demo` (with `vmtest.seedroot`): what a distribution image
# would have in its root before Ignition's files stage adds users to it.
set -e
r=/sysroot
mkdir -p "$r/etc" "$r/home" "$r/root" "$r/var" "$r/usr/bin"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\nwheel:x:10:\nusers:x:100:\n' >"$r/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$r/etc/shadow"
printf 'root:*::\nwheel:*::\nusers:*::\n' >"$r/etc/gshadow"
printf 'USERGROUPS_ENAB yes\nUID_MIN 1000\nGID_MIN 1000\n' >"$r/etc/login.defs"
chmod 600 "$r/etc/shadow" "$r/etc/gshadow"
chmod 700 "$r/root"
echo "seeded a minimal /etc in /sysroot"
