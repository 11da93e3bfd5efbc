"""tools/check_layers.py catches what it is there to catch: each planted violation fails it."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "check_layers.py")
FOLDERS = ["core", "models", "explainers", "metrics", "reports", "audit"]


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


@pytest.fixture
def tree(tmp_path):
    for f in FOLDERS:
        shutil.copytree(os.path.join(ROOT, f), tmp_path / f,
                        ignore=shutil.ignore_patterns("*.mk"))
    return tmp_path


def test_real_tree_is_clean():
    r = run("--root", ROOT)
    assert r.returncode == 0, r.stdout


def test_wrong_way_include_fails(tree):
    p = tree / "core" / "io.c"
    p.write_text('#include "audit/run.h"\n' + p.read_text())
    r = run("--root", str(tree))
    assert r.returncode == 1
    assert 'core/io.c:1: include "audit/run.h" goes against the floors' in r.stdout


def test_reports_may_not_include_metrics(tree):
    p = tree / "reports" / "pdf_doc.c"
    p.write_text(p.read_text() + '\n#include "metrics/drift.h"\n')
    r = run("--root", str(tree))
    assert r.returncode == 1 and "reports/pdf_doc.c" in r.stdout and "metrics/drift.h" in r.stdout


def test_unqualified_include_fails(tree):
    p = tree / "metrics" / "profile.c"
    p.write_text('#include "io.h"\n' + p.read_text())
    r = run("--root", str(tree))
    assert r.returncode == 1 and "not folder-qualified" in r.stdout


def test_internal_header_must_say_so(tree):
    (tree / "metrics" / "helper.h").write_text("int aud_helper(void);\n")
    r = run("--root", str(tree))
    assert r.returncode == 1
    assert "metrics/helper.h: not reachable from audit/audit.h" in r.stdout


def test_public_header_must_not_say_internal(tree):
    (tree / "metrics" / "extra_int.h").write_text("int aud_extra(void);\n")
    p = tree / "audit" / "audit.h"
    p.write_text(p.read_text() + '\n#include "metrics/extra_int.h"\n')
    r = run("--root", str(tree))
    assert r.returncode == 1
    assert "metrics/extra_int.h: included by audit/audit.h (public) but named *_int.h" in r.stdout


def compile_obj(tmp_path, folder, name, src):
    d = tmp_path / "obj" / folder
    d.mkdir(parents=True, exist_ok=True)
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    subprocess.run(["cc", "-c", "-o", str(d / f"{name}.o"), str(c)], check=True)
    return d / f"{name}.o"


def test_wrong_way_call_and_cycle_fail(tmp_path):
    # core/a.c calls audit/b.c through an extern declaration (no include to see), and back
    compile_obj(tmp_path, "core", "a", "int aud_b(void);\nint aud_a(void) { return aud_b(); }\n")
    compile_obj(tmp_path, "audit", "b", "int aud_a(void);\nint aud_b(void) { return aud_a() + 1; }\n")
    (tmp_path / "empty").mkdir()
    r = run("--root", str(tmp_path / "empty"), "--objs", str(tmp_path / "obj"))
    assert r.returncode == 1
    assert "core/a.c: uses aud_b from audit/b.c, against the floors" in r.stdout
    assert "cycle between folders: audit/b.c <-> core/a.c" in r.stdout


def test_unprefixed_export_fails(tmp_path):
    o = compile_obj(tmp_path, "reports", "c", "int pdf_helper(void) { return 1; }\n"
                    "int aud_ok(void) { return 2; }\n")
    lib = tmp_path / "libx.a"
    subprocess.run(["ar", "rcs", str(lib), str(o)], check=True)
    (tmp_path / "empty").mkdir()
    r = run("--root", str(tmp_path / "empty"), "--lib", str(lib))
    assert r.returncode == 1
    assert "exported symbol pdf_helper lacks the aud_ prefix" in r.stdout
    assert "aud_ok" not in r.stdout
