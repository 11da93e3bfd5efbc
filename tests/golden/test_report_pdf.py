"""PDF report vs results.json, checked with independent tools (poppler-utils): the text that
pdftotext extracts shows exactly the figures of results.json at the stated display precision
(rates 3 decimals, SHAP 4 decimals, p-values 4 decimals or 3-digit scientific); pdffonts shows
the embedded DejaVu font; "page X of N" on every page."""
import json
import re
import subprocess
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "reports"
FULL = DATA / "results_full.json"
MINIMAL = DATA / "results_minimal.json"


def f3(x):
    s = f"{x:.3f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def f4(x):
    s = f"{x:.4f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def fauto(x):
    return f"{x:.3g}" if x != 0 and abs(x) < 1e-2 else f3(x)   # as RPT_AUTO


def fp(x):
    return f"{x:.3e}" if x != 0 and abs(x) < 1e-3 else f"{x:.4f}"


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return p.stdout


@pytest.fixture(scope="module")
def full_pdf(tmp_path_factory):
    from conftest import run_audit
    out = tmp_path_factory.mktemp("pdf") / "full.pdf"
    r = run_audit("report", FULL, "--pdf", out)
    assert r.code == 0, r
    return out


@pytest.fixture(scope="module")
def pages(full_pdf):
    n = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(full_pdf))).group(1))
    return [run("pdftotext", "-layout", "-f", str(i), "-l", str(i), str(full_pdf), "-")
            for i in range(1, n + 1)]


@pytest.fixture(scope="module")
def text(pages):
    return "\n".join(pages)


@pytest.fixture(scope="module")
def doc():
    return json.loads(FULL.read_text())


def lines_with(text, *needles):
    return [l for l in text.splitlines() if all(n in l for n in needles)]


def test_font_embedded(full_pdf):
    out = run("pdffonts", str(full_pdf))
    rows = [l for l in out.splitlines() if "DejaVuSans" in l]
    assert len(rows) >= 2, out
    for l in rows:
        assert "CID TrueType" in l and re.search(r"\byes\s+yes\s+yes\b", l), l


def test_a4_and_page_numbers(full_pdf, pages):
    info = run("pdfinfo", str(full_pdf))
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    n = len(pages)
    assert n >= 10
    for i, p in enumerate(pages, 1):
        assert f"page {i} of {n}" in p
        if i > 1:
            assert "Credit model Q3 audit" in p.splitlines()[0]  # running header


def test_metadata_date_is_the_audits(full_pdf):
    info = run("pdfinfo", str(full_pdf))
    assert "Credit model Q3 audit" in info
    assert "2026" in re.search(r"CreationDate:(.*)", info).group(1)


def test_cover(pages, doc):
    cover = pages[0]
    rep = doc["report"]
    for k in ("title", "organization", "data_source", "prepared_by"):
        assert rep[k] in cover, k
    assert "2026-10-05" in cover
    assert "Verdict: FAIL" in cover
    failed = sum(not c["passed"] for c in doc["checks"])
    assert f"{len(doc['checks']) - failed} of {len(doc['checks'])} policy checks passed, {failed} failed" in cover
    assert "signature" in cover and "Approved by" in cover


def test_every_check_row(text, doc):
    for c in doc["checks"]:
        bound = ("≥ " + fauto(c["min"])) if "min" in c else ("≤ " + fauto(c["max"]))
        res = "pass" if c["passed"] else "FAIL"
        rows = lines_with(text, fauto(c["value"]), bound, res)
        scope = c.get("attribute") or c.get("column") or ""
        rows = [l for l in rows if scope in l and (c.get("group") or "") in l]
        assert rows, c


def test_provenance_hashes(text, doc):
    for i in doc["provenance"]["inputs"]:
        assert i["sha256"] in text and i["path"] in text
    assert doc["provenance"]["model"]["sha256"] in text


def test_importance_figures(text, doc):
    feats = doc["explanations"]["features"]
    for f in feats:
        rows = lines_with(text, f["name"], f4(f["mean_abs"]), f4(f["mean"]))
        assert rows, f["name"]
    assert "E[f(X)] = -0.4200" in text
    assert "Additivity max error" in text and "3.1e-07" in text


