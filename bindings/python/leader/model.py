"""Model (a loaded student checkpoint) and Session (per-thread serving state) over leader_model_* and
leader_session_*.

A Model is immutable and may be shared by any number of threads; give each thread its own Session (a Session
also serialises its own calls with a lock, so sharing one is safe, only slower). Closing is idempotent and
the order of closing models and sessions does not matter: a session keeps its model alive in the library,
and the Python objects keep each other referenced.
"""
import ctypes
import json
import os
import struct
from ctypes import byref, c_char_p, c_float, c_int32, c_int64
from itertools import accumulate

import numpy as np
import pandas as pd

from . import _capi
from ._fastframe import frame, recommendation_frame
from ._frames import build_batch
from ._header import CONSTANTS
from ._handle import Handle
from .errors import InvalidArgument

lib = _capi.lib

DIAGNOSIS = CONSTANTS["LEADER_KIND_DIAGNOSIS"]
PROCEDURE = CONSTANTS["LEADER_KIND_PROCEDURE"]
MEDICATION = CONSTANTS["LEADER_KIND_MEDICATION"]
THRESHOLD_DEFAULT = CONSTANTS["LEADER_THRESHOLD_DEFAULT"]

# kind name -> LEADER_KIND_* number; the key of a visit dict; the key of the model's vocabularies JSON.
KINDS = {"diagnosis": DIAGNOSIS, "procedure": PROCEDURE, "medication": MEDICATION}
_KIND_NAMES = {v: k for k, v in KINDS.items()}
_PLURAL = {"diagnosis": "diagnoses", "procedure": "procedures", "medication": "medications"}
_KIND_BY_NAME = {**KINDS, **{_PLURAL[k]: v for k, v in KINDS.items()}}
_VISIT_KEYS = ("diagnoses", "procedures", "medications")   # position order of leader.h
_VISIT_KEYSET = frozenset(_VISIT_KEYS)
_ORDER = (DIAGNOSIS, PROCEDURE, MEDICATION)                 # position order as kind numbers


def kind_number(kind) -> int:
    """LEADER_KIND_* of 'diagnosis' / 'procedure' / 'medication' (plural accepted) or of the number itself."""
    if isinstance(kind, (int, np.integer)) and int(kind) in _KIND_NAMES:
        return int(kind)
    try:
        return _KIND_BY_NAME[kind]
    except (KeyError, TypeError):
        raise InvalidArgument(f"unknown code kind {kind!r}; use one of {sorted(KINDS)}") from None


def _encode(code) -> bytes:
    return code.encode() if type(code) is str else str(code).encode()


def _pack_pointers(n, addresses) -> bytes:
    return struct.pack(f"{n}P", *addresses)


