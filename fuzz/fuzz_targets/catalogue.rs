//! Catalogue files in the national portal's format, as operators import them: parsing and
//! validation never panic, and a file is either wholly accepted or refused with its reasons.
#![no_main]

use domain::Level;
use domain::catalogue::dvcqg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let levels = [
        Level {
            code: "province".into(),
            name_vi: "Cấp tỉnh".into(),
            name_en: "Province".into(),
            catalogue_name: "Cấp Tỉnh".into(),
            rank: 2,
            valid_until: None,
        },
        Level {
            code: "commune".into(),
            name_vi: "Cấp xã".into(),
            name_en: "Commune".into(),
            catalogue_name: "Cấp Xã".into(),
            rank: 4,
            valid_until: None,
        },
    ];
    let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    if let Ok(procedures) = dvcqg::parse_file(data, &levels, day) {
        assert!(!procedures.is_empty());
    }
});
