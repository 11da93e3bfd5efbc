/* pdf_doc.c - libharu document setup (LIBS.md section 2 order: compression, UTF-8 encoder,
 * embedded DejaVu TTF), pages, text, tables, running header and "page X of N" footers, and the
 * atomic save through HPDF_SaveToStream. */
#include "reports/pdf_int.h"
#include "core/io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void pdf_bmp_only(char *s);

#ifndef AUD_FONT_DIR
#define AUD_FONT_DIR "/usr/share/fonts/truetype/dejavu"
#endif

const pdf_rgb AUD_PDF_BLACK = {0.10f, 0.10f, 0.12f};
const pdf_rgb AUD_PDF_GREY = {0.40f, 0.40f, 0.43f};
const pdf_rgb AUD_PDF_LIGHT = {0.95f, 0.95f, 0.96f};
const pdf_rgb AUD_PDF_RULE = {0.75f, 0.75f, 0.78f};
const pdf_rgb AUD_PDF_ACCENT = {0.13f, 0.30f, 0.53f};
const pdf_rgb AUD_PDF_PASS = {0.10f, 0.48f, 0.22f};
const pdf_rgb AUD_PDF_FAIL = {0.75f, 0.12f, 0.12f};
const pdf_rgb AUD_PDF_PASS_BG = {0.86f, 0.95f, 0.87f};
const pdf_rgb AUD_PDF_FAIL_BG = {0.99f, 0.87f, 0.86f};
const pdf_rgb AUD_PDF_POS = {0.90f, 0.10f, 0.33f};    /* shap's red */
const pdf_rgb AUD_PDF_NEG = {0.00f, 0.55f, 0.90f};    /* shap's blue */
const pdf_rgb AUD_PDF_REF = {0.45f, 0.55f, 0.68f};
const pdf_rgb AUD_PDF_CUR = {0.93f, 0.49f, 0.16f};
const pdf_rgb AUD_PDF_WARN = {0.80f, 0.50f, 0.00f};

static void on_hpdf_error(HPDF_STATUS e, HPDF_STATUS detail, void *user)
{
    pdf_doc *d = user;
    if (!d->failed) {
        d->failed = 1;
        d->status = e;
        d->detail = detail;
    }
}

int aud_pdf_chk(pdf_doc *d, HPDF_STATUS s)
{
    if (s == HPDF_OK)
        return 1;
    if (!d->failed) {
        d->failed = 1;
        d->status = s;
    }
    return 0;
}

int aud_pdf_status(pdf_doc *d, aud_error *err)
{
    if (d->nomem || d->status == HPDF_FAILD_TO_ALLOC_MEM)
        return aud_error_nomem(err);
    if (d->failed)
        return aud_error_set(err, AUD_E_INTERNAL, NULL, 0, 0,
                             "PDF library error 0x%04lX (detail %lu)", d->status, d->detail);
    return AUD_OK;
}

