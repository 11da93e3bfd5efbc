#!/usr/bin/python3
"""Write the seeds of the profile reader's harness (tests/fuzz/corpus/profile/): profiles that
`audit profile --save` writes for small deterministic data (numeric with few and many values,
ties, missing values, an all-missing column, categories), and a few broken ones. The
version-1 seeds (number arrays; *_v1.profile) were written by the previous version of audit
and are kept: the reader accepts both versions. Deterministic
apart from the "created" time, which is fixed with --created.

usage: /usr/bin/python3 tests/fuzz/gen_profile_seeds.py AUDIT_BIN   (from the repository root)
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "profile")


def main():
    audit = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for i in range(3000):   # a small LCG: no numpy needed
        v = (i * 7919 + 13) % 3001
        rows.append("%d,%.3f,%s,%s,%s" % (i % 4, v / 97.0, "abc"[i % 3],
                                          "" if i % 11 == 0 else "%d" % (v % 50), ""))
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "ref.csv")
        with open(src, "w") as f:
            f.write("k,x,g,t,empty\n" + "\n".join(rows) + "\n")
        tiny = os.path.join(d, "tiny.csv")
        with open(tiny, "w") as f:
            f.write("a,b\n1.5,x\n2.5,y\n")
        for name, data in (("small.profile", src), ("tiny.profile", tiny)):
            out = os.path.join(OUT, name)
            subprocess.run([audit, "profile", "--data", data, "--save", out, "--quiet",
                            "--created", "2026-01-01T00:00:00Z"], check=True,
                           stdout=subprocess.DEVNULL)
    with open(os.path.join(OUT, "tiny.profile"), "rb") as f:
        tiny = f.read()
    with open(os.path.join(OUT, "version9.profile"), "wb") as f:
        f.write(tiny.replace(b"AUDIT-PROFILE 2 ", b"AUDIT-PROFILE 9 ", 1))
    with open(os.path.join(OUT, "truncated.profile"), "wb") as f:
        f.write(tiny[: len(tiny) // 2])


if __name__ == "__main__":
    main()
