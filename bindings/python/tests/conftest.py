"""Shared fixtures: one small synthetic cohort and student checkpoint per test session, made through
leader.Trainer (a few seconds), and a Model loaded from it."""
import os
import sys
from pathlib import Path

import pytest

# Import the package from the source tree (no install needed); subprocesses (examples, notebook kernels,
# Dask workers) get the same through PYTHONPATH.
BINDING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BINDING))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(BINDING), os.environ.get("PYTHONPATH")) if p)

ROOT = Path(__file__).resolve().parents[3]
PATIENTS = 300


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("leader")


@pytest.fixture(scope="session")
def cohort(workdir):
    """A prepared synthetic dataset (.ldata) of 300 patients."""
    import leader
    out = workdir / "cohort.ldata"
    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": PATIENTS, "seed": 1,
                         "out": str(out)}) as job:
        job.run()
    return out


@pytest.fixture(scope="session")
def checkpoint(workdir, cohort):
    """A student checkpoint trained for 2 epochs on the cohort."""
    import leader
    out = workdir / "student.safetensors"
    with leader.Trainer({"task": "student", "data": str(cohort), "out": str(out),
                         "config": {"epochs": 2, "seed": 1}}) as job:
        job.run()
    return out


@pytest.fixture(scope="session")
def model(checkpoint):
    import leader
    with leader.Model.load(checkpoint) as m:
        yield m


@pytest.fixture(scope="session")
def patients(model):
    from helpers import random_patients
    return random_patients(model, 60, seed=3)