class Model(Handle):
    """A student checkpoint loaded for serving. ``Model.load(path)``; close with ``close()`` or ``with``."""

    def __init__(self, handle, path):
        self._adopt(handle, lib.leader_model_free)
        self.path = os.fspath(path)
        out = c_char_p()
        lib.leader_model_info_json(handle, byref(out))
        self.info = json.loads(out.value)
        vocab = self.info["vocabularies"]
        self._codes, self._titles, self._lookup = {}, {}, {}
        for name, kind in KINDS.items():
            entry = vocab[_PLURAL[name]]
            keys = entry["keys"]
            self._codes[kind] = np.array(keys, dtype=object)
            self._titles[kind] = np.array(entry.get("titles") or [""] * len(keys), dtype=object)
            ids = pd.Series(np.arange(len(keys), dtype=np.int32), index=pd.Index(keys, dtype=object))
            self._lookup[kind] = ids[~ids.index.duplicated()]          # code -> id (first id of a key)
        self.profile_fields = [f["name"] for f in self.info.get("profile", {}).get("fields", [])]
        self._profile_values = [pd.Index([str(v) for v in f["values"]], dtype=object)
                                for f in self.info.get("profile", {}).get("fields", [])]
        self.n_medications = len(self._codes[MEDICATION])

    @classmethod
    def load(cls, path) -> "Model":
        """Loads a student checkpoint (.safetensors). Raises IOFailure, BadFile, Incompatible, ..."""
        handle = _capi.model_p()
        lib.leader_model_load(os.fsencode(path), byref(handle))
        return cls(handle, path)

    # -- lifetime (close, with, closed: _handle.Handle) ----------------------------------------------------
    def _live(self):
        if not self._handle:
            raise InvalidArgument(f"model {self.path} is closed")
        return self._handle

    def __repr__(self):
        state = "closed" if self.closed else f"{self.n_medications} medications"
        return f"<leader.Model {self.path!r} {state}>"

    # -- what the checkpoint holds ---------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        return self.info.get("config", {})

    @property
    def threshold(self) -> float:
        """The checkpoint's configured threshold (what LEADER_THRESHOLD_DEFAULT stands for)."""
        return float(self.info["thresholds"]["configured"])

    def vocabulary(self, kind) -> pd.DataFrame:
        """id, code, title of one vocabulary (id = index)."""
        k = kind_number(kind)
        return pd.DataFrame({"id": np.arange(len(self._codes[k]), dtype=np.int32),
                             "code": self._codes[k], "title": self._titles[k]})

    @property
    def medications(self) -> pd.DataFrame:
        return self.vocabulary(MEDICATION)

    @property
    def diagnoses(self) -> pd.DataFrame:
        return self.vocabulary(DIAGNOSIS)

    @property
    def procedures(self) -> pd.DataFrame:
        return self.vocabulary(PROCEDURE)

    def vocabulary_size(self, kind) -> int:
        n = c_int64()
        lib.leader_model_vocabulary_size(self._live(), kind_number(kind), byref(n))
        return n.value

    def code(self, kind, id: int) -> tuple[str, str]:
        """(code, title) of vocabulary id ``id``; InvalidArgument when out of range."""
        code, title = c_char_p(), c_char_p()
        lib.leader_model_code(self._live(), kind_number(kind), int(id), byref(code), byref(title))
        return code.value.decode(), title.value.decode()

    def code_id(self, kind, code) -> int:
        """The vocabulary id of ``code``, -1 when the model does not know it."""
        out = c_int32()
        lib.leader_model_code_id(self._live(), kind_number(kind), _encode(code), byref(out))
        return out.value

    def medication_id(self, medication) -> int:
        if isinstance(medication, (int, np.integer)):
            if not 0 <= medication < self.n_medications:
                raise InvalidArgument(f"medication id {medication} out of range 0..{self.n_medications - 1}")
            return int(medication)
        found = self._lookup[MEDICATION].get(str(medication))
        if found is None:
            raise InvalidArgument(f"medication {medication!r} is not in the model's vocabulary")
        return int(found)

    def session(self, threads: int = 1, precision: str = "fp32", history_visits: int | None = None,
                ddi_filter=None) -> "Session":
        """A serving session (one per thread). threads: workers of the batch calls (0 = all CPUs);
        precision: 'fp32', 'bf16' or 'auto'; history_visits: earlier visits used (default: the checkpoint's);
        ddi_filter: a DDI pair CSV (atc3_a,atc3_b) whose interacting pairs lose their lower-scored drug in
        recommendations (scores are unchanged)."""
        options = {"threads": threads, "precision": precision}
        if history_visits is not None:
            options["historyVisits"] = history_visits
        if ddi_filter is not None:
            options["ddiFilter"] = str(ddi_filter)
        return Session(self, options)


