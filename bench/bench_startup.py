"""Start-up of a stage and of the validator, against Debian's Go Ignition 2.14 (issue 14).

Every stage is a new process in the initramfs (five to seven per first boot), so what a stage
pays before it does anything is paid on every machine. Two measures, each the median wall time of
N runs after one warm-up, Go's and ours alternately in the same run:

1. `ignition -platform file -stage kargs` with nothing to do: the config cache holds
   `{"ignition":{"version":"3.3.0"}}` (written by each implementation's own fetch-offline stage
   beforehand), so the stage reads its flags, the cache and the state, says there is nothing to
   do and saves the state.
2. `ignition-validate` of that tiny config (it still goes through the JSON Schema).

Ours is measured twice: as the venv's console scripts (`.venv/bin/ignition`,
`.venv/bin/ignition-validate`, what a developer runs and what the issue's numbers were), and as
the initramfs runs a stage: `python3 -IS` with a launcher that puts a real (non-editable) install
first on the path, byte code compiled beforehand (unchecked hashes, as module-setup.sh compiles it).
The byte code of the package is compiled first either way (`compileall`), so no run compiles.

Besides wall time each run's CPU time (user + sys of the child) is recorded: with other work on
the machine's two cores, wall time includes waiting for a CPU, CPU time much less so.
Then `-X importtime` of each command of ours (the minimum of 7 runs, module by module) says
what is left: the import time by package, and the dearest modules.

Command: `.venv/bin/python bench/bench_startup.py [-n 21]`
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, machine_facts, table, update_doc, venv_bin

GO_VALIDATE = "/usr/bin/ignition-validate"
GO_IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition"
TARGET_MS = 40.0
TINY = {"ignition": {"version": "3.3.0"}}
PYTHON = "/usr/bin/python3"  # the interpreter the dracut module embeds


@dataclass(frozen=True)
class Timing:
    label: str
    wall_ms: tuple[float, ...]
    cpu_ms: tuple[float, ...]
    returncodes: frozenset[int]

    @property
    def wall(self) -> float:
        return float(statistics.median(self.wall_ms))

    @property
    def cpu(self) -> float:
        return float(statistics.median(self.cpu_ms))


def run_once(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000, proc.returncode


def measure_all(commands: dict[str, list[str]], env: dict[str, str], n: int) -> dict[str, Timing]:
    """Each command once to warm up, then n rounds of all of them in turn (alternating, so a
    burst of load on the machine hits every command alike)."""
    for argv in commands.values():
        run_once(argv, env)
    samples: dict[str, list[tuple[float, float, int]]] = {k: [] for k in commands}
    for _ in range(n):
        for label, argv in commands.items():
            samples[label].append(run_once(argv, env))
    return {label: Timing(label, tuple(s[0] for s in got), tuple(s[1] for s in got),
                          frozenset(s[2] for s in got))
            for label, got in samples.items()}


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_profile(argv: list[str], env: dict[str, str], runs: int = 7) -> dict[str, tuple[int, str]]:
    """Module -> (self import time in µs, the minimum over `runs` runs of `-X importtime`; the
    package it is charged to). A standard-library module is charged to the nearest package of
    ours or of a dependency that imported it (jsonschema's pathlib is jsonschema's cost)."""
    best: dict[str, int] = {}
    charged: dict[str, str] = {}
    for _ in range(runs):
        err = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True,
                             env=env, check=False).stderr
        # importtime prints a module after its imports, deeper ones first: a module's
        # importer is the next line with a smaller indent.
        lines = [(len(m.group(3)), m.group(4), int(m.group(1))) for m in _IMPORT_LINE.finditer(err)]
        for i, (depth, name, self_us) in enumerate(lines):
            best[name] = min(best.get(name, self_us), self_us)
            owner = package_of(name)
            want = depth
            for d, parent, _us in lines[i + 1:]:
                if owner != STDLIB:
                    break
                if d < want:
                    owner, want = package_of(parent), d
            charged.setdefault(name, owner if owner == package_of(name) else f"{STDLIB}, for {owner}")
    return {name: (us, charged[name]) for name, us in best.items()}


SCHEMA_LIBS = ("jsonschema", "jsonschema_specifications", "referencing", "rpds", "attr", "attrs",
               "typing_extensions")
STDLIB = "standard library"


def package_of(module: str) -> str:
    top = module.split(".", 1)[0]
    if top == "ignition":
        return "ignition (ours)"
    if top in SCHEMA_LIBS:
        return "jsonschema and its dependencies"
    if top in ("requests", "urllib3", "idna", "certifi", "charset_normalizer"):
        return "requests/urllib3/idna"
    if top in ("_distutils_hack", "sitecustomize", "site", "apport_python_hook") or top.startswith("__editable__"):
        return "site (the venv's start-up hooks)"
    return STDLIB


def profile_section(title: str, prof: dict[str, tuple[int, str]], top: int = 12) -> str:
    by_pkg: Counter[str] = Counter()
    for us, pkg in prof.values():
        by_pkg[pkg] += us
    total = sum(us for us, _ in prof.values())
    rows = [[pkg, f"{us / 1000:.1f} ms", f"{100 * us / total:.0f}%"] for pkg, us in by_pkg.most_common()]
    rows.append(["total", f"{total / 1000:.1f} ms", f"{len(prof)} modules"])
    dear = sorted(prof.items(), key=lambda kv: -kv[1][0])[:top]
    dear_line = ", ".join(f"{m} {us / 1000:.1f}" for m, (us, _) in dear)
    return (f"{title}: self import time (`-X importtime`, minimum of 7 runs) by package; a standard-library "
            "module imported by a package (directly or not) is counted for it\n\n"
            f"{table(rows, ['package', 'import time', 'share'])}\n\n"
            f"Dearest modules (ms): {dear_line}.\n")


def install_like_initramfs(tmp: Path) -> Path:
    """A real install of the package in tmp/site, compiled as module-setup.sh compiles it, and a
    launcher as module-setup.sh writes it (the venv's site-packages next, for the dependencies)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "ignition", src / "ignition", ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--no-compile", "--target", str(site), str(src)], check=True)
    subprocess.run([PYTHON, "-I", "-S", "-m", "compileall", "-q", "-j0", "--invalidation-mode",
                    "unchecked-hash", str(site)], check=True, stdout=subprocess.DEVNULL)
    venv_site = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip()
    launcher = tmp / "ignition"
    launcher.write_text(f"#!{PYTHON} -IS\nimport sys\nsys.path[:0] = [{str(site)!r}, {venv_site!r}]\n"
                        "from ignition.cli import main\nsys.exit(main())\n")
    launcher.chmod(0o755)
    return launcher


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=21, help="timed runs of each command (default 21)")
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    for tool in (GO_VALIDATE, GO_IGNITION):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"bench_startup: {tool} missing: Debian's `ignition` package")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "ignition")], check=True,
                   stdout=subprocess.DEVNULL)
    ours_ignition, ours_validate = venv_bin("ignition"), venv_bin("ignition-validate")

    with tempfile.TemporaryDirectory(prefix="bench-startup.") as tmpdir:
        tmp = Path(tmpdir)
        tiny = tmp / "tiny.ign"
        tiny.write_text(json.dumps(TINY))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["IGNITION_CONFIG_FILE"] = str(tiny)
        launcher = install_like_initramfs(tmp)

        def stage_argv(binary: str, who: str, stage: str) -> list[str]:
            work = tmp / who
            (work / "root").mkdir(parents=True, exist_ok=True)
            return [binary, "-platform", "file", "-stage", stage, "-root", str(work / "root"),
                    "-config-cache", str(work / "config.json"), "-state-file", str(work / "state"),
                    "-neednet", str(work / "neednet"), "-log-to-stdout"]

        for binary, who in ((GO_IGNITION, "go"), (ours_ignition, "ours"), (str(launcher), "ours-initramfs")):
            r = subprocess.run(stage_argv(binary, who, "fetch-offline"), capture_output=True, text=True, env=env,
                               check=False)
            if r.returncode != 0:
                raise SystemExit(f"{who} fetch-offline failed:\n{r.stdout}{r.stderr}")
        kargs = {
            "go": stage_argv(GO_IGNITION, "go", "kargs"),
            "ours": stage_argv(ours_ignition, "ours", "kargs"),
            "ours-initramfs": stage_argv(str(launcher), "ours-initramfs", "kargs"),
        }
        validate = {"go": [GO_VALIDATE, str(tiny)], "ours": [ours_validate, str(tiny)]}
        floor = {"python3 -I -S -c pass": [PYTHON, "-I", "-S", "-c", "pass"],
                 "venv python -c pass": [sys.executable, "-c", "pass"],
                 "venv python -c 'import jsonschema'": [sys.executable, "-c", "import jsonschema"]}
        load_before = os.getloadavg()
        t_kargs = measure_all({f"kargs {k}": v for k, v in kargs.items()}, env, args.n)
        t_validate = measure_all({f"validate {k}": v for k, v in validate.items()}, env, args.n)
        t_floor = measure_all(floor, env, args.n)
        load_after = os.getloadavg()
        prof_kargs = import_profile([sys.executable, *kargs["ours"]], env)
        prof_init = import_profile([PYTHON, "-IS", *kargs["ours-initramfs"]], env)
        prof_validate = import_profile([sys.executable, *validate["ours"]], env)

    def row(label: str, t: Timing, go: Timing | None) -> list[str]:
        ratio = f"{t.wall / go.wall:.1f}x" if go else ""
        return [label, f"{t.wall:.1f} ms", f"{min(t.wall_ms):.1f} ms", f"{t.cpu:.1f} ms", ratio,
                ",".join(map(str, sorted(t.returncodes)))]

    k, v = t_kargs, t_validate
    rows = [
        row("`ignition -stage kargs`, Go 2.14", k["kargs go"], None),
        row("`ignition -stage kargs`, ours (.venv/bin/ignition)", k["kargs ours"], k["kargs go"]),
        row("`ignition -stage kargs`, ours as the initramfs runs it (python3 -IS)", k["kargs ours-initramfs"],
            k["kargs go"]),
        row("`ignition-validate tiny.ign`, Go 2.14", v["validate go"], None),
        row("`ignition-validate tiny.ign`, ours (.venv/bin/ignition-validate)", v["validate ours"], v["validate go"]),
    ] + [row(f"floor: `{label}`", t, None) for label, t in t_floor.items()]
    kargs_ms, init_ms, validate_ms = k["kargs ours"].wall, k["kargs ours-initramfs"].wall, v["validate ours"].wall

    def verdict(ms: float) -> str:
        return "met" if ms <= TARGET_MS else "not met"

    facts = machine_facts()
    md = f"""## Start-up: a stage with nothing to do, and the validator on a tiny config (issue 14)

`bench/bench_startup.py`: {args.n} timed runs of each command after a warm-up, the commands of a
measure alternating; medians (and the fastest run). The stage is `kargs` with the config cache of
`{json.dumps(TINY, separators=(",", ":"))}` (each implementation's own fetch-offline wrote it); the
validator reads that config from a file. "As the initramfs runs it" is `python3 -IS` with a launcher like
module-setup.sh's and a real install compiled as the image compiles it. CPU time is the child's
user + sys time: with other work on the two cores, wall time includes waiting for a CPU.

Command: `.venv/bin/python bench/bench_startup.py -n {args.n}`

{table(rows, ["command", "median wall", "fastest", "median CPU", "ours / Go", "exit"])}

Target (issue 14): `ignition -stage kargs` with nothing to do <= {TARGET_MS:.0f} ms wall (median of {args.n}):
{kargs_ms:.1f} ms from the venv — {verdict(kargs_ms)}; {init_ms:.1f} ms as the initramfs runs it
— {verdict(init_ms)}.
Target (issue 14): `ignition-validate` of a tiny config <= {TARGET_MS:.0f} ms wall (median of {args.n}):
{validate_ms:.1f} ms — {verdict(validate_ms)}. A config the fast schema walk vouches for (the tiny
one, and every valid config spelled as the spec spells it: ignition/config/schemafast.py) never
imports jsonschema, whose import alone takes {t_floor["venv python -c 'import jsonschema'"].wall:.1f} ms
(the floor row); what is left is the interpreter (the `-c pass` rows) and the imports profiled below.

{profile_section("`ignition -stage kargs` from the venv", prof_kargs)}
{profile_section("`ignition -stage kargs` as the initramfs runs it", prof_init)}
{profile_section("`ignition-validate tiny.ign`", prof_validate)}
Load (1-minute average) {load_before[0]:.1f} before and {load_after[0]:.1f} after the timed runs, on
{facts['nproc']} CPUs. Machine: {facts['cpu']}; kernel {facts['kernel']}; Python {facts['python']};
run {facts['date']}.
"""
    print(md)
    if not args.no_doc:
        update_doc("startup", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
