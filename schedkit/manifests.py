"""Read Kubernetes objects from the files users already have.

Accepts one object, multi-document YAML, a ``kind: List`` / ``NodeList`` / ``PodList`` (what
``kubectl get ... -o json`` prints; ``items: null`` counts as empty), or a directory of such files
(read recursively in sorted path order, ``*.yaml``, ``*.yml`` and ``*.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator

import yaml

from .errors import InputError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class SourcedObject:
    """A Kubernetes object and where it came from, for error messages."""

    obj: dict[str, Any]
    source: str  # file name
    field: str  # path of the object inside the file, e.g. "items[3]" or "document 2"


class _SafeLoader(yaml.SafeLoader):
    """YAML 1.1 would turn `on`/`yes` into booleans and `1e3` into a string; Kubernetes (sigs.k8s.io/yaml)
    parses quantities from strings anyway, so we only need the safe loader."""


def read_documents(path: str) -> list[Any]:
    """The YAML (or JSON) documents in one file; errors name the file and the line."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise InputError("no such file or directory", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", source=path) from None
    if path.endswith(".json"):
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=path) from None
        except RecursionError:
            raise InputError("malformed JSON: nested too deeply", source=path) from None
    try:
        return [doc for doc in yaml.load_all(text, Loader=_SafeLoader) if doc is not None]
    except RecursionError:
        raise InputError("malformed YAML: nested too deeply", source=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML{where}: {problem}", source=path) from None


def _flatten(doc: Any, source: str, field: str) -> Iterator[SourcedObject]:
    if not isinstance(doc, dict):
        raise InputError(f"expected a Kubernetes object (a mapping), got {type(doc).__name__}", source, field)
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc.get("items") or []
        if not isinstance(items, list):
            raise InputError("expected a list", source, f"{field}.items" if field else "items")
        for index, item in enumerate(items):
            yield from _flatten(item, source, f"{field}.items[{index}]" if field else f"items[{index}]")
        return
    yield SourcedObject(doc, source, field)


def manifest_files(path: str) -> list[str]:
    """The manifest files under ``path`` (itself if it is a file), sorted for a stable order."""
    if os.path.isdir(path):
        found = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(MANIFEST_SUFFIXES):
                    found.append(os.path.join(root, name))
        if not found:
            raise InputError("directory holds no .yaml, .yml or .json files", source=path)
        return found
    if not os.path.exists(path):
        raise InputError("no such file or directory", source=path)
    return [path]


def load_objects(paths: str | list[str]) -> list[SourcedObject]:
    """Every object in the given files or directories, in file order."""
    if isinstance(paths, str):
        paths = [paths]
    objects: list[SourcedObject] = []
    for path in paths:
        for file in manifest_files(path):
            documents = read_documents(file)
            multi = len(documents) > 1
            for index, doc in enumerate(documents):
                field = f"document {index + 1}" if multi else ""
                objects.extend(_flatten(doc, file, field))
    return objects
