"""Fingerprints of the files the catalog derives data from (charts, rotation policy).

Parsing YAML and walking chart directories costs tens of milliseconds, far more than a
page may, while those files change only with a deploy. A stamp (every file's path,
modification time and size) costs a few stat calls; what was derived from the files is
reused for as long as their stamp is the same, in every process, with no invalidation.
Within one request a tree is read once: a service page asks for the charts' tree, one
chart's tree (a part of it) and the alerting rules' tree more than once. Between requests
a tree's last walk is checked with a stat call per directory and file, without listing
every directory again (see `_trees`).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from portal import request_memo

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
    not a directory). Adding, removing, changing or renaming a file changes it. Read once
    per request: a tree inside one walked already in the request is taken from that walk."""
    walked: dict[str, tuple[Stamp, frozenset[str]]] = request_memo.memo("catalog.file_stamps")
    top = str(root)
    if top in walked:
        return walked[top][0]
    for stamp, dirs in walked.values():
        if top in dirs:  # walked as part of an outer tree: the same entries, the same order
            prefix = top + os.sep
            return tuple(entry for entry in stamp if entry[0].startswith(prefix))
    tree = _current(top)
    walked[top] = (tree.stamp, frozenset(path for path, _ in tree.dirs))
    return tree.stamp


# What a directory or a file looked like: device, inode, modification and change times
# (and size). The kernel sets the change time to the current time whenever an entry is
# added to, removed from or renamed in a directory, and whenever a file is written,
# replaced or has its times set (as tar, cp -p or rsync do); no program can set it back.
Signature = tuple[int, int, int, int, int]


def _signature(info: os.stat_result) -> Signature:
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, info.st_size)


@dataclass(frozen=True)
class _Tree:
    stamp: Stamp
    dirs: tuple[tuple[str, Signature], ...]  # every directory listed, as it was before
    files: tuple[Signature, ...]  # the stamp's files in its order, as they were
    others: tuple[str, ...]  # entries neither a directory nor a file (a dangling link)


# A tree's last walk, kept to be checked with a stat call per directory and file instead of
# listing every directory again: while no directory and no file has changed (same inode,
# times and size) the walk would find what it found. A walk is kept only when every
# signature is older than the walk by more than the timestamps' granularity (as git's
# index does), so a change in the same clock tick as the walk cannot go unseen.
_trees: dict[str, _Tree] = {}
_trees_lock = threading.Lock()
_SETTLED_NS = 2_000_000_000
_KEPT_TREES = 64


def _current(top: str) -> _Tree:
    with _trees_lock:
        known = _trees.get(top)
    if known is not None and _unchanged(known):
        return known
    started = time.time_ns()
    tree, complete = _walk(top)
    newest = max((max(sig[2], sig[3]) for sig in (*(sig for _, sig in tree.dirs), *tree.files)),
                 default=0)
    with _trees_lock:
        if complete and newest < started - _SETTLED_NS:
            if len(_trees) >= _KEPT_TREES:
                _trees.clear()
            _trees[top] = tree
        else:
            _trees.pop(top, None)
    return tree


def _unchanged(tree: _Tree) -> bool:
    # A plain loop: every service page checks a couple of hundred entries, and generator
    # expressions with a call per entry cost about as much as the stat calls themselves.
    stat = os.stat
    try:
        for path, sig in tree.dirs:
            info = stat(path)
            if (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns,
                    info.st_size) != sig:
                return False
        for (path, _, _), sig in zip(tree.stamp, tree.files, strict=True):
            info = stat(path)
            if (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns,
                    info.st_size) != sig:
                return False
    except OSError:
        return False
    return not any(os.path.isfile(path) for path in tree.others)


def _walk(top: str) -> tuple[_Tree, bool]:
    """Every file under `top`, and whether every directory could be listed (when not, the
    walk is not kept: the later state of what could not be read is not known)."""
    found: list[tuple[str, os.stat_result]] = []
    dirs: list[tuple[str, Signature]] = []
    others: list[str] = []
    complete = True
    pending = [top]
    while pending:
        path = pending.pop()
        try:
            before = os.stat(path)  # before listing: a change while listing shows next time
            entries = list(os.scandir(path))
        except OSError:
            complete = False
            continue
        dirs.append((path, _signature(before)))
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path, entry.stat()))
                else:
                    others.append(entry.path)
            except OSError:
                complete = False  # removed while walking: the next stamp will not have it
    # In the order of pathlib paths (component by component), as a sorted rglob lists them.
    found.sort(key=lambda entry: entry[0].split(os.sep))
    return _Tree(stamp=tuple((path, info.st_mtime_ns, info.st_size) for path, info in found),
                 dirs=tuple(dirs), files=tuple(_signature(info) for _, info in found),
                 others=tuple(others)), complete
