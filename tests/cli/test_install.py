"""`make install` / `make uninstall` (PREFIX, DESTDIR) and the installed library: a tiny C program
built with `pkg-config --cflags --libs audit` against the installed headers and libaudit.a, run
on the demo data (its predictions are those of `audit predict`), and docs/examples/embed.c built
the same way; and the Debian packaging's version agrees with the program's."""
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ROOT

O = Path(BIN).resolve().parent
pytestmark = pytest.mark.skipif(not (O / "libaudit.a").exists() or shutil.which("pkg-config") is None,
                                reason="needs the build folder of AUDIT_BIN (libaudit.a) and pkg-config")

EMBED = r"""
#include <audit/audit.h>
#include <stdio.h>

/* predicts the demo data (argv[1]) with the demo model (argv[2]) through the public header */
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    aud_global_init();
    aud_error err;
    aud_error_clear(&err);
    aud_table *t = NULL;
    aud_model *m = NULL;
    double *p = NULL;
    size_t k = 0;
    int rc = aud_table_load_csv(&t, argv[1], NULL, &err);
    if (rc == AUD_OK)
        rc = aud_model_load(&m, argv[2], NULL, &err);
    if (rc == AUD_OK)
        rc = aud_predict(m, argv[2], t, 0, 1, &p, &k, NULL, &err);
    if (rc != AUD_OK) {
        char msg[1024];
        aud_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "embed: %s\n", msg);
    } else {
        double sum = 0.0;
        for (size_t i = 0; i < t->n_rows * k; i++)
            sum += p[i];
        printf("%zu rows, %zu features, mean prediction %.17g\n", t->n_rows,
               aud_model_features(m), sum / (double)(t->n_rows * k));
    }
    aud_free(p);
    aud_model_free(m);
    aud_table_free(t);
    return rc == AUD_OK ? 0 : aud_status_exit_code(rc);
}
"""


