"""Load YAML that a user uploaded or pasted, with bounds on depth and alias expansion.

PyYAML's composer recurses once per nesting level, so a document nested a few thousand
levels deep raises RecursionError; and aliases let an 800-byte file expand into hundreds of
thousands of characters. Anchors and aliases are legitimate (catalog files use them), so
they are allowed, but the document as it would be expanded must stay within ``max_nodes``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import CollectionEndEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 64
MAX_NODES = 20_000


class UntrustedYamlError(ValueError):
    """The text is not YAML we accept; the message says why, for the person who sent it."""


def load_all(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> list[Any]:
    """Every document of ``text`` as plain Python data (None documents dropped), bounded."""
    if "\x00" in text:
        raise UntrustedYamlError("The file contains a NUL byte.")
    try:
        _check_depth(text, max_depth=max_depth)
        loader = yaml.SafeLoader(text)
        try:
            documents = []
            budget = _Budget(max_nodes)
            while loader.check_node():
                node = loader.get_node()
                assert node is not None  # check_node() said there is one
                budget.spend(_expanded_size(node, {}))
                data = loader.construct_document(node)
                if data is not None:
                    documents.append(data)
            return documents
        finally:
            loader.dispose()
    except UntrustedYamlError:
        raise
    except yaml.YAMLError as exc:
        raise UntrustedYamlError(f"Not valid YAML: {_short(exc)}") from None
    except (ValueError, OverflowError) as exc:
        # The constructors raise these for scalars they cannot build: an integer past
        # Python's digit limit, an impossible timestamp such as 2026-02-30.
        raise UntrustedYamlError(f"A value cannot be read: {exc}") from None


def load_one(text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> Any:
    """The single document of ``text`` (None when empty); more than one is refused."""
    documents = load_all(text, max_depth=max_depth, max_nodes=max_nodes)
    if len(documents) > 1:
        raise UntrustedYamlError("Expected one YAML document, found several.")
    return documents[0] if documents else None


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise UntrustedYamlError(
                f"The document is too large once its aliases are expanded "
                f"(more than {self.limit} values)."
            )


def _check_depth(text: str, *, max_depth: int) -> None:
    # Walk the event stream (iterative) before composing: the composer itself is recursive.
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                raise UntrustedYamlError(f"The document is nested deeper than {max_depth} levels.")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    # Aliased nodes are the same object: memoise by identity so the walk stays linear while
    # the count reflects every place the alias would be expanded.
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a self-referencing alias counts once instead of looping
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[key] = size
    return size


def _short(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark else str(problem)
