"""The Python examples run as a user runs them: quickstart.py, quickstart.ipynb (nbclient) and the Dask
distributed scoring example on 2 worker processes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "Examples/python"
SYNC = ROOT / "bindings/python/tools/sync_notebook.py"


def _env(**extra):
    return {**os.environ, "MPLBACKEND": "Agg", **extra}   # PYTHONPATH: conftest.py


def test_quickstart_script(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=_env(LEADER_QUICKSTART_OUT=str(out)))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (out / "quickstart.png").stat().st_size > 5000
    assert (out / "student.safetensors").is_file()
    assert "score" in run.stdout and "contribution" in run.stdout


def test_notebook_is_in_sync_with_the_script():
    run = subprocess.run([sys.executable, str(SYNC), "--check"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_quickstart_notebook_executes(tmp_path):
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    os.environ["LEADER_QUICKSTART_OUT"] = str(tmp_path / "nb-out")   # the kernel inherits this environment
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        del os.environ["LEADER_QUICKSTART_OUT"]
    assert (tmp_path / "nb-out" / "quickstart.png").is_file()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "contribution" in text and "medication" in text


def test_distributed_scoring_on_two_workers(checkpoint):
    require("distributed")
    run = subprocess.run([sys.executable, str(EXAMPLES / "distributed_scoring.py"), str(checkpoint),
                          "--patients", "600", "--workers", "2", "--partitions", "6", "--verify"],
                         capture_output=True, text=True, timeout=300, env=_env())
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "patients/s" in run.stdout and "verified" in run.stdout
