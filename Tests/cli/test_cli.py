"""End-to-end tests of every `leader` command, run as a user runs them: the built CLI ($LEADER_CLI), started from
a temporary folder (not the repository), on a small synthetic cohort and the tiny random HF LLaMA fixture as the
teacher. Each test checks what the command wrote (files, JSON fields and their consistency), its exit code, and
the message of a bad invocation. Run by tools/run_host_tests.sh (make test)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "Tests/LeaderCoreTests/Fixtures/tiny_llama"
PATIENTS = 150
USAGE = 64   # swift-argument-parser's exit code for a bad invocation; library errors exit 1


def cli():
    path = os.environ.get("LEADER_CLI")
    if not path:
        pytest.fail("LEADER_CLI must name the built leader executable (tools/run_host_tests.sh sets it)")
    return path


def run(cwd, *args, code=0, stdin=None):
    """Runs `leader ARGS` in cwd; asserts the exit code; returns (stdout, stderr)."""
    p = subprocess.run([cli(), *map(str, args)], cwd=cwd, capture_output=True, text=True, input=stdin, timeout=600)
    assert p.returncode == code, f"leader {' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    return p.stdout, p.stderr


def run_json(cwd, *args):
    out, err = run(cwd, *args)
    assert err == "", f"--json must keep stderr quiet, got: {err[:500]}"
    return json.loads(out)


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A working folder outside the repository with a synthetic cohort, its .ldata and a student checkpoint."""
    d = tmp_path_factory.mktemp("cli")
    run_json(d, "synth", "--patients", PATIENTS, "--seed", 3, "--out", "cohort", "--json")
    run_json(d, "prepare", "--source", "mimic3", "--input", "cohort", "--maps", "cohort/maps", "--out", "c.ldata",
             "--json")
    run_json(d, "student", "train", "--data", "c.ldata", "--out", "student.safetensors", "--config",
             '{"epochs": 2}', "--json")
    return d


@pytest.fixture(scope="module")
def samples(work):
    """Every sample of c.ldata as `leader samples` writes it (id, split, visits with code keys)."""
    out, _ = run(work, "samples", "--data", "c.ldata", "--out", "samples.jsonl")
    rows = lines(work / "samples.jsonl")
    assert out.strip() == f"wrote samples.jsonl: {len(rows)} samples"
    return rows


# ---- info, version, bad invocations -------------------------------------------------------------------------

def test_version_and_info(tmp_path):
    version, _ = run(tmp_path, "--version")
    info, _ = run(tmp_path, "info")
    assert version.strip() and info.startswith(f"leader {version.strip()} (ABI ")
    assert "kernels: " in info and "cpus: " in info


@pytest.mark.parametrize("args, message", [
    (["synth", "--patients", "10"], "Missing expected argument '--out <out>'"),
    (["synth", "--out", "x", "--patients", "0"], "patients"),
    (["prepare", "--source", "mimic5", "--input", "x", "--out", "y"], "--source must be mimic3, mimic4 or omop"),
    (["stats", "a.ldata", "--colour"], "Unknown option '--colour'"),
    (["student", "train", "--data", "a.ldata"], "Missing expected argument '--out <out>'"),
    (["eval", "--data", "a.ldata"], "give one of --checkpoint, --baseline and --scores"),
    (["teacher", "frobnicate"], "Unexpected argument 'frobnicate'"),
    (["nosuchcommand"], "Unexpected argument 'nosuchcommand'"),
    # zero counts were a NaN in the JSON (teacher bench), an empty folder (replicate) or a silent 1 (demo)
    (["teacher", "bench", "--repeats", "0"], "--repeats must be at least 1 (got 0)"),
    (["bench", "csv", "--rows", "0"], "--rows must be at least 1 (got 0)"),
    (["bench", "replicate-mimic3", "--input", "x", "--out", "y", "--copies", "0"], "--copies must be at least 1 (got 0)"),
    (["demo", "--seeds", "0"], "--seeds must be at least 1 (got 0)"),
])
def test_bad_flags_are_usage_errors_with_a_message(tmp_path, args, message):
    out, err = run(tmp_path, *args, code=USAGE)
    assert message in err, err
    assert out == ""


# ---- data --------------------------------------------------------------------------------------------------

