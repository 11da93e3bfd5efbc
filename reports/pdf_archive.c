/* pdf_archive.c - what makes the report an archival PDF (issue 14 item 12): PDF/A-1b
 * (ISO 19005-1, level B) metadata and colour, page labels.
 *
 * - XMP metadata (ISO 19005-1 6.7): title, author, creator tool, producer and creation date,
 *   the same values as the document information dictionary, and the pdfaid part/conformance.
 *   libharu 2.3.0's HPDF_PDFA_SetPDFAConformance is not used: it writes the information
 *   strings into the XML unescaped (a '&' in a title breaks it; with the UTF-8 encoder they
 *   are UTF-16 bytes) and a trailer ID from the wall clock (the report would no longer be
 *   reproducible byte for byte). The packet is written here, escaped, uncompressed (6.7.2).
 * - An sRGB output intent (6.2.2; every colour is DeviceRGB): the ICC profile of Debian's
 *   icc-profiles-free package (an ICC v2 profile, as PDF 1.4 / PDF/A-1 require; colord-data
 *   ships a v4 one). libharu's HPDF_PDFA_AppendOutputIntents names the profile key
 *   "DestOutputProfile " (a trailing space, so readers find no profile); the intent is built
 *   here with libharu's object API.
 * - The trailer ID (6.1.3) from the SHA-256 of the title, the audit date and the page count.
 * - The fonts are embedded by libharu (TrueType, HPDF_LoadTTFontFromFile(..., HPDF_TRUE)) as
 *   CIDFontType2 subsets; each descriptor gets the CIDSet that 6.3.5 requires of a CIDFont subset
 *   (libharu 2.3.0 writes none; aud_pdf_font_cidset). No transparency is used; the header is
 *   PDF 1.4.
 * When the ICC profile is missing, the document is written without the PDF/A claim (never a
 * claim it does not meet). */
#include "reports/pdf_int.h"
#include "core/provenance.h"

#include <hpdf_doc.h>
#include <hpdf_font.h>
#include <hpdf_fontdef.h>
#include <hpdf_objects.h>
#include <stdio.h>
#include <string.h>

#ifndef AUD_SRGB_ICC
#define AUD_SRGB_ICC "/usr/share/color/icc/sRGB.icc"   /* icc-profiles-free: ICC v2.3 */
#endif

/* Append s to the XML buffer with &, <, >, " escaped; 0 when it does not fit. */
static int xml_put(char *buf, size_t n, size_t *len, const char *s, int escape)
{
    for (; *s != '\0'; s++) {
        const char *e = NULL;
        char one[2] = {*s, '\0'};
        if (escape)
            e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                : *s == '"' ? "&quot;" : NULL;
        const char *w = e != NULL ? e : one;
        size_t wl = strlen(w);
        if (*len + wl + 1 > n)
            return 0;
        memcpy(buf + *len, w, wl);
        *len += wl;
    }
    buf[*len] = '\0';
    return 1;
}

/* "2026-10-05T14:03:22Z" from the results' provenance.created (the Info CreationDate's
 * source); "" when absent or malformed. */
static void xmp_date(const cJSON *doc, char *out, size_t n)
{
    const char *c = aud_rpt_str(aud_rpt_obj(doc, "provenance"), "created", "");
    out[0] = '\0';
    if (strlen(c) >= 19 && c[4] == '-' && c[7] == '-' && c[10] == 'T' && c[13] == ':' &&
        c[16] == ':')
        snprintf(out, n, "%.19sZ", c);
}

