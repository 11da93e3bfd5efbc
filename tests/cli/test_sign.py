"""`audit sign` / `audit verify` (SPEC section 8, issue 17 item 4): Ed25519 over a manifest of
the outputs and input hashes. Independent reference: the openssl CLI (`pkeyutl -verify -rawin`
checks our signatures; `pkey -outform DER` gives the key whose SHA-256 is the fingerprint)."""
import hashlib
import json
import subprocess

import pytest


def openssl(*args, **kw):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, **kw)


@pytest.fixture
def signed(small, audit, tmp_path):
    spec = {"data": "cur.csv", "reference": "ref.csv", "label": "label", "score": "score",
            "sensitive": ["sex"], "checks": [{"metric": "disparate_impact", "min": 0.1}],
            "outputs": {"dir": "out", "json": "results.json", "pdf": "report.pdf",
                        "xlsx": "report.xlsx", "log": "runs.jsonl"},
            "fairness": {"bootstrap": 0}}
    (small / "spec.json").write_text(json.dumps(spec))
    r = audit("run", small / "spec.json", "--quiet")
    assert r.code in (0, 1), r
    assert openssl("genpkey", "-algorithm", "ed25519", "-out", tmp_path / "priv.pem").returncode == 0
    assert openssl("pkey", "-in", tmp_path / "priv.pem", "-pubout", "-out",
                   tmp_path / "pub.pem").returncode == 0
    out = small / "out"
    r = audit("sign", out, "--key", tmp_path / "priv.pem")
    assert r.code == 0, r
    return out, tmp_path / "priv.pem", tmp_path / "pub.pem"


@pytest.mark.valgrind
def test_sign_then_verify_and_openssl_agrees(signed, audit):
    out, priv, pub = signed
    r = audit("verify", out, "--key", pub)
    assert r.code == 0 and "signature: ok" in r.out and "3 of 3 files unchanged" in r.out, r
    v = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in",
                out / "audit-manifest.json", "-sigfile", out / "audit-manifest.sig")
    assert v.returncode == 0 and b"Signature Verified Successfully" in v.stdout, v
    m = json.loads((out / "audit-manifest.json").read_text())
    der = openssl("pkey", "-pubin", "-in", pub, "-outform", "DER").stdout
    assert m["key"] == {"algorithm": "ed25519",
                        "fingerprint": "sha256:" + hashlib.sha256(der).hexdigest()}
    assert [f["name"] for f in m["files"]] == ["results.json", "report.pdf", "report.xlsx"]
    for f in m["files"]:
        data = (out / f["name"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data)
    res = json.loads((out / "results.json").read_text())
    assert m["inputs"] == res["provenance"]["inputs"]
    # the key is never written out: no line of its base64 body in any file of the folder
    body = [ln for ln in priv.read_text().splitlines() if not ln.startswith("-----")]
    for p in out.iterdir():
        assert body[0].encode() not in p.read_bytes()


@pytest.mark.parametrize("name", ["results.json", "report.pdf", "report.xlsx"])
def test_one_byte_change_of_any_file_is_named(signed, audit, name):
    out, _, pub = signed
    p = out / name
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 1
    p.write_bytes(bytes(data))
    r = audit("verify", out, "--key", pub)
    assert r.code == 1 and f"{name}: changed" in r.out and "signature: ok" in r.out, r
    assert "2 of 3 files unchanged" in r.out


def test_changed_manifest_missing_file_and_wrong_key(signed, audit, tmp_path):
    out, priv, pub = signed
    (out / "report.xlsx").unlink()
    r = audit("verify", out, "--key", pub)
    assert r.code == 1 and "report.xlsx: missing" in r.out, r
    other = tmp_path / "other.pem"
    openssl("genpkey", "-algorithm", "ed25519", "-out", other)
    r = audit("verify", out, "--key", other)
    assert r.code == 1 and "signature: does not verify with this key" in r.out, r
    m = out / "audit-manifest.json"
    m.write_bytes(m.read_bytes().replace(b'"version":\t1', b'"version":\t2'))
    r = audit("verify", out, "--key", pub)
    assert r.code == 1 and "does not verify" in r.out, r
    v = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", m, "-sigfile",
                out / "audit-manifest.sig")
    assert v.returncode != 0