def test_synth_formats_write_their_files(tmp_path):
    for fmt, table in [("mimic4", "hosp/admissions.csv"), ("omop", "visit_occurrence.csv")]:
        r = run_json(tmp_path, "synth", "--patients", 30, "--seed", 5, "--format", fmt, "--out", fmt, "--json")
        for f in r["files"]:
            assert (tmp_path / fmt / f).is_file(), f
        assert len((tmp_path / fmt / table).read_text().splitlines()) - 1 == r["admissions"]
    _, err = run(tmp_path, "synth", "--patients", 3, "--out", "x", "--visit-table-share", "0.5", code=USAGE)
    assert "--visit-table-share is an OMOP setting" in err


def test_synth_writes_a_mimic3_folder_and_reports_it(tmp_path):
    r = run_json(tmp_path, "synth", "--patients", 40, "--seed", 5, "--out", "s", "--json")
    assert r["patients"] == 40 and r["seed"] == 5 and r["out"] == "s"
    for f in r["files"]:
        assert (tmp_path / "s" / f).is_file(), f
    admissions = (tmp_path / "s/ADMISSIONS.csv").read_text().splitlines()
    assert len(admissions) - 1 == r["rows"]["ADMISSIONS"] == r["admissions"]
    patients = (tmp_path / "s/PATIENTS.csv").read_text().splitlines()
    assert len(patients) - 1 == r["rows"]["PATIENTS"] == 40
    # same seed, same bytes
    run_json(tmp_path, "synth", "--patients", 40, "--seed", 5, "--out", "s2", "--json")
    assert (tmp_path / "s/PRESCRIPTIONS.csv").read_bytes() == (tmp_path / "s2/PRESCRIPTIONS.csv").read_bytes()


def test_prepare_report_matches_the_tables(work):
    r = run_json(work, "prepare", "--source", "mimic3", "--input", "cohort", "--maps", "cohort/maps",
                 "--out", "again.ldata", "--json")
    rep = r["report"]
    assert r["output"] == "again.ldata" and (work / "again.ldata").stat().st_size > 0
    assert (work / "again.ldata").read_bytes() == (work / "c.ldata").read_bytes()   # deterministic
    assert rep["patientsLoaded"] == PATIENTS and rep["patientsKept"] <= PATIENTS
    for table, name in [("admissions", "ADMISSIONS"), ("prescriptions", "PRESCRIPTIONS"),
                        ("diagnoses_icd", "DIAGNOSES_ICD")]:
        rows = len((work / "cohort" / f"{name}.csv").read_text().splitlines()) - 1
        assert rep["rowsRead"][table] == rows, table
    assert sum(rep["medicationRows"].values()) == rep["rowsRead"]["prescriptions"]


def test_prepare_without_maps_uses_the_shipped_ones(work):
    """No --maps: the maps in the project's data/ (found beside the program, from another folder) map the rows."""
    r = run_json(work, "prepare", "--source", "mimic3", "--input", "cohort", "--out", "shipped.ldata", "--json")
    rows = r["report"]["medicationRows"]
    assert set(rows) == {"ndc", "gsn", "name", "unmapped"}
    assert sum(rows.values()) == r["report"]["rowsRead"]["prescriptions"]
    assert rows["unmapped"] < 0.05 * sum(rows.values()), rows


def test_prepare_errors_name_the_problem(work):
    _, err = run(work, "prepare", "--source", "mimic3", "--input", "no-such-folder", "--maps", "cohort/maps",
                 "--out", "x.ldata", code=1)
    assert "no-such-folder" in err
    assert not (work / "x.ldata").exists()


