"""The dracut module's choices (dracut/30ignition): what module-setup.sh and
ignition-pyfiles.py leave out of the initramfs, and proof that no stage
needs it. (The QEMU tests then boot the image itself: vm-tests/test_boot.py's
selfcheck loads libudev, libparted and OpenSSL in it.)"""

from __future__ import annotations

import ast
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ignition import distro
from ignition.stages.disks import udev

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "dracut" / "30ignition"
SITE_DEST = "/usr/lib/ignition/site-packages"
# The interpreter module-setup.sh embeds by default.
PYTHON = os.path.realpath(os.environ.get("IGNITION_PYTHON", "/usr/bin/python3"))


def _setup_sh() -> str:
    return (MODULE / "module-setup.sh").read_text().replace("\\\n", " ")


def installed_programs() -> set[str]:
    """The programs module-setup.sh hands to inst_multiple."""
    names: set[str] = set()
    for line in _setup_sh().splitlines():
        words = line.split()
        if words[:1] == ["inst_multiple"]:
            names.update(w for w in words[1:] if not w.startswith("-"))
    return names


def test_the_module_installs_only_programs_a_stage_runs() -> None:
    # basename: every dracut image has it already (the baseline); mkfs.vfat:
    # dosfstools' other name of mkfs.fat.
    assert installed_programs() - set(distro.DEFAULTS) == {"basename", "mkfs.vfat"}


def test_sgdisk_is_not_installed_because_no_stage_runs_it() -> None:
    # Go's module installs sgdisk (and with it libstdc++, 0.8 MB packed); ours
    # writes tables with pyparted and sfdisk, only placing partitions as
    # sgdisk would. Not a program a stage can name, nor one any code runs.
    assert "sgdisk" not in installed_programs()
    with pytest.raises(KeyError):
        distro.tool("sgdisk")
    literals = []
    for path in (REPO / "ignition").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.split(" ", 1)[0] in ("sgdisk", "/usr/sbin/sgdisk", "/sbin/sgdisk"):
                literals.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert literals == []


def test_ldconfig_is_not_installed() -> None:
    # 1 MB that only pyudev's library lookup used (import_pyudev, below).
    code = [line for line in _setup_sh().splitlines() if not line.lstrip().startswith("#")]
    assert [line for line in code if "ldconfig" in line] == []


def test_pyudev_opens_libudev_by_its_soname_where_ldconfig_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    # The initramfs: ctypes.util.find_library's `ldconfig -p`, gcc and ld are
    # all missing there, so it finds nothing.
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    pyudev = udev.import_pyudev()
    context = pyudev.Context()
    assert context._libudev._name == udev.LIBUDEV_SONAME
    assert context.sys_path == "/sys"  # a call into libudev
    from pyudev._ctypeslib import utils

    assert utils.find_library("c") is None  # only libudev gets a soname


def test_pyudev_keeps_the_lookups_answer_where_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"/opt/lib{name}.so.7")
    udev.import_pyudev()
    from pyudev._ctypeslib import utils

    assert utils.find_library("udev") == "/opt/libudev.so.7"


