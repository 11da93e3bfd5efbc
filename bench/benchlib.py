"""benchlib.py - one record per benchmark row, so the README's speed table is made from `make bench`
output and not typed by hand (tools/bench_table.py).

record(task, audit_s, peer=..., peer_s=...) appends a JSON line to the file named by
$BENCH_RECORD (make bench sets it to build/bench.jsonl); without it, it does nothing. Each line
carries the workload in words, audit's time, the peer's name and time (if any), the ratio
peer / audit, the 1-minute load average and the time of the run, so a table made on a loaded
machine says so."""
import json
import os
import time


def record(task, audit_s, peer=None, peer_s=None, note=None, unit="s"):
    path = os.environ.get("BENCH_RECORD")
    if not path:
        return
    row = {"task": task, "audit": audit_s, "unit": unit, "peer": peer, "peer_s": peer_s,
           "ratio": (peer_s / audit_s) if peer_s and audit_s else None, "note": note,
           "load": round(os.getloadavg()[0], 2),
           "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def load_report_generator():
    """tests/golden/gen_report_fixtures.py as a module (the synthetic results documents the
    report benchmarks render)."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "tests" / "golden" / "gen_report_fixtures.py"
    spec = importlib.util.spec_from_file_location("gen_report_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
