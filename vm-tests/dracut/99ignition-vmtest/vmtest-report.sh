#!/bin/sh
# Prints, for the harness, on the console: what the stages left in /sysroot
# (`VMTEST-SYSROOT` lines: path, mode, uid, gid, size, sha256 or link target),
# Ignition's journal (`VMTEST-JOURNAL` lines, JSON) and the verdict ($1).
verdict=${1:-unknown}
py=$(sed -n '1s/^#!\([^ ]*\).*/\1/p' /usr/bin/ignition)
{
    if [ "$verdict" = complete ] && [ -d /sysroot ]; then
        "$py" -IS - <<'PY'
import hashlib, os, stat
for top, dirs, files in os.walk("/sysroot"):
    dirs.sort()
    for name in sorted(dirs + files):
        p = os.path.join(top, name)
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                what = hashlib.sha256(f.read()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(p)
        else:
            what = "-"
        print("VMTEST-SYSROOT", p[len("/sysroot"):], oct(st.st_mode), st.st_uid, st.st_gid, st.st_size, what)
PY
    fi
    journalctl --no-pager -o json -t ignition 2>/dev/null | sed 's/^/VMTEST-JOURNAL /'
    echo "VMTEST-VERDICT $verdict"
} >/dev/console 2>&1
