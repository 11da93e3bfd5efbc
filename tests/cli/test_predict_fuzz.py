"""Seeded mutation fuzzing of model files through `audit predict`: every mutated model must give
exit 0 (still a valid model) or exit 2 with an "audit: " message: never a crash, a hang or an
internal error. Run under ASan/UBSan by `make check SANITIZE=address,undefined`."""
import random
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ROOT / "tests" / "golden" / "data" / "models"
LGBM = ROOT / "tests" / "golden" / "data" / "lightgbm"

NUM = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
REPLACEMENTS = ["-1", "0", "1", "2", "-2", "7", "99", "2147483647", "-2147483649", "1e300",
                "-1e300", "1e-320", "0.5", "nan", "\"\"", "null", "[]", "{}", "3.5", "-0"]


def mutate(text, rng):
    kind = rng.randrange(5)
    if kind == 0:                     # replace some numbers
        spans = [m.span() for m in NUM.finditer(text)]
        for _ in range(rng.randint(1, 4)):
            a, b = spans[rng.randrange(len(spans))]
            text = text[:a] + rng.choice(REPLACEMENTS) + text[b:]
            spans = [m.span() for m in NUM.finditer(text)]
        return text
    if kind == 1:                     # truncate
        return text[: rng.randrange(len(text))]
    if kind == 2:                     # delete a span
        a = rng.randrange(len(text))
        return text[:a] + text[a + rng.randint(1, 40):]
    if kind == 3:                     # duplicate a span
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randint(1, 200))
        return text[:b] + text[a:b] + text[b:]
    # swap two lines (text) or two characters
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


CASES = [
    (MODELS / "xgb_multi_softprob.json", MODELS / "data.csv", ".json"),
    (MODELS / "xgb_dart.json", MODELS / "data.csv", ".json"),
    (LGBM / "binary" / "model.txt", LGBM / "multiclass" / "input.csv", ".txt"),
    (LGBM / "regression" / "model.txt", LGBM / "regression" / "input.csv", ".txt"),
]


@pytest.mark.parametrize("model,data,suffix", CASES, ids=[c[0].parent.name + "/" + c[0].name
                                                          for c in CASES])
def test_mutated_models_never_crash(audit, tmp_path, model, data, suffix):
    rng = random.Random(model.name + "1")
    text = model.read_text()
    small = tmp_path / "data.csv"
    small.write_text("\n".join(data.read_text().splitlines()[:40]) + "\n")
    for k in range(40):
        p = tmp_path / f"m{k}{suffix}"
        p.write_text(mutate(text, rng))
        r = audit("predict", "--model", p, "--data", small, timeout=60)
        assert r.code in (0, 2), (k, r)
        if r.code == 2:
            assert r.err.startswith("audit: "), (k, r)
        else:
            assert r.out.startswith("prediction")
