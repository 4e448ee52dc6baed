#!/usr/bin/env python3
"""The teacher against llama.cpp on the same GGUF file, interleaved in one run (issue 14, item 1).

llama.cpp is built from source by this script: the `llama-cpp-python` sdist from PyPI (its vendored llama.cpp),
configured with CMake's defaults for this machine (GGML_NATIVE, OpenMP, Release), only the `llama-bench` and
`llama-batched-bench` tools. The build is kept in --cache (default ~/.cache/leader/llama.cpp-<version>) and
reused. Then, per round and per precision of ours, in this order:

  pp 8x128   prompt processing of 8 sequences of 128 tokens: ours `leader teacher bench --mode forward --batch 8
             --tokens 128` against `llama-batched-bench -npp 128 -ntg 1 -npl 8` (its prompt figure, S_PP)
  pp 1x512   one 512-token prompt: ours `--batch 1 --tokens 512` against `llama-bench -p 512 -n 0`
  decode     greedy single-token steps: ours `--mode decode --tokens 32 --new-tokens 64` (batch 1, after a
             32-token prompt) against `llama-bench -p 0 -n 64`

Both run with --threads (default 2). Ours: its --precisions (fp32 dequantises the Q4_1 blocks into fp32
products; int8 quantises the activations and takes integer dot products, as llama.cpp does). Each figure is the
best of its rounds; ratios are ours / llama.cpp per round and best vs best. Prints one JSON object; --markdown F
writes the table for docs/benchmarks-teacher.md.

Usage: python3 bench/llama_cpp_bench.py [--leader .build-dist/release/leader] [--model models/…Q4_1.gguf]
       [--threads 2] [--rounds 3] [--precisions fp32,int8] [--markdown F]
Needs: network access to PyPI once (the sdist), cmake and a C/C++ compiler (`pip install cmake ninja
scikit-build-core` provides the first and the sdist's metadata step).
"""
import argparse, glob, json, os, re, subprocess, sys, tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "0.3.36"   # llama-cpp-python; its vendored llama.cpp is what gets built


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_llama_cpp(cache):
    """Paths of llama-bench and llama-batched-bench, building them into `cache` first when absent."""
    bindir = os.path.join(cache, "build", "bin")
    tools = [os.path.join(bindir, t) for t in ("llama-bench", "llama-batched-bench")]
    if all(os.path.exists(t) for t in tools):
        return tools
    os.makedirs(cache, exist_ok=True)
    sdist = glob.glob(os.path.join(cache, f"llama_cpp_python-{VERSION}.tar.gz"))
    if not sdist:
        log(f"downloading the llama-cpp-python {VERSION} sdist from PyPI")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-build-isolation",
                        "--no-binary", "llama-cpp-python", f"llama-cpp-python=={VERSION}", "-d", cache], check=True)
        sdist = glob.glob(os.path.join(cache, f"llama_cpp_python-{VERSION}.tar.gz"))
    src = os.path.join(cache, "src")
    if not os.path.isdir(src):
        with tarfile.open(sdist[0]) as t:
            t.extractall(src, filter="data")
    llama = glob.glob(os.path.join(src, "*", "vendor", "llama.cpp"))[0]
    build = os.path.join(cache, "build")
    log("configuring llama.cpp (CMake defaults: GGML_NATIVE=ON, OpenMP, Release)")
    subprocess.run(["cmake", "-S", llama, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_CURL=OFF",
                    "-DLLAMA_OPENSSL=OFF", "-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=" + bindir], check=True,
                   stdout=subprocess.DEVNULL)
    log("building llama-bench and llama-batched-bench (several minutes on 2 cores)")
    subprocess.run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2), "--target", "llama-bench",
                    "llama-batched-bench"], check=True, stdout=subprocess.DEVNULL)
    return tools


