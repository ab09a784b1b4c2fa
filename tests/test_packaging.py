"""Installing schedkit: packaged data found wherever it runs, the source checkout importable as it stands,
output folders made like ``mkdir -p`` with the user's umask, and a built wheel that works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import schedkit
from schedkit.cli import main
from schedkit.errors import InputError
from schedkit.packaged import examples, sample_trace
from schedkit.replay.output import write_outputs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILES = {"cluster.yaml", "pod.yaml", "most-allocated.yaml"}


def test_packaged_sample_and_examples_are_found():
    assert {p.name for p in sample_trace().iterdir()} >= {"nodes.csv", "pods.csv"}
    assert {p.name for p in examples().iterdir()} >= EXAMPLE_FILES


def test_examples_command_prints_the_folder_and_copies(tmp_path):
    result = CliRunner().invoke(main, ["examples"])
    assert result.exit_code == 0
    assert Path(result.output.strip()) == examples()
    target = tmp_path / "new" / "examples"
    result = CliRunner().invoke(main, ["examples", "--copy", str(target)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in target.iterdir()} == EXAMPLE_FILES | {"fgd"}
    assert {p.name for p in (target / "fgd").iterdir()} == {"default.yaml", "all.yaml", "configs"}
    assert len(list((target / "fgd" / "configs").iterdir())) == 6
    again = CliRunner().invoke(main, ["examples", "--copy", str(target)])
    assert again.exit_code == 2 and "already holds" in again.output


def _child(code: str, cwd: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environment.update(env)
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(not (ROOT / "plugins" / "__init__.py").exists(), reason="not a source checkout")
def test_source_checkout_is_importable_as_it_stands(tmp_path):
    code = "import schedkit.plugins as p, schedkit as s; print(p.__file__); print(s.__file__)"
    # From inside the checkout (cwd first on sys.path), and from elsewhere through PYTHONPATH.
    for cwd, env in ((str(ROOT), {}), (str(tmp_path), {"PYTHONPATH": str(ROOT)})):
        plugins_file, package_file = _child(code, cwd, **env).splitlines()
        assert Path(plugins_file) == ROOT / "plugins" / "__init__.py"
        assert Path(package_file) == ROOT / "schedkit" / "__init__.py"


@pytest.mark.skipif(not (ROOT / "plugins" / "__init__.py").exists(), reason="not a source checkout")
def test_checkout_plugins_never_come_from_another_copy(tmp_path):
    """A checkout imported first takes its own plugins/ even when another copy of schedkit.plugins
    is importable later on sys.path (an installed or editable copy)."""
    other = tmp_path / "other"
    (other / "schedkit" / "plugins").mkdir(parents=True)
    (other / "schedkit" / "__init__.py").write_text("")
    (other / "schedkit" / "plugins" / "__init__.py").write_text("raise ImportError('the other copy')")
    code = "import schedkit.plugins as p; print(p.__file__)"
    out = _child(code, str(tmp_path), PYTHONPATH=os.pathsep.join([str(ROOT), str(other)]))
    assert Path(out) == ROOT / "plugins" / "__init__.py"


# ------------------------------------------------------------------------------- output folders and modes

CLUSTER = """
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
"""
POD = """
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 100m}}}]}
"""


@pytest.fixture
def small(tmp_path):
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    (tmp_path / "pod.yaml").write_text(POD)
    return str(tmp_path / "cluster.yaml"), str(tmp_path / "pod.yaml")


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_schedule_out_makes_parents_and_follows_the_umask(tmp_path, small, umask):
    cluster, pod = small
    out = tmp_path / "results" / "deep" / "out.json"
    old = os.umask(umask)
    try:
        result = CliRunner().invoke(main, ["schedule", "--cluster", cluster, "--pods", pod, "-o", "json",
                                           "--out", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failed_write_removes_the_folders_it_made(tmp_path):
    out = tmp_path / "a" / "b" / "replay"

    def broken(tmp: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left"):
        write_outputs(str(out), {"summary.json": broken})
    assert not (tmp_path / "a").exists()


def test_replay_outputs_make_parents(tmp_path):
    out = tmp_path / "a" / "b" / "replay"

    def ok(tmp: str) -> None:
        Path(tmp).write_text("{}\n")

    written = write_outputs(str(out), {"summary.json": ok})
    assert [Path(w).name for w in written] == ["summary.json"]
    assert (out / "summary.json").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.skipif(not (ROOT / ".gitignore").exists(), reason="not a source checkout")
def test_default_output_folders_are_ignored_by_git():
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    probe = ["replay-sample-20260101-000000/summary.json", "trace-openb-200n-3000p-s0/pods.csv"]
    proc = subprocess.run(["git", "-C", str(ROOT), "check-ignore", *probe], capture_output=True, text=True)
    assert proc.stdout.split() == probe


# ------------------------------------------------------------------------ the built wheel, run elsewhere


@pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="not a source checkout")
def test_every_subpackage_is_listed_for_installation():
    """``pip install .`` installs only the packages pyproject.toml lists: a new folder of modules under
    schedkit/ that is not listed imports from a checkout and fails from a wheel (the wheel test below needs
    the ``build`` package, so this is checked without it)."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(("schedkit", *init.parent.relative_to(ROOT / "schedkit").parts)).rstrip(".")
             for init in (ROOT / "schedkit").rglob("__init__.py") if "__pycache__" not in init.parts}
    assert found - listed == set()


def test_built_wheel_runs_from_any_folder(tmp_path):
    """``python -m build`` gives an sdist and a wheel (built from the sdist, so the sdist is complete);
    the wheel, installed in a fresh venv, replays the packaged sample and explains the packaged examples
    from a temporary folder."""
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    assert {"schedkit/_data/sample/pods.csv", "schedkit/_data/sample/nodes.csv",
            "schedkit/_data/examples/cluster.yaml", "schedkit/plugins/__init__.py"} <= names
    with tarfile.open(sdists[0]) as sdist:
        members = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"traces/sample/pods.csv", "examples/pod.yaml", "plugins/node_name.py"} <= members

    # A fresh venv that sees this interpreter's packages (numba, pandas, ...) but gets schedkit only from the wheel.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", str(wheels[0])], check=True)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    def schedkit_cmd(*args: str) -> str:
        done = subprocess.run([str(bin_dir / "schedkit"), *args], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, f"schedkit {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    where = subprocess.run([str(bin_dir / "python"), "-c", "import schedkit, schedkit.plugins as p; "
                            "print(schedkit.__file__); print(p.__file__)"], cwd=workdir, env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(w).is_relative_to(venv) for w in where), where
    assert schedkit_cmd("--version").startswith(f"schedkit {schedkit.__version__}")
    folder = Path(schedkit_cmd("examples").strip())
    assert folder.is_relative_to(venv)
    explained = schedkit_cmd("explain", "--cluster", str(folder / "cluster.yaml"), "--pod", str(folder / "pod.yaml"))
    assert "Selected node: cpu-b1" in explained
    schedkit_cmd("replay", "--quiet", "--out", "sample-run")
    assert {p.name for p in (workdir / "sample-run").iterdir()} == {"placements.parquet", "timeline.parquet",
                                                                    "summary.json"}


def test_replay_lock_makes_parents_and_removes_them_when_nothing_was_written(tmp_path):
    from schedkit.replay.output import OutLock

    out = tmp_path / "a" / "b" / "replay"
    with OutLock(str(out)):
        assert out.is_dir()
    assert not (tmp_path / "a").exists()