static int xmp_packet(pdf_doc *d, char *buf, size_t n, const char *producer, int pdfa)
{
    char date[32];
    size_t len = 0;
    int ok = 1;
    xmp_date(d->doc, date, sizeof date);
    ok &= xml_put(buf, n, &len,
                  "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                  "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                  "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                  "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
                  "<dc:format>application/pdf</dc:format>\n"
                  "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">", 0);
    ok &= xml_put(buf, n, &len, d->header, 1);
    ok &= xml_put(buf, n, &len, "</rdf:li></rdf:Alt></dc:title>\n", 0);
    if (d->author[0] != '\0') {
        ok &= xml_put(buf, n, &len, "<dc:creator><rdf:Seq><rdf:li>", 0);
        ok &= xml_put(buf, n, &len, d->author, 1);
        ok &= xml_put(buf, n, &len, "</rdf:li></rdf:Seq></dc:creator>\n", 0);
    }
    ok &= xml_put(buf, n, &len,
                  "</rdf:Description>\n"
                  "<rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\">\n"
                  "<xmp:CreatorTool>audit " AUD_VERSION "</xmp:CreatorTool>\n", 0);
    if (date[0] != '\0') {
        ok &= xml_put(buf, n, &len, "<xmp:CreateDate>", 0);
        ok &= xml_put(buf, n, &len, date, 0);
        ok &= xml_put(buf, n, &len, "</xmp:CreateDate>\n", 0);
    }
    ok &= xml_put(buf, n, &len,
                  "</rdf:Description>\n"
                  "<rdf:Description rdf:about=\"\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n"
                  "<pdf:Producer>", 0);
    ok &= xml_put(buf, n, &len, producer, 1);
    ok &= xml_put(buf, n, &len, "</pdf:Producer>\n</rdf:Description>\n", 0);
    if (pdfa)
        ok &= xml_put(buf, n, &len,
                      "<rdf:Description rdf:about=\"\" "
                      "xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n"
                      "<pdfaid:part>1</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n"
                      "</rdf:Description>\n", 0);
    ok &= xml_put(buf, n, &len, "</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>", 0);
    return ok ? (int)len : -1;
}

/* The CIDSet of a CIDFontType2 subset (ISO 19005-1 6.3.5; PDF Reference 1.4 Table 5.20: a bit
 * per CID, high-order bit first, CID 0 first): the CIDs whose glyph is in the subset libharu
 * embeds. libharu 2.3.0 keeps every glyph index in the subset, copying the outline only of the
 * glyphs it flagged as used (the glyphs measured or drawn, and the components of composite ones,
 * flagged when first measured); its CIDs are BMP code points, mapped to glyphs by the
 * CIDToGIDMap stream it wrote. So CID c is present when the map sends it to a glyph other than
 * .notdef that is flagged, and CID 0 (.notdef, always kept) is present. A code point the font has
 * no glyph for maps to .notdef and is not listed. The descriptor only exists once libharu writes
 * the Type0 font (its before-write hook creates it, with the font file), so this runs as that
 * font's after-write hook: the flags are final by then and the descriptor and the new stream
 * are later in the cross-reference table, so both are still to be written. */
static HPDF_STATUS font_cidset_after_write(HPDF_Dict font)
{
    HPDF_FontAttr fa = font->attr;
    HPDF_FontDef def = fa != NULL ? fa->fontdef : NULL;
    HPDF_TTFontDefAttr ta = def != NULL ? def->attr : NULL;
    HPDF_BYTE set[8192];
    HPDF_UINT cid = 0, last = 0, nbuf, i;
    if (ta == NULL || !ta->embedding || def->descriptor == NULL || fa->map_stream == NULL ||
        fa->map_stream->stream == NULL)
        return HPDF_OK;
    memset(set, 0, sizeof set);
    set[0] = 0x80;   /* CID 0: .notdef */
    nbuf = HPDF_MemStream_GetBufCount(fa->map_stream->stream);
    for (i = 0; i < nbuf; i++) {
        HPDF_UINT len = 0;
        const HPDF_BYTE *b = HPDF_MemStream_GetBufPtr(fa->map_stream->stream, i, &len);
        if (b == NULL)
            return HPDF_Error_GetCode(font->error);
        for (HPDF_UINT k = 0; k + 1 < len && cid < 65536; k += 2, cid++) {   /* big-endian GIDs */
            HPDF_UINT gid = (HPDF_UINT)b[k] << 8 | b[k + 1];
            if (gid != 0 && gid < ta->num_glyphs && ta->glyph_tbl.flgs[gid]) {
                set[cid >> 3] |= (HPDF_BYTE)(0x80u >> (cid & 7));
                last = cid;
            }
        }
    }
    HPDF_Dict cs = HPDF_DictStream_New(font->mmgr, fa->xref);
    if (cs == NULL)
        return HPDF_Error_GetCode(font->error);
    cs->filter = font->filter;
    HPDF_STATUS st = HPDF_Stream_Write(cs->stream, set, last / 8 + 1);
    if (st == HPDF_OK)
        st = HPDF_Dict_Add(def->descriptor, "CIDSet", cs);
    return st;
}

void aud_pdf_font_cidset(HPDF_Font font)
{
    if (font != NULL && font->after_write_fn == NULL)
        font->after_write_fn = font_cidset_after_write;
}

static void output_intent(pdf_doc *d, HPDF_Dict icc)
{
    HPDF_Doc p = d->pdf;
    HPDF_Dict intent = HPDF_Dict_New(p->mmgr);
    HPDF_Array intents = HPDF_Array_New(p->mmgr);
    if (intent == NULL || intents == NULL) {
        d->failed = d->nomem = 1;
        return;
    }
    (void)(aud_pdf_chk(d, HPDF_Xref_Add(p->xref, intent)) &&
           aud_pdf_chk(d, HPDF_Dict_AddName(intent, "Type", "OutputIntent")) &&
           aud_pdf_chk(d, HPDF_Dict_AddName(intent, "S", "GTS_PDFA1")) &&
           aud_pdf_chk(d, HPDF_Dict_Add(intent, "OutputConditionIdentifier",
                                        HPDF_String_New(p->mmgr, "sRGB IEC61966-2.1", NULL))) &&
           aud_pdf_chk(d, HPDF_Dict_Add(intent, "Info",
                                        HPDF_String_New(p->mmgr, "sRGB IEC61966-2.1", NULL))) &&
           aud_pdf_chk(d, HPDF_Dict_Add(intent, "DestOutputProfile", icc)) &&
           aud_pdf_chk(d, HPDF_Array_Add(intents, intent)) &&
           aud_pdf_chk(d, HPDF_Dict_Add(p->catalog, "OutputIntents", intents)));
}

void aud_pdf_archival(pdf_doc *d)
{
    HPDF_Doc p = d->pdf;
    char xmp[8192], hex[65], seed[600];
    unsigned char id[16];
    int pdfa = 0, len;
    aud_error e;
    FILE *f;
    if (d->failed)
        return;
    /* page labels: the numbers the footer prints ("page 3 of 25") */
    aud_pdf_chk(d, HPDF_AddPageLabel(p, 0, HPDF_PAGE_NUM_STYLE_DECIMAL, 1, NULL));
    /* the output intent only when the profile is there (libharu's loader fails hard on a
     * missing file) */
    f = fopen(AUD_SRGB_ICC, "rb");
    if (f != NULL) {
        fclose(f);
        HPDF_OutputIntent icc = HPDF_LoadIccProfileFromFile(p, AUD_SRGB_ICC, 3);
        if (icc != NULL && !d->failed) {
            output_intent(d, icc);
            pdfa = !d->failed;
        }
    }
    if (d->failed)
        return;
    const char *producer = HPDF_GetInfoAttr(p, HPDF_INFO_PRODUCER);
    len = xmp_packet(d, xmp, sizeof xmp, producer != NULL ? producer : "", pdfa);
    if (len < 0) {   /* a title too long for the packet: the Info dictionary still has it */
        aud_rpt_copy_utf8(d->header, 200, d->header);
        len = xmp_packet(d, xmp, sizeof xmp, producer != NULL ? producer : "", 0);
    }
    HPDF_Dict meta = len > 0 ? HPDF_DictStream_New(p->mmgr, p->xref) : NULL;
    if (meta == NULL) {
        d->failed = d->nomem = 1;
        return;
    }
    meta->filter = HPDF_STREAM_FILTER_NONE;   /* 6.7.2: the metadata stream is not filtered */
    (void)(aud_pdf_chk(d, HPDF_Dict_AddName(meta, "Type", "Metadata")) &&
           aud_pdf_chk(d, HPDF_Dict_AddName(meta, "Subtype", "XML")) &&
           aud_pdf_chk(d, HPDF_Stream_Write(meta->stream, (const HPDF_BYTE *)xmp, (HPDF_UINT)len)) &&
           aud_pdf_chk(d, HPDF_Dict_Add(p->catalog, "Metadata", meta)));
    /* a reproducible file identifier: no wall clock */
    snprintf(seed, sizeof seed, "%s|%s|%zu", d->header, d->date, d->n_pages);
    aud_error_clear(&e);
    if (aud_sha256_mem(seed, strlen(seed), hex, &e) != AUD_OK) {
        d->failed = d->nomem = 1;
        return;
    }
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        id[i] = (unsigned char)v;
    }
    HPDF_Array ids = HPDF_Array_New(p->mmgr);
    if (ids == NULL) {
        d->failed = d->nomem = 1;
        return;
    }
    (void)(aud_pdf_chk(d, HPDF_Array_Add(ids, HPDF_Binary_New(p->mmgr, id, 16))) &&
           aud_pdf_chk(d, HPDF_Array_Add(ids, HPDF_Binary_New(p->mmgr, id, 16))) &&
           aud_pdf_chk(d, HPDF_Dict_Add(p->trailer, "ID", ids)));
    if (pdfa)
        p->pdf_version = HPDF_VER_14;
}
