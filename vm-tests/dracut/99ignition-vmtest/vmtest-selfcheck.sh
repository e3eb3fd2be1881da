#!/bin/sh
# With `vmtest.selfcheck` on the command line: proves the embedded Python
# loads what the later stages need (libparted through pyparted, libudev
# through pyudev's ctypes lookup as the disks stage does it, with no ldconfig
# in the image, OpenSSL through requests), that it runs
# the byte code compiled at build time, and measures its start-up; prints one
# `VMTEST-SELFCHECK` line for the harness.
py=$(sed -n '1s/^#!\([^ ]*\).*/\1/p' /usr/bin/ignition)
read -r launched _ </proc/uptime
"$py" -IS - "$launched" >/dev/console 2>&1 <<'PY'
import sys
import time


def uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


started = uptime()
sys.path.insert(0, "/usr/lib/ignition/site-packages")
try:
    t0 = time.monotonic()
    import ignition.cli
    import ignition.engine
    t1 = time.monotonic()
    import ssl
    from importlib import metadata

    import jsonschema  # noqa: F401
    import os
    import shutil

    import parted
    import requests

    from ignition.stages.disks.udev import import_pyudev

    pyudev = import_pyudev()

    block = sorted(d.sys_name for d in pyudev.Context().list_devices(subsystem="block"))
    disk = parted.getDevice("/dev/vda")
    ssl.create_default_context()
    stages = sorted(ep.name for ep in metadata.entry_points(group="ignition.stages"))
    # Flags 1: the unchecked hash-based .pyc module-setup.sh compiled (one
    # Python wrote itself at run time would be timestamp-based, flags 0).
    with open(ignition.engine.__cached__, "rb") as f:
        pyc_flags = int.from_bytes(f.read(8)[4:8], "little")
    print("VMTEST-SELFCHECK ok", f"requests={requests.__version__}",
          f"jsonschema={metadata.version('jsonschema')}", f"block={','.join(block)}",
          f"vda_sectors={disk.length}", f"ldconfig={shutil.which('ldconfig', path=os.defpath + ':/usr/sbin:/sbin')}", f"stages={','.join(stages)}", f"pyc_flags={pyc_flags}",
          f"interpreter_start_seconds={started - float(sys.argv[1]):.2f}",
          f"import_engine_seconds={t1 - t0:.2f}")
except Exception as e:
    print("VMTEST-SELFCHECK failed", type(e).__name__, e)
PY