def test_prepare_says_first_what_it_changed(tmp_path):
    """An OMOP export whose visit table lacks two visits: the text report opens with a NOTE, --json carries it."""
    src = ROOT / "Tests/LeaderCoreTests/Fixtures/omop"
    (tmp_path / "omop").mkdir()
    for f in src.iterdir():
        lines = f.read_text().splitlines(keepends=True)
        if f.name == "visit_occurrence.csv":
            lines = [l for l in lines if not l.startswith(("102,", "201,"))]
        (tmp_path / "omop" / f.name).write_text("".join(lines))
    note = ("OMOP visits: 7 of 23 clinical rows (30.4 %) reference 2 visit ids that visit_occurrence lacks, so visits "
            'were taken from the clinical tables (visitSource "referenced"; set "table" to keep only visit_occurrence\'s rows)')
    out, _ = run(tmp_path, "prepare", "--source", "omop", "--input", "omop", "--out", "o.ldata")
    assert out.splitlines()[0] == "NOTE: " + note
    r = run_json(tmp_path, "prepare", "--source", "omop", "--input", "omop", "--out", "o.ldata", "--json")
    assert r["report"]["notes"] == [note] and r["statistics"]["visits"] == 6
    _, err = run(tmp_path, "prepare", "--source", "omop", "--input", "omop", "--out", "x.ldata",
                 "--config", '{"minPatients": 5}', code=1)
    assert "omop: the cohort has 4 patients, fewer than minPatients 5" in err


SCALE = int(os.environ.get("LEADER_SCALE_PATIENTS", "100000"))


def test_every_loader_end_to_end_at_scale(tmp_path):
    """The synthetic cohort at 10^5 patients in every input format, a partial OMOP visit table among them: each
    loader must build the same cohort (same patients, visits, samples, split, code counts)."""
    stats = {}
    for fmt, share in [("mimic3", 1), ("mimic4", 1), ("omop", 1), ("omop", 0.6)]:
        name = f"{fmt}-{share}"
        s = run_json(tmp_path, "synth", "--patients", SCALE, "--seed", 11, "--format", fmt, "--out", name,
                     *(["--visit-table-share", share] if share != 1 else []), "--json")
        assert s["patients"] == SCALE and s["format"] == fmt
        args = ["prepare", "--source", fmt, "--input", name, "--out", f"{name}.ldata", "--json"]
        if fmt != "omop":
            args += ["--maps", f"{name}/maps"]
        r = run_json(tmp_path, *args)
        notes = r["report"]["notes"]
        if share == 1:
            assert notes == [], notes
        else:
            missing = s["visits_missing_from_visit_table"]
            assert 0.3 * s["admissions"] < missing < 0.5 * s["admissions"]
            assert len(notes) == 1 and f"reference {missing} visit ids that visit_occurrence lacks" in notes[0]
        st = r["statistics"]
        stats[name] = {k: st[k] for k in ("patients", "samples", "patientsPerSplit", "singleVisitPatients",
                                          "averageVisitsPerPatient", "maxVisitsPerPatient", "codes")}
        assert st["patients"] == SCALE and st["samples"]["all"] == SCALE
        shutil.rmtree(tmp_path / name)
    first = stats["mimic3-1"]
    for name, st in stats.items():
        assert st == first, name


def test_stats_agrees_with_prepare_and_samples(work, samples):
    s = run_json(work, "stats", "c.ldata", "--json")
    st = s["statistics"]
    assert s["report"]["patientsKept"] == st["patients"]
    assert st["samples"]["all"] == len(samples)
    for split in ("train", "validation", "test"):
        assert st["samples"][split] == sum(r["split"] == split for r in samples)
    assert st["visits"] == s["report"]["visitsKept"]
    text, _ = run(work, "stats", "c.ldata")
    assert f"patients: {st['patients']}  visits: {st['visits']}" in text
    _, err = run(work, "stats", "cohort/ADMISSIONS.csv", code=1)
    assert "cohort/ADMISSIONS.csv: not a leader data file" in err


def test_samples_writes_every_sample_with_code_keys(work, samples):
    rows = samples
    assert {r["split"] for r in rows} == {"train", "validation", "test"}
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["visits"] and all(set(v) == {"diagnoses", "procedures", "medications"} for v in r["visits"])
    run(work, "samples", "--data", "c.ldata", "--out", "test.jsonl", "--split", "test")
    test = lines(work / "test.jsonl")
    assert test == [r for r in rows if r["split"] == "test"]
    _, err = run(work, "samples", "--data", "c.ldata", "--out", "x.jsonl", "--split", "dev", code=1)
    assert "split 'dev' (expected train, validation, test or all)" in err


