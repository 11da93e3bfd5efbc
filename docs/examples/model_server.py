#!/usr/bin/python3
"""model_server.py - a scikit-learn model behind `audit --model-cmd` (docs/model-formats.md).

    audit predict --model-cmd '/usr/bin/python3 docs/examples/model_server.py model.pkl' --data D.csv

Protocol (audit's default, `--model-protocol batch`, SPEC section 2): audit starts the program for
each batch; it reads a CSV header line and the batch's rows on stdin until end of file, writes one
answer line per row on stdout: P(class 1) for a binary classifier, else the comma-separated class
probabilities (or the value of a regressor), printed with repr precision, and exits 0.

With --session first (for `--model-protocol session`) it runs once: batches on stdin, each a
header line, one line per row, then an empty line; each batch answered as above, then flush.

The model argument is a pickle of a fitted estimator (written by the caller) or, with --train CSV
TARGET, a LogisticRegression fitted on the fly on the other columns of CSV.
"""
import csv
import pickle
import sys

import numpy as np


def load_model(args):
    if args[0] == "--train":
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        df = pd.read_csv(args[1])
        y = df.pop(args[2])
        return LogisticRegression(max_iter=1000).fit(df.to_numpy(float), y)
    with open(args[0], "rb") as f:
        return pickle.load(f)


def parse(lines):
    """Rows of numbers; an empty field is missing (NaN). Fast path without quoting."""
    if any('"' in s for s in lines):
        rows = list(csv.reader(lines))
    else:
        rows = [s.split(",") for s in lines]
    try:
        return np.array(rows, dtype=float)
    except ValueError:
        return np.array([[float(v) if v != "" else np.nan for v in r] for r in rows], dtype=float)


def answer(model, lines):
    x = parse(lines)
    if hasattr(model, "predict_proba"):
        p = model.predict_proba(x)
        lines = [repr(float(r[1])) if p.shape[1] == 2 else ",".join(repr(float(v)) for v in r)
                 for r in p]
    else:
        lines = [repr(float(v)) for v in model.predict(x)]
    sys.stdout.write("".join(s + "\n" for s in lines))
    sys.stdout.flush()


def main():
    args = sys.argv[1:]
    session = args[:1] == ["--session"]
    model = load_model(args[1:] if session else args)
    if not session:  # one batch: header and rows to end of file
        lines = sys.stdin.read().splitlines()
        if len(lines) > 1:
            answer(model, lines[1:])
        return
    batch = []
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line == "":
            if len(batch) > 1:  # header + rows
                answer(model, batch[1:])
            batch = []
        else:
            batch.append(line)


if __name__ == "__main__":
    main()
