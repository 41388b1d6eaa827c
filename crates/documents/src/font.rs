//! The embedded DejaVu Sans faces: glyph advances for line wrapping, and a record of the glyphs
//! actually drawn so the PDF embeds only those (subset) with a ToUnicode map for text extraction.

use std::collections::BTreeMap;

use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::PdfError;

const REGULAR_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// PDF glyph space: widths and metrics are given in thousandths of an em.
const GLYPH_SPACE: f32 = 1000.0;

/// Which face a run of text uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    /// The name under which the page resources list this face.
    pub(crate) fn resource_name(self) -> &'static [u8] {
        match self {
            Weight::Regular => b"F1",
            Weight::Bold => b"F2",
        }
    }
}

/// Face and size of a run of text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextStyle {
    pub weight: Weight,
    pub size: f32,
}

impl TextStyle {
    pub(crate) const fn regular(size: f32) -> Self {
        Self {
            weight: Weight::Regular,
            size,
        }
    }

    pub(crate) const fn bold(size: f32) -> Self {
        Self {
            weight: Weight::Bold,
            size,
        }
    }
}

/// Vertical metrics and bounding box in glyph space, for the PDF font descriptor.
pub(crate) struct Metrics {
    pub bbox: [f32; 4],
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub stem_v: f32,
}

/// One embedded face plus the glyphs used so far.
pub(crate) struct Font {
    pub postscript_name: &'static str,
    data: &'static [u8],
    face: Face<'static>,
    stem_v: f32,
    /// Original glyph id → id in the subset; ids are handed out in order of first use.
    used: GlyphRemapper,
    /// Subset glyph id → the character it was drawn for (ToUnicode CMap).
    chars: BTreeMap<u16, char>,
}

impl Font {
    pub(crate) fn load(weight: Weight) -> Result<Self, PdfError> {
        // Stem widths are not stored in TrueType fonts; these are typical values for the weights.
        let (data, postscript_name, stem_v) = match weight {
            Weight::Regular => (REGULAR_TTF, "DejaVuSans", 80.0),
            Weight::Bold => (BOLD_TTF, "DejaVuSans-Bold", 140.0),
        };
        let face = Face::parse(data, 0).map_err(|e| PdfError::Font(e.to_string()))?;
        Ok(Self {
            postscript_name,
            data,
            face,
            stem_v,
            used: GlyphRemapper::new(),
            chars: BTreeMap::new(),
        })
    }

    /// Width of `text` in points at `size`, from the font's advance widths (no kerning,
    /// matching how the text is drawn).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.advance(self.glyph(c))).sum();
        units * size / GLYPH_SPACE
    }

    /// Distance from the top of the em box to the baseline, as a fraction of the font size.
    pub(crate) fn ascent_ratio(&self) -> f32 {
        self.to_glyph_space(self.face.ascender()) / GLYPH_SPACE
    }

    /// Descent below the baseline, as a positive fraction of the font size.
    pub(crate) fn descent_ratio(&self) -> f32 {
        -self.to_glyph_space(self.face.descender()) / GLYPH_SPACE
    }

    /// Encodes `text` as two-byte subset glyph ids (the `Identity-H` encoding) and records the
    /// glyphs for subsetting and text extraction.
    pub(crate) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let original = self.glyph(c);
            let id = self.used.remap(original.0);
            if original.0 != 0 {
                self.chars.entry(id).or_insert(c);
            }
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        bytes
    }

    /// The font reduced to the glyphs drawn so far, renumbered as [`Font::encode`] numbered them.
    pub(crate) fn subset(&self) -> Result<Vec<u8>, PdfError> {
        subsetter::subset(self.data, 0, &self.used).map_err(|e| PdfError::Font(e.to_string()))
    }

    /// Advance widths (glyph space) of subset glyphs 0, 1, 2, … for the PDF `W` array.
    pub(crate) fn subset_widths(&self) -> Vec<f32> {
        self.used
            .remapped_gids()
            .map(|g| self.advance(GlyphId(g)))
            .collect()
    }

    /// (subset glyph id, character) pairs for the ToUnicode CMap.
    pub(crate) fn unicode_pairs(&self) -> impl Iterator<Item = (u16, char)> + '_ {
        self.chars.iter().map(|(id, c)| (*id, *c))
    }

    /// The subset glyph ids in use, to derive a stable subset tag.
    pub(crate) fn used_glyphs(&self) -> impl Iterator<Item = u16> + '_ {
        self.used.remapped_gids()
    }

    pub(crate) fn metrics(&self) -> Metrics {
        let b = self.face.global_bounding_box();
        let ascent = self.to_glyph_space(self.face.ascender());
        Metrics {
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max].map(|v| self.to_glyph_space(v)),
            ascent,
            descent: self.to_glyph_space(self.face.descender()),
            cap_height: self
                .face
                .capital_height()
                .map_or(ascent, |h| self.to_glyph_space(h)),
            stem_v: self.stem_v,
        }
    }

    /// Characters the font lacks fall back to glyph 0 (.notdef), drawn as an empty box.
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    fn advance(&self, glyph: GlyphId) -> f32 {
        self.to_glyph_space(self.face.glyph_hor_advance(glyph).unwrap_or(0))
    }

    fn to_glyph_space(&self, units: impl Into<f32>) -> f32 {
        units.into() * GLYPH_SPACE / f32::from(self.face.units_per_em())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_letters_have_real_glyphs_in_both_faces() {
        for weight in [Weight::Regular, Weight::Bold] {
            let font = Font::load(weight).unwrap();
            for c in "ẾỒỚỰĐđăâêôơưẠạỹ".chars() {
                assert_ne!(font.glyph(c), GlyphId(0), "{c} missing in {weight:?}");
            }
        }
    }

    #[test]
    fn width_is_measured_from_advances() {
        let font = Font::load(Weight::Regular).unwrap();
        let narrow = font.width("iiii", 10.0);
        let wide = font.width("MMMM", 10.0);
        assert!(narrow > 0.0 && wide > 2.0 * narrow, "{narrow} vs {wide}");
        assert!(
            (font.width("ab", 12.0) - font.width("a", 12.0) - font.width("b", 12.0)).abs() < 1e-3
        );
    }
}
