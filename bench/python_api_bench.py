#!/usr/bin/env python3
"""The Python binding against the C API it wraps, on the same model, patients and thread counts:

  single patient   Session.recommend(dict) vs leader_session_recommend from a compiled C harness
                   (median per call over many calls; plus the bare ctypes call, to show where time goes)
  batch            Session.scores(long-format DataFrame of N patients: CSR built with pandas/numpy, one
                   leader_session_score_batch_ids call, a DataFrame back) vs the C harness calling
                   leader_session_score_batch_ids on the same arrays (best of a few runs)
  distributed      Examples/python/distributed_scoring.py: Dask LocalCluster of 2 worker processes

The C harness is compiled here with `cc` against include/leader.h and the library the binding loaded; it
writes its batch scores back and the script checks that they equal the Python ones bit for bit. Runs
alternate C and Python (ABAB) and keep each side's best, so a noisy neighbour hurts both alike.

    python3 bench/python_api_bench.py [--checkpoint student.safetensors] [--patients 10000] [--quick]

Without --checkpoint a student is trained on a synthetic cohort first (about a minute). Prints a table, and
the numbers as one JSON object on the last line.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from ctypes import byref, c_int64
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bindings/python"))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "bindings/python"), os.environ.get("PYTHONPATH")) if p)

import leader  # noqa: E402
from leader import _capi  # noqa: E402
from leader._frames import build_batch  # noqa: E402

HARNESS = r"""
#define _POSIX_C_SOURCE 199309L
#include <leader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int by_value(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static void *take(FILE *f, size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p || (bytes && fread(p, 1, bytes, f) != bytes)) { fprintf(stderr, "harness: short input\n"); exit(2); }
    return p;
}
static int64_t take1(FILE *f) { int64_t v; if (fread(&v, 8, 1, f) != 1) { fprintf(stderr, "harness: short input\n"); exit(2); } return v; }
static const char **strings(FILE *f, int64_t n) {      /* n NUL-terminated strings, preceded by their byte count */
    int64_t bytes = take1(f);
    char *blob = take(f, (size_t)bytes);
    const char **out = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) { out[i] = blob; blob += strlen(blob) + 1; }
    return out;
}
#define CHECK(call) do { leader_status st_ = (call); if (st_ != LEADER_OK) { \
    fprintf(stderr, "harness: %s: %s\n", #call, leader_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: harness CHECKPOINT INPUT OUTPUT CALLS REPEATS BATCH_THREADS\n"); return 2; }
    int calls = atoi(argv[4]), repeats = atoi(argv[5]);
    leader_model *model = NULL; leader_session *single = NULL, *batch = NULL;
    CHECK(leader_model_load(argv[1], &model));
    CHECK(leader_session_create(model, "{\"threads\": 1}", &single));
    char options[64]; snprintf(options, sizeof options, "{\"threads\": %s}", argv[6]);
    CHECK(leader_session_create(model, options, &batch));
    int64_t n_meds = 0; CHECK(leader_model_vocabulary_size(model, LEADER_KIND_MEDICATION, &n_meds));
    FILE *f = fopen(argv[2], "rb"); if (!f) { perror(argv[2]); return 2; }

    /* one patient, as strings */
    int64_t nv = take1(f), nd = take1(f), np = take1(f), nm = take1(f), nprof = take1(f), top_k = take1(f);
    int64_t *doff = take(f, 8 * (size_t)(nv + 1)), *poff = take(f, 8 * (size_t)(nv + 1)), *moff = take(f, 8 * (size_t)(nv + 1));
    const char **d = strings(f, nd), **p = strings(f, np), **m = strings(f, nm), **keys = strings(f, nprof), **values = strings(f, nprof);
    int32_t *ids = malloc(4 * (size_t)n_meds); float *scores = malloc(4 * (size_t)n_meds);
    int64_t n = 0, n_unknown = 0, unknown[256];
    double *t = malloc(sizeof(double) * (size_t)calls);
    for (int i = -calls / 10 - 1; i < calls; i++) {      /* warm-up calls first (negative i) */
        double t0 = now_ns();
        CHECK(leader_session_recommend(single, (int32_t)nv, doff, d, poff, p, moff, m, (int32_t)nprof, keys, values,
                                       (int32_t)top_k, LEADER_THRESHOLD_DEFAULT, ids, scores, NULL, n_meds, &n,
                                       unknown, 256, &n_unknown));
        if (i >= 0) t[i] = now_ns() - t0;
    }
    qsort(t, (size_t)calls, sizeof(double), by_value);

    /* many patients, as ids */
    int64_t np_ = take1(f), nvt = take1(f), bd = take1(f), bp = take1(f), bm = take1(f), fields = take1(f);
    int64_t *voff = take(f, 8 * (size_t)(np_ + 1));
    int64_t *bdoff = take(f, 8 * (size_t)(nvt + 1)); int32_t *bdid = take(f, 4 * (size_t)bd);
    int64_t *bpoff = take(f, 8 * (size_t)(nvt + 1)); int32_t *bpid = take(f, 4 * (size_t)bp);
    int64_t *bmoff = take(f, 8 * (size_t)(nvt + 1)); int32_t *bmid = take(f, 4 * (size_t)bm);
    int32_t *labels = fields ? take(f, 4 * (size_t)(np_ * fields)) : NULL;
    fclose(f);
    float *out = malloc(4 * (size_t)(np_ * n_meds));
    double best = 1e300;
    for (int r = 0; r < repeats; r++) {
        double t0 = now_ns();
        CHECK(leader_session_score_batch_ids(batch, np_, voff, bdoff, bdid, bpoff, bpid, bmoff, bmid, labels, out, np_ * n_meds));
        double s = (now_ns() - t0) / 1e9;
        if (s < best) best = s;
    }
    FILE *o = fopen(argv[3], "wb"); fwrite(out, 4, (size_t)(np_ * n_meds), o); fclose(o);
    printf("{\"single_median_us\": %.3f, \"single_min_us\": %.3f, \"single_results\": %lld, \"batch_best_s\": %.6f}\n",
           t[calls / 2] / 1e3, t[0] / 1e3, (long long)n, best);
    leader_session_free(single); leader_session_free(batch); leader_model_free(model);
    return 0;
}
"""


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "Examples/python" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_checkpoint(folder: Path) -> Path:
    data, out = folder / "bench.ldata", folder / "bench-student.safetensors"
    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 2000, "seed": 7, "out": data}) as job:
        job.run()
    with leader.Trainer({"task": "student", "data": data, "out": out, "config": {"epochs": 2, "seed": 7}}) as job:
        job.run()
    return out


def one_patient(model, seed=1):
    rng = np.random.default_rng(seed)
    pick = lambda vocab, k: [str(c) for c in rng.choice(vocab, size=min(k, len(vocab)), replace=False)]
    visits = [{"diagnoses": pick(model.diagnoses.code, 8), "procedures": pick(model.procedures.code, 2),
               "medications": pick(model.medications.code, 4)} for _ in range(3)]
    profile = {f["name"]: f["values"][-1] for f in model.info["profile"]["fields"]}
    return {"visits": visits, "profile": profile}


def write_input(path: Path, patient, batch, top_k):
    i64 = lambda *xs: np.asarray(xs, dtype=np.int64).tobytes()
    blob = lambda xs: (lambda b: i64(len(b)) + b)(b"".join(str(x).encode() + b"\0" for x in xs))
    lists = {k: [c for v in patient["visits"] for c in v.get(k, [])] for k in ("diagnoses", "procedures", "medications")}
    offsets = {k: np.cumsum([0] + [len(v.get(k, [])) for v in patient["visits"]]).astype(np.int64)
               for k in lists}
    keys, values = list(patient["profile"]), list(patient["profile"].values())
    parts = [i64(len(patient["visits"]), len(lists["diagnoses"]), len(lists["procedures"]),
                 len(lists["medications"]), len(keys), top_k),
             offsets["diagnoses"].tobytes(), offsets["procedures"].tobytes(), offsets["medications"].tobytes(),
             blob(lists["diagnoses"]), blob(lists["procedures"]), blob(lists["medications"]), blob(keys),
             blob(values)]
    fields = batch.labels.shape[1] if batch.labels is not None else 0
    parts += [i64(len(batch.patients), len(batch.offsets[0]) - 1, len(batch.ids[0]), len(batch.ids[1]),
                  len(batch.ids[2]), fields), batch.visit_offsets.tobytes()]
    for k in range(3):
        parts += [batch.offsets[k].tobytes(), batch.ids[k].tobytes()]
    if fields:
        parts.append(np.ascontiguousarray(batch.labels, dtype=np.int32).tobytes())
    path.write_bytes(b"".join(parts))


def time_calls(fn, calls):
    for _ in range(calls // 10 + 1):
        fn()
    t = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        fn()
        t.append(time.perf_counter_ns() - t0)
    return statistics.median(t) / 1e3, min(t) / 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--calls", type=int, default=2000, help="single-patient calls timed per run")
    ap.add_argument("--repeats", type=int, default=3, help="batch runs per side and round")
    ap.add_argument("--threads", type=int, default=0, help="batch session threads (0: all CPUs)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="fewer patients and calls: a smoke run")
    ap.add_argument("--no-distributed", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.patients, args.calls, args.repeats = min(args.patients, 1000), 200, 1

    tmp = Path(tempfile.mkdtemp(prefix="leader-pybench-"))
    checkpoint = args.checkpoint or train_checkpoint(tmp)
    harness = tmp / "harness"
    (tmp / "harness.c").write_text(HARNESS)
    libdir = Path(leader.library_path()).resolve().parent
    subprocess.run(["cc", "-O2", "-std=c11", "-Wall", "-I", str(ROOT / "include"), str(tmp / "harness.c"),
                    "-o", str(harness), f"-L{libdir}", "-lleader", f"-Wl,-rpath,{libdir}"], check=True)

    dist = load_example("distributed_scoring")
    model = leader.Model.load(checkpoint)
    patient = one_patient(model)
    events = dist.synthetic_events(model, args.patients, seed=3)
    single = model.session(threads=1)
    batch_session = model.session(threads=args.threads)
    batch = build_batch(model, events, None)
    write_input(tmp / "input.bin", patient, batch, args.top_k)
    print(f"# {leader.build_info()['isa']}, {os.cpu_count()} CPUs; model {checkpoint.name}: "
          f"{model.n_medications} medications, {len(model.diagnoses)} diagnoses; batch {args.patients:,} patients, "
          f"{len(events):,} codes; batch threads {args.threads}", file=sys.stderr)

    # the bare ctypes call with prebuilt arguments: what the binding costs beyond ctypes itself
    from leader.model import THRESHOLD_DEFAULT, _Patient
    p = _Patient(patient)
    n, nu = c_int64(), c_int64()

    def bare():
        _capi.lib.leader_session_recommend(single._handle, p.n_visits, *p.args, args.top_k, THRESHOLD_DEFAULT,
                                           single._ids_p, single._scores_p, None, len(single._ids), byref(n),
                                           single._unknown_p, len(single._unknown), byref(nu))

    c_runs, py_single, py_bare, py_batch = [], [], [], []
    for _ in range(2):                                         # ABAB
        out = subprocess.run([str(harness), str(checkpoint), str(tmp / "input.bin"), str(tmp / "out.bin"),
                              str(args.calls), str(args.repeats), str(args.threads)],
                             check=True, capture_output=True, text=True)
        c_runs.append(json.loads(out.stdout))
        py_single.append(time_calls(lambda: single.recommend(patient, top_k=args.top_k), args.calls))
        py_bare.append(time_calls(bare, args.calls))
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            scores = batch_session.scores(events)
            py_batch.append(time.perf_counter() - t0)
    c_scores = np.fromfile(tmp / "out.bin", dtype=np.float32).reshape(scores.shape)
    assert np.array_equal(c_scores, scores.to_numpy()), "C and Python batch scores differ"
    assert c_runs[0]["single_results"] == len(single.recommend(patient, top_k=args.top_k))

    c_single = min(r["single_median_us"] for r in c_runs)
    c_batch = min(r["batch_best_s"] for r in c_runs)
    py_single_us = min(m for m, _ in py_single)
    bare_us = min(m for m, _ in py_bare)
    py_batch_s = min(py_batch)
    rows = [("single patient, median µs per call", f"{c_single:.1f}", f"{py_single_us:.1f}",
             f"{py_single_us / c_single:.2f}x time", "<= 2x"),
            ("  of which bare ctypes call", "", f"{bare_us:.1f}", f"{bare_us / c_single:.2f}x time", ""),
            (f"batch {args.patients:,} patients, patients/s", f"{args.patients / c_batch:,.0f}",
             f"{args.patients / py_batch_s:,.0f}", f"{100 * c_batch / py_batch_s:.0f}% of C", ">= 80%")]
    result = {"single_c_us": c_single, "single_python_us": py_single_us, "single_bare_ctypes_us": bare_us,
              "batch_c_s": c_batch, "batch_python_s": py_batch_s, "patients": args.patients}

    if not args.no_distributed:
        from distributed import Client, LocalCluster
        import dask
        dask.config.set({"dataframe.convert-string": False})
        with model.session(threads=1) as one:
            t0 = time.perf_counter()
            one.recommend_batch(events, top_k=5)
            local_s = time.perf_counter() - t0
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: None)
            table = dist.write_table(events, tmp / "table", 4 * args.workers)
            runs = []
            for _ in range(3):             # the first run also imports leader and pyarrow in each worker
                t0 = time.perf_counter()
                dist.score_distributed(client, table, checkpoint, 5)
                runs.append(time.perf_counter() - t0)
            dist_s, dist_cold_s = min(runs[1:]), runs[0]
        rows.append(("1 process, 1 thread: recommend_batch, patients/s", "", f"{args.patients / local_s:,.0f}", "", ""))
        rows.append((f"Dask {args.workers} worker processes x 1 thread, patients/s", "",
                     f"{args.patients / dist_s:,.0f}", f"{local_s / dist_s:.2f}x 1 process", ""))
        rows.append(("  first run (workers import, load the model)", "", f"{args.patients / dist_cold_s:,.0f}",
                     "", ""))
        result.update(local_recommend_batch_s=local_s, distributed_s=dist_s, distributed_cold_s=dist_cold_s,
                      workers=args.workers)

    widths = [max(len(r[i]) for r in rows + [("measure", "C API", "Python", "Python vs C", "goal")])
              for i in range(5)]
    header = ("measure", "C API", "Python", "Python vs C", "goal")
    for r in [header] + rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print(json.dumps(result))
    single.close()
    batch_session.close()
    model.close()


if __name__ == "__main__":
    main()
