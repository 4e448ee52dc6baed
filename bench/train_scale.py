#!/usr/bin/env python3
"""Student training at scale, with PyTorch in the same run (docs/benchmarks-student.md "Training at scale").

1. `leader synth` writes N synthetic patients (MIMIC-III layout) and `leader prepare` makes the .ldata;
2. `leader student train` runs EPOCHS epochs on its training split (80 % of N) with THREADS threads: wall time,
   samples/s over the epochs (validation scoring after each epoch included) and peak RSS of the process;
3. PyTorch 2.13 CPU trains the same architecture (bench/student_bench.py's model, with this cohort's vocabulary
   and profile sizes) with the same batch size and thread count for TORCH_STEPS steps on patients drawn like
   `leader bench student`'s (MIMIC-like sizes; the cohort's own patients are not converted): samples/s, and its
   projected time for the same epochs.

Prints a table and one JSON object. Usage:
  python3 bench/train_scale.py [--leader .build-dist/release/leader] [--patients 100000] [--epochs 1]
                               [--threads 2] [--torch-steps 200] [--work /tmp/leader-train-scale]
"""
import argparse, json, os, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import student_bench as sb  # noqa: E402  (the PyTorch model and the patient generator)
import torch  # noqa: E402


def run(cmd, **kw):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    return p.stdout, time.perf_counter() - t0


def run_measured(cmd):
    """stdout, wall seconds and peak RSS (MiB) of this one child (os.wait4's rusage)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed (status {status})")
    return out, wall, usage.ru_maxrss / 1024


def torch_train(sizes, cards, batch, steps, threads):
    sb.M, sb.D, sb.P, sb.CARDS = sizes["medication"], sizes["diagnosis"], sizes["procedure"], cards
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = sb.Student()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    data = sb.patients(batch * (steps + 3), 1)
    packed = [sb.pack(data[s * batch:(s + 1) * batch]) for s in range(steps + 3)]  # packing not timed
    model.train()
    tt = 0.0
    for s in range(steps + 3):
        t0 = time.perf_counter()
        opt.zero_grad(); loss = model(packed[s]); loss.backward(); opt.step()
        if s >= 3:
            tt += time.perf_counter() - t0
    return batch * steps / tt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leader", default=".build-dist/release/leader")
    ap.add_argument("--patients", type=int, default=100_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--torch-steps", type=int, default=200)
    ap.add_argument("--work", default="/tmp/leader-train-scale")
    a = ap.parse_args()
    leader = os.path.abspath(a.leader)
    os.makedirs(a.work, exist_ok=True)
    cohort, data = os.path.join(a.work, "cohort"), os.path.join(a.work, "data.ldata")
    print(f"synth + prepare {a.patients} patients", file=sys.stderr)
    run([leader, "synth", "--patients", str(a.patients), "--format", "mimic3", "--out", cohort])
    run([leader, "prepare", "--source", "mimic3", "--input", cohort, "--maps", os.path.join(cohort, "maps"),
         "--out", data, "--json"])
    stats = json.loads(run([leader, "stats", data, "--json"])[0])["statistics"]
    sizes = {k: v["vocabulary"] for k, v in stats["codes"].items()}
    cards = list(stats["profileCardinality"].values())
    train_n = stats["samples"]["train"]

    print(f"leader student train: {a.epochs} epoch(s) on {train_n} samples, {a.threads} threads", file=sys.stderr)
    cfg = json.dumps({"epochs": a.epochs, "patience": a.epochs})
    out, wall, rss = run_measured([leader, "student", "train", "--data", data, "--out",
                                   os.path.join(a.work, "student.safetensors"), "--config", cfg,
                                   "--threads", str(a.threads), "--json"])
    ours = train_n * a.epochs / wall
    batch = 16

    print(f"PyTorch: {a.torch_steps} steps of batch {batch}, {a.threads} threads", file=sys.stderr)
    theirs = torch_train(sizes, cards, batch, a.torch_steps, a.threads)
    torch_epoch_min = train_n / theirs / 60
    res = dict(patients=a.patients, trainSamples=train_n, epochs=a.epochs, threads=a.threads,
               vocabulary=sizes, leaderWallSeconds=wall, leaderSamplesPerSecond=ours,
               leaderPeakRSSMiB=rss, leaderMinutesPerEpoch=wall / a.epochs / 60,
               torchSamplesPerSecond=theirs, torchMinutesPerEpochProjected=torch_epoch_min,
               ratio=ours / theirs, torch=torch.__version__)
    print(f"{'':28s} {'leader':>12s} {'pytorch':>12s}")
    print(f"{'samples/s (train)':28s} {ours:12.1f} {theirs:12.1f}   ratio {ours / theirs:.2f}x")
    print(f"{'minutes per epoch':28s} {wall / a.epochs / 60:12.2f} {torch_epoch_min:12.2f}   (PyTorch projected)")
    print(f"{'peak RSS (MiB)':28s} {rss:12.0f}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
