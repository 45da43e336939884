"""Reference data of the catalog that ships with the code: the key Grafana dashboards (the
home page's links, and the dashboards catalog entries point at) and the remediation of
each single point of failure the dependency graph page may find.

Both are reviewed platform design, kept as YAML in portal/catalog/data/ like the DR
scenarios (portal/catalog/dr.py): read with the bounded safe YAML loader, checked field by
field, once at import so a broken file stops the portal from starting rather than blanking
a page. Other domains read them through portal.catalog.service.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from portal.untrusted_yaml import UntrustedYamlError, load_all

DATA = Path(__file__).parent / "data"
DASHBOARDS_FILE = DATA / "dashboards.yaml"
REMEDIATIONS_FILE = DATA / "spof_remediations.yaml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PATH = re.compile(r"^/d/[a-z0-9]+(?:-[a-z0-9]+)*$")


class ReferenceFileError(ValueError):
    """A reference data file is not what its page needs; the message names what and where."""


class DashboardLink(NamedTuple):
    """A key Grafana dashboard (a tuple, so templates can unpack title, path, description)."""

    title: str
    path: str  # /d/<uid>, below Grafana's address
    description: str


def _document(path: Path, key: str, kind: type) -> Any:  # a list or a dict, as `kind`
    try:
        documents = load_all(path.read_text())
    except (OSError, UntrustedYamlError) as exc:
        raise ReferenceFileError(f"{path.name}: {exc}") from exc
    if len(documents) != 1 or not isinstance(documents[0], dict) or \
            set(documents[0]) != {key} or not isinstance(documents[0][key], kind):
        raise ReferenceFileError(f"{path.name}: one document with a `{key}` "
                                 f"{'list' if kind is list else 'mapping'} expected")
    return documents[0][key]


def _text(raw: dict, name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ReferenceFileError(f"{where}: {name} must be a non-empty text")
    return value.strip()


def load_dashboards(path: Path = DASHBOARDS_FILE) -> tuple[DashboardLink, ...]:
    """The dashboards of the file, in its order; ReferenceFileError says what is wrong."""
    found = []
    for index, raw in enumerate(_document(path, "dashboards", list)):
        where = f"{path.name}: dashboard {index + 1}"
        if not isinstance(raw, dict):
            raise ReferenceFileError(f"{where} is not a mapping")
        unknown = set(raw) - set(DashboardLink._fields)
        if unknown:
            raise ReferenceFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        link = DashboardLink(*(_text(raw, name, where) for name in DashboardLink._fields))
        if not _PATH.match(link.path):
            raise ReferenceFileError(f"{where}: path must be /d/<uid> (lowercase words "
                                     "joined by '-')")
        found.append(link)
    paths = [d.path for d in found]
    if len(set(paths)) != len(paths):
        raise ReferenceFileError(f"{path.name}: a dashboard path is used twice")
    return tuple(found)


def load_remediations(path: Path = REMEDIATIONS_FILE) -> dict[str, str]:
    """Catalog entry slug -> how to remove it as a single point of failure."""
    raw = _document(path, "remediations", dict)
    for slug in raw:
        if not isinstance(slug, str) or not _SLUG.match(slug):
            raise ReferenceFileError(f"{path.name}: {slug!r} is not a catalog entry slug")
    return {slug: _text(raw, slug, path.name) for slug in raw}


# Read once at import: the files ship with the code.
DASHBOARDS = load_dashboards()
SPOF_REMEDIATIONS = load_remediations()
