"""Trainer: one preparation / training / evaluation job over leader_trainer_* (JSON in, JSON out).

    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 300, "seed": 1,
                         "out": "cohort.ldata"}) as job:
        result = job.run(progress=lambda event: print(event["stage"], event["done"], event["total"]))

The job runs on the calling thread with the GIL released (other Python threads go on); the progress
callable is called on that thread with each event as a dict, and a truthy return cancels the job
(Cancelled; nothing half-written is left behind). An exception raised by the callable cancels the job too
and is re-raised from run(); Ctrl-C cancels at the job's next progress event and run() raises
KeyboardInterrupt.
"""
import contextlib
import json
import os
import signal
import threading
from ctypes import byref, c_char_p

import numpy as np
import pandas as pd

from . import _capi
from ._handle import Handle
from .errors import Cancelled, InvalidArgument

lib = _capi.lib


def _json_default(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@contextlib.contextmanager
def _sigint_as_flag(flag: list):
    """While a job runs on the main thread, Ctrl-C only sets `flag` (a KeyboardInterrupt raised inside the
    ctypes callback could not reach run()); the callback then cancels the job and run() raises
    KeyboardInterrupt. Left alone when the program has its own SIGINT handler or runs on another thread."""
    previous = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous = signal.signal(signal.SIGINT, lambda *_: flag.append(True))
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class Trainer(Handle):
    """A job described by a JSON object (dict or string) whose "task" is prepare, student, evaluate,
    teacher-train, teacher-export or pipeline (docs/trainer.md, docs/pipeline.md). Validated now: InvalidArgument for bad JSON, an
    unknown task or key."""

    def __init__(self, config):
        text = config if isinstance(config, str) else json.dumps(config, default=_json_default)
        handle = _capi.trainer_p()
        lib.leader_trainer_create(text.encode(), byref(handle))
        self._adopt(handle, lib.leader_trainer_free)
        self.config = json.loads(text)

    def run(self, progress=None) -> dict:
        """Runs the job (again, from the start, if it ran before) and returns its result dict."""
        raised, interrupted = [], []

        def trampoline(event, _user_data):
            if interrupted:
                return 1
            try:
                return 1 if progress is not None and progress(json.loads(event)) else 0
            except BaseException as e:  # noqa: BLE001 — handed back to the caller of run()
                raised.append(e)
                return 1
        callback = _capi.progress_fn(trampoline)
        with self._lock, _sigint_as_flag(interrupted):
            try:
                lib.leader_trainer_run(self._live(), callback, None)
            except Cancelled as cancelled:
                if interrupted:
                    raise KeyboardInterrupt from cancelled
                if raised:
                    raise raised[0] from cancelled
                raise
            if interrupted:
                raise KeyboardInterrupt
            return self._result()

    @property
    def result(self) -> dict:
        """The result of the last successful run (InvalidArgument before one)."""
        with self._lock:
            return self._result()

    def _result(self) -> dict:
        out = c_char_p()
        lib.leader_trainer_result_json(self._live(), byref(out))
        return json.loads(out.value)

    def _live(self):
        if not self._handle:
            raise InvalidArgument("trainer is closed")
        return self._handle

    def __repr__(self):
        return f"<leader.Trainer task={self.config.get('task')!r}{' closed' if not self._handle else ''}>"


_GROUPS = ("all", "singleVisit", "multiVisit")


def evaluation_frame(result) -> pd.DataFrame:
    """The reports of an "evaluate" job (its result dict, or the list of reports) as one row per
    (recommender, patient group): recommender, group, threshold, patients and each metric's mean / std /
    full-set value as <metric>, <metric>_std, <metric>_full (NaN where the report has none, e.g. ddi)."""
    reports = result["reports"] if isinstance(result, dict) else result
    rows = []
    for report in reports:
        scalars = {k: v for k, v in report.items() if k not in _GROUPS and not isinstance(v, (dict, list))}
        for group in _GROUPS:
            if group not in report:
                continue
            row = {"recommender": report.get("recommender"), "group": group, **scalars}
            for key, value in report[group].items():
                if isinstance(value, dict):
                    row[key] = value.get("mean", np.nan)
                    for sub, v in value.items():
                        if sub != "mean":
                            row[f"{key}_{sub}"] = v
                elif value is None:
                    row[key] = np.nan
                else:
                    row[key] = value
            rows.append(row)
    return pd.DataFrame(rows)