def test_waterfalls_of_selected_rows(text, doc):
    rows = [r for r in doc["explanations"]["explained_rows"] if r.get("selected")]
    assert len(rows) == 3
    for r in rows:
        line = f" (CSV line {r['line']})" if "line" in r else ""
        assert f"Data row {r['row']}{line} - {r['selected']}" in text
        assert f"f(x) = {f4(r['prediction'])}" in text
        # the largest contribution is labelled with its value
        j = max(range(len(r["phi"])), key=lambda k: abs(r["phi"][k]))
        v = r["phi"][j]
        assert ("+" if v >= 0 else "\u2212") + f"{abs(v):.4f}" in text


def test_fairness_group_tables(text, doc):
    f = doc["fairness"]
    for a in f["attributes"] + f["intersections"]:
        for g in a["groups"]:
            lo, hi = g["selection_rate_ci"]
            rows = lines_with(text, g["group"], str(g["count"]), f3(g["selection_rate"]),
                              f"[{fauto(lo)}, {fauto(hi)}]", f3(g["disparate_impact"]),
                              f3(g["impact_ratio"]))
            assert rows, (a["name"], g["group"])
            for k in ("tpr", "fpr", "ppv"):
                if g.get(k) is None:
                    assert f"{g['group']}: {k.upper()} n/a ({g[k + '_reason']})." in text
                else:
                    lo, hi = g[k + "_ci"]
                    assert lines_with(text, g["group"], f"{f3(g[k])} [{fauto(lo)}, {fauto(hi)}]"), (g["group"], k)
        s = a["summary"]
        for k in ("demographic_parity_difference", "equalized_odds_difference",
                  "theil_index", "generalized_entropy_index"):
            assert any(fauto(s[k]) in l for l in text.splitlines()), (a["name"], k)
        chi = s["chi_square"]
        assert lines_with(text, fp(chi["p_value"]), f"statistic {f3(chi['statistic'])}, dof {chi['dof']}")
    assert "small †" in text and "0.8" in text


def test_fairness_all_groups_beside_headline(text, doc):
    """When a group was excluded, the summary table has a column "All groups
    (Fairlearn/AIF360)" with summary.all_groups beside each headline figure (n/a with its
    reason in the note below); without excluded groups the column is not there."""
    f = doc["fairness"]
    attrs = f["attributes"] + f["intersections"]
    shown = [a for a in attrs if a["summary"].get("excluded_groups")]
    assert shown and len(shown) < len(attrs)
    assert text.count("All groups (Fairlearn/AIF360)") == len(shown)
    for a in shown:
        s, all_groups = a["summary"], a["summary"]["all_groups"]
        for k, v in all_groups.items():
            if k == "chi_square":
                assert lines_with(text, fp(s[k]["p_value"]), fp(v["p_value"])), (a["name"], k)
                assert f"chi-square statistic {f3(v['statistic'])}, dof {v['dof']}" in text
            elif k.endswith("_reason"):
                assert f"n/a ({v})" in text.replace("\n", " "), (a["name"], k)
            elif v is None:
                assert lines_with(text, fauto(s[k]), "n/a"), (a["name"], k)
            else:
                assert lines_with(text, fauto(s[k]), fauto(v)), (a["name"], k)


def test_compliance_views(text, doc):
    comp = doc["fairness"]["compliance"]
    for r in comp["four-fifths"]:
        assert lines_with(text, r["group"], str(r["count"]), f3(r["impact_ratio"]), fp(r["fisher_p_value"]))
    for v in comp["nyc-ll144"]:
        assert f"{v['attribute']} (selection rate); rows in an unknown category: {v['unknown_count']}" in text
        for g in v["groups"]:
            state = "excluded (< 2%)" if g["excluded"] else "included"
            assert lines_with(text, g["group"], str(g["count"]), f3(g["impact_ratio"]), state)


def test_drift_table(text, doc):
    d = doc["drift"]
    n = len(d["columns"])
    k = sum(c["drifted"] for c in d["columns"])
    assert f"{f3(d['drift_share'])} ({k} of {n} columns)" in text
    for c in d["columns"]:
        rows = lines_with(text, c["name"], f3(c["statistic"]), f3(c["threshold"]), f3(c["psi"]),
                          "DRIFT" if c["drifted"] else " no")
        assert rows, c["name"]
        test = c.get("ks") or c.get("chi_square")
        assert any(fp(test["p_value"]) in l for l in rows), c["name"]
    p = d["prediction_drift"]
    assert lines_with(text, "prediction", f3(p["statistic"]), f3(p["psi"]))


