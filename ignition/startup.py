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
"""

from __future__ import annotations

import gc


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
