"""Lists the Python files the initramfs needs to run `ignition`, one
`SOURCE<TAB>DESTINATION` line each. Run by module-setup.sh with the interpreter
that is embedded (`$IGNITION_PYTHON -I -S ignition-pyfiles.py --site DIR ...`).

Two parts:
- the distributions: `ignition` and the closure of its requirements, copied
  file by file from their install records (so the dist-info with
  entry_points.txt travels too: the stage and provider registry reads it),
  to DEST (the initramfs's private site directory);
- the standard library: only the modules the provisioner imports. They are
  found by importing them here: every ignition module, every plugin named by
  its entry points, and every stdlib import statement written anywhere in the
  distributions' sources (imports inside functions included), then reading
  `sys.modules`. Destinations are the interpreter's own stdlib paths.

Left out, because no stage imports them at run time in any config:
- `ignition.planner` (`ignition-plan`, a laptop tool; the stages' own dry run
  is plan.py and sysroot_dryrun.py, which stay);
- files of the requirements that nothing in the image imports (NOT_READ):
  type stubs, which only type checkers read; urllib3's support for
  Emscripten (WebAssembly), imported only where sys.platform is
  "emscripten"; the command-line front ends (`python -m jsonschema`,
  `normalizer`, `python -m certifi`, `python -m requests.help`), which
  nothing imports; and the standard modules only they import;
- a compiled extension module whose pure-Python twin is installed beside it
  (charset_normalizer's mypyc builds of md.py and cd.py): the twin is the same
  code, and the image is smaller without the machine code;
- the standard modules in LEFT_OUT, with their extension modules: while this
  script imports, they cannot be imported (as in the image), so whatever
  imports them optionally takes its `except ImportError` branch here too, and
  nothing only they import is listed;
- what only this script imports (sysconfig, for the paths, after the imports
  that make the list);
- the modules frozen into the interpreter (importlib's bootstrap, zipimport,
  codecs, io, abc, stat, posixpath, os...): it never reads their files. Only
  os.py is installed, as the landmark by which the interpreter finds its
  prefix.

Byte code is not copied; module-setup.sh compiles what it installs and then
removes the sources (see there).
"""

from __future__ import annotations

import sys

# Standard modules no stage can need (tests/unit/test_dracut_module.py proves
# the stages import without them):
# - bz2, lzma: zipfile and shutil import them under `try`, to offer those
#   compressions; Ignition's only compression is gzip (zlib, which stays);
# - asyncio: typing_extensions imports asyncio.coroutines only when its
#   @deprecated wraps a coroutine function (`async def`), and nothing in the
#   image does; nothing else imports it.
LEFT_OUT = ("asyncio", "_asyncio", "bz2", "_bz2", "lzma", "_lzma")


class _LeftOutFinder:
    """Makes the LEFT_OUT modules unimportable, as they are in the image."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name.split(".", 1)[0] in LEFT_OUT:
            raise ModuleNotFoundError(f"{name} is left out of the initramfs", name=name)


# Before any other import: importlib.metadata imports zipfile, which tries bz2 and lzma.
sys.meta_path.insert(0, _LeftOutFinder)

import argparse  # noqa: E402
import ast  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import pkgutil  # noqa: E402
from importlib import metadata  # noqa: E402

SKIP_DIRS = {"__pycache__", "tests", "test", "benchmarks"}
SKIP_DIST_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# Packages of ours that only the laptop tools import (see the docstring).
NOT_IN_INITRAMFS = ("ignition/planner/",)
# Files of the requirements nothing in the image imports or reads (see the docstring;
# tests/unit/test_dracut_module.py checks no selected module imports them).
NOT_READ = ("urllib3/contrib/emscripten/", "jsonschema/cli.py", "jsonschema/__main__.py",
            "charset_normalizer/cli/", "charset_normalizer/__main__.py", "certifi/__main__.py",
            "requests/help.py")
NOT_READ_SUFFIXES = (".pyi", "/py.typed")
# Codecs looked up by name at run time (the journal, HTTP, IDNA, GPT partition
# names in UTF-16LE), never imported by a statement.
ALWAYS = ("encodings.utf_8", "encodings.latin_1", "encodings.ascii", "encodings.idna", "encodings.aliases",
          "encodings.utf_16_le", "os")


def requirement_name(req: str) -> str | None:
    """The project name of a requirement, or None when it only applies to an extra."""
    spec, _, marker = req.partition(";")
    if "extra" in marker:
        return None
    name = spec.strip()
    for sep in "[<>=!~ (":
        name = name.split(sep, 1)[0]
    return name.strip() or None


def dist_closure(root: str) -> list[metadata.Distribution]:
    seen: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            # Requirements guarded by markers that do not apply here (python_version...).
            if name == root:
                raise
            continue
        seen[key] = dist
        todo.extend(n for r in dist.requires or [] if (n := requirement_name(r)))
    return list(seen.values())


def installed_paths(dist: metadata.Distribution) -> list[str]:
    """Absolute paths of a distribution's installed files. An egg-info install
    (pyparted from source) lists them in installed-files.txt, relative to the
    egg-info directory; Python 3.11's `files` reads SOURCES.txt instead."""
    egg = dist.read_text("installed-files.txt")
    meta_dir = getattr(dist, "_path", None)
    if egg is not None and meta_dir is not None:
        paths = [os.path.join(str(meta_dir), line) for line in egg.splitlines() if line.strip()]
        return paths + [os.path.join(str(meta_dir), n) for n in ("PKG-INFO", "top_level.txt")]
    return [str(dist.locate_file(f)) for f in dist.files or []]