class _Patient:
    """One patient dict as the CSR string arrays of leader_session_recommend / _explain."""

    __slots__ = ("n_visits", "args", "lists", "profile", "n_positions", "_keep")

    def __init__(self, patient):
        try:
            visits = patient["visits"]
        except (KeyError, TypeError):
            raise InvalidArgument("a patient is a dict with 'visits' (a list of visit dicts, the last one "
                                  "current) and optionally 'profile'") from None
        if not visits:
            raise InvalidArgument("a patient needs at least one visit (the current one)")
        lists = ([], [], [])
        offsets = ([0], [0], [0])
        for v, visit in enumerate(visits):
            if not isinstance(visit, dict):
                raise InvalidArgument(f"visit {v}: a visit is a dict with keys {list(_VISIT_KEYS)}")
            for k, key in enumerate(_VISIT_KEYS):
                codes = visit.get(key)
                if codes:
                    if isinstance(codes, str):
                        raise InvalidArgument(f"visit {v}: {key} must be a list of codes, not a string")
                    lists[k].extend(codes)
                offsets[k].append(len(lists[k]))
            if not visit.keys() <= _VISIT_KEYSET:
                raise InvalidArgument(f"visit {v}: unknown keys {sorted(set(visit) - _VISIT_KEYSET)}; "
                                      f"a visit holds {list(_VISIT_KEYS)}")
        profile = patient.get("profile") or {}
        n = len(visits)
        keys = list(profile)
        values = [profile[key] for key in keys]
        strings = lists[0] + lists[1] + lists[2] + keys + values
        try:
            encoded = [*map(str.encode, strings)]
        except TypeError:  # a code that is not a str (an int, say): its str()
            encoded = [str(s).encode() for s in strings]
        # The strings back to back (NUL-terminated) in one bytes object and the array of pointers into it
        # packed at once (filling a ctypes c_char_p array item by item costs a quarter of the C call); the
        # arguments are views into that array and into one array of all offsets.
        blob = b"\0".join(encoded) + b"\0"
        base = ctypes.cast(c_char_p(blob), ctypes.c_void_p).value
        text = bytearray(_pack_pointers(len(encoded) + 1, accumulate([len(e) + 1 for e in encoded], initial=base)))
        offs = (c_int64 * (3 * (n + 1)))(*offsets[0], *offsets[1], *offsets[2])
        visit_offsets = c_int64 * (n + 1)
        at = 0
        args = []
        for k in range(3):
            args += [visit_offsets.from_buffer(offs, 8 * k * (n + 1)),
                     (c_char_p * len(lists[k])).from_buffer(text, 8 * at)]
            at += len(lists[k])
        args += [len(keys), (c_char_p * len(keys)).from_buffer(text, 8 * at),
                 (c_char_p * len(keys)).from_buffer(text, 8 * (at + len(keys)))]
        self.n_visits = n
        self.args = args
        self._keep = (blob, text, offs)
        self.lists = (lists, offsets)
        self.profile = list(zip(keys, values))
        self.n_positions = at + len(keys)

    def positions(self, model, positions) -> pd.DataFrame:
        """kind, code, title, visit of input positions (numbered as leader.h says)."""
        lists, offsets = self.lists
        kinds, codes, titles, visits = [], [], [], []
        sizes = [len(lists[0]), len(lists[1]), len(lists[2])]
        for p in positions:
            p = int(p)
            for k in range(3):
                if p < sizes[k]:
                    code, kind = lists[k][p], _ORDER[k]
                    kinds.append(_KIND_NAMES[kind])
                    codes.append(str(code))
                    found = model._lookup[kind].get(str(code))
                    titles.append(model._titles[kind][found] if found is not None else "")
                    visits.append(int(np.searchsorted(offsets[k], p, side="right")) - 1)
                    break
                p -= sizes[k]
            else:
                key, value = self.profile[p]
                kinds.append("profile")
                codes.append(f"{key}={value}")
                titles.append("")
                visits.append(-1)
        return pd.DataFrame({"kind": kinds, "code": codes, "title": titles,
                             "visit": np.array(visits, dtype=np.int64)})


