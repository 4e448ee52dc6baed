"""Scores a large patient table with Dask: `map_partitions` over a LocalCluster of worker processes, one
model per worker process (loaded lazily, by the first partition the worker scores) and one session per
worker thread.

The table is a folder of Parquet files in long format (patient, visit, kind, code), each file holding whole
patients; Dask reads one partition per file on the workers themselves, and each partition is one vectorised
`Session.recommend_batch` call.

    python Examples/python/distributed_scoring.py CHECKPOINT [--table DIR] [--patients 100000]
           [--workers 2] [--partitions 16] [--top-k 5] [--verify]

Without --table a table of made-up patients (drawn from the model's vocabularies: synthetic_events) is
written to a temporary folder first. Needs `pip install "dask[dataframe,distributed]"` and the leader package
importable in the workers too (pip install -e bindings/python, or PYTHONPATH=bindings/python: worker
processes inherit the environment). Prints the throughput; --verify also scores the table in this process
and checks the two results are identical.
"""
import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
from distributed import WorkerPlugin

import leader

PLUGIN = "leader-model"


def synthetic_events(model, n_patients, seed=0, mean_codes=(8, 2, 4)):
    """A long-format table of n_patients made-up patients (1-4 visits, about mean_codes diagnoses,
    procedures and medications per visit, drawn from the model's vocabularies), built with numpy only."""
    rng = np.random.default_rng(seed)
    visits = rng.integers(1, 5, n_patients)
    visit_patient = np.repeat(np.arange(n_patients), visits)
    visit_number = np.arange(len(visit_patient)) - np.repeat(np.cumsum(visits) - visits, visits)
    parts = []
    for kind, vocab, mean in (("diagnosis", model.diagnoses.code, mean_codes[0]),
                              ("procedure", model.procedures.code, mean_codes[1]),
                              ("medication", model.medications.code, mean_codes[2])):
        if len(vocab) == 0:
            continue
        per_visit = rng.poisson(mean, len(visit_patient))
        rows = np.repeat(np.arange(len(visit_patient)), per_visit)
        codes = vocab.to_numpy(dtype=object)[rng.integers(0, len(vocab), len(rows))]
        parts.append(pd.DataFrame({"patient": visit_patient[rows], "visit": visit_number[rows], "kind": kind,
                                   "code": codes}))
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(["patient", "visit"], kind="stable", ignore_index=True)


def write_table(events, folder, files):
    """events as `files` Parquet files of whole patients (consecutive patient ranges)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    patient_codes = pd.factorize(events["patient"])[0]
    bounds = np.searchsorted(patient_codes, np.linspace(0, patient_codes.max() + 1, files + 1).astype(np.int64))
    for i in range(files):
        events.iloc[bounds[i]:bounds[i + 1]].to_parquet(folder / f"part-{i:04d}.parquet", index=False)
    return folder


class LeaderModel(WorkerPlugin):
    """Dask worker plugin: the model of one worker process, loaded on first use; a session per thread.
    Registered once with the client; Dask sends it to every worker (and to workers that join later)."""

    name = PLUGIN

    def __init__(self, checkpoint, threads=1):
        self.checkpoint = str(checkpoint)
        self.threads = threads

    def setup(self, worker):
        self._model = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self.loads = 0

    def session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            with self._lock:
                if self._model is None:
                    self._model = leader.Model.load(self.checkpoint)
                    self.loads += 1
            session = self._local.session = self._model.session(threads=self.threads)
        return session

    def teardown(self, worker):
        if self._model is not None:
            self._model.close()


def recommend_partition(part, top_k):
    """One partition (whole patients) -> its recommendations, on whichever worker runs it."""
    from distributed import get_worker
    return get_worker().plugins[PLUGIN].session().recommend_batch(part, top_k=top_k)


def _meta():
    return pd.DataFrame({"patient": pd.Series(dtype=np.int64), "rank": pd.Series(dtype=np.int64),
                         "medication": pd.Series(dtype=object), "title": pd.Series(dtype=object),
                         "score": pd.Series(dtype=np.float32)})


def score_distributed(client, table, checkpoint, top_k, threads=1):
    """Recommendations of every patient of the Parquet folder `table`, computed by the cluster of `client`."""
    import dask.dataframe as dd

    client.register_plugin(LeaderModel(checkpoint, threads), name=PLUGIN)
    events = dd.read_parquet(str(table), split_row_groups=False)     # one partition per file: whole patients
    return events.map_partitions(recommend_partition, top_k, meta=_meta()).compute()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--table", type=Path, help="Parquet folder (patient, visit, kind, code); default: made up")
    ap.add_argument("--patients", type=int, default=100_000, help="patients to make up without --table")
    ap.add_argument("--partitions", type=int, default=16, help="files to write without --table")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verify", action="store_true", help="compare with scoring in this process")
    args = ap.parse_args(argv)

    import dask
    from distributed import Client, LocalCluster

    dask.config.set({"dataframe.convert-string": False})   # keep code strings as they are
    scratch = tempfile.TemporaryDirectory(prefix="leader-dask-")
    table = args.table
    if table is None:
        with leader.Model.load(args.checkpoint) as model:
            table = write_table(synthetic_events(model, args.patients, seed=args.seed), scratch.name,
                                args.partitions)
    patients = pd.read_parquet(table, columns=["patient"])["patient"].nunique()
    print(f"{patients:,} patients in {len(list(Path(table).glob('*.parquet')))} files; "
          f"{args.workers} worker processes x {args.threads_per_worker} threads")

    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads_per_worker, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(lambda: None)    # workers up before the clock starts
        start = time.perf_counter()
        result = score_distributed(client, table, args.checkpoint, args.top_k)
        seconds = time.perf_counter() - start
        loads = client.run(lambda dask_worker: dask_worker.plugins[PLUGIN].loads)
    print(f"scored in {seconds:.2f} s: {patients / seconds:,.0f} patients/s "
          f"({len(result):,} recommendations; model loads per worker: {sorted(loads.values())})")

    if args.verify:
        events = pd.read_parquet(table)
        with leader.Model.load(args.checkpoint) as model, model.session() as session:
            local = session.recommend_batch(events, top_k=args.top_k)
        got = result.sort_values(["patient", "rank"]).reset_index(drop=True)
        want = local.sort_values(["patient", "rank"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert all(n <= 1 for n in loads.values()) and sum(loads.values()) >= 1, loads   # one model per process
        print("verified: identical to scoring in one process")
    scratch.cleanup()
    return result


if __name__ == "__main__":
    main()