def test_sign_and_verify_errors(signed, audit, tmp_path):
    out, priv, pub = signed
    ec = tmp_path / "ec.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec)
    r = audit("sign", out, "--key", ec)
    assert r.code == 2 and "not an Ed25519 key" in r.err, r
    r = audit("sign", out, "--key", pub)
    assert r.code == 2 and "not a PEM private key" in r.err, r
    r = audit("sign", tmp_path, "--key", priv)   # no results.json there
    assert r.code == 2 and "results.json" in r.err, r
    r = audit("verify", tmp_path, "--key", pub)
    assert r.code == 2 and "audit-manifest.json" in r.err, r
    r = audit("sign", out)
    assert r.code == 2 and "--key is required" in r.err, r
    r = audit("sign", out, "--key", priv, "--file", "nothere.csv")
    assert r.code == 2 and "nothere.csv" in r.err, r
    r = audit("sign", out, "--key", priv, "--file", "runs.jsonl", "--created",
              "2026-01-02T03:04:05Z")
    assert r.code == 0, r
    m = json.loads((out / "audit-manifest.json").read_text())
    assert [f["name"] for f in m["files"]] == ["runs.jsonl"] and m["created"] == \
        "2026-01-02T03:04:05Z"
    assert audit("verify", out, "--key", priv).code == 0   # a private key file verifies too


def test_run_sign_key_signs_outputs_and_states_fingerprint(small, audit, tmp_path):
    spec = {"data": "cur.csv", "reference": "ref.csv", "label": "label", "score": "score",
            "sensitive": ["sex"], "checks": [{"metric": "disparate_impact", "min": 0.1}],
            "outputs": {"dir": "out", "json": "res.json", "pdf": "r.pdf", "log": "runs.jsonl"},
            "fairness": {"bootstrap": 0}}
    (small / "spec.json").write_text(json.dumps(spec))
    priv, pub = tmp_path / "priv.pem", tmp_path / "pub.pem"
    openssl("genpkey", "-algorithm", "ed25519", "-out", priv)
    openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    # a public key cannot sign: refused before any work, nothing written
    r = audit("run", small / "spec.json", "--sign-key", pub)
    assert r.code == 2 and "not a PEM private key" in r.err, r
    assert not (small / "out" / "res.json").exists()
    r = audit("run", small / "spec.json", "--quiet", "--sign-key", priv)
    assert r.code in (0, 1), r
    out = small / "out"
    r = audit("verify", out, "--key", pub)
    assert r.code == 0 and "2 of 2 files unchanged" in r.out, r
    m = json.loads((out / "audit-manifest.json").read_text())
    assert [f["name"] for f in m["files"]] == ["res.json", "r.pdf"]
    res = json.loads((out / "res.json").read_text())
    der = openssl("pkey", "-pubin", "-in", pub, "-outform", "DER").stdout
    fp = "sha256:" + hashlib.sha256(der).hexdigest()
    assert res["signature"] == {"algorithm": "ed25519", "key_fingerprint": fp,
                                "manifest": "audit-manifest.json"}
    assert m["inputs"] == res["provenance"]["inputs"]
    cover = subprocess.run(["pdftotext", "-l", "1", str(out / "r.pdf"), "-"],
                           capture_output=True, text=True).stdout
    assert "Signed (Ed25519)" in cover and fp[7:39] in cover.replace("\n", "")
    body = [ln for ln in priv.read_text().splitlines() if not ln.startswith("-----")]
    for p in out.iterdir():
        assert body[0].encode() not in p.read_bytes()
