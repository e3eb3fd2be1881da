"""What our dracut module adds to an initramfs, part by part, against Debian's Go Ignition (issue 14).

Builds the same three images as bench_boot.py (scripts/vm-build.sh, same kernel, dracut flags and
zstd): the baseline with neither Ignition, ours, and Go's (Debian's
/usr/lib/dracut/modules.d/30ignition). The addition of each is its size minus the baseline's.
Then unpacks the baseline and ours and sorts every file ours adds (or changes) into a part:
the interpreter, the standard library, each distribution in the private site directory, the
shared libraries, the programs the stages run, the kernel modules, the network module (which
Go's module pulls in too) and the rest. Each part is packed alone as the image is (newc cpio,
`zstd -15`, dracut's level) and measured; packed alone each compresses a little worse than
within the whole image, so the parts add up to a little more than the addition.

Command: `sudo .venv/bin/python bench/bench_initramfs.py`
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_boot import GO_MODULE, SETFILES_MODULE, build
from common import machine_facts, table, update_doc
from vmharness import TEST_MODULE

SITE = "usr/lib/ignition/site-packages/"
TARGET_RATIO = 0.7

# Distributions of the private site directory, by top-level name, as the table names them.
_HTTP = "requests/urllib3/idna/certifi/charset_normalizer"
_SCHEMA = "jsonschema and its dependencies (referencing, rpds, attrs)"
_PARTED = "pyparted (+ libparted)"
DISTS = {
    "ignition": "ignition (our package)",
    **dict.fromkeys(("requests", "urllib3", "idna", "certifi", "charset_normalizer"), _HTTP),
    **dict.fromkeys(("jsonschema", "jsonschema_specifications", "referencing", "rpds", "attr", "attrs",
                     "typing_extensions.pyc", "typing_extensions.py"), _SCHEMA),
    **dict.fromkeys(("parted", "_ped.cpython-311-x86_64-linux-gnu.so"), _PARTED),
    "pyudev": "pyudev (+ libudev, in the baseline)",
}
LIB_PARTS = {
    "libcrypto": "libssl + libcrypto (https)", "libssl": "libssl + libcrypto (https)",
    "libparted": _PARTED,
    "libffi": "other shared libraries (of the programs, the network module, libffi for ctypes)",
}


def unpack(image: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    with subprocess.Popen(["zstd", "-dc", str(image)], stdout=subprocess.PIPE) as z:
        subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], stdin=z.stdout, cwd=dest,
                       check=True, stderr=subprocess.DEVNULL)


def files(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Relative path -> (size, link target) of every file and symlink."""
    out: dict[str, tuple[int, bytes | None]] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            out[rel] = (st.st_size, os.readlink(p).encode() if p.is_symlink() else None)
    return out


def part_of(rel: str) -> str:
    if rel.startswith(SITE):
        top = rel[len(SITE):].split("/", 1)[0]
        if top == "__pycache__":  # byte code of a single-file module, e.g. typing_extensions
            top = rel.rsplit("/", 1)[-1].split(".", 1)[0] + ".py"
        if top.endswith((".dist-info", ".egg-info")):
            return "dist-info (entry points, metadata)"
        return DISTS.get(top, f"site: {top}")
    if "/python3." in rel and "/lib-dynload/" in rel:
        return "stdlib extension modules (lib-dynload)"
    if rel.startswith("usr/lib/python3"):
        return "stdlib (Python modules)"
    if rel.startswith("usr/bin/python") or rel == "usr/bin/ignition":
        return "interpreter (+ launcher)"
    name = rel.rsplit("/", 1)[-1]
    if ".so" in name and ("lib/" in rel):
        for prefix, part in LIB_PARTS.items():
            if name.startswith(prefix):
                return part
        return "other shared libraries (of the programs, the network module, libffi for ctypes)"
    if rel.startswith(("usr/lib/modules/", "lib/modules/")):
        return "kernel modules (network drivers; fw_cfg, RAID, dm-crypt, filesystems: in the baseline)"
    if "ignition" in rel:
        return "ignition units, generator, journald drop-in"
    if "networkd" in rel or "network" in rel or "resolve" in rel:
        return "network module (systemd-networkd; Go's has it too)"
    if rel.startswith(("usr/bin/", "usr/sbin/", "bin/", "sbin/")):
        return "programs the stages run (mkfs, sfdisk, cryptsetup, shadow-utils...)"
    return "other (dracut's own, firmware, config)"


