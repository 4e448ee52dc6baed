#!/usr/bin/env python3
"""`leader prepare` per input format on the same synthetic cohort (docs/benchmarks-data.md).

For each format (mimic3, mimic4, omop, and omop with 40 % of the visits missing from visit_occurrence) the cohort
is written once with `leader synth`, then `leader prepare` runs ROUNDS times, formats interleaved within a round;
the best wall time, its user CPU and the peak RSS are reported, with input rows per second. As a reference in the
same run, pandas reads the same five clinical tables (read_csv, dtype=str, no joins): the ratio says how our whole
preparation (parse, join, map, filter, write) compares with merely loading the tables into a DataFrame.

Usage: python3 bench/prepare_bench.py --leader .build-dist/release/leader [--patients 100000] [--rounds 3] [--json]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

FORMATS = [("mimic3", 1.0), ("mimic4", 1.0), ("omop", 1.0), ("omop", 0.6)]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(cmd, cwd):
    """(wall s, user+sys s, stdout) of one run of cmd, measured by wait4 on that child alone. (Its ru_maxrss is not
    used: on Linux it starts from this process's size at fork; prepare reports its own peak RSS.)"""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{err.read()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, out.read()


def pandas_read(folder, files):
    import pandas as pd
    t = time.perf_counter()
    rows = 0
    for f in files:
        rows += len(pd.read_csv(os.path.join(folder, f), dtype=str, keep_default_na=False))
    return time.perf_counter() - t, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leader", required=True)
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    leader = os.path.abspath(a.leader)
    work = tempfile.mkdtemp(prefix="leader-prepare-bench-")
    try:
        cohorts = {}
        for fmt, share in FORMATS:
            name = f"{fmt}" if share == 1 else f"{fmt}-partial"
            cmd = [leader, "synth", "--patients", str(a.patients), "--seed", "11", "--format", fmt, "--out", name, "--json"]
            if share != 1:
                cmd += ["--visit-table-share", str(share)]
            _, _, out = timed(cmd, work)
            s = json.loads(out)
            rows = sum(s["rows"].values())
            files = s["files"][:5]
            cohorts[name] = dict(format=fmt, rows=rows, files=files, bytes=s["bytes"], best=None, pandas=None)
        for _ in range(a.rounds):
            for name, c in cohorts.items():
                cmd = [leader, "prepare", "--source", c["format"], "--input", name, "--out", f"{name}.ldata", "--json"]
                if c["format"] != "omop":
                    cmd += ["--maps", f"{name}/maps"]
                wall, cpu, out = timed(cmd, work)
                rss = json.loads(out)["peakRSSBytes"] / 1e6
                if c["best"] is None or wall < c["best"][0]:
                    c["best"] = (wall, cpu, rss)
                pw, prow = pandas_read(os.path.join(work, name), c["files"])
                if c["pandas"] is None or pw < c["pandas"]:
                    c["pandas"] = pw
        result = dict(cpu=cpu_name(), patients=a.patients, rounds=a.rounds, formats=[])
        for name, c in cohorts.items():
            wall, cpu, rss = c["best"]
            result["formats"].append(dict(
                name=name, input_rows=c["rows"], input_mb=round(c["bytes"] / 1e6), wall_s=round(wall, 2),
                cpu_s=round(cpu, 2), peak_rss_mb=round(rss), rows_per_s=round(c["rows"] / wall),
                pandas_read_s=round(c["pandas"], 2), vs_pandas_read=round(c["pandas"] / wall, 2)))
        if a.json:
            print(json.dumps(result, indent=2))
        else:
            print(f"leader prepare, {a.patients} synthetic patients, best of {a.rounds} interleaved rounds; CPU: {result['cpu']}")
            print("| input | rows | MB | wall s | CPU s | peak RSS MB | rows/s | pandas read_csv s | speed vs pandas read |")
            print("|---|---|---|---|---|---|---|---|---|")
            for f in result["formats"]:
                print(f"| {f['name']} | {f['input_rows']:,} | {f['input_mb']} | {f['wall_s']} | {f['cpu_s']} | "
                      f"{f['peak_rss_mb']} | {f['rows_per_s']:,} | {f['pandas_read_s']} | {f['vs_pandas_read']}× |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