def test_performance(text, doc):
    o = doc["performance"]["overall"]
    for k in ("auc", "accuracy", "log_loss"):
        assert f3(o[k]) in text
    for g in doc["performance"]["by_group"]:
        vals = [f3(g[k]) if g.get(k) is not None else "n/a" for k in ("auc", "accuracy", "log_loss")]
        assert lines_with(text, g["group"], str(g["rows"]), *vals), g
    assert "branch Zoë Park: AUC n/a (only one label class in group)." in text


def test_utf8_names(text):
    for s in ("Zoë Park", "Müller Straße", "Nürnberg", "Åsa", "χ²", "≥", "†"):
        assert s in text, s


def test_methods_appendix(text):
    assert "Methods appendix" in text
    for s in ("Disparate impact", "Wilson", "Reference group of race: White", "PSI bins: quantile",
              "Jensen-Shannon", "Equalized odds difference"):
        assert s in text, s


def test_minimal_says_sections_not_run(tmp_path):
    from conftest import run_audit
    out = tmp_path / "min.pdf"
    r = run_audit("report", MINIMAL, "--pdf", out)
    assert r.code == 0, r
    t = run("pdftotext", "-layout", str(out), "-")
    for reason in ("no model given", "no sensitive attribute given", "no reference data given",
                   "no label column"):
        assert f"Section not run: {reason}." in t
    assert "no policy checks were configured" in t
    assert "Verdict: PASS" in t


def test_bare_document_renders(tmp_path):
    from conftest import run_audit
    src = tmp_path / "bare.json"
    src.write_text('{"schema_version": "1", "tool": {"name": "audit", "version": "0.1.0"}}')
    r = run_audit("report", src, "--pdf", tmp_path / "b.pdf", "--xlsx", tmp_path / "b.xlsx")
    assert r.code == 0, r
    t = run("pdftotext", str(tmp_path / "b.pdf"), "-")
    assert "Verdict: not recorded" in t


def test_attribution_and_prediction_drift(text, doc):
    for f in doc["drift"]["attribution_drift"]["features"]:
        assert lines_with(text, f["name"], f"{f['reference_mean_abs']:.4f}",
                          f"{f['current_mean_abs']:.4f}"), f["name"]
    assert "Prediction drift" in text and "Attribution drift" in text


def test_characters_outside_the_bmp_show_as_replacement(tmp_path):
    """libharu drops characters outside the Basic Multilingual Plane (emoji) silently: the report
    draws U+FFFD instead, in the text and in the document title, so nothing vanishes."""
    from conftest import run_audit
    doc = json.loads(open(MINIMAL, encoding="utf-8").read())
    doc.setdefault("report", {})["title"] = "Audit \U0001F600 Q3"
    src = tmp_path / "emoji.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "emoji.pdf"
    r = run_audit("report", src, "--pdf", out)
    assert r.code == 0, r
    t = run("pdftotext", "-layout", str(out), "-")
    assert "Audit \ufffd Q3" in t
    info = run("pdfinfo", str(out))
    assert "Audit \ufffd Q3" in info


