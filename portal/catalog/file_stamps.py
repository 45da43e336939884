"""Fingerprints of the files the catalog derives data from (charts, rotation policy).

Parsing YAML and walking chart directories costs tens of milliseconds, far more than a
page may, while those files change only with a deploy. A stamp (every file's path,
modification time and size) costs a few stat calls; what was derived from the files is
reused for as long as their stamp is the same, in every process, with no invalidation.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

Stamp = tuple[tuple[str, int, int], ...]
MISSING = (-1, -1)  # the (mtime, size) of a file that does not exist


def of_files(paths: Iterable[Path | str]) -> Stamp:
    """The stamp of the given files; a missing file is part of it (it may appear later)."""
    found = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            found.append((str(path), *MISSING))
        else:
            found.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(found)


def of_tree(root: Path | str) -> Stamp:
    """The stamp of every file under `root`, at any depth, by path (empty when `root` is
    not a directory). Adding, removing, changing or renaming a file changes it."""
    found = []
    pending = [str(root)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    info = entry.stat()
                    found.append((entry.path, info.st_mtime_ns, info.st_size))
            except OSError:
                continue  # removed while walking: the next stamp will not have it either
    # In the order of pathlib paths (component by component), as a sorted rglob lists them.
    return tuple(sorted(found, key=lambda entry: entry[0].split(os.sep)))