/* Parse "YYYY-MM-DDTHH:MM:SS..." into an HPDF_Date; 0 when it is not that shape. */
static int parse_created(const char *s, HPDF_Date *dt)
{
    static const int pos[6] = {0, 5, 8, 11, 14, 17};
    static const int len[6] = {4, 2, 2, 2, 2, 2};
    int v[6] = {0, 0, 0, 0, 0, 0};
    if (strlen(s) < 19)
        return 0;
    for (int k = 0; k < 6; k++) {
        for (int i = 0; i < len[k]; i++) {
            char c = s[pos[k] + i];
            if (c < '0' || c > '9')
                return 0;
            v[k] = v[k] * 10 + (c - '0');
        }
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return 0;
    memset(dt, 0, sizeof *dt);
    dt->year = v[0];
    dt->month = v[1];
    dt->day = v[2];
    dt->hour = v[3];
    dt->minutes = v[4];
    dt->seconds = v[5];
    dt->ind = 'Z';
    return 1;
}

/* libharu 2.3.0 writes, as the ToUnicode CMap of a Type0 font with its UTF-8 encoder, a copy of
 * the *encoding* CMap: "<0000> <FFFF> 0 begincidrange" maps codes to CIDs, which a ToUnicode CMap
 * must not do (PDF 32000-1:2008 9.10.3: only beginbfchar/beginbfrange map to Unicode), hence
 * poppler's "Invalid 'begincidrange' operator in ToUnicode CMap" on every page. The codes it
 * shows are the BMP code points themselves (Identity-H, CID = code point, CIDToGIDMap to glyphs),
 * so the right CMap is the identity in bfrange form: one range per high byte (a bfrange may only
 * vary the last byte, Adobe TN 5411 1.4.1), at most 100 per block, surrogates D800-DFFF left out.
 * The stream libharu created is rewritten in place, so no orphan object is left in the file. */
static int font_fix_tounicode(pdf_doc *d, HPDF_Font font)
{
    HPDF_Dict tu = HPDF_Dict_GetItem(font, "ToUnicode", HPDF_OCLASS_DICT);
    char line[64];
    int hi, n = 0, total = 0;
    if (tu == NULL || tu->stream == NULL)
        return 0;
    HPDF_MemStream_FreeData(tu->stream);
    for (hi = 0; hi < 256; hi++)
        total += !(hi >= 0xD8 && hi <= 0xDF);
    HPDF_STATUS st = HPDF_Stream_WriteStr(tu->stream,
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    for (hi = 0; hi < 256 && st == HPDF_OK; hi++) {
        if (hi >= 0xD8 && hi <= 0xDF)
            continue;
        if (n % 100 == 0) {
            snprintf(line, sizeof line, "%s%d beginbfrange\n", n > 0 ? "endbfrange\n" : "",
                     total - n < 100 ? total - n : 100);
            st = HPDF_Stream_WriteStr(tu->stream, line);
        }
        snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n", hi, hi, hi);
        if (st == HPDF_OK)
            st = HPDF_Stream_WriteStr(tu->stream, line);
        n++;
    }
    if (st == HPDF_OK)
        st = HPDF_Stream_WriteStr(tu->stream, "endbfrange\nendcmap\n"
            "CMapName currentdict /CMap defineresource pop\nend\nend\n");
    return aud_pdf_chk(d, st);
}

static int font_load(pdf_doc *d, const char *file, HPDF_Font *out, aud_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", AUD_FONT_DIR, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return aud_error_set(err, AUD_E_IO, path, 0, 0,
                             "font not found: install Debian's fonts-dejavu-core");
    fclose(f);
    const char *name = HPDF_LoadTTFontFromFile(d->pdf, path, HPDF_TRUE);
    if (name == NULL)
        return aud_pdf_status(d, err);
    *out = HPDF_GetFont(d->pdf, name, "UTF-8");
    if (*out == NULL || !font_fix_tounicode(d, *out))
        return aud_pdf_status(d, err);
    aud_pdf_font_cidset(*out);
    return AUD_OK;
}

int aud_pdf_doc_init(pdf_doc *d, const cJSON *doc, aud_error *err)
{
    int rc;
    HPDF_Date dt;
    const cJSON *rep = aud_rpt_obj(doc, "report");
    memset(d, 0, sizeof *d);
    d->doc = doc;
    /* libharu keeps its own allocator: it leaks on some of its internal out-of-memory paths,
     * so routing it through aud_malloc would make fault-injection tests test libharu */
    d->pdf = HPDF_New(on_hpdf_error, d);
    if (d->pdf == NULL)
        return aud_error_nomem(err);
    /* order matters (LIBS.md section 2): compression before the first page, encoder before fonts */
    if (!aud_pdf_chk(d, HPDF_SetCompressionMode(d->pdf, HPDF_COMP_ALL)) ||
        !aud_pdf_chk(d, HPDF_UseUTFEncodings(d->pdf)) ||
        !aud_pdf_chk(d, HPDF_SetCurrentEncoder(d->pdf, "UTF-8")))
        return aud_pdf_status(d, err);
    rc = font_load(d, "DejaVuSans.ttf", &d->font, err);
    if (rc == AUD_OK)
        rc = font_load(d, "DejaVuSans-Bold.ttf", &d->bold, err);
    if (rc != AUD_OK)
        return rc;
    aud_rpt_copy_utf8(d->header, sizeof d->header, aud_rpt_str(rep, "title", "Model audit report"));
    pdf_bmp_only(d->header);
    aud_rpt_audit_date(doc, d->date, sizeof d->date);
    aud_pdf_chk(d, HPDF_SetInfoAttr(d->pdf, HPDF_INFO_TITLE, d->header));
    aud_pdf_chk(d, HPDF_SetInfoAttr(d->pdf, HPDF_INFO_CREATOR, "audit " AUD_VERSION));
    if (aud_rpt_str(rep, "organization", NULL) != NULL && aud_rpt_str(rep, "organization", "")[0] != '\0') {
        aud_rpt_copy_utf8(d->author, sizeof d->author, aud_rpt_str(rep, "organization", ""));
        pdf_bmp_only(d->author);
        aud_pdf_chk(d, HPDF_SetInfoAttr(d->pdf, HPDF_INFO_AUTHOR, d->author));
    }
    /* deterministic output: the only date is the audit's own, never the wall clock */
    if (parse_created(aud_rpt_str(aud_rpt_obj(doc, "provenance"), "created", ""), &dt))
        aud_pdf_chk(d, HPDF_SetInfoDateAttr(d->pdf, HPDF_INFO_CREATION_DATE, dt));
    return aud_pdf_status(d, err);
}

void aud_pdf_doc_free(pdf_doc *d)
{
    if (d->pdf != NULL)
        HPDF_Free(d->pdf);
    aud_free(d->pages);
    memset(d, 0, sizeof *d);
}

void aud_pdf_new_page(pdf_doc *d)
{
    if (d->failed)
        return;
    if (d->n_pages == d->cap_pages) {
        size_t cap = d->cap_pages ? d->cap_pages * 2 : 16;
        HPDF_Page *p = aud_realloc(d->pages, cap * sizeof *p);
        if (p == NULL) {
            d->nomem = 1;
            d->failed = 1;
            return;
        }
        d->pages = p;
        d->cap_pages = cap;
    }
    d->page = HPDF_AddPage(d->pdf);
    if (d->page == NULL)
        return;
    d->pages[d->n_pages++] = d->page;
    aud_pdf_chk(d, HPDF_Page_SetSize(d->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT));
    d->y = PDF_TOP;
}

void aud_pdf_need(pdf_doc *d, float h)
{
    if (d->page == NULL || d->y - h < PDF_BOTTOM)
        aud_pdf_new_page(d);
}


/* Replace, in place, every 4-byte UTF-8 sequence (a character outside the Basic Multilingual
 * Plane, e.g. an emoji) by U+FFFD: libharu's UTF-8 encoder covers the BMP only and silently drops
 * the others (LIBS.md). Other bytes are kept; s only shrinks. */
static void pdf_bmp_only(char *s)
{
    size_t i = 0, o = 0;
    while (s[i] != '\0') {
        const unsigned char *u = (const unsigned char *)s + i;
        if (u[0] >= 0xF0 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80 &&
            (u[3] & 0xC0) == 0x80) {   /* (a NUL is never a continuation byte) */
            memcpy(s + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += 4;
        } else {
            s[o++] = s[i++];
        }
    }
    s[o] = '\0';
}

/* The text as libharu can draw it: invalid UTF-8 and characters outside the BMP become U+FFFD,
 * so nothing vanishes. NULL: s itself is drawable (or *nomem is set). */
static char *pdf_drawable(const char *s, int *nomem)
{
    char *fixed = aud_rpt_utf8_repair(s, nomem);
    if (*nomem)
        return NULL;
    const char *t = fixed != NULL ? fixed : s;
    int outside = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p != '\0' && !outside; p++)
        outside = *p >= 0xF0;
    if (!outside)
        return fixed;
    if (fixed == NULL && (fixed = aud_strdup(s)) == NULL) {
        *nomem = 1;
        return NULL;
    }
    pdf_bmp_only(fixed);
    return fixed;
}
float aud_pdf_width(pdf_doc *d, HPDF_Font f, float size, const char *s)
{
    if (d->failed || d->page == NULL || s[0] == '\0')
        return 0.0f;
    int nomem = 0;
    char *fixed;
    float w;
    if (!aud_pdf_chk(d, HPDF_Page_SetFontAndSize(d->page, f, size)))
        return 0.0f;
    fixed = pdf_drawable(s, &nomem);   /* measure what aud_pdf_text draws */
    if (nomem) {
        d->nomem = 1;
        d->failed = 1;
        return 0.0f;
    }
    w = HPDF_Page_TextWidth(d->page, fixed != NULL ? fixed : s);
    aud_free(fixed);
    return w;
}

/* Coordinates from adversarial figures (1e308 + 1e308) must never reach the content stream. */
static int finite4(float a, float b, float c, float e)
{
    return isfinite(a) && isfinite(b) && isfinite(c) && isfinite(e);
}

/* Draw s at (x, y), horizontal, or reading upwards with its baseline at x (up). */
static void draw_text(pdf_doc *d, HPDF_Font f, float size, float x, float y, pdf_rgb c,
                      const char *s, int up)
{
    int nomem = 0;
    char *fixed;
    if (d->failed || s[0] == '\0' || !finite4(x, y, size, 0.0f))
        return;
    fixed = pdf_drawable(s, &nomem);
    if (nomem) {
        d->nomem = 1;
        d->failed = 1;
        return;
    }
    const char *t = fixed != NULL ? fixed : s;
    (void)(aud_pdf_chk(d, HPDF_Page_BeginText(d->page)) &&
           aud_pdf_chk(d, HPDF_Page_SetFontAndSize(d->page, f, size)) &&
           aud_pdf_chk(d, HPDF_Page_SetRGBFill(d->page, c.r, c.g, c.b)) &&
           (up ? aud_pdf_chk(d, HPDF_Page_SetTextMatrix(d->page, 0, 1, -1, 0, x, y)) &&
                     aud_pdf_chk(d, HPDF_Page_ShowText(d->page, t))
               : aud_pdf_chk(d, HPDF_Page_TextOut(d->page, x, y, t))) &&
           aud_pdf_chk(d, HPDF_Page_EndText(d->page)));
    aud_free(fixed);
}

void aud_pdf_text(pdf_doc *d, HPDF_Font f, float size, float x, float y, pdf_rgb c, const char *s)
{
    draw_text(d, f, size, x, y, c, s, 0);
}

void aud_pdf_text_up(pdf_doc *d, float size, float x, float yc, float max_h, const char *s)
{
    if (d->failed || s[0] == '\0' || !finite4(x, yc, size, max_h))
        return;
    float w = aud_pdf_width(d, d->font, size, s);
    if (w > max_h && w > 0.0f) {   /* smaller type, down to 5.5 points, rather than a cut */
        size = fmaxf(5.5f, size * max_h / w);
        w = aud_pdf_width(d, d->font, size, s);
    }
    draw_text(d, d->font, size, x, yc - w / 2.0f, AUD_PDF_GREY, s, 1);
}

void aud_pdf_text_right(pdf_doc *d, HPDF_Font f, float size, float xr, float y, pdf_rgb c,
                    const char *s)
{
    aud_pdf_text(d, f, size, xr - aud_pdf_width(d, f, size, s), y, c, s);
}

void aud_pdf_text_center(pdf_doc *d, HPDF_Font f, float size, float xc, float y, pdf_rgb c,
                     const char *s)
{
    aud_pdf_text(d, f, size, xc - aud_pdf_width(d, f, size, s) / 2.0f, y, c, s);
}

void aud_pdf_fit(pdf_doc *d, HPDF_Font f, float size, const char *s, float maxw, char *out, size_t n)
{
    static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
    size_t len;
    snprintf(out, n, "%s", s);
    if (aud_pdf_width(d, f, size, out) <= maxw)
        return;
    len = strlen(out);
    while (len > 0) {
        /* drop one UTF-8 character */
        do {
            len--;
        } while (len > 0 && ((unsigned char)out[len] & 0xC0) == 0x80);
        if (len + sizeof ell > n)
            continue;
        memcpy(out + len, ell, sizeof ell);
        if (aud_pdf_width(d, f, size, out) <= maxw || d->failed)
            return;
    }
    snprintf(out, n, "%s", ell);
}

/* Draws one line of a paragraph with its no-break spaces (U+00A0, the glue that kept words
 * together) as plain spaces, so that extracted text reads as written. */
static void para_line(pdf_doc *d, HPDF_Font f, float size, float x, pdf_rgb c, const char *line)
{
    char out[1024];
    size_t o = 0;
    for (const char *p = line; *p != '\0' && o + 1 < sizeof out; p++) {
        if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0) {
            out[o++] = ' ';
            p++;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    aud_pdf_text(d, f, size, x, d->y, c, out);
}

/* Lays out s in lines no wider than w (breaks at ASCII spaces); draws them when `draw`, else only
 * counts them. Returns the number of lines. */
static size_t para_lines(pdf_doc *d, HPDF_Font f, float size, float x, float w, pdf_rgb c,
                         const char *s, int draw)
{
    char line[1024];
    size_t ll = 0, lines = 0;
    const char *p = s;
    float lead = size * 1.35f;
    line[0] = '\0';
    while (*p != '\0' && !d->failed) {
        const char *q = p;
        while (*q != '\0' && *q != ' ')
            q++;
        size_t wl = (size_t)(q - p);
        char trial[1024];
        if (ll + wl + 2 >= sizeof trial)
            wl = sizeof trial - ll - 2;
        memcpy(trial, line, ll);
        size_t tl = ll;
        if (tl > 0)
            trial[tl++] = ' ';
        memcpy(trial + tl, p, wl);
        tl += wl;
        trial[tl] = '\0';
        if (ll > 0 && aud_pdf_width(d, f, size, trial) > w) {
            if (draw) {
                aud_pdf_need(d, lead);
                para_line(d, f, size, x, c, line);
                d->y -= lead;
            }
            lines++;
            memcpy(line, p, wl);
            ll = wl;
            line[ll] = '\0';
        } else {
            memcpy(line, trial, tl + 1);
            ll = tl;
        }
        p = *q == ' ' ? q + 1 : q;
    }
    if (ll > 0) {
        if (draw) {
            aud_pdf_need(d, lead);
            para_line(d, f, size, x, c, line);
            d->y -= lead;
        }
        lines++;
    }
    return lines;
}

void aud_pdf_para(pdf_doc *d, HPDF_Font f, float size, float x, float w, pdf_rgb c, const char *s)
{
    /* a paragraph of up to PARA_KEEP lines is never split over two pages */
    enum { PARA_KEEP = 5 };
    size_t n = para_lines(d, f, size, x, w, c, s, 0);
    if (n > 1 && n <= PARA_KEEP)
        aud_pdf_need(d, (float)n * size * 1.35f);
    para_lines(d, f, size, x, w, c, s, 1);
}

static void bookmark(pdf_doc *d, HPDF_Outline parent, const char *title, int top)
{
    HPDF_Outline o;
    HPDF_Destination dst;
    if (d->failed)
        return;
    int nomem = 0;
    char *fixed = pdf_drawable(title, &nomem);
    if (nomem) {
        d->nomem = 1;
        d->failed = 1;
        return;
    }
    o = HPDF_CreateOutline(d->pdf, parent, fixed != NULL ? fixed : title,
                           HPDF_GetEncoder(d->pdf, "UTF-8"));
    aud_free(fixed);
    if (o == NULL)
        return;
    dst = HPDF_Page_CreateDestination(d->page);
    if (dst == NULL)
        return;
    (void)(aud_pdf_chk(d, HPDF_Destination_SetFitH(dst, d->y + 20.0f)) &&
        aud_pdf_chk(d, HPDF_Outline_SetDestination(o, dst)));
    if (top)
        d->outline = o;
}

void aud_pdf_section(pdf_doc *d, const char *title)
{
    aud_pdf_new_page(d);
    bookmark(d, NULL, title, 1);
    aud_pdf_text(d, d->bold, 17.0f, PDF_LEFT, d->y - 4.0f, AUD_PDF_ACCENT, title);
    aud_pdf_line(d, PDF_LEFT, d->y - 12.0f, PDF_RIGHT, d->y - 12.0f, 1.2f, AUD_PDF_ACCENT);
    d->y -= 36.0f;
}

void aud_pdf_section_need(pdf_doc *d, const char *title, float need)
{
    if (d->page == NULL || d->y - need < PDF_BOTTOM) {
        aud_pdf_section(d, title);
    } else {
        d->y -= 14.0f;
        bookmark(d, NULL, title, 1);
        aud_pdf_text(d, d->bold, 17.0f, PDF_LEFT, d->y - 4.0f, AUD_PDF_ACCENT, title);
        aud_pdf_line(d, PDF_LEFT, d->y - 12.0f, PDF_RIGHT, d->y - 12.0f, 1.2f, AUD_PDF_ACCENT);
        d->y -= 36.0f;
    }
}

void aud_pdf_section_not_run(pdf_doc *d, const char *title, const char *reason)
{
    /* a section that did not run needs no page of its own */
    aud_pdf_section_need(d, title, 90.0f);
    aud_pdf_not_run(d, reason);
}

void aud_pdf_subsection(pdf_doc *d, const char *title, float need)
{
    aud_pdf_need(d, need + 26.0f);
    if (d->y < PDF_TOP - 1.0f)
        d->y -= 6.0f;
    bookmark(d, d->outline, title, 0);
    if (aud_pdf_width(d, d->bold, 12.0f, title) > PDF_CW) {   /* a long intersection: wrap */
        aud_pdf_para(d, d->bold, 12.0f, PDF_LEFT, PDF_CW, AUD_PDF_BLACK, title);
        d->y -= 18.0f - 12.0f * 1.35f;
        return;
    }
    aud_pdf_text(d, d->bold, 12.0f, PDF_LEFT, d->y, AUD_PDF_BLACK, title);
    d->y -= 18.0f;
}

void aud_pdf_not_run(pdf_doc *d, const char *reason)
{
    char msg[600];
    snprintf(msg, sizeof msg, "Section not run: %s.", reason);
    aud_pdf_need(d, 30.0f);
    aud_pdf_fill_rect(d, PDF_LEFT, d->y - 8.0f, PDF_CW, 22.0f, AUD_PDF_LIGHT);
    aud_pdf_text(d, d->font, 9.5f, PDF_LEFT + 8.0f, d->y, AUD_PDF_GREY, msg);
    d->y -= 30.0f;
}

void aud_pdf_fill_rect(pdf_doc *d, float x, float y, float w, float h, pdf_rgb c)
{
    if (d->failed || !finite4(x, y, w, h))
        return;
    (void)(aud_pdf_chk(d, HPDF_Page_SetRGBFill(d->page, c.r, c.g, c.b)) &&
        aud_pdf_chk(d, HPDF_Page_Rectangle(d->page, x, y, w, h)) &&
        aud_pdf_chk(d, HPDF_Page_Fill(d->page)));
}

void aud_pdf_stroke_rect(pdf_doc *d, float x, float y, float w, float h, float lw, pdf_rgb c)
{
    if (d->failed || !finite4(x, y, w, h))
        return;
    (void)(aud_pdf_chk(d, HPDF_Page_SetLineWidth(d->page, lw)) &&
        aud_pdf_chk(d, HPDF_Page_SetRGBStroke(d->page, c.r, c.g, c.b)) &&
        aud_pdf_chk(d, HPDF_Page_Rectangle(d->page, x, y, w, h)) &&
        aud_pdf_chk(d, HPDF_Page_Stroke(d->page)));
}

void aud_pdf_line(pdf_doc *d, float x0, float y0, float x1, float y1, float lw, pdf_rgb c)
{
    if (d->failed || !finite4(x0, y0, x1, y1))
        return;
    (void)(aud_pdf_chk(d, HPDF_Page_SetLineWidth(d->page, lw)) &&
        aud_pdf_chk(d, HPDF_Page_SetRGBStroke(d->page, c.r, c.g, c.b)) &&
        aud_pdf_chk(d, HPDF_Page_MoveTo(d->page, x0, y0)) &&
        aud_pdf_chk(d, HPDF_Page_LineTo(d->page, x1, y1)) &&
        aud_pdf_chk(d, HPDF_Page_Stroke(d->page)));
}

void aud_pdf_dashed(pdf_doc *d, float x0, float y0, float x1, float y1, float lw, pdf_rgb c)
{
#if HPDF_VERSION_ID >= 20400
    static const HPDF_REAL pat[2] = {3.0f, 2.0f};
#else
    static const HPDF_UINT16 pat[2] = {3, 2};
#endif
    if (d->failed)
        return;
    aud_pdf_chk(d, HPDF_Page_SetDash(d->page, pat, 2, 0));
    aud_pdf_line(d, x0, y0, x1, y1, lw, c);
    if (!d->failed)
        aud_pdf_chk(d, HPDF_Page_SetDash(d->page, NULL, 0, 0));
}

#define ROW_PAD 4.0f
#define CELL_LINES 4   /* lines per cell; tables have at most 16 columns (pdf_int.h) */

/* Break s into at most CELL_LINES lines no wider than maxw: after the last space, '&', ',' or '/'
 * that fits, else between characters; only a cell needing more lines is cut with an ellipsis
 * (issue 14 item 9: wrap rather than clip). Returns the number of lines. */
size_t aud_pdf_wrap(pdf_doc *d, HPDF_Font f, float size, const char *s, float maxw,
                    char (*out)[256], size_t max_lines)
{
    size_t k = 0, len = strlen(s);
    while (k < max_lines) {
        char trial[256];
        size_t fit = 0, brk = 0, i = 0;
        if (k == max_lines - 1 || aud_pdf_width(d, f, size, s) <= maxw) {
            aud_pdf_fit(d, f, size, s, maxw, out[k], sizeof out[k]);
            return k + 1;
        }
        while (i < len && i < sizeof trial - 1) {
            size_t j = i + 1;
            while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80)
                j++;
            memcpy(trial, s, j);
            trial[j] = '\0';
            if (aud_pdf_width(d, f, size, trial) > maxw)
                break;
            fit = j;
            if (s[i] == ' ' || s[i] == '&' || s[i] == ',' || s[i] == '/')
                brk = j;
            i = j;
        }
        if (fit == 0)
            fit = i < len ? i + 1 : len;
        size_t cut = brk > 0 ? brk : fit;
        size_t shown = cut;
        while (shown > 0 && s[shown - 1] == ' ')
            shown--;
        memcpy(out[k], s, shown);
        out[k][shown] = '\0';
        k++;
        s += cut;
        len -= cut;
        if (len == 0)
            return k;
    }
    return k;
}

static size_t cell_wrap(pdf_doc *d, HPDF_Font f, float size, const char *s, float maxw,
                        char out[CELL_LINES][256])
{
    return aud_pdf_wrap(d, f, size, s, maxw, out, CELL_LINES);
}

size_t aud_pdf_text_lines(pdf_doc *d, HPDF_Font f, float size, float min_size, float x, float y,
                          float w, size_t max_lines, int right, pdf_rgb c, const char *s)
{
    char lines[CELL_LINES][256];
    size_t n = 0;
    int had = strstr(s, "\xe2\x80\xa6") != NULL;
    if (max_lines > CELL_LINES)
        max_lines = CELL_LINES;
    for (;; size -= 0.5f) {
        n = aud_pdf_wrap(d, f, size, s, w, lines, max_lines);
        if (size - 0.5f < min_size || had || strstr(lines[n - 1], "\xe2\x80\xa6") == NULL)
            break;
    }
    for (size_t k = 0; k < n; k++) {
        if (right)
            aud_pdf_text_right(d, f, size, x + w, y - (float)k * size * 1.15f, c, lines[k]);
        else
            aud_pdf_text(d, f, size, x, y - (float)k * size * 1.15f, c, lines[k]);
    }
    return n;
}

static void cell_text(pdf_doc *d, HPDF_Font f, float size, const pdf_col *c, float x, float y,
                      pdf_rgb col, const char *buf)
{
    if (c->align == PDF_AL_RIGHT)
        aud_pdf_text_right(d, f, size, x + c->w - ROW_PAD, y, col, buf);
    else if (c->align == PDF_AL_CENTER)
        aud_pdf_text_center(d, f, size, x + c->w / 2.0f, y, col, buf);
    else
        aud_pdf_text(d, f, size, x + ROW_PAD, y, col, buf);
}

static void table_header(pdf_doc *d, const pdf_table *t)
{
    float x = PDF_LEFT, lead = t->size * 1.2f;
    char lines[16][CELL_LINES][256];
    size_t nl[16], most = 1;
    pdf_rgb white = {1, 1, 1};
    for (size_t i = 0; i < t->n && i < 16; i++) {
        const pdf_col *c = &t->cols[i];
        nl[i] = cell_wrap(d, d->bold, t->size, c->title, c->w - 2 * ROW_PAD, lines[i]);
        most = nl[i] > most ? nl[i] : most;
    }
    float h = t->size * 1.9f + (float)(most - 1) * lead;
    aud_pdf_fill_rect(d, PDF_LEFT, d->y - h + t->size * 0.55f, PDF_CW, h, AUD_PDF_ACCENT);
    for (size_t i = 0; i < t->n && i < 16; i++) {
        const pdf_col *c = &t->cols[i];
        float ty = d->y - t->size * 1.9f / 2.0f + t->size * 0.2f;
        for (size_t k = 0; k < nl[i]; k++)
            cell_text(d, d->bold, t->size, c, x, ty - (float)k * lead, white, lines[i][k]);
        x += c->w;
    }
    d->y -= h;
}

void aud_pdf_table_begin(pdf_doc *d, pdf_table *t, const pdf_col *cols, size_t n, float size)
{
    t->cols = cols;
    t->n = n;
    t->size = size;
    t->row = 0;
    aud_pdf_need(d, size * 1.9f * 3.0f);
    table_header(d, t);
}

void aud_pdf_table_row(pdf_doc *d, pdf_table *t, const char *const *cells, const int *styles)
{
    float x = PDF_LEFT, lead = t->size * 1.2f;
    char lines[16][CELL_LINES][256];
    const char *sub[16];
    int sub_beside[16];
    size_t nl[16], most = 1;
    for (size_t i = 0; i < t->n && i < 16; i++) {
        int st = styles != NULL ? styles[i] : PDF_CELL_PLAIN;
        HPDF_Font f = st == PDF_CELL_BOLD || st == PDF_CELL_PASS || st == PDF_CELL_FAIL ? d->bold
                                                                                       : d->font;
        char main[256];
        const char *cell = cells[i] != NULL ? cells[i] : "", *nlp = strchr(cell, '\n');
        size_t ml = nlp != NULL ? (size_t)(nlp - cell) : strlen(cell);
        float maxw = t->cols[i].w - 2 * ROW_PAD;
        snprintf(main, sizeof main, "%.*s", (int)(ml < sizeof main ? ml : sizeof main - 1), cell);
        sub[i] = nlp != NULL ? nlp + 1 : NULL;
        nl[i] = cell_wrap(d, f, t->size, main, maxw, lines[i]);
        sub_beside[i] = 0;
        if (sub[i] != NULL) {
            /* "Name\nmachine_id": the id in small grey type beside the name when it fits,
             * else on a line of its own below it (issue 14 item 2) */
            float used = aud_pdf_width(d, f, t->size, lines[i][nl[i] - 1]);
            float sw = aud_pdf_width(d, d->font, t->size * 0.8f, sub[i]);
            sub_beside[i] = t->cols[i].align == PDF_AL_LEFT && used + 4.0f + sw <= maxw;
            if (!sub_beside[i] && nl[i] < CELL_LINES)
                nl[i]++;
            else if (!sub_beside[i])
                sub[i] = NULL;
        }
        most = nl[i] > most ? nl[i] : most;
    }
    float h = t->size * 1.75f + (float)(most - 1) * lead;
    if (d->y - h < PDF_BOTTOM) {
        aud_pdf_new_page(d);
        table_header(d, t);
    }
    float top = d->y + t->size * 0.55f - 0.0f;
    if (t->row % 2 == 1)
        aud_pdf_fill_rect(d, PDF_LEFT, top - h, PDF_CW, h, AUD_PDF_LIGHT);
    float ty = top - t->size * 1.75f / 2.0f - t->size * 0.35f;
    for (size_t i = 0; i < t->n && i < 16; i++) {
        const pdf_col *c = &t->cols[i];
        int st = styles != NULL ? styles[i] : PDF_CELL_PLAIN;
        HPDF_Font f = st == PDF_CELL_BOLD || st == PDF_CELL_PASS || st == PDF_CELL_FAIL ? d->bold
                                                                                       : d->font;
        pdf_rgb col = st == PDF_CELL_PASS ? AUD_PDF_PASS : st == PDF_CELL_FAIL ? AUD_PDF_FAIL
                      : st == PDF_CELL_MUTED ? AUD_PDF_GREY : st == PDF_CELL_WARN ? AUD_PDF_WARN
                                                                               : AUD_PDF_BLACK;
        if (st == PDF_CELL_PASS || st == PDF_CELL_FAIL)
            aud_pdf_fill_rect(d, x + 1.0f, top - h + 1.0f, c->w - 2.0f, h - 2.0f,
                          st == PDF_CELL_PASS ? AUD_PDF_PASS_BG : AUD_PDF_FAIL_BG);
        size_t body = sub[i] != NULL && !sub_beside[i] ? nl[i] - 1 : nl[i];
        for (size_t k = 0; k < body; k++)
            cell_text(d, f, t->size, c, x, ty - (float)k * lead, col, lines[i][k]);
        if (sub[i] != NULL && sub_beside[i])
            aud_pdf_text(d, d->font, t->size * 0.8f,
                         x + ROW_PAD + aud_pdf_width(d, f, t->size, lines[i][body - 1]) + 4.0f,
                         ty - (float)(body - 1) * lead, AUD_PDF_GREY, sub[i]);
        else if (sub[i] != NULL)
            cell_text(d, d->font, t->size * 0.8f, c, x, ty - (float)body * lead, AUD_PDF_GREY,
                      sub[i]);
        x += c->w;
    }
    aud_pdf_line(d, PDF_LEFT, top - h, PDF_RIGHT, top - h, 0.3f, AUD_PDF_RULE);
    d->y -= h;
    t->row++;
}

void aud_pdf_kv(pdf_doc *d, const char *key, const char *value)
{
    char buf[512];
    const float w = PDF_CW - 140.0f;
    aud_pdf_need(d, 15.0f);
    aud_pdf_text(d, d->bold, 9.0f, PDF_LEFT, d->y, AUD_PDF_GREY, key);
    if (strchr(value, ' ') != NULL && aud_pdf_width(d, d->font, 9.0f, value) > w) {
        /* long prose (a data source, a path with spaces): wrap rather than cut */
        aud_pdf_para(d, d->font, 9.0f, PDF_LEFT + 140.0f, w, AUD_PDF_BLACK, value);
        d->y -= 14.0f - 9.0f * 1.35f;
        return;
    }
    /* one long word (a SHA-256, a path): a smaller size down to 7 pt before any cut */
    float size = 9.0f;
    while (size > 7.0f && aud_pdf_width(d, d->font, size, value) > w)
        size -= 0.5f;
    aud_pdf_fit(d, d->font, size, value, w, buf, sizeof buf);
    aud_pdf_text(d, d->font, size, PDF_LEFT + 140.0f, d->y, AUD_PDF_BLACK, buf);
    d->y -= 14.0f;
}

static void header_footer(pdf_doc *d, size_t i)
{
    char buf[300];
    d->page = d->pages[i];
    if (i > 0) {
        aud_pdf_fit(d, d->font, 8.0f, d->header, PDF_CW - 120.0f, buf, sizeof buf);
        aud_pdf_text(d, d->font, 8.0f, PDF_LEFT, PDF_H - 36.0f, AUD_PDF_GREY, buf);
        aud_pdf_text_right(d, d->font, 8.0f, PDF_RIGHT, PDF_H - 36.0f, AUD_PDF_GREY, d->date);
        aud_pdf_line(d, PDF_LEFT, PDF_H - 41.0f, PDF_RIGHT, PDF_H - 41.0f, 0.5f, AUD_PDF_RULE);
    }
    aud_pdf_line(d, PDF_LEFT, 42.0f, PDF_RIGHT, 42.0f, 0.5f, AUD_PDF_RULE);
    snprintf(buf, sizeof buf, "audit %s \xc2\xb7 results schema %s",
             aud_rpt_str(aud_rpt_obj(d->doc, "tool"), "version", "?"),
             aud_rpt_str(d->doc, "schema_version", "?"));
    aud_pdf_text(d, d->font, 7.5f, PDF_LEFT, 30.0f, AUD_PDF_GREY, buf);
    snprintf(buf, sizeof buf, "page %zu of %zu", i + 1, d->n_pages);
    aud_pdf_text_right(d, d->font, 7.5f, PDF_RIGHT, 30.0f, AUD_PDF_GREY, buf);
}

int aud_pdf_doc_save(pdf_doc *d, const char *path, aud_error *err)
{
    aud_out o;
    int rc;
    for (size_t i = 0; i < d->n_pages && !d->failed; i++)
        header_footer(d, i);
    if (!d->failed)
        aud_pdf_chk(d, HPDF_SetPageMode(d->pdf, HPDF_PAGE_MODE_USE_OUTLINE));
    aud_pdf_archival(d);
    if (d->failed || !aud_pdf_chk(d, HPDF_SaveToStream(d->pdf)))
        return aud_pdf_status(d, err);
    rc = aud_out_open(&o, path, err);
    if (rc != AUD_OK)
        return rc;
    for (;;) {
        HPDF_BYTE buf[65536];
        HPDF_UINT32 n = sizeof buf;
        HPDF_STATUS s = HPDF_ReadFromStream(d->pdf, buf, &n);
        if (n > 0 && fwrite(buf, 1, n, o.f) != n) {
            aud_out_abort(&o);
            return aud_error_set(err, AUD_E_IO, path, 0, 0, "write error");
        }
        if (s == HPDF_STREAM_EOF)
            break;
        if (s != HPDF_OK) {
            aud_pdf_chk(d, s);
            aud_out_abort(&o);
            return aud_pdf_status(d, err);
        }
    }
    return aud_out_commit(&o, err);
}
