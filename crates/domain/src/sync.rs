//! The National Public Service Portal's dossier-sync record: what motcua sends in its sync
//! feed, and what it reads back from another system's feed. Reading checks every field, so a
//! malformed record is refused with its index and the field at fault.

use serde::{Deserialize, Serialize};

use crate::{AgencyCode, InvalidField, ProcedureCode};

/// One dossier record as the national portal's sync takes it. Dates are `yyyyMMddHHmmss` in
/// Vietnam (Asia/Ho_Chi_Minh, UTC+7); empty when not yet known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SyncRecord {
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    pub ma_linh_vuc: String,
    pub ten_linh_vuc: String,
    pub chu_ho_so: String,
    /// 1 công dân (motcua takes dossiers from people; businesses are not told apart yet).
    pub loai_doi_tuong: u8,
    /// The receiving agency.
    pub ma_co_quan: String,
    /// The agency that made this change.
    pub don_vi_xu_ly: String,
    pub ngay_nop_ho_so: String,
    pub ngay_tiep_nhan: String,
    pub ngay_hen_tra: String,
    pub ngay_tra: String,
    /// 1–10, the national status code.
    pub trang_thai_ho_so: u8,
    /// 1 trực tiếp, 2 trực tuyến, 3 bưu chính.
    pub kenh_thuc_hien: u8,
    /// Resume after this record with `cursor=` this value.
    #[serde(rename = "cursor")]
    pub cursor: String,
}

impl SyncRecord {
    /// Every field problem of a record read from elsewhere.
    pub fn problems(&self) -> Vec<InvalidField> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, reason: String| problems.push(InvalidField::new(field, reason));
        if self.ma_ho_so.trim().is_empty() || self.ma_ho_so.len() > 100 {
            bad("MaHoSo", "a dossier code of 1 to 100 characters".into());
        }
        if let Err(e) = ProcedureCode::parse(&self.ma_tthc) {
            bad("MaTTHC", e.reason);
        }
        if let Err(e) = AgencyCode::parse(&self.ma_co_quan) {
            bad("MaCoQuan", e.reason);
        }
        if !self.don_vi_xu_ly.is_empty()
            && let Err(e) = AgencyCode::parse(&self.don_vi_xu_ly)
        {
            bad("DonViXuLy", e.reason);
        }
        for (field, value) in [
            ("NgayNopHoSo", &self.ngay_nop_ho_so),
            ("NgayTiepNhan", &self.ngay_tiep_nhan),
            ("NgayHenTra", &self.ngay_hen_tra),
            ("NgayTra", &self.ngay_tra),
        ] {
            if !value.is_empty()
                && chrono::NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S").is_err()
            {
                bad(field, format!("'{value}' is not a time as yyyyMMddHHmmss"));
            }
        }
        if self.ngay_nop_ho_so.is_empty() {
            bad("NgayNopHoSo", "every dossier has a submission time".into());
        }
        if !(1..=10).contains(&self.trang_thai_ho_so) {
            bad(
                "TrangThaiHoSo",
                format!("{} is not a status code 1–10", self.trang_thai_ho_so),
            );
        }
        if !(1..=3).contains(&self.kenh_thuc_hien) {
            bad(
                "KenhThucHien",
                format!("{} is not a channel 1–3", self.kenh_thuc_hien),
            );
        }
        if !(1..=2).contains(&self.loai_doi_tuong) {
            bad(
                "LoaiDoiTuong",
                format!(
                    "{} is not 1 (person) or 2 (organisation)",
                    self.loai_doi_tuong
                ),
            );
        }
        problems
    }
}

/// Reads a JSON array of records from another system: every record valid, or the problems
/// (the first 20), each named `[index].Field`.
pub fn parse_records(bytes: &[u8]) -> Result<Vec<SyncRecord>, Vec<InvalidField>> {
    let records: Vec<SyncRecord> = serde_json::from_slice(bytes).map_err(|e| {
        vec![InvalidField::new(
            "records",
            format!("not a list of sync records: {e}"),
        )]
    })?;
    let problems: Vec<InvalidField> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.problems()
                .into_iter()
                .map(move |p| InvalidField::new(format!("[{i}].{}", p.field), p.reason))
        })
        .take(20)
        .collect();
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

/// The figures a national instance keeps per province from the records it is sent.
pub const NATIONAL_METRICS: [&str; 8] = [
    "submitted",
    "received",
    "resolved",
    "returned",
    "returned_on_time",
    "refused",
    "withdrawn",
    "stopped",
];

