"""bench/device (issue 19's 16-thread measurement on a lent machine): gen_data.c builds with the
project's warnings and writes the four CSVs with the shapes run.sh expects, deterministically;
run.sh and pack.sh parse as bash. The device run itself needs the machine (docs/speed.md)."""
import subprocess
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "bench" / "device"


def test_gen_data_shapes_and_determinism(tmp_path):
    exe = tmp_path / "gen_data"
    subprocess.run(["gcc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
                    "-Werror", "-o", str(exe), str(KIT / "gen_data.c"), "-lm"], check=True)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        subprocess.run([str(exe), str(tmp_path / d), "3000"], check=True)
    for name, cols in (("prof.csv", 32), ("ref.csv", 30), ("cur.csv", 30), ("fair.csv", 4)):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, name
        df = pd.read_csv(tmp_path / "a" / name)
        assert df.shape == (3000, cols), name
    fair = pd.read_csv(tmp_path / "a" / "fair.csv")
    assert set(fair["sex"]) == {"female", "male"} and set(fair["race"]) == set("ABCD")
    assert fair["score"].between(0, 1).all() and set(fair["label"]) == {0, 1}
    ref, cur = pd.read_csv(tmp_path / "a" / "ref.csv"), pd.read_csv(tmp_path / "a" / "cur.csv")
    assert ref["f01"].isna().any() and (cur["f00"].mean() - ref["f00"].mean()) > 0.3


def test_scripts_parse():
    for s in ("run.sh", "pack.sh"):
        subprocess.run(["bash", "-n", str(KIT / s)], check=True)
