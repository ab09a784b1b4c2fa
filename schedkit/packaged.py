"""Files schedkit reads at run time that ship inside the package: the bundled sample trace and the
examples the docs run.

In the source checkout they live at the top level (``traces/sample/``, ``examples/``); an install
(wheel, sdist, plain or editable) puts them under ``schedkit/_data/`` (pyproject.toml's package-dir), so
they are found through ``importlib.resources`` wherever schedkit runs from.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# name -> (folder under schedkit/_data when installed, folder in the source checkout)
_FOLDERS = {
    "sample": ("sample", Path("traces") / "sample"),
    "examples": ("examples", Path("examples")),
}


def _folder(name: str) -> Path:
    installed, in_checkout = _FOLDERS[name]
    package = Path(str(files("schedkit")))
    packaged = package / "_data" / installed
    if packaged.is_dir():
        return packaged
    return package.parent / in_checkout  # a source checkout or an editable install of one


def sample_trace() -> Path:
    """The bundled sample trace: a folder with ``nodes.csv`` and ``pods.csv``."""
    return _folder("sample")


def examples() -> Path:
    """The folder of example manifests and configurations (cluster.yaml, pod.yaml, most-allocated.yaml)."""
    return _folder("examples")
