//! Dossier-sync records from another system's feed: reading never panics, and a record that
//! is accepted writes back to JSON that reads as the same record.
#![no_main]

use domain::sync::parse_records;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = parse_records(data) {
        let again = serde_json::to_vec(&records).unwrap();
        assert_eq!(parse_records(&again).unwrap(), records);
    }
});
