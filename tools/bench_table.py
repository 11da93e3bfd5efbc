#!/usr/bin/env python3
"""bench_table.py - the README's speed table from `make bench` records (bench/benchlib.py).

  bench_table.py RECORDS.jsonl                 print the Markdown table
  bench_table.py RECORDS.jsonl --readme FILE   replace the table between the markers
                                               <!-- bench-table --> and <!-- /bench-table -->
  bench_table.py RECORDS.jsonl --readme FILE --keep
                                               after a run of some of the scripts: the rows
                                               of the records replace the README's rows of the
                                               same task (or are added), the others are kept,
                                               and the caption says which rows are new

The table's caption states the highest load average seen during the run: figures from a loaded
machine are not comparable with a quiet one's."""
import argparse
import json
import re
import sys


def fmt_time(v, unit):
    if v is None:
        return ""
    if unit != "s":
        return "%g %s" % (v, unit)
    return "%.2f s" % v if v >= 0.1 else "%.3f s" % v


def table(rows):
    load = max((r.get("load") or 0.0) for r in rows) if rows else 0.0
    when = rows[-1]["when"][:10] if rows else ""
    out = ["Measured by `make bench` on %s (highest 1-minute load average during the run: %.1f; "
           "this machine has 2 cores):" % (when, load), "",
           "| task | audit | peer | ratio |", "|---|---|---|---|"]
    for r in rows:
        peer = r.get("peer") or ""
        if r.get("peer_s") is not None:
            peer = "%s %s" % (peer, fmt_time(r["peer_s"], "s"))
        ratio = "%.1fx" % r["ratio"] if r.get("ratio") else (r.get("note") or "")
        out.append("| %s | %s | %s | %s |" % (r["task"], fmt_time(r["audit"], r.get("unit", "s")),
                                              peer.strip(), ratio))
    return "\n".join(out) + "\n"


ROW = re.compile(r"^\| (.*) \| (.*) \| (.*) \| (.*) \|$")


def row_key(task):
    """A row's identity across runs: its task with the numbers inside parentheses blanked, since
    some tasks state a measured figure there ("(486 MB/s, peak RSS 1.27x the file)")."""
    return re.sub(r"\(([^()]*)\)", lambda m: "(" + re.sub(r"[\d.,]+", "#", m.group(1)) + ")",
                  task)


def kept_table(old, rows):
    """The README's table (text between the markers) with the records' rows put in place."""
    new = {row_key(r["task"]): r for r in rows}
    lines, done = [], set()
    for line in old.splitlines():
        m = ROW.match(line)
        if not m or m.group(1) in ("task", "---"):
            continue
        key = row_key(m.group(1))
        if key in new:
            if key not in done:   # a row left twice by an earlier run: kept once
                lines.append(table([new[key]]).splitlines()[-1])
            done.add(key)
        else:
            lines.append(line)
    lines += [table([r]).splitlines()[-1] for r in rows if row_key(r["task"]) not in done]
    load = max((r.get("load") or 0.0) for r in rows) if rows else 0.0
    when = rows[-1]["when"][:10] if rows else ""
    head = ("Measured by `make bench` (this machine has 2 cores); %d rows rerun on %s (highest "
            "1-minute load average during that run: %.1f), the others from earlier full runs:"
            % (len(rows), when, load))
    return "\n".join([head, "", "| task | audit | peer | ratio |", "|---|---|---|---|"] +
                     lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("records")
    ap.add_argument("--readme")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    with open(a.records, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    text = table(rows)
    if not a.readme:
        sys.stdout.write(text)
        return 0
    with open(a.readme, encoding="utf-8") as f:
        readme = f.read()
    pat = re.compile(r"(<!-- bench-table -->\n).*?(<!-- /bench-table -->)", re.S)
    if not pat.search(readme):
        print("bench_table: %s has no <!-- bench-table --> markers" % a.readme, file=sys.stderr)
        return 1
    if a.keep:
        m = pat.search(readme)
        text = kept_table(readme[m.end(1):m.start(2)], rows)
    readme = pat.sub(lambda m: m.group(1) + text + m.group(2), readme)
    with open(a.readme, "w", encoding="utf-8") as f:
        f.write(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
