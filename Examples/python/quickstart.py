"""LEADER from Python in a few steps: prepare a synthetic cohort, train a small student, evaluate it against
a baseline, plot, recommend medications for a patient and explain the top one.

    pip install -e bindings/python            # or: export PYTHONPATH=bindings/python
    python Examples/python/quickstart.py      # writes into $LEADER_QUICKSTART_OUT (default ./quickstart-out)

quickstart.ipynb holds the same cells (bindings/python/tools/sync_notebook.py writes it from this file;
the tests execute both and check that they agree).
"""
# %% Setup: where the files go, which library serves us
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

import leader  # noqa: E402

out = Path(os.environ.get("LEADER_QUICKSTART_OUT", "quickstart-out")).resolve()
out.mkdir(parents=True, exist_ok=True)
print(f"libleader {leader.version()} ({leader.build_info()['isa']}) from {leader.library_path()}")
print(f"writing into {out}")

# %% Prepare a synthetic cohort (the same pipeline reads MIMIC-III/IV or OMOP exports: "source", "input", "maps")
stages = set()


def show_stage(event):
    """Progress callback: prints each new stage once (return True to cancel the job)."""
    if event["stage"] not in stages:
        stages.add(event["stage"])
        print(f"  {event['task']}: {event['stage']}")


with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 400, "seed": 1,
                     "out": out / "cohort.ldata"}) as job:
    prepared = job.run(progress=show_stage)
print("prepared", prepared["output"], {k: v for k, v in prepared["statistics"].items() if not isinstance(v, (dict, list))})

# %% Train a small student model
with leader.Trainer({"task": "student", "data": out / "cohort.ldata", "out": out / "student.safetensors",
                     "config": {"epochs": 3, "seed": 1}}) as job:
    trained = job.run(progress=show_stage)
history = pd.DataFrame(trained["history"])
print(history[["epoch", "loss", "validationPRAUC", "validationJaccard"]].to_string(index=False))
print(f"best epoch {trained['bestEpoch']}, validation PRAUC {trained['bestValidationPRAUC']:.3f}, "
      f"{trained['parameters']:,} parameters, {trained['seconds']:.1f} s")

# %% Evaluate on the test split, against a frequency baseline
reports = []
for target in ({"checkpoint": out / "student.safetensors"}, {"baseline": "frequency"}):
    with leader.Trainer({"task": "evaluate", "data": out / "cohort.ldata", **target}) as job:
        reports += job.run()["reports"]
evaluation = leader.evaluation_frame(reports)
print(evaluation[["recommender", "group", "patients", "jaccard", "f1", "prauc"]].round(3).to_string(index=False))

# %% Plot the training curve and the test metrics
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
loss = left.plot(history.epoch, history.loss, marker="o", label="training loss")
left.set_xlabel("epoch")
left.set_xticks(history.epoch)
left.set_ylabel("loss")
twin = left.twinx()
prauc = twin.plot(history.epoch, history.validationPRAUC, marker="s", color="tab:orange", label="validation PRAUC")
twin.set_ylabel("PRAUC")
left.legend(handles=loss + prauc, loc="center right")
left.set_title("student training")
overall = evaluation[evaluation.group == "all"].set_index("recommender")[["jaccard", "f1", "prauc"]]
overall.T.plot.bar(ax=right, rot=0)
right.legend(fontsize=7, loc="upper left")
right.set_title("test split, all patients")
right.set_ylim(0, 1)
fig.tight_layout()
fig.savefig(out / "quickstart.png", dpi=100)
print("plot:", out / "quickstart.png")

# %% Recommend medications for one patient (visits oldest first; the last one is the current visit)
model = leader.Model.load(out / "student.safetensors")
session = model.session()
dx, px, rx = model.diagnoses.code, model.procedures.code, model.medications.code
patient = {
    "visits": [
        {"diagnoses": list(dx[:3]), "procedures": list(px[:1]), "medications": list(rx[:2])},
        {"diagnoses": list(dx[3:6]), "procedures": list(px[1:2])},
    ],
    "profile": {f["name"]: f["values"][1] for f in model.info["profile"]["fields"] if len(f["values"]) > 1},
}
recommended = session.recommend(patient, top_k=5, threshold=0)
print(recommended.to_string(index=False))

# %% Explain the top recommendation: what each input code adds to its score (occlusion)
top = recommended.medication.iloc[0]
why = session.explain(patient, top)
print(f"{top}: score {why.attrs['score']:.3f}")
print(why.head(8).to_string(index=False))

# %% Score a small table at once (long format: patient, visit, kind, code)
events = pd.DataFrame(
    [(pid, v, kind, code)
     for pid in range(3)
     for v, visit in enumerate(patient["visits"][pid % 2:])
     for kind, codes in (("diagnosis", visit["diagnoses"]), ("procedure", visit.get("procedures", [])))
     for code in codes],
    columns=["patient", "visit", "kind", "code"])
print(session.recommend_batch(events, top_k=3, threshold=0).to_string(index=False))
session.close()
model.close()
