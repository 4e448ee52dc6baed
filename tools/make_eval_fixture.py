#!/usr/bin/env python3
"""Average-precision reference for EvalMetricsTests: random score rows (some with tied scores) and random
label rows, with scikit-learn's average_precision_score per row. Writes
Tests/LeaderCoreTests/Fixtures/eval_average_precision.json. Run: python3 tools/make_eval_fixture.py"""
import json, os
import numpy as np
from sklearn.metrics import average_precision_score

rng = np.random.default_rng(11)
rows = []
for i in range(40):
    n = int(rng.integers(3, 40))
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    if y.sum() == 0:
        y[int(rng.integers(0, n))] = 1
    s = rng.random(n).astype(np.float32)
    if i % 3 == 0:  # ties: quantised scores
        s = (np.round(s * 4) / 4).astype(np.float32)
    rows.append(dict(truth=[int(k) for k in np.nonzero(y)[0]], scores=[float(v) for v in s],
                     ap=float(average_precision_score(y, s.astype(np.float64)))))
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "LeaderCoreTests", "Fixtures", "eval_average_precision.json")
with open(path, "w") as f:
    json.dump(rows, f, separators=(",", ":"))
print(path, os.path.getsize(path))
