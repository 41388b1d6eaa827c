//! Codes that arrive from outside: agency and procedure codes (in URLs, forms and imported
//! files) and dossier-code templates (in configuration). Parsing never panics, and a code that
//! parses prints back as itself.
#![no_main]

use domain::dossier::CodeTemplate;
use domain::{AgencyCode, ProcedureCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(code) = AgencyCode::parse(text) {
        assert_eq!(AgencyCode::parse(code.as_str()).unwrap(), code);
    }
    if let Ok(code) = ProcedureCode::parse(text) {
        assert_eq!(ProcedureCode::parse(code.as_str()).unwrap(), code);
    }
    if let Ok(template) = CodeTemplate::parse(text) {
        let agency = AgencyCode::parse("001.00.00.H31").unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let first = template.format(&agency, day, 1);
        assert_ne!(first, template.format(&agency, day, 2), "codes never repeat");
    }
});