def test_prompts_carry_the_exporters_fields_within_the_budget(work, samples):
    out, _ = run(work, "prompts", "--data", "c.ldata", "--out", "prompts.jsonl", "--model", TINY,
                 "--max-tokens", 48)
    rows = lines(work / "prompts.jsonl")
    assert out.strip() == f"wrote prompts.jsonl: {len(rows)} prompts"
    fingerprints = {r["data_fingerprint"] for r in rows}
    assert len(fingerprints) == 1 and next(iter(fingerprints)).startswith("crc32:")
    for r in rows:
        assert set(r) == {"id", "split", "text", "tokens", "medications", "data_fingerprint"}
        assert 0 < r["tokens"] <= 48 and r["text"]
    assert [r["id"] for r in rows] == [s["id"] for s in samples]
    assert [r["medications"] for r in rows] == [s["visits"][-1]["medications"] for s in samples]
    # untruncated (a large budget), the prompt without the profile sentence is the one with it, shortened
    run(work, "prompts", "--data", "c.ldata", "--out", "full.jsonl", "--model", TINY, "--max-tokens", 100000,
        "--split", "train")
    run(work, "prompts", "--data", "c.ldata", "--out", "np.jsonl", "--model", TINY, "--max-tokens", 100000,
        "--split", "train", "--no-profile")
    full, np_rows = lines(work / "full.jsonl"), lines(work / "np.jsonl")
    assert {r["split"] for r in np_rows} == {"train"} and [r["id"] for r in full] == [r["id"] for r in np_rows]
    assert all(a["tokens"] < b["tokens"] and len(a["text"]) < len(b["text"]) for a, b in zip(np_rows, full))
    _, err = run(work, "prompts", "--data", "c.ldata", "--out", "x.jsonl", "--model", work / "no-model", code=1)
    assert "no-model" in err


# ---- student, eval, recommend ------------------------------------------------------------------------------

def test_student_train_summary_plot_and_resume(work):
    r = run_json(work, "student", "train", "--data", "c.ldata", "--out", "s2.safetensors", "--config",
                 '{"epochs": 2, "seed": 4}', "--plot", "plots", "--threads", 1, "--json")
    assert r["checkpoint"] == "s2.safetensors" and (work / "s2.safetensors").is_file()
    assert r["epochs"] == 2 and [h["epoch"] for h in r["history"]] == [1, 2]
    assert r["bestValidationPRAUC"] == max(h["validationPRAUC"] for h in r["history"])
    assert r["trainSamples"] + r["validationSamples"] < PATIENTS
    assert r["plots"] == ["plots/training.svg"] and (work / "plots/training.svg").read_text().startswith("<")
    _, err = run(work, "student", "train", "--data", "c.ldata", "--out", "s3.safetensors", "--config",
                 '{"epochz": 2}', code=1)
    assert "epochz" in err


def test_eval_checkpoint_baseline_and_scores(work, samples):
    r = run_json(work, "eval", "--data", "c.ldata", "--checkpoint", "student.safetensors", "--plot", "ev", "--json")
    report, best = r["reports"]
    assert report["recommender"] == "student" and best["recommender"].startswith("student (best validation-Jaccard")
    for metric in ("jaccard", "f1", "prauc"):
        assert 0 <= report["all"][metric]["full"] <= 1
    assert sorted(r["plots"]) == ["ev/student-by-visits.svg", "ev/student-precision-recall.svg"]
    assert all((work / p).is_file() for p in r["plots"])
    base = run_json(work, "eval", "--data", "c.ldata", "--baseline", "frequency", "--json")
    assert [b["recommender"] for b in base["reports"]] == ["frequency"]
    assert base["reports"][0]["all"]["patients"] == report["all"]["patients"]
    # another tool's scores: a uniform 0.5 for every medication of the vocabulary in the test split
    meds = sorted({m for s in samples for v in s["visits"] for m in v["medications"]})
    with open(work / "scores.jsonl", "w") as f:
        for s in samples:
            if s["split"] in ("validation", "test"):
                f.write(json.dumps({"id": s["id"], "scores": {m: 0.5 for m in meds}}) + "\n")
    ext = run_json(work, "eval", "--data", "c.ldata", "--scores", "scores.jsonl", "--threshold", "0.4", "--json")
    assert ext["reports"][0]["all"]["patients"] == report["all"]["patients"]
    _, err = run(work, "eval", "--data", "c.ldata", "--scores", "samples.jsonl", "--json", code=1)
    assert "samples.jsonl" in err


