"""Compiled templates shared by every app of the process.

Each app has its own Jinja environment (its filters and globals are the app's), and an
environment compiles every template it loads: parsing and generating Python for a page
costs far more than rendering it, and every app of a process (each test builds one)
compiled the same templates again. A Jinja bytecode cache keeps the compiled code per
template; Jinja reuses it only while the checksum of the template's source still matches,
so an edited template is compiled afresh.
"""
from __future__ import annotations

from jinja2.bccache import Bucket, BytecodeCache

# Every app configures Jinja alike (Flask's defaults plus the same filters and globals),
# which is what makes one environment's compiled code valid in another's.
_COMPILED: dict[str, bytes] = {}


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept in this process's memory, keyed by template name and file."""

    def load_bytecode(self, bucket: Bucket) -> None:
        code = _COMPILED.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        _COMPILED[bucket.key] = bucket.bytecode_to_string()


BYTECODE_CACHE = SharedBytecodeCache()