/// The statuses a dossier has reached, one bit per national code.
pub type Reached = u16;

/// What a record adds to its province's national figures, given the statuses the dossier
/// reached in the records before it (`None`: its first record), and the statuses reached with
/// it. Each figure counts a dossier once, however often a status comes back (a supplement
/// resumes the status it paused) or a record is sent again.
pub fn national_deltas(
    before: Option<Reached>,
    record: &SyncRecord,
) -> (Vec<&'static str>, Reached) {
    let status = record.trang_thai_ho_so.min(15);
    let reached = before.unwrap_or(0);
    let now = reached | (1 << status);
    let first = |s: u8| reached & (1 << s) == 0 && now & (1 << s) != 0;
    let mut added = Vec::new();
    if before.is_none() {
        added.push("submitted");
    }
    if first(2) {
        added.push("received");
    }
    let done = (1 << 9) | (1 << 10);
    if reached & done == 0 && now & done != 0 {
        added.push("resolved");
    }
    if first(10) {
        added.push("returned");
        if !record.ngay_tra.is_empty()
            && !record.ngay_hen_tra.is_empty()
            && record.ngay_tra <= record.ngay_hen_tra
        {
            added.push("returned_on_time");
        }
    }
    for (code, metric) in [(3, "refused"), (7, "withdrawn"), (8, "stopped")] {
        if first(code) {
            added.push(metric);
        }
    }
    (added, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> serde_json::Value {
        serde_json::json!({
            "MaHoSo": "001.00.00.H31-261123-0001", "MaTTHC": "1.001193",
            "TenTTHC": "Đăng ký khai sinh", "MaLinhVuc": "", "TenLinhVuc": "",
            "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1, "MaCoQuan": "001.00.00.H31",
            "DonViXuLy": "001.00.00.H31", "NgayNopHoSo": "20261123083000",
            "NgayTiepNhan": "", "NgayHenTra": "", "NgayTra": "",
            "TrangThaiHoSo": 1, "KenhThucHien": 2, "cursor": "1"
        })
    }

    #[test]
    fn a_valid_record_reads_back_as_written() {
        let bytes = serde_json::to_vec(&[record()]).unwrap();
        let records = parse_records(&bytes).unwrap();
        assert_eq!(serde_json::to_value(&records[0]).unwrap(), record());
    }

    #[test]
    fn each_bad_field_is_named_with_its_index() {
        let mut bad = record();
        bad["MaTTHC"] = "khai sinh".into();
        bad["NgayTiepNhan"] = "2026-11-23".into();
        bad["TrangThaiHoSo"] = 11.into();
        let bytes = serde_json::to_vec(&[record(), bad]).unwrap();
        let problems = parse_records(&bytes).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["[1].MaTTHC", "[1].NgayTiepNhan", "[1].TrangThaiHoSo"]
        );
        assert!(parse_records(b"{").is_err());
        assert!(parse_records(br#"[{"MaHoSo": "x"}]"#).is_err());
    }
    #[test]
    fn national_figures_count_each_dossier_and_each_status_once() {
        let mut r: SyncRecord = serde_json::from_value(record()).unwrap();
        let (added, reached) = national_deltas(None, &r);
        assert_eq!(added, ["submitted"]);
        assert!(national_deltas(Some(reached), &r).0.is_empty());
        r.trang_thai_ho_so = 2;
        let (added, reached) = national_deltas(Some(reached), &r);
        assert_eq!(added, ["received"]);
        // A supplement and back to where it paused: received once.
        r.trang_thai_ho_so = 5;
        let (_, reached) = national_deltas(Some(reached), &r);
        r.trang_thai_ho_so = 2;
        let (added, reached) = national_deltas(Some(reached), &r);
        assert!(added.is_empty());
        r.trang_thai_ho_so = 9;
        let (added, reached) = national_deltas(Some(reached), &r);
        assert_eq!(added, ["resolved"]);
        r.trang_thai_ho_so = 10;
        r.ngay_hen_tra = "20261130170000".into();
        r.ngay_tra = "20261125090000".into();
        let (added, reached) = national_deltas(Some(reached), &r);
        assert_eq!(added, ["returned", "returned_on_time"]);
        assert!(national_deltas(Some(reached), &r).0.is_empty());
        r.ngay_tra = "20261201090000".into();
        assert_eq!(
            national_deltas(Some(1 << 4), &r).0,
            ["resolved", "returned"]
        );
    }
}
