"""Man pages (tools/gen_man.pl) against --help: each page, rendered by man(1), must say exactly
what `audit CMD --help` says (same words in the same order, the same options), and audit-run(1)
must document every key and check metric of docs/spec-file.md."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT

pytestmark = pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")

# groff's typographic characters back to ASCII
ASCII = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2013": "-", "\u2019": "'",
                       "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
SECTION_WORDS = {"SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "NOTES", "EXIT", "STATUS"}


def helptext(*args):
    p = subprocess.run([BIN, *args, "--help"], capture_output=True, text=True, check=True)
    return p.stdout


def commands():
    return re.findall(r"^  audit ([a-z]+) ", helptext(), re.M)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("man")
    subprocess.run(["perl", str(ROOT / "tools" / "gen_man.pl"), BIN,
                    str(ROOT / "docs" / "spec-file.md"), str(out)], check=True)
    return out


def render(path):
    """The page as man(1) shows it, one long line per paragraph, in ASCII."""
    env = dict(os.environ, MANWIDTH="1000", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    p = subprocess.run(["man", "-l", "-E", "UTF-8", str(path)], capture_output=True, text=True,
                       env=env, check=True)
    assert p.stderr == "", p.stderr
    return re.sub(r".\x08", "", p.stdout).translate(ASCII)


def help_words(text):
    """--help without its layout labels (the page turns them into section headings)."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^(usage|exit codes): ", "", line)
        if line.strip() in ("options:", "commands:"):
            continue
        lines.append(line)
    return "\n".join(lines).split()


def man_words(rendered):
    """The page's words from SYNOPSIS up to its own additions (spec file, examples, see also),
    without the section headings."""
    body = rendered.split("\nSYNOPSIS\n", 1)[1]
    body = re.split(r"\n(SPEC FILE|EXAMPLES|SEE ALSO)\n", body)[0]
    words = body.split()
    return [w for w in words if w not in SECTION_WORDS]


def help_options(text):
    return set(re.findall(r"^  (?:-\w, )?(--[a-z0-9-]+)", text, re.M))


def man_options(rendered):
    opts = re.search(r"\nOPTIONS\n(.*?)(?:\n[A-Z][A-Z ]+\n|\Z)", rendered, re.S)
    if opts is None:
        return set()
    return set(re.findall(r"^ {7}(?:-\w, )?(--[a-z0-9-]+)", opts.group(1), re.M))


def differences(help, rendered):
    """None when the rendered page says what --help says, else what differs."""
    hw, mw = help_words(help), man_words(rendered)
    if hw != mw:
        i = next((k for k, (a, b) in enumerate(zip(hw, mw)) if a != b), min(len(hw), len(mw)))
        return (f"word {i}: --help has {' '.join(hw[max(0, i - 5):i + 5])!r}, the man page "
                f"{' '.join(mw[max(0, i - 5):i + 5])!r}")
    if help_options(help) != man_options(rendered) and "\nOPTIONS\n" in rendered:
        return f"options: --help {sorted(help_options(help))}, man {sorted(man_options(rendered))}"
    return None


def test_one_page_per_command(pages):
    names = sorted(p.name for p in pages.glob("*.1"))
    assert names == sorted(["audit.1"] + [f"audit-{c}.1" for c in commands()])
    assert {"audit-run.1", "audit-fairness.1", "audit-report.1"} <= set(names)


def commands_now():
    """The commands of `audit --help`, for parametrize (none when the binary is missing: then
    test_one_page_per_command fails)."""
    try:
        return commands()
    except (OSError, subprocess.CalledProcessError):
        return []


@pytest.mark.parametrize("cmd", [None] + commands_now())
def test_page_says_what_help_says(pages, cmd):
    page = pages / ("audit.1" if cmd is None else f"audit-{cmd}.1")
    help = helptext() if cmd is None else helptext(cmd)
    rendered = render(page)
    assert differences(help, rendered) is None
    if cmd is not None:
        assert help_options(help) == man_options(rendered)
        assert "--help" in man_options(rendered)
        assert rendered.splitlines()[0].startswith(f"AUDIT-{cmd.upper()}(1)")


def test_comparison_catches_a_difference(pages):
    help = helptext("fairness")
    rendered = render(pages / "audit-fairness.1")
    # an option --help has and the page lacks
    assert differences(help + "  --new-option X  something new\n", rendered) is not None
    # a changed word
    assert differences(help.replace("bootstrap seed", "bootstrap sed"), rendered) is not None
    # a page missing an option entry
    cut = re.sub(r"\n {7}--seed N\n[^\n]*\n", "\n", rendered)
    assert cut != rendered and differences(help, cut) is not None


def spec_table_keys():
    md = (ROOT / "docs" / "spec-file.md").read_text()
    keys = re.findall(r"^\| `([^`]+)`", md, re.M)
    metrics = []
    for row in re.findall(r"^\| [a-z][^|]*\| (`.*?)\|", md, re.M):
        metrics += re.findall(r"`([a-z_.]+)`", row)
    return keys, metrics


def test_run_page_documents_the_spec_file(pages):
    rendered = render(pages / "audit-run.1")
    spec = rendered.split("\nSPEC FILE\n", 1)[1].split("\nEXAMPLES\n")[0]
    # a tag alone on its line, or a short one before the text (which starts in column 14)
    lines = re.findall(r"^ {7}\S.*$", spec, re.M)
    tags = {ln.strip() for ln in lines} | {ln[7:14].strip() for ln in lines}
    keys, metrics = spec_table_keys()
    assert len(keys) >= 30 and len(metrics) >= 40
    for key in keys:    # "outputs.json / pdf / xlsx" is one row
        assert any(re.fullmatch(rf"{re.escape(key)}( /.*)?", t) for t in tags), key
    for m in metrics:
        assert re.search(rf"(?<![\w.]){re.escape(m)}(?![\w])", spec), m
    for title in ("Checks", "Outputs and the run log"):
        assert f"\n   {title}\n" in spec