def packed_size(root: Path, rels: list[str], workdir: Path) -> int:
    """Bytes of `rels` packed as dracut packs an image: newc cpio, zstd -15."""
    listing = workdir / "list"
    listing.write_text("\n".join(sorted(rels)) + "\n")
    out = workdir / "part.cpio.zst"
    with open(listing, "rb") as names, open(out, "wb") as f:
        cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], stdin=names, stdout=subprocess.PIPE,
                                cwd=root, stderr=subprocess.DEVNULL)
        subprocess.run(["zstd", "-15", "-q", "-T0", "-c"], stdin=cpio.stdout, stdout=f, check=True)
        cpio.wait()
    return out.stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_initramfs: run as root (dracut)")
    for tool in ("dracut", "zstd", "cpio"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench_initramfs: {tool} not found")
    if not (GO_MODULE / "ignition").exists():
        raise SystemExit(f"bench_initramfs: {GO_MODULE} missing: Debian's `ignition` package")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-initramfs.") as tmpdir:
        tmp = Path(tmpdir)
        go_mod = tmp / "30ignition"
        shutil.copytree(GO_MODULE, go_mod, symlinks=True)
        setfiles = tmp / "97bench-setfiles"
        setfiles.mkdir()
        (setfiles / "module-setup.sh").write_text(SETFILES_MODULE)
        (setfiles / "module-setup.sh").chmod(0o755)
        print("building the baseline, ours and Go's initramfs (scripts/vm-build.sh) ...", flush=True)
        base, base_bytes = build("size-base", True, [TEST_MODULE])
        ours, ours_bytes = build("size-ours", False, [TEST_MODULE])
        go, go_bytes = build("size-go", True, [go_mod, setfiles, TEST_MODULE])
        unpack(base.initrd, tmp / "base")
        unpack(ours.initrd, tmp / "ours")
        unpack(go.initrd, tmp / "go")
        before, after, gos = files(tmp / "base"), files(tmp / "ours"), files(tmp / "go")
        added = [rel for rel, meta in after.items() if before.get(rel) != meta]
        parts: dict[str, list[str]] = defaultdict(list)
        raw: Counter[str] = Counter()
        for rel in added:
            part = part_of(rel)
            parts[part].append(rel)
            raw[part] += after[rel][0]
        sizes = {part: packed_size(tmp / "ours", rels, tmp) for part, rels in parts.items()}
        # The two additions side by side: what only one of them has (same path in both counts
        # as shared, even where the file differs, like /usr/bin/ignition).
        go_added = [rel for rel, meta in gos.items() if before.get(rel) != meta]
        only_go = [rel for rel in go_added if rel not in after]
        only_ours = [rel for rel in added if rel not in gos]
        only_go_packed = packed_size(tmp / "go", only_go, tmp)
        only_ours_packed = packed_size(tmp / "ours", only_ours, tmp)
        go_binary = packed_size(tmp / "go", ["usr/bin/ignition"], tmp)
        only_go_top = sorted(only_go, key=lambda r: -gos[r][0])[:8]
        only_ours_native = sorted((r for r in only_ours if not r.startswith((SITE, "usr/lib/python3"))
                                   and not r.startswith("usr/bin/python")), key=lambda r: -after[r][0])[:8]
        go_sizes = {r: gos[r][0] for r in only_go_top}
        ours_sizes = {r: after[r][0] for r in only_ours_native}
        py_sources = [r for r in added if r.endswith(".py")]
        pycs = [r for r in added if r.endswith(".pyc")]

    add_ours, add_go = ours_bytes - base_bytes, go_bytes - base_bytes
    rows = [[part, str(len(parts[part])), f"{raw[part] / 1e6:.2f} MB", f"{sizes[part] / 1e6:.2f} MB",
             f"{100 * sizes[part] / sum(sizes.values()):.0f}%"]
            for part in sorted(sizes, key=lambda p: -sizes[p])]
    rows.append(["sum of the parts packed alone", str(len(added)), f"{sum(raw.values()) / 1e6:.2f} MB",
                 f"{sum(sizes.values()) / 1e6:.2f} MB", ""])
    ratio = add_ours / add_go
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    facts = machine_facts()
    md = f"""## Initramfs size: what our module adds, part by part (issue 14)

`bench/bench_initramfs.py`: the baseline (neither Ignition), ours and Go's images built by
scripts/vm-build.sh as in bench_boot.py (Debian cloud kernel {base.kver}, `--no-hostonly`, zstd),
in one run; ours unpacked and every file it adds to the baseline sorted into a part, each part packed
alone as dracut packs the image (newc cpio, `zstd -15`).

Command: `sudo .venv/bin/python bench/bench_initramfs.py`

{table([["initramfs (zstd)", f"{base_bytes / 1e6:.2f} MB", f"{go_bytes / 1e6:.2f} MB", f"{ours_bytes / 1e6:.2f} MB"],
        ["addition over the baseline", "", f"{add_go / 1e6:.2f} MB", f"{add_ours / 1e6:.2f} MB"]],
       ["", "baseline (neither)", "with Go's module", "with ours"])}

Target (issue 14): our addition <= {TARGET_RATIO}x Go's: {add_ours / 1e6:.2f} MB against {add_go / 1e6:.2f} MB,
{ratio:.3f}x ({(add_ours - TARGET_RATIO * add_go) / 1e3:+.0f} kB from the limit) — {verdict}.

{table(rows, ["part of our addition", "files", "unpacked", "packed alone (zstd -15)", "share"])}

Python files in our addition: {len(pycs)} byte-compiled `.pyc`, {len(py_sources)} `.py` sources.

The two additions side by side (packed alone): Go's static binary is {go_binary / 1e6:.2f} MB;
files only Go's image has come to {only_go_packed / 1e6:.2f} MB (its dracut dependency url-lib: curl
and its TLS, Kerberos and LDAP libraries; sgdisk and its libstdc++;
the largest: {", ".join(f"{r.rsplit('/', 1)[-1]} {go_sizes[r] / 1e6:.2f}"
for r in only_go_top)} MB unpacked); files only ours has come to {only_ours_packed / 1e6:.2f} MB, the
Python runtime and, outside it, {", ".join(f"{r.rsplit('/', 1)[-1]} {ours_sizes[r] / 1e6:.2f}"
for r in only_ours_native)} MB unpacked (sfdisk with libfdisk and libreadline: partition
type and GUID changes libparted 3.5 cannot make; libparted for pyparted; cryptsetup, which Go's
module leaves to dracut's crypt module). The rest of both additions is shared: the helper
programs and their libraries, the network module (its kernel modules are all the kernel modules
of our addition: fw_cfg, RAID, dm-crypt and the filesystems are in the baseline already).

Left out of ours, because no stage can use them on any config (ignition-pyfiles.py and
module-setup.sh say why; tests/unit/test_dracut_module.py proves the stages import and run
without them): sgdisk with libstdc++, which Go's module adds (no stage of ours runs sgdisk);
`ldconfig` (pyudev gets libudev's soname instead of asking `ldconfig -p`); asyncio, bz2 and lzma
with their extension modules; the stdlib modules frozen into the interpreter; sysconfig; type
stubs, urllib3's Emscripten support and the requirements' command-line front ends. What stays is
what a stage can need: the interpreter, jsonschema (the schema authority where the fast path
cannot vouch for a config), requests and OpenSSL (https, and sha256/sha512 through `_hashlib`,
faster than the builtin digests), zlib (gzip), pyparted, pyudev, the programs of
`ignition/distro.py`.

Machine: nproc {facts['nproc']}; {facts['cpu']}; kernel {facts['kernel']}; Python {facts['python']};
1-minute load {load_before:.1f} before the builds; run {facts['date']}.
"""
    print(md)
    if not args.no_doc:
        update_doc("initramfs-size", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
