//! Serialises the drawn pages and the two subset fonts into a PDF file.

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::writers::Resources;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::PdfError;
use crate::font::{Font, Weight};
use crate::layout::{Fonts, PAGE_HEIGHT, PAGE_WIDTH};

const DEFLATE_LEVEL: u8 = 6;

/// Object ids of one embedded font.
struct FontRefs {
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
}

impl FontRefs {
    fn allocate(next: &mut Ref) -> Self {
        Self {
            type0: next.bump(),
            cid: next.bump(),
            descriptor: next.bump(),
            file: next.bump(),
            to_unicode: next.bump(),
        }
    }
}

pub(crate) fn write_pdf(
    pages: Vec<Content>,
    fonts: &Fonts,
    title: &str,
) -> Result<Vec<u8>, PdfError> {
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let page_tree = next.bump();
    let info = next.bump();
    let regular = FontRefs::allocate(&mut next);
    let bold = FontRefs::allocate(&mut next);
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(page_tree).lang(TextStr("vi"));
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("motcua documents"));
    pdf.pages(page_tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(page_refs.len() as i32);
    for (content, (page_ref, content_ref)) in pages.into_iter().zip(&page_refs) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(page_tree)
            .contents(*content_ref);
        font_resources(page.resources(), &regular, &bold);
        page.finish();
        pdf.stream(*content_ref, &deflate(&content.finish()))
            .filter(Filter::FlateDecode);
    }
    write_font(&mut pdf, &fonts.regular, &regular)?;
    write_font(&mut pdf, &fonts.bold, &bold)?;
    Ok(pdf.finish())
}

fn font_resources(mut resources: Resources<'_>, regular: &FontRefs, bold: &FontRefs) {
    resources
        .fonts()
        .pair(Name(Weight::Regular.resource_name()), regular.type0)
        .pair(Name(Weight::Bold.resource_name()), bold.type0);
}

/// A Type 0 font over a CIDFontType2 (TrueType) subset: two-byte codes are subset glyph ids
/// (`Identity-H` + identity CIDToGIDMap), and the ToUnicode CMap maps them back to text.
fn write_font(pdf: &mut Pdf, font: &Font, refs: &FontRefs) -> Result<(), PdfError> {
    let base_font = format!("{}+{}", subset_tag(font), font.postscript_name);
    let name = Name(base_font.as_bytes());
    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(refs.type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(refs.cid)
        .to_unicode(refs.to_unicode);

    let mut cid = pdf.cid_font(refs.cid);
    cid.subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(system_info)
        .font_descriptor(refs.descriptor)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, font.subset_widths());
    cid.finish();

    let metrics = font.metrics();
    let [x_min, y_min, x_max, y_max] = metrics.bbox;
    pdf.font_descriptor(refs.descriptor)
        .name(name)
        // Vietnamese letters lie outside the Adobe standard Latin set.
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(x_min, y_min, x_max, y_max))
        .italic_angle(0.0)
        .ascent(metrics.ascent)
        .descent(metrics.descent)
        .cap_height(metrics.cap_height)
        .stem_v(metrics.stem_v)
        .font_file2(refs.file);

    let subset = font.subset()?;
    pdf.stream(refs.file, &deflate(&subset))
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), subset.len() as i32);

    pdf.stream(
        refs.to_unicode,
        &deflate(&to_unicode_cmap(font, system_info)),
    )
    .filter(Filter::FlateDecode);
    Ok(())
}

fn to_unicode_cmap(font: &Font, system_info: SystemInfo<'_>) -> Vec<u8> {
    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system_info);
    for (glyph, c) in font.unicode_pairs() {
        cmap.pair(glyph, c);
    }
    cmap.finish().into_vec()
}

/// Six capital letters derived from the glyph set, as PDF requires before a subset font's name;
/// deterministic so the same document renders to the same bytes.
fn subset_tag(font: &Font) -> String {
    // FNV-1a over the glyph ids.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for glyph in font.used_glyphs() {
        for byte in glyph.to_be_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (0..6)
        .map(|i| char::from(b'A' + ((hash >> (i * 8)) % 26) as u8))
        .collect()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    compress_to_vec_zlib(data, DEFLATE_LEVEL)
}
