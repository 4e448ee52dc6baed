#!/usr/bin/env python3
"""Train the PyHealth medication recommenders on a leader dataset and write their scores for leader's metric code.

    python bench/peers/run_peers.py --samples samples.jsonl --out DIR [--models RNN,RETAIN,...] [--epochs 20]

`samples.jsonl` is what `leader samples --data X.ldata --out samples.jsonl` writes (one sample per line, the last
visit the target). Each model is trained on the training split with PyHealth's defaults for the drug recommendation
task (feature keys, embedding sizes, Adam at lr 1e-3), the epoch with the best validation PRAUC kept, and its
probabilities for the validation and test samples written to DIR/<model>.scores.jsonl in the format
`leader eval --scores` and the pipeline's "peers" key read. DIR/peers.json maps each model to its file.

Differences from PyHealth's own example scripts, each to make the comparison fair and runnable here:
- the models are built from the TRAINING samples only (PyHealth's examples build them from the whole dataset, so
  GAMENet's co-prescription graph would see the test patients' medications);
- single-visit patients are kept (PyHealth's MIMIC task drops them; LEADER evaluates them);
- medications outside the training targets are dropped from histories and from the labels PyHealth sees (its
  label tokenizer has no unknown token; leader scores against the dataset's own truth);
- GAMENet's and MICRON's DDI graph comes from the pair file given with --ddi (PyHealth downloads one at run time);
- SafeDrug and MoleRec need molecule structures PyHealth downloads at run time: not run here.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np

MODELS = ["RNN", "RETAIN", "Transformer", "MICRON", "GAMENet"]


def stub_torchvision():
    """PyHealth 1.1.x imports torchvision for its image models only. PyPI's torchvision wheels are built against
    CUDA torch and fail to load beside the CPU torch installed here, so (when it is absent) an empty stand-in
    module satisfies those imports; none of the models run here touch it."""
    import importlib.util
    import types
    if importlib.util.find_spec("torchvision") is not None:
        return
    tv = types.ModuleType("torchvision")
    tv.__path__ = []
    tv.transforms = types.ModuleType("torchvision.transforms")
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.transforms"] = tv.transforms


def read_samples(path):
    """PyHealth drug-recommendation samples (one per leader sample) by split, keyed by leader's sample id."""
    out = {"train": [], "validation": [], "test": []}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                visits = row["visits"]
                split = row["split"]
                sid = row["id"]
            except (ValueError, KeyError, TypeError):
                sys.exit(f"{path}: line {n}: not a sample line of `leader samples`")
            if split not in out or not visits:
                sys.exit(f"{path}: line {n}: field split or visits is not what `leader samples` writes")
            out[split].append({
                "patient_id": sid,
                "visit_id": sid,
                "conditions": [v["diagnoses"] for v in visits],
                "procedures": [v["procedures"] for v in visits],
                # medications of the earlier visits; the target visit's are the label, hidden as PyHealth does
                "drugs_hist": [v["medications"] for v in visits[:-1]] + [[]],
                "drugs": visits[-1]["medications"],
            })
    return out


