"""`make install` / `make uninstall` (PREFIX, DESTDIR) and the installed library: a tiny C program
built with `pkg-config --cflags --libs audit` against the installed header and libaudit.a, run
on the demo data; and the Debian packaging's version agrees with the program's."""
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

/* counts the data rows of a CSV file; errors go through the library's located aud_error */
int main(int argc, char **argv)
{
    aud_global_init();
    aud_error err;
    aud_error_clear(&err);
    const char *path = argc > 1 ? argv[1] : "";
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        char msg[1024];
        aud_error_set(&err, AUD_E_IO, path, 0, 0, "cannot open the data");
        aud_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "embed: %s (%s)\n", msg, aud_strerror(err.code));
        return aud_status_exit_code(err.code);
    }
    size_t cap = 1 << 16;
    char *line = aud_malloc(cap);
    long rows = -1;
    while (line != NULL && fgets(line, (int)cap, f) != NULL)
        rows++;
    fclose(f);
    aud_free(line);
    printf("audit %s, %d cores: %ld data rows\n", AUD_VERSION, aud_ncpu(), rows);
    return 0;
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
    assert (prefix / "include" / "audit" / "audit" / "audit.h").is_file()
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
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-o", str(tmp_path / "embed"), str(src),
                    *flags, *extra], check=True)
    p = subprocess.run([tmp_path / "embed", ROOT / "datasets" / "credit_current.csv"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and re.fullmatch(rf"audit {re.escape(version())}, \d+ cores: 6000 data rows\n",
                                              p.stdout), p
    p = subprocess.run([tmp_path / "embed", tmp_path / "missing.csv"], capture_output=True, text=True)
    assert p.returncode == 2 and "missing.csv: cannot open the data" in p.stderr, p
    # Libs lists every library libaudit.a needs: the whole archive links
    subprocess.run([cc, "-o", str(tmp_path / "whole"), str(src), *flags[:flags.index("-laudit")],
                    "-Wl,--whole-archive", "-laudit", "-Wl,--no-whole-archive",
                    *flags[flags.index("-laudit") + 1:], *extra], check=True)


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
    assert not (root / "include" / "audit").exists()


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