def test_poppler_reads_without_warnings(full_pdf, tmp_path):
    """libharu 2.3.0 wrote its encoding CMap (begincidrange) as the ToUnicode CMap; poppler
    printed "Invalid 'begincidrange' operator in ToUnicode CMap" on every page. Both pdftotext and
    pdftoppm must now be silent, the ToUnicode streams bfrange only, and non-ASCII text intact."""
    import zlib
    for cmd in (["pdftotext", str(full_pdf), str(tmp_path / "t.txt")],
                ["pdftoppm", "-r", "10", "-png", "-f", "1", "-l", "3", str(full_pdf),
                 str(tmp_path / "p")]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        assert p.returncode == 0, p
        assert p.stderr == "", (cmd[0], p.stderr[:400])
    raw = full_pdf.read_bytes()
    cmaps = []
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", raw, re.S):
        try:
            s = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        if b"begincmap" in s:
            cmaps.append(s)
    assert len(cmaps) == 2                    # regular and bold DejaVu
    for s in cmaps:
        assert b"begincidrange" not in s and b"beginbfrange" in s
        assert b"<0000> <00FF> <0000>" in s and b"<FF00> <FFFF> <FF00>" in s
        assert b"<D800>" not in s             # surrogates are no characters
    text = (tmp_path / "t.txt").read_text()
    assert "≥" in text or "→" in text


def test_no_clipped_text(text):
    """Issue 14 item 9: table cells and headers wrap instead of being cut; aud_pdf_fit marks any
    string it still has to shorten with U+2026, and the fixture's strings hold none."""
    cut = sorted({w for w in text.split() if "\u2026" in w})
    assert cut == [], cut


def test_checks_name_metrics_for_people(pages, doc):
    """Issue 14 item 2: the policy checks table names each metric for people ("Disparate
    impact") with its machine id (disparate_impact) in small type with it."""
    start = next(i for i, p in enumerate(pages) if "Policy checks" in p)
    text = "\n".join(pages[start:])
    for c in doc["checks"]:
        assert c["metric"] in text, c["metric"]
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.strip().startswith("Disparate impact") and l.rstrip().endswith(("FAIL", "pass")):
            after = " ".join(lines[i:i + 3])
            assert "disparate_impact" in after, after
            break
    else:
        raise AssertionError("no disparate impact check row")


def test_archival_pdf_a(tmp_path):
    """PDF/A-1b as far as Debian's tools can check it (issue 14 item 12; veraPDF is not in
    Debian): qpdf --check finds no error; the XMP packet parses as XML (a title with & and <
    escaped), claims part 1 level B and repeats the Info values; the catalog has an sRGB
    output intent whose DestOutputProfile is an ICC v2 RGB profile, page labels and the
    outline; the trailer has an ID; PDF 1.4; no transparency; fonts embedded; ghostscript
    renders every page without an error; the bytes are reproducible."""
    import xml.etree.ElementTree as ET
    from conftest import run_audit
    doc = json.loads(FULL.read_text())
    doc["report"]["title"] = "Q3 <draft> audit: credit & risk"
    src = tmp_path / "r.json"
    src.write_text(json.dumps(doc))
    pdf, again = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert run_audit("report", src, "--pdf", pdf).code == 0
    assert run_audit("report", src, "--pdf", again).code == 0
    assert pdf.read_bytes() == again.read_bytes()
    chk = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
    assert chk.returncode == 0 and "No syntax or stream encoding errors" in chk.stdout, chk
    info = run("pdfinfo", str(pdf))
    assert re.search(r"PDF version:\s+1\.4", info) and "Metadata Stream: yes" in info
    meta = run("pdfinfo", "-meta", str(pdf))
    root = ET.fromstring(meta[meta.index("<x:xmpmeta"):meta.index("</x:xmpmeta>") + 12])
    ns = {"dc": "http://purl.org/dc/elements/1.1/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
          "xmp": "http://ns.adobe.com/xap/1.0/", "pdf": "http://ns.adobe.com/pdf/1.3/",
          "pdfaid": "http://www.aiim.org/pdfa/ns/id/"}
    assert root.find(".//pdfaid:part", ns).text == "1"
    assert root.find(".//pdfaid:conformance", ns).text == "B"
    assert root.find(".//dc:title/rdf:Alt/rdf:li", ns).text == doc["report"]["title"]
    assert re.search(r"Title:\s+Q3 <draft> audit: credit & risk", info)
    assert root.find(".//dc:creator/rdf:Seq/rdf:li", ns).text == doc["report"]["organization"]
    assert root.find(".//xmp:CreateDate", ns).text == doc["provenance"]["created"]
    assert root.find(".//pdf:Producer", ns).text in info
    cat = run("qpdf", "--show-object=trailer", str(pdf))
    assert re.search(r"/ID \[ <[0-9a-f]{32}> <[0-9a-f]{32}> \]", cat), cat
    root_obj = re.search(r"/Root (\d+) 0 R", cat).group(1)
    catalog = run("qpdf", f"--show-object={root_obj}", str(pdf))
    assert "/PageLabels" in catalog and "/Outlines" in catalog and "/OutputIntents" in catalog
    intent = re.search(r"/OutputIntents \[ (\d+) 0 R \]", catalog).group(1)
    oi = run("qpdf", f"--show-object={intent}", str(pdf))
    assert "/S /GTS_PDFA1" in oi and "/OutputConditionIdentifier (sRGB" in oi, oi
    prof = re.search(r"/DestOutputProfile (\d+) 0 R", oi).group(1)
    icc = subprocess.run(["qpdf", f"--show-object={prof}", "--filtered-stream-data", str(pdf)],
                         capture_output=True, check=True).stdout
    assert icc[12:16] == b"mntr" and icc[16:20] == b"RGB " and icc[8] == 2   # ICC v2, RGB
    qdf = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), "-"],
                         capture_output=True, check=True).stdout
    assert b"/SMask" not in qdf and b"/CA " not in qdf and b"/ca " not in qdf
    gs = subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=nullpage", str(pdf)],
                        capture_output=True, text=True)
    assert gs.returncode == 0 and "rror" not in gs.stdout + gs.stderr, gs


