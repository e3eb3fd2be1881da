"""The cyclic garbage collector while a command starts.

Start-up (imports, the engine's set-up) makes many objects that live as long
as the process, modules, classes and functions, and no cyclic garbage worth
collecting; yet the collector walks them again and again as they are made.
So a command pauses it for its start-up, and when the real work begins,
freezes what start-up made (left out of every later collection) and turns it
back on: a big config still has its cycles collected. About a tenth of a
stage's start-up. Only a command started as a new process does this (the
console scripts, `python -m ignition`): freezing in a longer-lived process,
a test run, would keep its uncollected garbage for good.

Modules imported for one rarely used function are deferred: `defer(name)`
puts a stand-in into sys.modules that imports the real module the first time
any attribute of it is read. `dataclasses` imports `inspect` (with ast,
tokenize, dis and linecache: about 3 ms of every stage's start) only to make
a docstring for a class that has none; our classes have one. `urllib.parse`
imports `ipaddress` (about 1 ms) for bracketed hosts only.
"""

from __future__ import annotations

import gc
import sys
import types
from _thread import RLock

_load_lock = RLock()


class Deferred(types.ModuleType):
    """Stands in sys.modules for a module nobody has used yet."""

    def __getattr__(self, attr: str) -> object:
        return getattr(load(self.__name__), attr)


# Imported by modules every stage loads, used by few: dataclasses reads inspect only to
# make a docstring for a class that has none (ours all have one); urllib.parse reads
# ipaddress only for a bracketed IPv6 host.
DEFERRED = ("inspect", "ipaddress")


def defer(*names: str) -> None:
    """Load these modules on first use rather than on import (a no-op for one already loaded)."""
    for name in names or DEFERRED:
        if name not in sys.modules:
            sys.modules[name] = Deferred(name)


def load(name: str) -> types.ModuleType:
    """The real module `name`, imported now if only its stand-in was (thread-safe)."""
    with _load_lock:
        module = sys.modules.get(name)
        if isinstance(module, Deferred) or module is None:
            sys.modules.pop(name, None)
            __import__(name)
            module = sys.modules[name]
        return module


def pause() -> bool:
    """Stop collecting; True when the collector was running (for `restore`)."""
    running = gc.isenabled()
    gc.disable()
    return running


def work_begins() -> None:
    """Start-up is over: freeze what it made and collect again, if it was paused."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def restore(running: bool) -> None:
    """Leave the collector as `pause` found it (for callers in a longer-lived process)."""
    if running:
        gc.enable()
