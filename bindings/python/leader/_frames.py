"""Long-format patient tables -> the id CSR arrays of leader_session_score_batch_ids, with vectorised
numpy / pandas operations only (no Python loop over rows, visits or patients).

events: one row per code: patient, visit, kind ('diagnosis' | 'procedure' | 'medication', plural accepted),
code. Patients are numbered by first appearance; a patient's visits are ordered by the visit column (numbers,
dates or strings). Codes the model does not know (and missing codes) are dropped and counted.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._header import CONSTANTS
from .errors import InvalidArgument

COLUMNS = ("patient", "visit", "kind", "code")
KIND_NUMBERS = (CONSTANTS["LEADER_KIND_DIAGNOSIS"], CONSTANTS["LEADER_KIND_PROCEDURE"],
                CONSTANTS["LEADER_KIND_MEDICATION"])
_KIND_OF_NAME = dict(zip(["diagnosis", "procedure", "medication", "diagnoses", "procedures", "medications"],
                         KIND_NUMBERS * 2))


@dataclass
class Batch:
    patients: pd.Index          # patient labels, row order of the result
    visit_offsets: np.ndarray   # int64 [n_patients + 1]
    offsets: tuple              # per kind: int64 [n_visits + 1]
    ids: tuple                  # per kind: int32 vocabulary ids
    labels: np.ndarray | None   # int32 [n_patients, n_fields] or None (all unknown)
    n_unknown: int


def _visit_keys(visit: pd.Series) -> np.ndarray:
    values = visit.to_numpy()
    if values.dtype.kind in "iub":
        return values.astype(np.int64, copy=False)
    if values.dtype.kind == "M":
        return values.view(np.int64)
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            raise InvalidArgument("events: the visit column has missing values")
        return values
    codes, _ = pd.factorize(visit, sort=True)
    if (codes < 0).any():
        raise InvalidArgument("events: the visit column has missing values")
    return codes.astype(np.int64, copy=False)


def _code_ids(model, code: pd.Series, kind: np.ndarray) -> np.ndarray:
    """int32 vocabulary id of each row's code in its kind's vocabulary, -1 when unknown or missing."""
    if isinstance(code.dtype, pd.CategoricalDtype):
        inverse, uniques = code.cat.codes.to_numpy(), code.cat.categories
    else:
        inverse, uniques = pd.factorize(code)
    uniques = pd.Index(uniques)
    if uniques.dtype.kind != "O" and not pd.api.types.is_string_dtype(uniques.dtype):
        uniques = uniques.astype(str)
    table = np.full((max(KIND_NUMBERS) + 1, len(uniques) + 1), -1, dtype=np.int32)   # last column: missing
    for k in KIND_NUMBERS:
        lookup = model._lookup[k]
        pos = lookup.index.get_indexer(uniques)
        table[k, :-1] = np.where(pos >= 0, lookup.to_numpy()[pos], -1)
    return table[kind, inverse]  # inverse -1 (missing) picks the last column


def _profile_labels(model, patients: pd.Index, events: pd.DataFrame, first_rows, profile):
    fields = model.profile_fields
    if not fields:
        return None, 0
    if profile is None:
        present = [f for f in fields if f in events.columns]
        if not present:
            return None, 0
        table = {f: events[f].to_numpy()[first_rows] for f in present}
        extra = 0
    else:
        if not isinstance(profile, pd.DataFrame):
            raise InvalidArgument("profile must be a DataFrame (a 'patient' column or index, one column per field)")
        frame = profile.set_index("patient") if "patient" in profile.columns else profile
        if not frame.index.is_unique:
            raise InvalidArgument("profile: more than one row for a patient")
        frame = frame.reindex(patients)
        table = {f: frame[f].to_numpy() for f in fields if f in frame.columns}
        extra = int(sum(frame[c].notna().sum() for c in frame.columns if c not in fields))
    labels = np.zeros((len(patients), len(fields)), dtype=np.int32)
    unknown = extra
    for j, field in enumerate(fields):
        if field not in table:
            continue
        values = pd.Series(table[field])
        given = values.notna().to_numpy()
        pos = model._profile_values[j].get_indexer(values.where(values.isna(), values.astype(str)))
        unknown += int((given & (pos < 0)).sum())
        labels[:, j] = np.maximum(pos, 0)
    return labels, unknown


def build_batch(model, events: pd.DataFrame, profile=None) -> Batch:
    if not isinstance(events, pd.DataFrame):
        raise InvalidArgument("events must be a pandas DataFrame with columns patient, visit, kind, code")
    missing = [c for c in COLUMNS if c not in events.columns]
    if missing:
        raise InvalidArgument(f"events: missing columns {missing} (need {list(COLUMNS)})")
    n = len(events)
    if n == 0:
        empty = np.zeros(1, dtype=np.int64)
        return Batch(pd.Index([], name="patient"), empty, (empty,) * 3, (np.zeros(0, np.int32),) * 3, None, 0)

    patient, patients = pd.factorize(events["patient"])
    if (patient < 0).any():
        raise InvalidArgument("events: the patient column has missing values")
    patients = pd.Index(patients, name="patient")
    patient = patient.astype(np.int64, copy=False)
    visit = _visit_keys(events["visit"])
    kind_codes, kinds_seen = pd.factorize(events["kind"])
    lookup = np.array([_KIND_OF_NAME.get(k, -1) if isinstance(k, str) else -1 for k in kinds_seen] + [-1],
                      dtype=np.intp)
    kind = lookup[kind_codes]                                     # code -1 (missing) -> the last entry, -1
    if (kind < 0).any():
        bad = sorted(str(k) for k in kinds_seen if _KIND_OF_NAME.get(k) is None)
        bad += ["<missing>"] if (kind_codes < 0).any() else []
        raise InvalidArgument(f"events: unknown kind values {bad[:5]}; use diagnosis, procedure, medication")
    ids = _code_ids(model, events["code"], kind)

    # Rows ordered by (patient, visit); a table already grouped that way (the usual case) is not re-sorted.
    dp, dv = np.diff(patient), np.diff(visit)
    if not ((dp > 0) | ((dp == 0) & (dv >= 0))).all():
        order = np.lexsort((visit, patient))
        patient, visit, kind, ids = patient[order], visit[order], kind[order], ids[order]
        dp, dv = np.diff(patient), np.diff(visit)
    else:
        order = None

    new_visit = np.empty(n, dtype=bool)
    new_visit[0] = True
    np.logical_or(dp != 0, dv != 0, out=new_visit[1:])
    visit_id = np.cumsum(new_visit) - 1
    n_visits = int(visit_id[-1]) + 1
    n_patients = len(patients)
    visit_offsets = np.zeros(n_patients + 1, dtype=np.int64)
    np.cumsum(np.bincount(patient[new_visit], minlength=n_patients), out=visit_offsets[1:])

    known = ids >= 0
    offsets, values = [], []
    for k in KIND_NUMBERS:   # diagnoses, procedures, medications: the argument order of leader.h
        rows = known & (kind == k)
        off = np.zeros(n_visits + 1, dtype=np.int64)
        np.cumsum(np.bincount(visit_id[rows], minlength=n_visits), out=off[1:])
        offsets.append(off)
        values.append(np.ascontiguousarray(ids[rows], dtype=np.int32))

    new_patient = np.empty(n, dtype=bool)
    new_patient[0] = True
    np.not_equal(dp, 0, out=new_patient[1:])
    first_rows = np.flatnonzero(new_patient)
    if order is not None:
        first_rows = order[first_rows]
    labels, unknown_profile = _profile_labels(model, patients, events, first_rows, profile)
    return Batch(patients, visit_offsets, tuple(offsets), tuple(values), labels,
                 int(n - known.sum()) + unknown_profile)
