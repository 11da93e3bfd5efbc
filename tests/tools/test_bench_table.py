"""tools/bench_table.py: the README's speed table is made from make bench's records."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "bench_table.py")


def write_records(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


ROWS = [
    {"task": "predict, 10 rows", "audit": 0.5, "unit": "s", "peer": "XGBoost", "peer_s": 2.0,
     "ratio": 4.0, "note": None, "load": 1.2, "when": "2026-12-05T06:00:00Z"},
    {"task": "reports", "audit": 0.05, "unit": "s", "peer": None, "peer_s": None, "ratio": None,
     "note": "target < 3 s", "load": 3.5, "when": "2026-12-05T06:01:00Z"},
]


def test_table_rows_and_load(tmp_path):
    rec = tmp_path / "b.jsonl"
    write_records(rec, ROWS)
    r = subprocess.run([sys.executable, SCRIPT, str(rec)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "highest 1-minute load average during the run: 3.5" in r.stdout
    assert "| predict, 10 rows | 0.50 s | XGBoost 2.00 s | 4.0x |" in r.stdout
    assert "| reports | 0.050 s |  | target < 3 s |" in r.stdout


def test_readme_between_markers_only(tmp_path):
    rec = tmp_path / "b.jsonl"
    write_records(rec, ROWS)
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- bench-table -->\nold table\n<!-- /bench-table -->\nafter\n")
    r = subprocess.run([sys.executable, SCRIPT, str(rec), "--readme", str(readme)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = readme.read_text()
    assert text.startswith("before\n<!-- bench-table -->\nMeasured by `make bench`")
    assert "old table" not in text and text.endswith("<!-- /bench-table -->\nafter\n")
    readme.write_text("no markers\n")
    r = subprocess.run([sys.executable, SCRIPT, str(rec), "--readme", str(readme)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "markers" in r.stderr


def test_keep_replaces_a_row_whose_task_states_a_figure(tmp_path):
    """--keep puts a record in place of the README row of the same task, also when the task
    states a measured figure in parentheses (bench_csv's MB/s), which changes from run to run:
    the row is replaced, not doubled; other rows stay."""
    rec = tmp_path / "b.jsonl"
    row = dict(ROWS[0], task="read a CSV (486 MB/s, peak RSS 1.27x the file)")
    write_records(rec, [row])
    readme = tmp_path / "README.md"
    readme.write_text("<!-- bench-table -->\n| task | audit | peer | ratio |\n|---|---|---|---|\n"
                      "| read a CSV (500 MB/s, peak RSS 1.27x the file) | 0.45 s | pandas 7.5 s | 16.7x |\n"
                      "| other | 1.0 s |  | x |\n<!-- /bench-table -->\n")
    r = subprocess.run([sys.executable, SCRIPT, str(rec), "--readme", str(readme), "--keep"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = readme.read_text()
    assert "486 MB/s" in text and "500 MB/s" not in text and text.count("read a CSV") == 1
    assert "| other | 1.0 s |  | x |" in text
