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


@pytest.mark.parametrize("cmd", COMMANDS)
def test_usage_errors_are_prefixed_and_quiet_is_accepted(audit, cmd):
    """SPEC section 1: messages go to stderr prefixed `audit: `; every command takes --quiet."""
    r = audit(cmd, "--no-such-option")
    assert r.code == 2, r
    assert r.err.startswith(f"audit: {cmd}: unknown option '--no-such-option'"), r
    r = audit(cmd, "--quiet", "--no-such-option")
    assert r.code == 2 and "unknown option '--no-such-option'" in r.err, r


def test_profile_threads_do_not_change_results(audit, tmp_path):
    rows = ["a,b,c"] + ["%d,%s,%g" % (i, "xyz"[i % 3], i * 0.25) for i in range(5000)]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    outs = []
    for t in ("1", "2", "3"):
        out = tmp_path / f"p{t}.json"
        r = audit("profile", "--data", data, "--threads", t, "--json", out,
                  "--created", "2026-01-01T00:00:00Z")
        assert r.code == 0, r
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    r = audit("profile", "--data", data, "--threads", "x")
    assert r.code == 2 and "--threads expects a whole number" in r.err, r