def read_ddi_pairs(path):
    """(atc3_a, atc3_b) rows of a DDI pair CSV with a header line."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        f.readline()
        for line in f:
            cells = line.strip().split(",")
            if len(cells) >= 2 and cells[0] and cells[1]:
                pairs.append((cells[0], cells[1]))
    return pairs


def build_model(name, dataset, ddi_pairs):
    import torch
    import pyhealth.models as pm

    if name in ("RNN", "RETAIN", "Transformer"):
        cls = getattr(pm, name)
        return cls(dataset=dataset, feature_keys=["conditions", "procedures"], label_key="drugs", mode="multilabel")
    def ddi_adjacency(tokenizer):
        # PyHealth builds the DDI graph from ATC files it downloads; here it comes from the given pair file.
        vocab = tokenizer.vocabulary
        size = tokenizer.get_vocabulary_size()
        adj = np.zeros((size, size), dtype=np.float32)
        for a, b in ddi_pairs:
            if a in vocab.token2idx and b in vocab.token2idx:
                adj[vocab(a), vocab(b)] = adj[vocab(b), vocab(a)] = 1
        return adj

    if name == "MICRON":
        class MICRONWithPairs(pm.MICRON):
            def generate_ddi_adj(self):
                return ddi_adjacency(self.label_tokenizer)
        return MICRONWithPairs(dataset=dataset)
    if name == "GAMENet":
        class GAMENetWithPairs(pm.GAMENet):
            def generate_ddi_adj(self):
                return torch.from_numpy(ddi_adjacency(self.label_tokenizer))
        return GAMENetWithPairs(dataset=dataset)
    raise SystemExit(f"unknown model {name} (expected one of {', '.join(MODELS)})")


def predict(model, samples, batch_size):
    """(ids, probabilities [n, labels]) of `samples` in order."""
    import torch
    from pyhealth.datasets import get_dataloader

    model.eval()
    ids, probs = [], []
    with torch.no_grad():
        for batch in get_dataloader(samples, batch_size=batch_size, shuffle=False):
            out = model(**batch)
            y = out["y_prob"]
            if y.dim() == 3:  # per-visit outputs (MICRON/GAMENet keep the last visit as the prediction)
                y = y[:, -1, :]
            probs.append(y.cpu().numpy())
            ids.extend(batch["patient_id"])
    return ids, np.concatenate(probs, axis=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", required=True, help="JSON lines written by `leader samples`")
    ap.add_argument("--out", required=True, help="folder for <model>.scores.jsonl and peers.json")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated: " + ", ".join(MODELS))
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--ddi", default=os.path.join(os.path.dirname(__file__), "..", "..", "data", "ddi_atc3_pairs.csv"),
                    help="DDI pair CSV for GAMENet (default: the project's data/ddi_atc3_pairs.csv)")
    args = ap.parse_args()

    stub_torchvision()
    try:
        import torch
        from pyhealth.datasets import SampleEHRDataset, get_dataloader
        from pyhealth.trainer import Trainer
    except ImportError as e:
        sys.exit(f"run_peers.py needs PyHealth 1.1.x and torch (bench/peers/README.md): {e}")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    split = read_samples(args.samples)
    if not split["train"] or not split["validation"] or not split["test"]:
        sys.exit(f"{args.samples}: needs train, validation and test samples")
    # The label vocabulary is the training targets' medications (PyHealth's label tokenizer has no unknown
    # token): medications outside it are dropped from the histories and from the labels PyHealth sees in
    # validation (leader scores against the dataset's own truth, so nothing is lost from the evaluation).
    known = {m for s in split["train"] for m in s["drugs"]}
    for rows in split.values():
        for s in rows:
            s["drugs_hist"] = [[m for m in v if m in known] for v in s["drugs_hist"]]
            s["drugs"] = [m for m in s["drugs"] if m in known]
    if args.ddi and not os.path.exists(args.ddi):
        sys.exit(f"{args.ddi}: no such DDI pair file (GAMENet and MICRON need one; --ddi '' runs them without)")
    ddi_pairs = read_ddi_pairs(args.ddi) if args.ddi else []
    datasets = {k: SampleEHRDataset(v, dataset_name="leader", task_name=f"drug_recommendation_{k}")
                for k, v in split.items()}
    os.makedirs(args.out, exist_ok=True)
    index_path = os.path.join(args.out, "peers.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {}
    timings = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        random.seed(args.seed)
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        t0 = time.time()
        model = build_model(name, datasets["train"], ddi_pairs)
        # logging on: PyHealth keeps the best epoch's weights only when it has a folder for them
        trainer = Trainer(model=model, metrics=["pr_auc_samples"], device="cpu",
                          output_path=os.path.join(os.path.abspath(args.out), "pyhealth"), exp_name=name)
        trainer.train(train_dataloader=get_dataloader(datasets["train"], args.batch_size, shuffle=True),
                      val_dataloader=get_dataloader(datasets["validation"], args.batch_size),
                      epochs=args.epochs, optimizer_params={"lr": args.lr}, monitor="pr_auc_samples")
        labels = model.label_tokenizer.convert_indices_to_tokens(list(range(model.label_tokenizer.get_vocabulary_size())))
        path = os.path.join(args.out, f"{name}.scores.jsonl")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            for part in ("validation", "test"):
                ids, probs = predict(model, datasets[part], args.batch_size)
                for sid, row in zip(ids, probs):
                    scores = {c: round(float(p), 6) for c, p in zip(labels, row) if not c.startswith("<")}
                    f.write(json.dumps({"id": sid, "scores": scores}) + "\n")
        os.replace(path + ".tmp", path)
        timings[name] = time.time() - t0
        index[f"{name} (PyHealth)"] = os.path.abspath(path)
        print(f"{name}: {timings[name]:.0f} s -> {path}", file=sys.stderr)
        with open(index_path + ".tmp", "w", encoding="utf-8") as f:  # after each model: a later failure keeps it
            json.dump(index, f, indent=2, sort_keys=True)
        os.replace(index_path + ".tmp", index_path)
    print(json.dumps({"peers": index, "seconds": timings}))


if __name__ == "__main__":
    main()
