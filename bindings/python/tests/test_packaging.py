"""Packaging: the wheel of `make dist-python` in a fresh virtualenv (no system site-packages, no LEADER_LIBRARY)
finds its own libleader.so and serves; `pip install -e bindings/python` works; deps-python installs what the
tests import."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import leader

ROOT = Path(__file__).resolve().parents[3]
BINDING = ROOT / "bindings/python"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

SERVE = """
import json, sys
import leader
model = leader.Model.load(sys.argv[1])
session = model.session()
codes = model.diagnoses.code
r = session.recommend({"visits": [{"diagnoses": list(codes[:2])}, {"diagnoses": list(codes[2:4])}]}, top_k=3,
                      threshold=0)
print(json.dumps({"library": leader.library_path(), "package": leader.__file__, "top": r.medication.tolist()}))
"""


def _clean_env():
    env = {k: v for k, v in os.environ.items() if k not in ("LEADER_LIBRARY", "PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd, **kw):
    run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    assert run.returncode == 0, f"{cmd}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    return run.stdout


def test_deps_python_installs_what_pyproject_declares():
    project = tomllib.loads((BINDING / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!;\s]", d)[0] for d in project["dependencies"] + project["optional-dependencies"]["test"]}
    makefile = (ROOT / "Makefile").read_text()
    def variable(name):  # a Makefile variable's words, continuation lines included
        return re.search(rf"^{name}\s*:=\s*((?:.*\\\n)*.*)$", makefile, flags=re.M).group(1).replace("\\", " ").split()
    listed = {re.split(r"[<>=!;\s]", p)[0] for p in variable("PY_PACKAGES") + variable("PY_TORCH")}
    assert declared == listed


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtualenv (no --system-site-packages) with the wheel installed from a temporary folder."""
    home = tmp_path_factory.mktemp("venv")
    wheel_dir = home / "dist"
    _run([sys.executable, BINDING / "tools/build_wheel.py", "--library", leader.library_path(),
          "--header", ROOT / "include/leader.h", "--out", wheel_dir])
    (wheel,) = wheel_dir.glob("leader-*.whl")
    _run([sys.executable, "-m", "venv", home / "env"])
    python = home / "env/bin/python"
    _run([python, "-m", "pip", "install", "-q", wheel], env=_clean_env(), cwd=home)
    return python, wheel, home


def test_wheel_holds_library_and_header(venv):
    _, wheel, _ = venv
    names = zipfile.ZipFile(wheel).namelist()
    assert {"leader/libleader.so", "leader/leader.h", "leader/__init__.py", "leader/_capi.py"} <= set(names)
    assert re.fullmatch(r"leader-[\d.]+-py3-none-linux_\w+\.whl", wheel.name)


def test_wheel_in_fresh_venv_finds_its_library_and_serves(venv, checkpoint):
    python, _, home = venv
    out = _run([python, "-c", "import sys; print(sys.flags.no_site, sys.prefix != sys.base_prefix)"],
               env=_clean_env(), cwd=home)
    assert out.split() == ["0", "True"]
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=_clean_env())
    assert "include-system-site-packages = false" in (home / "env/pyvenv.cfg").read_text()
    result = json.loads(_run([python, "-c", SERVE, checkpoint], env=_clean_env(), cwd=home))
    assert result["library"].startswith(site.strip()), result
    assert result["package"].startswith(site.strip()), result
    assert len(result["top"]) == 3


PREPARE_WITH_SHIPPED_MAPS = """
import json, sys, pandas as pd, leader
folder, out = sys.argv[1], sys.argv[2]
with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 40, "seed": 2, "input": folder,
                     "out": out}) as job:
    job.run()
frames = {name: pd.read_csv(f"{folder}/{name}.csv", dtype=str, keep_default_na=False) for name in
          leader.TABLES["mimic3"]["required"]}
print(json.dumps(leader.prepare("mimic3", frames, out)["report"]["medicationRows"]))   # no maps: the wheel's
"""


def test_wheel_carries_the_shipped_maps(venv, tmp_path):
    python, wheel, home = venv
    names = zipfile.ZipFile(wheel).namelist()
    assert {"leader/data/ndc2atc3.csv", "leader/data/gsn_atc_ndc_mapping.csv.gz", "leader/data/LICENSE-ethos",
            "leader/data/ddi_atc3_pairs.csv"} <= set(names)
    rows = json.loads(_run([python, "-c", PREPARE_WITH_SHIPPED_MAPS, tmp_path / "cohort", tmp_path / "c.ldata"],
                           env=_clean_env(), cwd=home))
    assert set(rows) == {"ndc", "gsn", "name", "unmapped"}   # the synthetic cohort's own maps have no GSN route
    assert rows["unmapped"] < 0.05 * sum(rows.values()), rows


def test_editable_install(venv, checkpoint):
    """`pip install -e bindings/python`, on a copy of the tree (setuptools writes leader.egg-info into it)."""
    python, _, home = venv
    tree = home / "tree"
    shutil.copytree(BINDING, tree / "bindings/python", ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info", ".pytest_cache", "libleader.so", "leader.h"))
    shutil.copytree(ROOT / "include", tree / "include")
    _run([python, "-m", "pip", "uninstall", "-y", "-q", "leader"], env=_clean_env(), cwd=home)
    _run([python, "-m", "pip", "install", "-q", "-e", tree / "bindings/python"], env=_clean_env(), cwd=home)
    env = {**_clean_env(), "LEADER_LIBRARY": leader.library_path()}
    result = json.loads(_run([python, "-c", SERVE, checkpoint], env=env, cwd=home))
    assert Path(result["package"]).resolve().is_relative_to(tree / "bindings/python")
    assert len(result["top"]) == 3