def llama_bench(tool, model, threads, prompt, gen):
    """tokens/s of one llama-bench test (-p prompt -n gen; one of them 0)."""
    out = subprocess.run([tool, "-m", model, "-t", str(threads), "-p", str(prompt), "-n", str(gen), "-r", "2",
                          "-o", "json"], check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)[0]["avg_ts"])


def batched_pp(tool, model, threads, tokens, seqs):
    """Prompt tokens/s of `seqs` sequences of `tokens` processed together (llama-batched-bench's S_PP)."""
    out = subprocess.run([tool, "-m", model, "-t", str(threads), "-tb", str(threads), "-c", str(seqs * (tokens + 8)),
                          "-b", str(seqs * tokens), "-ub", "512", "-npp", str(tokens), "-ntg", "1", "-npl", str(seqs),
                          "--output-format", "jsonl"], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return float(rows[-1]["speed_pp"])


def ours(leader, model, threads, precision, *args):
    out = subprocess.run([leader, "teacher", "bench", "--model", model, "--threads", str(threads), "--precision",
                          precision, "--repeats", "2", *args], check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["tokensPerSecond"])


TESTS = {
    "pp 8x128": (("--mode", "forward", "--batch", "8", "--tokens", "128"), ("batched", 128, 8)),
    "pp 1x512": (("--mode", "forward", "--batch", "1", "--tokens", "512"), ("bench", 512, 0)),
    "decode": (("--mode", "decode", "--tokens", "32", "--new-tokens", "64"), ("bench", 0, 64)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leader", default=os.path.join(ROOT, ".build-dist/release/leader"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--tests", default=",".join(TESTS))
    ap.add_argument("--cache", default=os.path.expanduser(f"~/.cache/leader/llama.cpp-{VERSION}"))
    ap.add_argument("--markdown")
    a = ap.parse_args()
    bench, batched = build_llama_cpp(a.cache)
    precisions = a.precisions.split(",")
    tests = a.tests.split(",")
    runs = {t: {"llama.cpp": [], **{p: [] for p in precisions}} for t in tests}
    for r in range(a.rounds):
        for t in tests:
            args, (kind, n1, n2) = TESTS[t]
            for p in precisions:
                runs[t][p].append(ours(a.leader, a.model, a.threads, p, *args))
            if kind == "batched":
                runs[t]["llama.cpp"].append(batched_pp(batched, a.model, a.threads, n1, n2))
            else:
                runs[t]["llama.cpp"].append(llama_bench(bench, a.model, a.threads, n1, n2))
            log(f"round {r} {t}: " + ", ".join(f"{k} {v[-1]:.1f} tok/s" for k, v in runs[t].items()))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    result = {"cpu": cpu, "threads": a.threads, "model": os.path.basename(a.model), "llama_cpp_python": VERSION,
              "tests": {}}
    for t in tests:
        ref = runs[t]["llama.cpp"]
        entry = {"llama.cpp": ref}
        for p in precisions:
            entry[p] = runs[t][p]
            entry[p + "_ratio_per_round"] = [round(o / l, 3) for o, l in zip(runs[t][p], ref)]
            entry[p + "_ratio_best"] = round(max(runs[t][p]) / max(ref), 3)
        result["tests"][t] = entry
    print(json.dumps(result, indent=1))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(f"CPU: {cpu}, {a.threads} threads, {os.path.basename(a.model)}, {a.rounds} interleaved rounds\n\n")
            f.write("| test | llama.cpp (tok/s, best) | " + " | ".join(f"ours {p} (best; ratio best vs best; per round)"
                                                                    for p in precisions) + " |\n")
            f.write("|---|---|" + "---|" * len(precisions) + "\n")
            for t in tests:
                e = result["tests"][t]
                cells = [f"{max(e[p]):.1f}; **{e[p + '_ratio_best']:.2f}×**; "
                         + " / ".join(f"{x:.2f}" for x in e[p + "_ratio_per_round"]) for p in precisions]
                f.write(f"| {t} | {max(e['llama.cpp']):.1f} | " + " | ".join(cells) + " |\n")


if __name__ == "__main__":
    main()
