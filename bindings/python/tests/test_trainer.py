"""Trainer: the jobs' results, progress events, cancellation that leaves no partial file, reruns."""
import re
import threading
import time
from pathlib import Path

import pytest

import leader


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_prepare_result_and_progress(tmp_path):
    events = []
    out = tmp_path / "c.ldata"
    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 120, "seed": 2,
                         "out": out}) as job:                    # a Path is fine in the config
        result = job.run(progress=events.append)
        assert job.result == result
    assert out.is_file() and result["output"] == str(out)
    assert {"statistics", "report", "seconds"} <= set(result)
    assert events, "no progress events"
    for e in events:
        assert {"task", "stage", "done", "total"} <= set(e)
        assert e["task"] == "prepare"


def test_student_result(checkpoint, cohort, tmp_path):
    out = tmp_path / "s.safetensors"
    events = []
    with leader.Trainer({"task": "student", "data": str(cohort), "out": str(out),
                         "config": {"epochs": 1, "seed": 3}, "threads": 1}) as job:
        result = job.run(progress=events.append)
    assert out.is_file() and result["checkpoint"] == str(out)
    for key in ("epochs", "bestEpoch", "bestValidationPRAUC", "bestValidationJaccardThreshold",
                "trainSamples", "validationSamples", "parameters", "seconds", "history"):
        assert key in result, key
    assert len(result["history"]) == result["epochs"] == 1
    assert {"epoch", "loss", "validationPRAUC"} <= set(result["history"][0])
    assert {e["task"] for e in events} == {"student"}
    with leader.Model.load(out) as m:
        assert m.n_medications > 0


def test_evaluate_and_evaluation_frame(cohort, checkpoint):
    with leader.Trainer({"task": "evaluate", "data": str(cohort), "checkpoint": str(checkpoint)}) as job:
        student = job.run()
    with leader.Trainer({"task": "evaluate", "data": str(cohort), "baseline": "frequency"}) as job:
        baseline = job.run()
    assert len(student["reports"]) >= 1
    frame = leader.evaluation_frame({"reports": student["reports"] + baseline["reports"]})
    assert {"recommender", "group", "patients", "jaccard", "jaccard_std", "f1", "prauc"} <= set(frame.columns)
    assert set(frame.group) == {"all", "singleVisit", "multiVisit"}
    assert len(frame) == 3 * (len(student["reports"]) + len(baseline["reports"]))
    assert frame.jaccard.between(0, 1).all()
    all_rows = frame[frame.group == "all"]
    assert (all_rows.patients > 0).all()


@pytest.mark.parametrize("task", ["prepare", "student"])
def test_cancel_from_the_callback_leaves_no_partial_file(tmp_path, cohort, task):
    out = tmp_path / ("x.ldata" if task == "prepare" else "x.safetensors")
    config = ({"task": "prepare", "source": "synthetic", "patients": 200, "seed": 4, "out": str(out)}
              if task == "prepare" else
              {"task": "student", "data": str(cohort), "out": str(out), "config": {"epochs": 3}})
    seen = []

    def cancel_after_two(event):
        seen.append(event)
        return len(seen) >= 2
    with leader.Trainer(config) as job:
        with pytest.raises(leader.Cancelled, match=f"leader_trainer_run: {task}: cancelled by the progress callback") as e:
            job.run(progress=cancel_after_two)
        assert e.value.status == 7
        assert len(seen) == 2, "no event after the one that cancelled"
        assert _files(tmp_path) == [], f"left behind: {_files(tmp_path)}"
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape('leader_trainer_result_json: the trainer has no successful run yet')):    # no successful run
            job.result
        job.run()                                     # the same job runs again, to completion
    assert out.is_file()
    assert not [f for f in _files(tmp_path) if "tmp" in f], _files(tmp_path)


def test_exception_in_the_callback_cancels_and_is_reraised(tmp_path):
    out = tmp_path / "x.ldata"

    def boom(event):
        raise KeyError("from the callback")
    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 50, "seed": 4,
                         "out": str(out)}) as job:
        with pytest.raises(KeyError, match="from the callback") as e:
            job.run(progress=boom)
        assert isinstance(e.value.__cause__, leader.Cancelled)
    assert not out.exists()


def test_keyboard_interrupt_cancels_the_job(tmp_path, cohort):
    """Ctrl-C during run() (simulated: SIGINT to ourselves from another thread) cancels at the next event."""
    import os
    import signal
    out = tmp_path / "k.safetensors"
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    # long enough that only the interrupt can end it (50 epochs of this cohort can finish inside 0.3 s)
    with leader.Trainer({"task": "student", "data": str(cohort), "out": str(out),
                         "config": {"epochs": 5000, "patience": 5000}}) as job:
        timer.start()
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            job.run()
        assert time.perf_counter() - started < 20
    timer.join()
    assert not out.exists()


def test_run_releases_the_gil(tmp_path, cohort):
    """Another Python thread keeps running while a job runs."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)
    t = threading.Thread(target=tick)
    with leader.Trainer({"task": "student", "data": str(cohort), "out": str(tmp_path / "g.safetensors"),
                         "config": {"epochs": 1}}) as job:
        t.start()
        started = time.perf_counter()
        job.run()
        finished = time.perf_counter()
        stop.set()
        t.join()
    during = [x for x in ticks if started < x < finished]
    assert finished - started > 0.05, "the job is too short to tell"
    assert len(during) >= 5, f"{len(during)} ticks in {finished - started:.3f}s"


def test_trainer_closes_twice_and_after_close_raises():
    job = leader.Trainer({"task": "evaluate", "data": "x.ldata", "baseline": "frequency"})
    job.close()
    job.close()
    with pytest.raises(leader.InvalidArgument, match="closed"):
        job.run()


def test_pipeline_runs_resumes_and_reports(tmp_path):
    """The whole method through the trainer task "pipeline", the tiny Llama fixture as teacher."""
    tiny = Path(__file__).resolve().parents[3] / "Tests" / "LeaderCoreTests" / "Fixtures" / "tiny_llama"
    config = {"task": "pipeline", "out": tmp_path / "run", "patients": 150, "seeds": [1], "threads": 1,
              "ablations": False,
              "teacher": {"model": str(tiny), "precision": "fp32",
                          "config": {"epochs": 1, "max_tokens": 48, "lora": {"top_layers": 1}}},
              "student": {"hidden": 16, "heads": 2, "ffnHidden": 24, "headHidden": 16, "epochs": 1}}
    events = []
    with leader.Trainer(config) as job:
        result = job.run(progress=events.append)
    assert [s["name"] for s in result["steps"]] == ["prepare", "teacher-train", "student-plain-seed1",
                                                    "student-distilled-seed1", "report"]
    assert {e["task"] for e in events} == {"pipeline"}
    assert any(e["stage"] == "teacher-train/step" for e in events)
    names = [s["name"] for s in result["summary"]["systems"]]
    assert names[0].startswith("teacher") and "frequency baseline" in names
    assert Path(result["reportMarkdown"]).read_text().startswith("# LEADER pipeline report")
    with leader.Trainer(config) as job:        # again: every step reused
        again = job.run()
    assert all(s["reused"] for s in again["steps"][:-1])
