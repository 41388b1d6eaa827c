//! Vietnamese text normalisation for search and codes, and hex for hashes.
//!
//! Vietnamese mixes precomposed and decomposed diacritics in the wild, so everything is brought
//! to NFC first. Folding removes tone and vowel marks and maps đ/Đ to d, so that a query typed
//! without accents ("dang ky khai sinh") matches "Đăng ký khai sinh".

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFC-normalised text.
pub fn normalize(text: &str) -> String {
    text.nfc().collect()
}

/// Lower-case text with every diacritic removed and đ folded to d.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// A URL- and facet-friendly slug: folded, alphanumeric words joined by '-'.
pub fn slug(text: &str) -> String {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Lower-case hexadecimal, as hashes and tokens are written; by table, because the audit
/// writes one for every event and `format!` per byte showed up in its profile.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(fold("ĐẶC KHU Quốc Hưng"), "dac khu quoc hung");
        assert_eq!(fold("Hưởng trợ cấp"), "huong tro cap");
    }

    #[test]
    fn decomposed_and_precomposed_fold_alike() {
        let decomposed = "Vie\u{302}\u{323}c thu\u{31b}\u{323}c hie\u{302}\u{323}n";
        assert_eq!(fold(decomposed), fold("Việc thực hiện"));
        assert_eq!(normalize(decomposed), "Việc thực hiện");
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Tư pháp - Hộ tịch"), "tu-phap-ho-tich");
    }

    proptest! {
        #[test]
        fn fold_is_idempotent(s in "\\PC{0,40}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn fold_leaves_ascii_lowercase(s in "[a-z0-9 ]{0,40}") {
            prop_assert_eq!(fold(&s), s);
        }
    }
}