def make(*args):
    p = subprocess.run(["make", "--no-print-directory", "-s", f"O={O}", *args], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def version():
    return subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[1]


def sanitized():
    syms = subprocess.run(["nm", str(O / "libaudit.a")], capture_output=True, text=True).stdout
    return "__asan_" in syms or "__ubsan_" in syms


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    p = tmp_path_factory.mktemp("prefix")
    make("install", f"PREFIX={p}")
    return p


def test_install_lays_out_every_file(prefix):
    assert os.access(prefix / "bin" / "audit", os.X_OK)
    pages = sorted(x.name for x in (prefix / "share" / "man" / "man1").iterdir())
    assert "audit.1" in pages and "audit-run.1" in pages and len(pages) >= 9
    assert (prefix / "share" / "bash-completion" / "completions" / "audit").is_file()
    assert (prefix / "lib" / "libaudit.a").is_file()
    headers = sorted(str(h.relative_to(prefix / "include")) for h in (prefix / "include").rglob("*.h"))
    assert "audit/audit/audit.h" in headers and "audit/core/aud.h" in headers
    pc = (prefix / "lib" / "pkgconfig" / "audit.pc").read_text()
    assert f"prefix={prefix}\n" in pc and f"Version: {version()}\n" in pc
    out = subprocess.run([prefix / "bin" / "audit", "--version"], capture_output=True, text=True)
    assert out.stdout == f"audit {version()}\n"


def test_installed_man_page_and_completion_are_found(prefix):
    if shutil.which("man"):
        p = subprocess.run(["man", "-w", "audit-run"], capture_output=True, text=True,
                           env=dict(os.environ, MANPATH=str(prefix / "share" / "man")))
        assert p.stdout.strip() == str(prefix / "share" / "man" / "man1" / "audit-run.1")
    comp = prefix / "share" / "bash-completion" / "completions" / "audit"
    p = subprocess.run(["bash", "--norc", "-c", f"source {shlex.quote(str(comp))}; complete -p audit"],
                       capture_output=True, text=True)
    assert p.stdout == "complete -F _audit audit\n"


def test_program_built_with_pkg_config_runs_on_the_demo_data(prefix, tmp_path):
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "audit"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    assert f"-I{prefix}/include/audit" in flags and "-laudit" in flags
    assert subprocess.run(["pkg-config", "--modversion", "audit"], env=env, capture_output=True,
                          text=True).stdout.strip() == version()
    src = tmp_path / "embed.c"
    src.write_text(EMBED)
    extra = ["-fsanitize=address,undefined"] if sanitized() else []
    cc = os.environ.get("CC", "cc")
    # the installed headers only: not this tree's (the program is compiled in tmp_path)
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-o", "embed", str(src), *flags, *extra],
                   check=True, cwd=tmp_path)
    data, model = ROOT / "datasets" / "credit_current.csv", ROOT / "datasets" / "credit_xgb.json"
    p = subprocess.run([tmp_path / "embed", data, model], capture_output=True, text=True)
    m = re.fullmatch(r"(\d+) rows, (\d+) features, mean prediction (\S+)\n", p.stdout)
    assert p.returncode == 0 and m, p
    # the same figures as the installed audit predict
    out = subprocess.run([prefix / "bin" / "audit", "predict", "--model", model, "--data", data],
                         capture_output=True, text=True, check=True).stdout.split()
    preds = [float(x) for x in out[1:]]
    assert out[0] == "prediction" and int(m.group(1)) == len(preds) == 6000
    assert abs(float(m.group(3)) - sum(preds) / len(preds)) < 1e-12
    p = subprocess.run([tmp_path / "embed", tmp_path / "missing.csv", model], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "missing.csv" in p.stderr, p
    # docs/examples/embed.c, the whole public surface, against the installed library
    subprocess.run([cc, "-std=c11", "-o", "embed-doc", str(ROOT / "docs" / "examples" / "embed.c"),
                    *flags, *extra], check=True, cwd=tmp_path)
    (tmp_path / "work").mkdir()
    p = subprocess.run([tmp_path / "embed-doc", tmp_path / "work"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    # Libs lists every library libaudit.a needs: the whole archive links
    subprocess.run([cc, "-o", str(tmp_path / "whole"), str(src), *flags[:flags.index("-laudit")],
                    "-Wl,--whole-archive", "-laudit", "-Wl,--no-whole-archive",
                    *flags[flags.index("-laudit") + 1:], *extra], check=True)


def test_installed_public_header_builds_the_embedding_example(prefix, tmp_path):
    """docs/examples/embed.c (every part of audit/audit.h: table, model, predict, explain,
    fairness, drift, profile, document, run, report) builds against the installed header alone
    (strict C11, no feature macros) and runs."""
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "audit"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    extra = ["-fsanitize=address,undefined"] if sanitized() else []
    cc = os.environ.get("CC", "cc")
    assert not (prefix / "include" / "audit" / "models" / "model_int.h").exists()   # opaque model
    subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", str(tmp_path / "embed"),
                    str(ROOT / "docs" / "examples" / "embed.c"), *flags, *extra], check=True)
    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.run([tmp_path / "embed", work], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "fairness: 2 groups of sex, reference F" in p.stdout, p.stdout


def test_destdir_and_uninstall(tmp_path):
    stage = tmp_path / "stage"
    make("install", f"DESTDIR={stage}", "PREFIX=/usr/local")
    root = stage / "usr" / "local"
    pc = (root / "lib" / "pkgconfig" / "audit.pc").read_text()
    assert "prefix=/usr/local\n" in pc and "includedir=/usr/local/include\n" in pc
    files = sorted(str(f.relative_to(stage)) for f in stage.rglob("*") if f.is_file())
    assert "usr/local/bin/audit" in files and "usr/local/share/man/man1/audit-fairness.1" in files
    # a man page of another package is left alone
    other = root / "share" / "man" / "man1" / "audit-other.1"
    other.write_text(".TH AUDIT-OTHER 1\n")
    make("uninstall", f"DESTDIR={stage}", "PREFIX=/usr/local")
    left = sorted(str(f.relative_to(stage)) for f in stage.rglob("*") if f.is_file())
    assert left == ["usr/local/share/man/man1/audit-other.1"]
    assert not (root / "include" / "audit").exists() and (root / "include").is_dir()


def test_debian_version_is_the_program_version():
    changelog = (ROOT / "debian" / "changelog").read_text()
    m = re.match(r"audit \(([^)-]+)(-[^)]*)?\) ", changelog)
    assert m and m.group(1) == version(), "debian/changelog's version is not `audit --version`"


def test_debian_build_depends_cover_the_build():
    """Every library package `make deps-run` installs is a Build-Depends of the .deb."""
    control = (ROOT / "debian" / "control").read_text()
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^DEPS_RUN := ((?:.*\\\n)*.*)$", makefile, re.M).group(1)
    libs = [p for p in run.replace("\\\n", " ").split() if p.startswith("lib") and p != "libc6-dev"]
    assert len(libs) >= 5
    for pkg in libs + ["pkg-config"]:
        assert re.search(rf"^\s+{re.escape(pkg)}\b|Build-Depends:.*\b{re.escape(pkg)}\b", control,
                         re.M), pkg
    assert re.search(r"^Depends:.*fonts-dejavu-core", control, re.M)
