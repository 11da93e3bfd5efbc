#!/usr/bin/env python3
"""check_layers.py - enforce the floors of docs/architecture.md (../shared/STYLE.md section 1).

  check_layers.py [--root DIR] [--objs OBJDIR] [--lib LIBAUDIT.a]

1. Includes: every `#include "folder/file.h"` in core/ models/ explainers/ metrics/ reports/ audit/
   must point down or sideways within its folder (core <- models <- explainers, metrics <- audit;
   reports <- core only). An unqualified `#include "x.h"` is an error too (the direction of every
   arrow must be visible in the line that makes it).
2. Symbols (with --objs): the same order for every undefined symbol an object file takes from
   another object of the library (a call through an extern declaration cannot hide an arrow), and
   no cycle between files of different folders.
3. Exports (with --lib): every external symbol defined by libaudit.a starts with aud_ or AUD_.
4. Header names: the public headers are audit/audit.h and what it includes, directly or not; every
   other header of these folders is internal and its name ends in _int.h, so a reader sees from
   the name alone whether a declaration is part of the library's surface.

Prints one line per violation, "file: message", and exits 1 when there is any; 0 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

FOLDERS = ["core", "models", "explainers", "metrics", "reports", "audit"]
# what each folder may include or call besides itself
ALLOWED = {
    "core": set(),
    "models": {"core"},
    "explainers": {"core", "models"},
    "metrics": {"core", "models"},
    "reports": {"core"},
    "audit": {"core", "models", "explainers", "metrics", "reports"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def check_includes(root, out):
    for folder in FOLDERS:
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{folder}/{name}"
            with open(os.path.join(d, name), encoding="utf-8") as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                target = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                if "/" not in target:
                    out.append(f"{rel}:{line}: include \"{target}\" is not folder-qualified")
                    continue
                tfolder = target.split("/", 1)[0]
                if tfolder not in ALLOWED:
                    out.append(f"{rel}:{line}: include \"{target}\" names no library folder")
                elif tfolder != folder and tfolder not in ALLOWED[folder]:
                    out.append(f"{rel}:{line}: include \"{target}\" goes against the floors "
                               f"({folder}/ may include {fmt_allowed(folder)})")


PUBLIC_HEADER = "audit/audit.h"


def public_headers(root):
    """audit/audit.h and the headers it includes, directly or through others."""
    seen, todo = set(), [PUBLIC_HEADER]
    while todo:
        h = todo.pop()
        if h in seen or not os.path.isfile(os.path.join(root, h)):
            continue
        seen.add(h)
        with open(os.path.join(root, h), encoding="utf-8") as f:
            todo.extend(t for t in INCLUDE.findall(f.read()) if "/" in t)
    return seen


def check_header_names(root, out):
    public = public_headers(root)
    for folder in FOLDERS:
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.endswith(".h"):
                continue
            rel = f"{folder}/{name}"
            internal = name.endswith("_int.h")
            if rel in public and internal:
                out.append(f"{rel}: included by {PUBLIC_HEADER} (public) but named *_int.h")
            elif rel not in public and not internal:
                out.append(f"{rel}: not reachable from {PUBLIC_HEADER}, so internal: "
                           f"name it *_int.h (or include it from the public header)")


def fmt_allowed(folder):
    a = sorted(ALLOWED[folder])
    return (", ".join(f"{x}/" for x in a) + " and itself") if a else "only itself"


def nm(path):
    r = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0].endswith(":"):
            continue
        sym, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(sym)
        elif kind.isupper():
            defined.add(sym)
    return defined, undefined


def check_symbols(objdir, out):
    objs = {}
    for folder in FOLDERS:
        d = os.path.join(objdir, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".o"):
                objs[f"{folder}/{name[:-2]}.c"] = nm(os.path.join(d, name))
    owner = {}
    for f, (defined, _) in objs.items():
        for s in defined:
            owner[s] = f
    edges = {f: set() for f in objs}
    for f, (_, undefined) in objs.items():
        folder = f.split("/", 1)[0]
        for s in sorted(undefined):
            g = owner.get(s)
            if g is None or g == f:
                continue
            edges[f].add(g)
            gfolder = g.split("/", 1)[0]
            if gfolder != folder and gfolder not in ALLOWED[folder]:
                out.append(f"{f}: uses {s} from {g}, against the floors "
                           f"({folder}/ may use {fmt_allowed(folder)})")
    # strongly connected components (Tarjan); a component spanning two folders is a cycle
    index, low, stack, on, sccs = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        if len({c.split("/", 1)[0] for c in comp}) > 1:
            out.append(f"{comp[0]}: cycle between folders: {' <-> '.join(comp)}")


def check_exports(lib, out):
    defined, _ = nm(lib)
    for s in sorted(defined):
        # the sanitizer build adds __odr_asan.NAME beside each global: judge NAME
        if s.startswith("__odr_asan."):
            s = s[len("__odr_asan."):]
        if not (s.startswith("aud_") or s.startswith("AUD_")):
            out.append(f"{os.path.basename(lib)}: exported symbol {s} lacks the aud_ prefix")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=".")
    ap.add_argument("--objs")
    ap.add_argument("--lib")
    a = ap.parse_args()
    out = []
    check_includes(a.root, out)
    check_header_names(a.root, out)
    if a.objs:
        check_symbols(a.objs, out)
    if a.lib:
        check_exports(a.lib, out)
    for line in out:
        print(line)
    if out:
        print(f"check_layers: {len(out)} violation(s); see docs/architecture.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