class Session(Handle):
    """Per-thread serving state: recommend / explain one patient, score many. Made by ``Model.session()``."""

    def __init__(self, model: Model, options: dict):
        handle = _capi.session_p()
        lib.leader_session_create(model._live(), json.dumps(options).encode(), byref(handle))
        self._adopt(handle, lib.leader_session_free)
        self.model = model            # keeps the Python model (and its vocabulary caches) alive
        self.options = options
        n = max(model.n_medications, 1)
        self._ids = np.empty(n, dtype=np.int32)
        self._scores = np.empty(n, dtype=np.float32)
        self._ids_p = self._ids.ctypes.data_as(_capi.c_int32_p)
        self._scores_p = self._scores.ctypes.data_as(_capi.c_float_p)
        self._n = c_int64()
        self._n_unknown = c_int64()
        self._unknown = np.empty(256, dtype=np.int64)
        self._unknown_p = self._unknown.ctypes.data_as(_capi.c_int64_p)
        self._outputs = None                           # recommend's output arguments, made once
        self._med_codes = model._codes[MEDICATION]
        self._med_titles = model._titles[MEDICATION]

    # -- lifetime (close, with, closed: _handle.Handle) ----------------------------------------------------
    def _live(self):
        if not self._handle:
            raise InvalidArgument("session is closed")
        return self._handle

    # -- one patient -------------------------------------------------------------------------------------------
    def recommend(self, patient, top_k: int = 0, threshold: float | None = None) -> pd.DataFrame:
        """Medications for one patient, best first: rank, medication, title, score.

        patient: {"visits": [{"diagnoses": [...], "procedures": [...], "medications": [...]}, ...],
        "profile": {"gender": "F"}} — visits oldest first, the last one current. top_k 0: no limit;
        threshold None: the checkpoint's configured one; 0: plain top-k. Codes the model does not know are
        skipped and listed (kind, code, visit) in ``result.attrs["unknown"]``."""
        p = _Patient(patient)
        th = THRESHOLD_DEFAULT if threshold is None else float(threshold)
        with self._lock:
            if p.n_positions > len(self._unknown):
                self._unknown = np.empty(p.n_positions, dtype=np.int64)
                self._unknown_p = self._unknown.ctypes.data_as(_capi.c_int64_p)
                self._outputs = None
            if self._outputs is None:
                self._outputs = (self._ids_p, self._scores_p, None, len(self._ids), byref(self._n),
                                 self._unknown_p, len(self._unknown), byref(self._n_unknown))
            lib.leader_session_recommend(self._live(), p.n_visits, *p.args, int(top_k), th, *self._outputs)
            n = self._n.value
            ids = self._ids[:n].copy()
            scores = self._scores[:n].copy()
            unknown = self._unknown[:self._n_unknown.value].copy() if self._n_unknown.value else None
        out = recommendation_frame(np.arange(1, n + 1, dtype=np.int64), self._med_codes[ids],
                                   self._med_titles[ids], scores)
        out.attrs["unknown"] = None if unknown is None else p.positions(self.model, unknown).drop(columns="title")
        return out

    def explain(self, patient, medication) -> pd.DataFrame:
        """Why ``medication`` (code or id) is recommended: kind, code, title, visit, contribution per known
        input code (visit -1 for profile pairs), largest contribution first. By occlusion: the score minus
        the score without that code. ``result.attrs["score"]`` is the patient's score for the medication."""
        mid = self.model.medication_id(medication)
        p = _Patient(patient)
        cap = max(p.n_positions, 1)
        positions = np.empty(cap, dtype=np.int64)
        contributions = np.empty(cap, dtype=np.float32)
        score, n = c_float(), c_int64()
        with self._lock:
            lib.leader_session_explain(self._live(), p.n_visits, *p.args, mid, byref(score),
                                       positions.ctypes.data_as(_capi.c_int64_p),
                                       contributions.ctypes.data_as(_capi.c_float_p), cap, byref(n))
        out = p.positions(self.model, positions[:n.value])
        out["contribution"] = contributions[:n.value]
        out.attrs["score"] = score.value
        out.attrs["medication"] = self.model._codes[MEDICATION][mid]
        return out

    # -- many patients ------------------------------------------------------------------------------------------
    def score_matrix(self, events: pd.DataFrame, profile=None):
        """(patients, scores, unknown_count): scores is a float32 array, one row per patient (in order of first
        appearance in ``events``), one column per medication id. See ``scores`` for the input."""
        b = build_batch(self.model, events, profile)
        n_pat = len(b.patients)
        out = np.empty((n_pat, self.model.n_medications), dtype=np.float32)
        if n_pat:
            i64, i32 = _capi.c_int64_p, _capi.c_int32_p
            labels = b.labels.ctypes.data_as(i32) if b.labels is not None else None
            with self._lock:
                lib.leader_session_score_batch_ids(
                    self._live(), n_pat, b.visit_offsets.ctypes.data_as(i64),
                    b.offsets[0].ctypes.data_as(i64), b.ids[0].ctypes.data_as(i32),
                    b.offsets[1].ctypes.data_as(i64), b.ids[1].ctypes.data_as(i32),
                    b.offsets[2].ctypes.data_as(i64), b.ids[2].ctypes.data_as(i32),
                    labels, out.ctypes.data_as(_capi.c_float_p), out.size)
        return b.patients, out, b.n_unknown

    def scores(self, events: pd.DataFrame, profile=None) -> pd.DataFrame:
        """Every medication's score for every patient of a long-format table.

        events: columns patient, visit, kind ('diagnosis' | 'procedure' | 'medication'), code; a patient's
        visits are ordered by ``visit``, the last one is current. profile: None (columns of ``events`` named
        like the model's profile fields are used, first row per patient), or a DataFrame with a 'patient'
        column (or index) and one column per profile field. Returns a float32 DataFrame indexed by patient
        (order of first appearance), one column per medication code; ``attrs["unknown"]`` counts skipped codes.
        Each row equals ``recommend(patient, top_k=0, threshold=0)`` bitwise."""
        patients, out, n_unknown = self.score_matrix(events, profile)
        frame = pd.DataFrame(out, index=patients.rename("patient"),
                             columns=pd.Index(self.model._codes[MEDICATION], name="medication"), copy=False)
        frame.attrs["unknown"] = n_unknown
        return frame

    def recommend_batch(self, events: pd.DataFrame, profile=None, top_k: int = 0,
                        threshold: float | None = None) -> pd.DataFrame:
        """``recommend`` for every patient of a long-format table (see ``scores``): patient, rank, medication,
        title, score, best first within each patient."""
        patients, s, n_unknown = self.score_matrix(events, profile)
        th = np.float32(self.model.threshold if threshold is None else threshold)
        if top_k < 0 or th > 1:
            raise InvalidArgument(f"top_k {top_k} < 0 or threshold {float(th)} > 1")
        k = s.shape[1] if top_k == 0 else min(int(top_k), s.shape[1])
        order = np.argsort(-s, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(s, order, axis=1)
        keep = top >= th
        rows, cols = np.nonzero(keep)
        ids = order[rows, cols]
        m = self.model
        out = frame({"patient": patients.take(rows).array, "rank": (cols + 1).astype(np.int64),
                      "medication": m._codes[MEDICATION][ids], "title": m._titles[MEDICATION][ids],
                      "score": top[rows, cols]})
        out.attrs["unknown"] = n_unknown
        return out
