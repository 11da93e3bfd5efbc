"""`audit profile` command line: outputs and every bad-input path (exit 2, located message)."""
import json
import os

import pytest


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return p


def test_profile_table_on_stdout(audit, tmp_path):
    p = write(tmp_path, "d.csv", "a,b\n1,x\n2,y\n3,x\n")
    r = audit("profile", "--data", p)
    assert r.code == 0, r
    assert "3 rows, 2 columns" in r.out
    assert "numeric" in r.out and "categorical" in r.out


@pytest.mark.valgrind
def test_profile_json_to_stdout(audit, tmp_path):
    p = write(tmp_path, "d.csv", "a\n1\n2\n")
    r = audit("profile", "--data", p, "--json", "-")
    assert r.code == 0, r
    assert json.loads(r.out)["profile"]["rows"] == 2


def test_profile_reads_stdin(audit):
    r = audit("profile", "--data", "-", "--delimiter", ";", "--json", "-", input="a;b\n1;2\n")
    assert r.code == 0, r
    assert [c["name"] for c in json.loads(r.out)["profile"]["columns"]] == ["a", "b"]


@pytest.mark.parametrize("text,where,msg", [
    ("a,b,c\n1,2,3\n4,5\n", ":3:2:", "expected 3 fields, found 2"),
    ("a,b\n1,\"open\n", ":2:2:", "unterminated quoted field"),
    ("", ":1:", "empty file"),
    ("a,,c\n1,2,3\n", ":1:2:", "empty column name"),
    (b"a,\xff\n1,2\n", ":1:2:", "not valid UTF-8"),
    ("a,b\n1,1e999\n", ":2:2:", "out of the range"),
    ("a,b\n\"x\"y,1\n", ":2:1:", "after a closing quote"),
])
@pytest.mark.valgrind
def test_profile_bad_csv(audit, tmp_path, text, where, msg):
    p = write(tmp_path, "bad.csv", text)
    out = tmp_path / "p.json"
    r = audit("profile", "--data", p, "--json", out)
    assert r.code == 2, r
    assert r.err.startswith("audit: " + str(p) + where), r
    assert msg in r.err
    assert not out.exists()
    assert os.listdir(tmp_path) == ["bad.csv"]  # no partial or temporary output left


def test_profile_missing_file(audit, tmp_path):
    r = audit("profile", "--data", tmp_path / "nope.csv")
    assert r.code == 2 and "nope.csv: cannot open" in r.err, r


@pytest.mark.parametrize("args,msg", [
    ([], "--data is required"),
    (["--data"], "needs a value"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--data", "x.csv", "extra"], "unexpected argument"),
    (["--data", "x.csv", "--delimiter", "ab"], "--delimiter expects one character"),
    (["--data", "x.csv", "--max-field-bytes", "0"], "--max-field-bytes expects"),
])
def test_profile_usage_errors(audit, args, msg):
    r = audit("profile", *args)
    assert r.code == 2, r
    assert msg in r.err, r


def test_profile_delimiter_and_na_options(audit, tmp_path):
    p = write(tmp_path, "d.tsv", "a\tb\n1\t-\n2\t3\n")
    r = audit("profile", "--data", p, "--delimiter", "tab", "--na", "-", "--json", "-")
    assert r.code == 0, r
    cols = json.loads(r.out)["profile"]["columns"]
    assert cols[1]["type"] == "numeric" and cols[1]["missing"] == 1


def test_profile_field_limit(audit, tmp_path):
    p = write(tmp_path, "d.csv", "a\n" + "x" * 100 + "\n")
    r = audit("profile", "--data", p, "--max-field-bytes", "10")
    assert r.code == 2 and ":2:1: field longer than the limit of 10 bytes" in r.err, r


def test_profile_unwritable_output(audit, tmp_path):
    p = write(tmp_path, "d.csv", "a\n1\n")
    r = audit("profile", "--data", p, "--json", tmp_path / "no" / "dir" / "p.json")
    assert r.code == 2 and "cannot create" in r.err, r


@pytest.mark.parametrize("cmd", [
    ["profile", "--data", "{d}", "--json", "{d}"],
    ["predict", "--model", "{m}", "--data", "{d}", "--out", "{d}"],
    ["predict", "--model", "{m}", "--data", "{d}", "--out", "{m}"],
    ["explain", "--model", "{m}", "--data", "{d}", "--out", "{d}"],
    ["reasons", "--model", "{m}", "--data", "{d}", "--out", "{m}"],
    ["fairness", "--data", "{d}", "--sensitive", "sex", "--score", "s", "--threshold", "0.5",
     "--json", "{d}"],
    ["drift", "--reference", "{d}", "--current", "{d}", "--json", "{d}"],
])
def test_outputs_never_overwrite_inputs(audit, root, tmp_path, cmd):
    import hashlib
    import shutil
    m = tmp_path / "m.json"
    shutil.copy(root / "tests" / "golden" / "data" / "lightgbm" / "binary" / "model.txt", m)
    d = tmp_path / "d.csv"
    text = (root / "tests" / "golden" / "data" / "lightgbm" / "binary" / "input.csv").read_text()
    lines = text.splitlines()
    d.write_text("\n".join([lines[0] + ",sex,s"] +
                           [l + (",a,0.2" if i % 2 else ",b,0.7") for i, l in
                            enumerate(lines[1:40])]) + "\n")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (m, d)}
    r = audit(*[a.format(d=d, m=m) for a in cmd])
    assert r.code == 2 and "would overwrite the input" in r.err, r
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (m, d)} == before


def test_progress_only_on_a_terminal(audit, tmp_path):
    """SPEC 1: long work shows progress on stderr when it is a terminal, never when it is not.
    AUDIT_PROGRESS_AFTER=0 makes the 2-second delay 0 so a small file shows it."""
    import os
    import pty
    import subprocess
    data = tmp_path / "big.csv"
    data.write_text("a,b\n" + "".join("%d,x%d\n" % (i, i % 7) for i in range(200000)))
    env = dict(os.environ, AUDIT_PROGRESS_AFTER="0")
    master, slave = pty.openpty()
    from conftest import BIN
    p = subprocess.run([BIN, "profile", "--data", str(data)], stdout=subprocess.DEVNULL,
                       stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.returncode == 0
    text = out.decode()
    assert f"audit: reading {data}: " in text, text
    assert text.rstrip().endswith("100%"), text   # the last report is always drawn
    r = subprocess.run([BIN, "profile", "--data", str(data)], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    p = subprocess.run([BIN, "profile", "--quiet", "--data", str(data)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert p.stderr == b""