def dist_files(dist: metadata.Distribution, dest: str) -> list[tuple[str, str]]:
    out = []
    base = os.path.realpath(str(dist.locate_file("")))
    for path in installed_paths(dist):
        src = os.path.realpath(path)
        if os.path.basename(src).startswith("__editable__"):
            sys.exit(
                f"ignition-pyfiles: {dist.metadata['Name']} is installed in editable mode at {base}; "
                "install it for real into a staging directory (pip install --no-deps --target DIR .) "
                "and pass that directory as IGNITION_SITE"
            )
        rel = os.path.relpath(src, base)
        if rel.startswith(".."):  # console scripts in bin/ and the like
            continue
        parts = rel.split(os.sep)
        # A package's own test suite is never imported at run time.
        if SKIP_DIRS & set(parts[:-1]) or rel.endswith(".pyc") or parts[-1] in SKIP_DIST_FILES:
            continue
        if rel.startswith(NOT_IN_INITRAMFS + NOT_READ) or rel.endswith(NOT_READ_SUFFIXES) or has_python_twin(src):
            continue
        if os.path.isfile(src):
            out.append((src, os.path.join(dest, rel)))
    return out


def has_python_twin(path: str) -> bool:
    """An extension module (`md.cpython-311-x86_64-linux-gnu.so`) with its
    pure-Python source (`md.py`) beside it: a mypyc build of the same code."""
    directory, name = os.path.split(path)
    if not name.endswith(".so") or "." not in name[:-3]:
        return False
    return os.path.isfile(os.path.join(directory, name.split(".", 1)[0] + ".py"))


def stdlib_imports(paths: list[str]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n.split(".")[0] in sys.stdlib_module_names}


def import_quietly(name: str) -> None:
    # An optional or platform-specific import may fail; what loads is what counts.
    with contextlib.suppress(Exception):
        importlib.import_module(name)


def ignition_modules(path: list[str], prefix: str) -> list[str]:
    """Every module of the package that goes into the initramfs (not
    NOT_IN_INITRAMFS, whose packages are not even imported to be walked)."""
    skipped = tuple(p.rstrip("/").replace("/", ".") for p in NOT_IN_INITRAMFS)
    names = []
    for mod in pkgutil.iter_modules(path, prefix):
        if mod.name in skipped or mod.name.endswith(".__main__"):  # __main__ runs the CLI when imported
            continue
        names.append(mod.name)
        if mod.ispkg:
            pkg = importlib.import_module(mod.name)
            names += ignition_modules(list(pkg.__path__), mod.name + ".")
    return names


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--site", action="append", default=[], help="directory searched first for distributions")
    p.add_argument("--dest", default="/usr/lib/ignition/site-packages")
    args = p.parse_args()
    sys.path[:0] = [os.path.abspath(s) for s in args.site]

    pairs: list[tuple[str, str]] = []
    sources: list[str] = []
    for dist in dist_closure("ignition"):
        files = dist_files(dist, args.dest)
        pairs += files
        sources += [src for src, _ in files if src.endswith(".py")]

    import ignition

    for name in ignition_modules(ignition.__path__, "ignition."):
        importlib.import_module(name)
    for group in ("ignition.stages", "ignition.providers"):
        for ep in metadata.entry_points(group=group):
            ep.load()
    for name in sorted(stdlib_imports(sources)) + list(ALWAYS):
        import_quietly(name)
    modules = list(sys.modules.values())

    import sysconfig  # only now: the stages never import it

    stdlib = {os.path.realpath(sysconfig.get_path(k)) for k in ("stdlib", "platstdlib")}
    stdlib_pairs: set[tuple[str, str]] = set()
    for module in modules:
        f = getattr(module, "__file__", None)
        if not f or getattr(getattr(module, "__spec__", None), "origin", None) == "frozen":
            continue
        src = os.path.realpath(f)
        if src.endswith(".pyc") or not any(src.startswith(d + os.sep) for d in stdlib):
            continue
        if "site-packages" in src.split(os.sep) or "dist-packages" in src.split(os.sep):
            continue
        stdlib_pairs.add((src, src))
    # The landmark by which the interpreter finds its prefix at start-up.
    os_py = os.path.join(sysconfig.get_path("stdlib"), "os.py")
    stdlib_pairs.add((os.path.realpath(os_py), os.path.realpath(os_py)))

    for src, dst in sorted(stdlib_pairs) + pairs:
        print(f"{src}\t{dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
