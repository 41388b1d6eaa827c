//! E-form data as browsers and API clients send it, against a real service design's form
//! (the demo's birth registration): form fields read from text, and JSON checked against the
//! schema. Neither panics; every error names a field.
#![no_main]

use std::sync::OnceLock;

use domain::service::FormSchema;
use libfuzzer_sys::fuzz_target;

const DESIGNS: &[u8] = include_bytes!("../../demo/services.json");

fn schema() -> &'static FormSchema {
    static SCHEMA: OnceLock<FormSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let designs: serde_json::Value = serde_json::from_slice(DESIGNS).unwrap();
        FormSchema::compile(&designs[0]["design"]["form"]).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let schema = schema();
    // As JSON (the API).
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for error in schema.check(&value) {
            assert!(!error.field.is_empty());
        }
    }
    // As form fields (the portal): `name=value` lines.
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let value = schema.from_text(&pairs);
    let _ = schema.check(&value);
});