def patient_json(samples):
    """The first multi-visit sample as a patient record: its earlier visits, the current visit's codes."""
    s = next(s for s in samples if len(s["visits"]) >= 2)
    current = s["visits"][-1]
    return {"visits": s["visits"][:-1],
            "current": {"diagnoses": current["diagnoses"], "procedures": current["procedures"]}, "profile": {}}


def test_recommend_json_text_stdin_and_errors(work, samples):
    (work / "patient.json").write_text(json.dumps(patient_json(samples)))
    r = run_json(work, "recommend", "--checkpoint", "student.safetensors", "--patient", "patient.json",
                 "--threshold", "0.2", "--json")
    scores = [m["score"] for m in r["recommended"]]
    assert scores == sorted(scores, reverse=True) and all(x >= 0.2 for x in scores)
    assert all(m["score"] < 0.2 for m in r.get("others", []))
    assert all(set(m) >= {"code", "score", "title"} for m in r["recommended"])
    # stdin gives the same answer; the text form lists the same codes
    same = json.loads(run(work, "recommend", "--checkpoint", "student.safetensors", "--patient", "-",
                          "--threshold", "0.2", "--json", stdin=(work / "patient.json").read_text())[0])
    assert same == r
    text, _ = run(work, "recommend", "--checkpoint", "student.safetensors", "--patient", "patient.json",
                  "--threshold", "0.2")
    assert all(m["code"] in text for m in r["recommended"])
    _, err = run(work, "recommend", "--checkpoint", "student.safetensors", "--patient", "-", code=1,
                 stdin='{"current": 3}')
    assert "patient record: wrong type at 'current'" in err
    _, err = run(work, "recommend", "--checkpoint", "samples.jsonl", "--patient", "patient.json", code=1)
    assert "samples.jsonl" in err


# ---- teacher (tiny random LLaMA) ---------------------------------------------------------------------------

def test_teacher_train_eval_export_and_distilled_student(work, samples):
    t = run_json(work, "teacher", "train", "--data", "c.ldata", "--model", TINY, "--out", "teacher.safetensors",
                 "--max-steps", 3, "--limit", 16, "--max-tokens", 32, "--batch-size", 4, "--json")["result"]
    assert t["steps"] == 3 and t["samples"] == 16 and t["out"] == "teacher.safetensors"
    assert (work / "teacher.safetensors").is_file()
    e = run_json(work, "teacher", "eval", "--data", "c.ldata", "--model", TINY, "--teacher", "teacher.safetensors",
                 "--limit", 8, "--json")
    assert e["reports"] and e["reports"][0]["all"]["patients"] == 8
    x = run_json(work, "teacher", "export", "--data", "c.ldata", "--model", TINY, "--teacher", "teacher.safetensors",
                 "--out", "features.safetensors", "--split", "all", "--json")
    assert x["hiddenSize"] == 64 and x["out"] == "features.safetensors"
    assert x["samples"] == len(samples)
    kd = run_json(work, "student", "train", "--data", "c.ldata", "--out", "kd.safetensors", "--teacher-features",
                  "features.safetensors", "--config", '{"epochs": 1}', "--json")
    assert kd["history"][0]["distill"] > 0
    _, err = run(work, "teacher", "eval", "--data", "c.ldata", "--model", TINY, "--teacher", "student.safetensors",
                 code=1)
    assert "student.safetensors" in err


def test_teacher_bench_prints_json(tmp_path):
    r = run_json(tmp_path, "teacher", "bench", "--model", TINY, "--repeats", 1, "--tokens", 8, "--batch", 1)
    assert r["mode"] == "forward" and r["tokens"] == 8 and len(r["seconds"]) == 1 and r["tokensPerSecond"] > 0


# ---- pipeline and demo -------------------------------------------------------------------------------------

