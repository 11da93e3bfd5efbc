"""CLI frame: help, version, unknown commands/options, exit codes (SPEC section 1)."""
import pytest

COMMANDS = ["run", "profile", "predict", "explain", "reasons", "fairness", "drift", "report"]


def test_help_lists_every_command(audit):
    r = audit("--help")
    assert r.code == 0, r
    for c in COMMANDS:
        assert f"audit {c}" in r.out


def test_version(audit):
    r = audit("--version")
    assert r.code == 0 and r.out.startswith("audit 0."), r


def test_no_command_is_usage_error(audit):
    r = audit()
    assert r.code == 2, r


def test_unknown_command(audit):
    r = audit("frobnicate")
    assert r.code == 2 and "audit: unknown command 'frobnicate'" in r.err, r


def test_unknown_global_option(audit):
    r = audit("--bogus")
    assert r.code == 2 and "unknown option" in r.err, r


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(audit, cmd):
    r = audit(cmd, "--help")
    assert r.code == 0, r
    assert f"audit {cmd}" in r.out