def _qpdf_objects(pdf):
    """Every object of the PDF, streams decoded, as qpdf's JSON (version 2) gives them."""
    import base64
    out = subprocess.run(["qpdf", "--json=2", "--json-stream-data=inline",
                          "--decode-level=generalized", str(pdf)],
                         capture_output=True, check=True).stdout
    objs = {}
    for key, v in json.loads(out)["qpdf"][1].items():
        if not key.startswith("obj:"):
            continue
        ref = key[4:]
        if "stream" in v:
            objs[ref] = (v["stream"]["dict"], base64.b64decode(v["stream"].get("data", "")))
        else:
            objs[ref] = (v["value"], None)
    return objs


def _glyph_lengths(ttf):
    """Bytes of each glyph's outline in a TrueType program (its loca table)."""
    import struct
    ntab = struct.unpack(">H", ttf[4:6])[0]
    tab = {}
    for i in range(ntab):
        tag, _, off, ln = struct.unpack(">4sIII", ttf[12 + 16 * i:28 + 16 * i])
        tab[tag] = (off, ln)
    long_loca = struct.unpack(">h", ttf[tab[b"head"][0] + 50:tab[b"head"][0] + 52])[0] == 1
    n = struct.unpack(">H", ttf[tab[b"maxp"][0] + 4:tab[b"maxp"][0] + 6])[0]
    off = tab[b"loca"][0]
    if long_loca:
        loca = struct.unpack(f">{n + 1}I", ttf[off:off + 4 * (n + 1)])
    else:
        loca = [2 * v for v in struct.unpack(f">{n + 1}H", ttf[off:off + 2 * (n + 1)])]
    return [loca[g + 1] - loca[g] for g in range(n)]