def test_pipeline_with_a_teacher_then_resume(work):
    config = {"data": "c.ldata", "seeds": [1], "student": {"epochs": 2},
              "teacher": {"model": str(TINY), "config": {"epochs": 1, "max_tokens": 32, "lora": {"top_layers": 1}}}}
    (work / "pipeline.json").write_text(json.dumps(config))
    r = run_json(work, "pipeline", "--config", "@pipeline.json", "--out", "pipe", "--json")
    names = [s["name"] for s in r["steps"]]
    assert names[0] == "teacher-train" and names[-1] == "report"
    assert {"student-plain-seed1", "student-distilled-seed1"} <= set(names)
    for f in ["report.md", "report.json", "pipeline-state.json", "teacher.safetensors",
              "teacher-features.safetensors", "students/plain-seed1.safetensors", "students/distilled-seed1.safetensors"]:
        assert (work / "pipe" / f).is_file(), f
    assert all((work / p).is_file() for p in r["summary"]["plots"])
    report = json.loads((work / "pipe/report.json").read_text())
    kinds = {s["name"]: s["kind"] for s in report["systems"]}
    assert kinds["teacher (LLM + LoRA)"] == "teacher" and kinds["frequency baseline"] == "baseline"
    assert {"student (no KD)", "LEADER(S): student + KD"} <= set(kinds) and report["seeds"] == [1]
    table = (work / "pipe/report.md").read_text()
    assert all(f"| {name} | " in table for name in kinds)   # one row per system of report.json
    # a second run reuses every step
    again = run_json(work, "pipeline", "--config", "@pipeline.json", "--out", "pipe", "--json")
    assert all(s["reused"] for s in again["steps"] if s["name"] != "report")
    _, err = run(work, "pipeline", "--config", '{"data": "c.ldata", "sedes": [1]}', "--out", "bad", code=1)
    assert "sedes" in err


def test_demo_without_teacher(tmp_path):
    out, err = run(tmp_path, "demo", "--no-teacher", "--patients", 120, "--seeds", 1, "--out", "d")
    assert "demo finished" in out and "everything is in d/" in out
    for f in ["report.md", "report.json", "cohort.ldata", "students/plain-seed1.safetensors"]:
        assert (tmp_path / "d" / f).is_file(), f
    assert err   # progress goes to stderr


# ---- bench -------------------------------------------------------------------------------------------------

def test_bf16_warns_only_on_the_portable_loop(tmp_path):
    """--precision bf16 warns on stderr exactly when the CPU's bf16 path is the slow portable loop (LEADER_ISA=avx2
    forces it: both fast paths need AVX-512); on AMX or AVX512-BF16 it runs quietly."""
    args = [cli(), "bench", "student", "--steps", "2", "--latency-samples", "20", "--infer-batch", "16",
            "--medications", "20", "--diagnoses", "50", "--procedures", "30", "--precision", "bf16", "--json"]
    for isa in [None, "avx2"]:
        env = {k: v for k, v in os.environ.items() if k != "LEADER_ISA"}
        if isa:
            env["LEADER_ISA"] = isa
        p = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stderr[-2000:]
        path = json.loads(p.stdout)["bf16Path"]
        assert path in ("amx", "avx512-bf16", "portable") and (isa is None or path == "portable")
        assert ("runs a slow portable loop" in p.stderr) == (path == "portable"), (isa, path, p.stderr[-500:])


def test_bench_commands_run_small(tmp_path):
    r = run_json(tmp_path, "bench", "csv", "--rows", 2000, "--repeats", 1, "--json")
    assert all(x["rows"] == 2000 for x in r["results"]) and r["bytes"] > 0
    s = run_json(tmp_path, "bench", "student", "--steps", 2, "--latency-samples", 20, "--infer-batch", 16,
                 "--medications", 20, "--diagnoses", 50, "--procedures", 30, "--json")
    assert s["trainSamplesPerSecond"] > 0 and s["singlePatientP90Microseconds"] >= s["singlePatientP50Microseconds"] > 0
    assert s["batchInferencePatientsPerSecond"] > 0 and s["inferBatch"] == 16
    # fewer latency samples than the warm-up was a crash (index out of range); now a usage error
    _, err = run(tmp_path, "bench", "student", "--latency-samples", 5, code=USAGE)
    assert "--latency-samples must be at least 11 (got 5)" in err
    run(tmp_path, "synth", "--patients", 5, "--out", "m")
    run(tmp_path, "bench", "replicate-mimic3", "--input", "m", "--copies", 2, "--out", "m2")
    a = (tmp_path / "m/ADMISSIONS.csv").read_text().splitlines()
    b = (tmp_path / "m2/ADMISSIONS.csv").read_text().splitlines()
    assert len(b) - 1 == 2 * (len(a) - 1)
