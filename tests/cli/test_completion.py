"""Bash completion (tools/audit-completion.bash): loaded into bash, registered for `audit`
(`complete -p`), and called as bash calls it (COMP_WORDS, COMP_CWORD) for commands, options,
option values, spec files and the column names of the --data file."""
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT

SCRIPT = ROOT / "tools" / "audit-completion.bash"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")


def complete(*words, cwd=None):
    """COMPREPLY for the command line `words` (the last word is the one being completed), as
    the function that `complete -p audit` names produces it."""
    words = [BIN, *words]
    line = " ".join(shlex.quote(w) for w in words)
    script = f"""
        source {shlex.quote(str(SCRIPT))}
        spec=$(complete -p audit) || exit 90
        fn=$(sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p' <<< "$spec")
        COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}
        COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}
        "$fn" audit "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, cwd=cwd or ROOT)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


def help_options(*cmd):
    text = subprocess.run([BIN, *cmd, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  (?:-\w, )?(--[a-z0-9-]+)", text, re.M)


def test_registered_for_audit():
    p = subprocess.run(["bash", "--norc", "-c", f"source {shlex.quote(str(SCRIPT))}; complete -p audit"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and re.fullmatch(r"complete -F _audit audit\n", p.stdout), p


def commands():
    text = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  audit ([a-z]+) ", text, re.M)


def test_commands():
    assert complete("") == commands()
    assert {"run", "fairness", "drift", "report"} <= set(commands())
    assert complete("f") == ["fairness"]
    assert complete("--quiet", "dr") == ["drift"]
    assert complete("--") == ["--help", "--version", "--quiet"]


def test_options_are_those_of_help():
    for cmd in commands():
        got = complete(cmd, "--")
        assert got == help_options(cmd) and "--help" in got, cmd
        assert all(o.startswith("--q") for o in complete(cmd, "--q")) and complete(cmd, "--q")


@pytest.fixture
def csvdir(tmp_path):
    (tmp_path / "d.csv").write_text('\ufeff"age",sex,race group,score\r\n30,F,A,0.5\r\n')
    (tmp_path / "semi.csv").write_text("a;b;label\n1;2;0\n")
    (tmp_path / "spec.json").write_text("{}")
    (tmp_path / "Q3.JSON").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_column_names_of_the_data_file(csvdir):
    d = str(csvdir / "d.csv")
    assert complete("fairness", "--data", d, "--sensitive", "") == \
        ["age", "sex", "race group", "score"]
    assert complete("fairness", "--data", d, "--label", "s") == ["sex", "score"]
    assert complete("fairness", "--sensitive", "r", "--data", d, "--score", "") == \
        ["age", "sex", "race group", "score"]    # --data given after the option
    # comma lists: the part after the last comma is completed
    assert complete("fairness", "--data", d, "--sensitive", "sex,r") == ["sex,race group"]
    # --reference COL=VALUE: the column and '='
    assert complete("fairness", "--data", d, "--reference", "se") == ["sex="]
    # the delimiter of the file
    semi = str(csvdir / "semi.csv")
    assert complete("fairness", "--data", semi, "--delimiter", ";", "--label", "") == \
        ["a", "b", "label"]
    # no --data (or an unreadable one): nothing, rather than file names
    assert complete("fairness", "--sensitive", "") == []
    assert complete("fairness", "--data", str(csvdir / "none.csv"), "--sensitive", "") == []


def test_drift_columns_from_reference_or_current(csvdir):
    d, semi = str(csvdir / "d.csv"), str(csvdir / "semi.csv")
    assert complete("drift", "--reference", d, "--columns", "age,") == \
        ["age,age", "age,sex", "age,race group", "age,score"]
    assert complete("drift", "--current", d, "--columns", "a") == ["age"]
    assert complete("drift", "--current", semi, "--delimiter", ";", "--columns", "") == \
        ["a", "b", "label"]


def test_spec_files_and_file_options(csvdir):
    assert sorted(complete("run", "", cwd=csvdir)) == ["Q3.JSON", "spec.json", "sub"]
    assert sorted(complete("--quiet", "run", "s", cwd=csvdir)) == ["spec.json", "sub"]
    assert sorted(complete("fairness", "--data", "", cwd=csvdir)) == \
        ["Q3.JSON", "d.csv", "notes.txt", "semi.csv", "spec.json", "sub"]
    assert complete("report", "sp", cwd=csvdir) == ["spec.json"]
    assert complete("sign", "", cwd=csvdir) == ["sub"]
    assert complete("run", "spec.json", "--out", "", cwd=csvdir) == ["sub"]
    assert complete("verify", "sub", "--key", "n", cwd=csvdir) == ["notes.txt"]


def test_option_values():
    assert complete("explain", "--method", "tree") == ["tree", "tree-interventional"]
    assert "cramer_von_mises" in complete("drift", "--method", "")
    assert complete("predict", "--model-format", "l") == ["lightgbm-text", "linear-json"]
    assert complete("reasons", "--favorable", "") == ["1", "0"]
    assert complete("fairness", "--compliance", "") == ["nyc-ll144"]
    assert complete("drift", "--psi-binning", "") == ["quantile", "evidently"]
    # an option whose value is free text completes nothing
    assert complete("fairness", "--seed", "") == []
    # a word after an option that takes no value is not that option's value
    assert complete("fairness", "--no-intersections", "--bo") == ["--bootstrap"]