# Run by the embedded interpreter (-I -S) with only the selected files on its
# path (RESTRICTED) or with its whole standard library: imports every module
# of the copied ignition package and every stage and provider entry point,
# does what needs the native libraries, then tries every standard-library
# import statement written in the copied sources (inside functions too).
# Prints JSON: those names, each importable or not.
CHILD = r"""
import sys
before = set(sys.modules)
root, stdlib, site, restricted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
if restricted:
    sys.path[:] = [root + stdlib, root + stdlib + "/lib-dynload", root + site]
    for m in list(sys.modules.values()):  # packages loaded at start-up (encodings) look in the copy too
        if isinstance(getattr(m, "__path__", None), list):
            m.__path__[:] = [root + p if p.startswith(stdlib + "/") else p for p in m.__path__]
else:
    sys.path[:] = [root + site] + [p for p in sys.path if "-packages" not in p]
sys.path_importer_cache.clear()

import ast, importlib, json, os, pkgutil
from importlib import metadata

import ignition
assert ignition.__file__.startswith(root), ignition.__file__
for mod in pkgutil.walk_packages(ignition.__path__, "ignition."):
    if not mod.name.endswith(".__main__"):
        importlib.import_module(mod.name)
stages = sorted(ep.name for ep in metadata.entry_points(group="ignition.stages"))
assert stages == sorted(["fetch-offline", "fetch", "kargs", "disks", "mount", "files", "umount"]), stages
for group in ("ignition.stages", "ignition.providers"):
    for ep in metadata.entry_points(group=group):
        ep.load()

# The native parts: hashes Ignition verifies (sha512, sha256) through
# OpenSSL, https, gzip (zlib), libparted, libudev (ctypes, libffi).
import hashlib, ssl, zlib
import _hashlib  # noqa: F401  (the OpenSSL digests, not the slower builtin ones)
assert hashlib.sha512(b"abc").hexdigest().startswith("ddaf35a1"), "sha512"
assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf"), "sha256"
ssl.create_default_context()
gz = bytes.fromhex(sys.argv[5])
assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(gz) == b"ignition\n"
import parted  # noqa: F401
from ignition.stages.disks import udev
udev.import_pyudev().Context()
import requests
requests.Session().prepare_request(requests.Request("GET", "https://example.invalid/config.ign"))
# jsonschema: the authority where schemafast cannot vouch for a config.
from ignition.config import schemacheck
problems = schemacheck.problems(schemacheck.validator("ignition.config.schema", "3.4.0"),
                                {"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": 7}]}})
assert problems, "jsonschema found nothing"

names = set()
for dirpath, _, files in os.walk(root + site):
    for f in files:
        if f.endswith(".py"):
            tree = ast.parse(open(os.path.join(dirpath, f), "rb").read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names.add(node.module)
names = sorted({n for n in names if n.split(".")[0] in sys.stdlib_module_names} | {"asyncio", "bz2", "lzma"})
result = {}
for name in names:
    try:
        importlib.import_module(name)
        result[name] = True
    except Exception:
        result[name] = False
outside = sorted(n for n, m in sys.modules.items() if n not in before and getattr(m, "__file__", None)
                 and getattr(m.__spec__, "origin", None) != "frozen"  # in the interpreter itself
                 and not os.path.realpath(m.__file__).startswith(root))
print(json.dumps({"imports": result, "outside": outside}))
"""


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, str]]]:
    """The Python files ignition-pyfiles.py selects, copied to where they go
    in the image, from a real (not editable) install as scripts/vm-build.sh
    makes one."""
    tmp = tmp_path_factory.mktemp("image")
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "ignition", src / "ignition", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-compile", "--target", str(tmp / "site"), str(src)],
                   check=True, capture_output=True)
    listing = subprocess.run([PYTHON, "-I", "-S", str(MODULE / "ignition-pyfiles.py"),
                              "--site", str(tmp / "site"), "--site", sysconfig.get_path("purelib"),
                              "--dest", SITE_DEST], check=True, capture_output=True, text=True).stdout
    pairs = [(line.split("\t")[0], line.split("\t")[1]) for line in listing.splitlines() if line]
    root = tmp / "root"
    for s, d in pairs:
        (root / d.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(s, root / d.lstrip("/"))
    return root, pairs


def _run_child(root: Path, restricted: bool) -> dict[str, object]:
    import gzip

    stdlib = subprocess.run([PYTHON, "-I", "-S", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            check=True, capture_output=True, text=True).stdout.strip()
    out = subprocess.run([PYTHON, "-I", "-S", "-c", CHILD, str(root), stdlib, SITE_DEST, "1" if restricted else "0",
                          gzip.compress(b"ignition\n").hex()], check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.allow_subprocess
def test_the_selection_leaves_out_asyncio_bz2_and_lzma(image_tree: tuple[Path, list[tuple[str, str]]]) -> None:
    _root, pairs = image_tree
    names = {os.path.basename(d).split(".", 1)[0] for _s, d in pairs} | {
        d.split("/")[4] for _s, d in pairs if d.count("/") > 4}
    assert not names & {"asyncio", "_asyncio", "bz2", "_bz2", "lzma", "_lzma"}


@pytest.mark.allow_subprocess
def test_the_stages_import_from_the_selected_files_alone(image_tree: tuple[Path, list[tuple[str, str]]]) -> None:
    # With only the selected files, every module and entry point imports and
    # the native parts work; and every standard import written anywhere in
    # the image's sources (inside functions too) that the whole standard
    # library satisfies is satisfied by the selection, but for the modules
    # left out on purpose (ignition-pyfiles.py's LEFT_OUT).
    root, _pairs = image_tree
    trimmed, full = _run_child(root, True), _run_child(root, False)
    assert trimmed["outside"] == []  # nothing came from outside the selection
    assert isinstance(trimmed["imports"], dict) and isinstance(full["imports"], dict)
    lost = sorted(n for n, ok in full["imports"].items() if ok and not trimmed["imports"][n])
    # asyncio.coroutines: typing_extensions', for @deprecated on an `async def`;
    # asyncio, bz2, lzma: tried by the child itself.
    assert lost == ["asyncio", "asyncio.coroutines", "bz2", "lzma"]


def _pyfiles_constant(name: str) -> tuple[str, ...]:
    tree = ast.parse((MODULE / "ignition-pyfiles.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            value: tuple[str, ...] = ast.literal_eval(node.value)
            return value
    raise AssertionError(f"{name} not in ignition-pyfiles.py")


def _imported_names(path: Path, module: str) -> list[tuple[str, ast.AST]]:
    """Every module an import statement in `path` (module `module`) names,
    relative imports resolved, with the statement."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, ast.AST]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out += [(mod, node)] + [(f"{mod}.{a.name}", node) for a in node.names]
    return out


@pytest.mark.allow_subprocess
def test_nothing_selected_imports_the_files_left_unread(image_tree: tuple[Path, list[tuple[str, str]]]) -> None:
    root, pairs = image_tree
    not_read = _pyfiles_constant("NOT_READ")
    suffixes = _pyfiles_constant("NOT_READ_SUFFIXES")
    site = root / SITE_DEST.lstrip("/")
    selected = [Path(d[len(SITE_DEST) + 1:]) for _s, d in pairs if d.startswith(SITE_DEST + "/")]
    assert selected and not [p for p in selected if str(p).startswith(not_read) or str(p).endswith(suffixes)]
    gone = tuple(p.removesuffix(".py").rstrip("/").replace("/", ".") for p in not_read)
    # The one import of them: urllib3's, under `if sys.platform == "emscripten":`.
    init = site / "urllib3" / "__init__.py"
    guarded = {getattr(stmt, "lineno", 0) for node in ast.walk(ast.parse(init.read_text()))
               if isinstance(node, ast.If) and ast.unparse(node.test) == "sys.platform == 'emscripten'"
               for stmt in ast.walk(node)}
    offenders = []
    for rel in selected:
        if rel.suffix != ".py":
            continue
        module = str(rel.with_suffix("")).replace("/", ".").removesuffix(".__init__")
        for name, stmt in _imported_names(site / rel, module):
            if (name in gone or name.startswith(tuple(g + "." for g in gone))) \
                    and not (site / rel == init and getattr(stmt, "lineno", -1) in guarded):
                offenders.append(f"{rel}:{getattr(stmt, 'lineno', '?')} {name}")
    assert offenders == []
    assert guarded  # urllib3 still guards it so