def test_cid_fonts_have_a_cidset_of_their_subset(full_pdf):
    """ISO 19005-1 6.3.5: each CIDFont subset's descriptor has a CIDSet identifying the CIDs
    present in the embedded program. Read independently of the writer (qpdf's JSON, the
    TrueType loca tables of the embedded subset and of Debian's DejaVu file, the CIDs the
    content streams show): every CID a page shows is in the set; every CID in the set maps
    (CIDToGIDMap) to a glyph the subset kept whole, CID 0 aside; every CID whose glyph has an
    outline in the subset is in the set (glyphs without an outline, like the space, cannot be
    told apart in the file and may be either way)."""
    objs = _qpdf_objects(full_pdf)
    deref = lambda x: objs[x] if isinstance(x, str) and x.endswith(" R") else (x, None)  # noqa: E731
    shown = {}        # Type0 font ref -> set of CIDs a content stream shows with it
    for ref, (d, data) in objs.items():
        if not (isinstance(d, dict) and d.get("/Type") == "/Page"):
            continue
        fonts = deref(deref(d["/Resources"])[0]["/Font"])[0]
        contents = d["/Contents"] if isinstance(d["/Contents"], list) else [d["/Contents"]]
        for c in contents:
            text = deref(c)[1].decode("latin-1")
            cur = None
            for m in re.finditer(r"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj", text):
                if m.group(1):
                    cur = fonts["/" + m.group(1)]
                else:
                    h = m.group(2)
                    shown.setdefault(cur, set()).update(
                        int(h[i:i + 4], 16) for i in range(0, len(h), 4))
    checked = 0
    for ref, (d, _) in objs.items():
        if not (isinstance(d, dict) and d.get("/Subtype") == "/Type0"):
            continue
        cidfont = deref(deref(d["/DescendantFonts"])[0][0])[0]
        assert cidfont["/Subtype"] == "/CIDFontType2"
        desc = deref(cidfont["/FontDescriptor"])[0]
        assert "/CIDSet" in desc, desc.keys()
        cidset = deref(desc["/CIDSet"])[1]
        bit = lambda c: c // 8 < len(cidset) and cidset[c // 8] & (0x80 >> (c % 8)) != 0  # noqa: E731
        cmap = deref(cidfont["/CIDToGIDMap"])[1]
        gid = [cmap[2 * c] << 8 | cmap[2 * c + 1] for c in range(len(cmap) // 2)]
        sub = _glyph_lengths(deref(desc["/FontFile2"])[1])
        orig_name = "DejaVuSans-Bold.ttf" if "Bold" in d["/BaseFont"] else "DejaVuSans.ttf"
        orig = _glyph_lengths(Path("/usr/share/fonts/truetype/dejavu", orig_name).read_bytes())
        assert len(sub) == len(orig)
        used = shown.get(ref, set())
        assert used, ref
        assert bit(0)
        for c in used:
            assert gid[c] != 0 and bit(c), (d["/BaseFont"], hex(c))
        for c in range(1, len(cidset) * 8):
            if bit(c):
                assert c < len(gid) and gid[c] != 0 and sub[gid[c]] == orig[gid[c]], hex(c)
        for c, g in enumerate(gid):
            if c and g and sub[g] > 0:
                assert bit(c), (d["/BaseFont"], hex(c))
        n_set = sum(bit(c) for c in range(len(cidset) * 8))
        assert len(used) <= n_set < 2000, n_set     # a subset, not the whole font
        checked += 1
    assert checked == 2                 # regular and bold


def test_tiny_fisher_p_value_stays_on_one_line(tmp_path):
    """The four-fifths view's Fisher p column holds a 3-digit exponent: on a 200-group report
    "1.122e-105" wrapped its last digit into a second line, so the cell read 1.122e-10."""
    from conftest import run_audit
    doc = json.loads(FULL.read_text())
    hits = 0

    def walk(x):
        nonlocal hits
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "fisher_p_value" and isinstance(v, (int, float)) and v < 0.05:
                    x[k] = 1.122e-105
                    hits += 1
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc["fairness"])
    assert hits > 0
    src, pdf = tmp_path / "r.json", tmp_path / "r.pdf"
    src.write_text(json.dumps(doc))
    assert run_audit("report", src, "--pdf", pdf).code == 0
    t = run("pdftotext", "-layout", str(pdf), "-")
    view = t[t.index("EEOC four-fifths view"):]
    assert "1.122e-105" in view, view[:3000]


def _bright_blue_pixels(ppm, right=0.85):
    """Pixels of the low end of the dots' colour scale (0, 140, 250) left of `right` x the
    width (the colour legend is right of it) in a binary PPM (P6, 8 bits)."""
    import numpy as np
    head, pos = [], 0
    while len(head) < 4:   # P6, width, height, maxval, with "#" comments (gs writes one)
        while ppm[pos:pos + 1].isspace():
            pos += 1
        if ppm[pos:pos + 1] == b"#":
            pos = ppm.index(b"\n", pos)
            continue
        end = pos
        while not ppm[end:end + 1].isspace():
            end += 1
        head.append(ppm[pos:end])
        pos = end
    w, h = int(head[1]), int(head[2])
    img = np.frombuffer(ppm, np.uint8, w * h * 3, pos + 1).reshape(h, w, 3).astype(int)
    img = img[:, :int(w * right)]
    return int(((img[:, :, 2] > 200) & (img[:, :, 0] < 100)).sum())


def test_beeswarm_dots_are_painted(full_pdf, pages, tmp_path):
    """Dots are zero-length strokes with round caps ("x y m x y l"; ISO 32000-1 8.5.3.2 paints a
    disc): Poppler and Ghostscript both paint them (the beeswarm's blue dots, seen as pixels).
    The shorter "x y m h" is also allowed by the standard, but pdf.js paints nothing for it
    (mozilla/pdf.js#11882), so no dot is written that way."""
    import zlib
    page = next(k for k, p in enumerate(pages) if "Summary (beeswarm)" in p) + 1
    renders = {
        "pdftoppm": ["pdftoppm", "-r", "50", "-f", str(page), "-l", str(page), str(full_pdf)],
        "gs": ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=ppmraw", "-r50",
               f"-dFirstPage={page}", f"-dLastPage={page}", "-sOutputFile=-", str(full_pdf)],
    }
    for tool, cmd in renders.items():
        p = subprocess.run(cmd, capture_output=True)
        assert p.returncode == 0, (tool, p.stderr[:300])
        assert _bright_blue_pixels(p.stdout) > 200, tool
    raw = full_pdf.read_bytes()
    dots = closed = 0
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", raw, re.S):
        try:
            s = zlib.decompress(m.group(1)).decode("latin-1")
        except zlib.error:
            continue
        dots += len(re.findall(r"\n(-?[\d.]+ -?[\d.]+) m\n\1 l\n", s))
        closed += len(re.findall(r"\n-?[\d.]+ -?[\d.]+ m\nh\n", s))
    assert dots > 100 and closed == 0, (dots, closed)
