"""Patients for the tests, made from a model's own vocabularies (so they fit any checkpoint), and
`require`, the one way a test says it needs an optional package."""
import importlib
import os

import numpy as np
import pandas as pd
import pytest


def require(module):
    """Imports `module`. Where it is missing, the test is skipped by name (pytest -rs lists it) — or fails when
    `CI` is set, since `make test` installs every package the tests import (make deps-python)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is missing under CI: make deps-python installs it ({e})", pytrace=False)
        pytest.skip(f"needs {module} (make deps-python installs it)")

UNKNOWN = {"diagnoses": "ZZZ-not-a-diagnosis", "procedures": "ZZZ-not-a-procedure",
           "medications": "ZZZ-not-a-medication"}
KIND = {"diagnoses": "diagnosis", "procedures": "procedure", "medications": "medication"}


def random_patients(model, n, seed=0, max_visits=4, unknown_rate=0.05):
    """n patient dicts: 1..max_visits visits of a few codes each (some unknown), a profile from the model's
    fields (some values unknown, some fields left out)."""
    rng = np.random.default_rng(seed)
    vocab = {"diagnoses": model.diagnoses.code.to_numpy(), "procedures": model.procedures.code.to_numpy(),
             "medications": model.medications.code.to_numpy()}
    fields = model.info["profile"]["fields"]
    patients = []
    for _ in range(n):
        visits = []
        for _ in range(int(rng.integers(1, max_visits + 1))):
            visit = {}
            for key, codes in vocab.items():
                k = int(rng.integers(1 if key == "diagnoses" else 0, 6))   # no visit without codes
                chosen = [str(c) for c in rng.choice(codes, size=min(k, len(codes)), replace=False)] if len(codes) else []
                if rng.random() < unknown_rate:
                    chosen.append(UNKNOWN[key])
                visit[key] = chosen
            visits.append(visit)
        profile = {}
        for field in fields:
            r = rng.random()
            if r < 0.7 and len(field["values"]) > 1:
                profile[field["name"]] = str(rng.choice(field["values"][1:]))
            elif r < 0.8:
                profile[field["name"]] = "not-a-value"
        patients.append({"visits": visits, "profile": profile})
    return patients


def to_frames(patients, ids=None):
    """Long-format events (patient, visit, kind, code) and a wide profile frame (patient + one column per
    field) of patient dicts."""
    ids = list(range(len(patients))) if ids is None else ids
    rows = []
    for pid, patient in zip(ids, patients):
        for v, visit in enumerate(patient["visits"]):
            for key, codes in visit.items():
                rows += [(pid, v, KIND[key], c) for c in codes]
    events = pd.DataFrame(rows, columns=["patient", "visit", "kind", "code"])
    profile = pd.DataFrame([{"patient": pid, **p.get("profile", {})} for pid, p in zip(ids, patients)])
    return events, profile

