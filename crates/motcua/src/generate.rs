//! A synthetic national catalogue for scale work: 34 provinces with their communes and
//! thousands of procedures with Vietnamese names, written in the same formats as the real
//! data so that it goes through the normal import path. Seeded, so runs are repeatable.

use domain::catalogue::dvcqg::{
    Record, RecordChannel, RecordDocument, RecordDocumentGroup, RecordFee, RecordLegal,
    RecordSector, RecordStep, RecordStepGroup, RecordTime,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The 34 provinces and centrally-run cities since 1 July 2025.
pub const PROVINCES: [&str; 34] = [
    "Hà Nội",
    "Huế",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Hải Phòng",
    "Ninh Bình",
    "Quảng Trị",
    "Đà Nẵng",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Hồ Chí Minh",
    "Đồng Nai",
    "Tây Ninh",
    "Cần Thơ",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
];

const CITIES: [&str; 6] = [
    "Hà Nội",
    "Huế",
    "Hải Phòng",
    "Đà Nẵng",
    "Hồ Chí Minh",
    "Cần Thơ",
];

const PLACE_SYLLABLES: [&str; 40] = [
    "An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Phước", "Hưng", "Thịnh", "Mỹ", "Vĩnh",
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Hiệp", "Quang", "Minh", "Thuận", "Lộc", "Phong", "Sơn",
    "Thủy", "Hải", "Lâm", "Khánh", "Đức", "Nghĩa", "Thành", "Lợi", "Hậu", "Tiến", "Xuân", "Hạ",
    "Cát", "Kim", "Ngọc", "Yên",
];

const DEPARTMENTS: [&str; 8] = [
    "Sở Tư pháp",
    "Sở Nội vụ",
    "Sở Y tế",
    "Sở Tài chính",
    "Sở Nông nghiệp và Môi trường",
    "Sở Xây dựng",
    "Sở Công Thương",
    "Sở Giáo dục và Đào tạo",
];

/// (sector, things a procedure of that sector is about)
const SECTORS: [(&str, &[&str]); 16] = [
    (
        "Hộ tịch",
        &[
            "khai sinh",
            "khai tử",
            "kết hôn",
            "nhận cha, mẹ, con",
            "giám hộ",
            "thay đổi, cải chính hộ tịch",
            "xác nhận tình trạng hôn nhân",
        ],
    ),
    (
        "Chứng thực",
        &[
            "bản sao từ bản chính",
            "chữ ký",
            "hợp đồng, giao dịch",
            "văn bản khai nhận di sản",
            "chữ ký người dịch",
        ],
    ),
    (
        "Đất đai",
        &[
            "quyền sử dụng đất",
            "tài sản gắn liền với đất",
            "giao đất, cho thuê đất",
            "chuyển mục đích sử dụng đất",
            "hòa giải tranh chấp đất đai",
        ],
    ),
    (
        "Xây dựng",
        &[
            "giấy phép xây dựng",
            "giấy phép sửa chữa, cải tạo công trình",
            "chứng chỉ hành nghề xây dựng",
            "thiết kế cơ sở",
        ],
    ),
    (
        "Thành lập và hoạt động doanh nghiệp",
        &[
            "đăng ký doanh nghiệp",
            "hộ kinh doanh",
            "chi nhánh, văn phòng đại diện",
            "tạm ngừng kinh doanh",
        ],
    ),
    (
        "Bảo trợ xã hội",
        &[
            "trợ cấp xã hội hằng tháng",
            "hỗ trợ chi phí mai táng",
            "trợ cấp hưu trí xã hội",
            "chăm sóc, nuôi dưỡng đối tượng bảo trợ",
        ],
    ),
    (
        "Người có công",
        &[
            "trợ cấp ưu đãi",
            "trợ cấp thờ cúng liệt sĩ",
            "giấy xác nhận thân nhân người có công",
        ],
    ),
    (
        "Y tế dự phòng",
        &[
            "giấy chứng nhận đủ điều kiện an toàn thực phẩm",
            "chứng chỉ hành nghề khám bệnh, chữa bệnh",
            "giấy phép hoạt động cơ sở y tế",
        ],
    ),
    (
        "Dược phẩm",
        &[
            "chứng chỉ hành nghề dược",
            "giấy chứng nhận đủ điều kiện kinh doanh dược",
        ],
    ),
    (
        "Giáo dục và Đào tạo",
        &[
            "chuyển trường",
            "cơ sở giáo dục mầm non",
            "văn bằng, chứng chỉ",
            "trung tâm ngoại ngữ, tin học",
        ],
    ),
    (
        "Văn hóa",
        &[
            "tổ chức lễ hội",
            "giấy phép quảng cáo",
            "kinh doanh karaoke",
            "di tích lịch sử - văn hóa",
        ],
    ),
    (
        "Giao thông vận tải",
        &[
            "giấy phép lái xe",
            "đăng ký phương tiện",
            "giấy phép kinh doanh vận tải",
            "cấp phép thi công trên đường bộ",
        ],
    ),
    (
        "Lao động",
        &[
            "giấy phép lao động cho người nước ngoài",
            "trợ cấp thất nghiệp",
            "thỏa ước lao động tập thể",
        ],
    ),
    (
        "Tài nguyên nước",
        &[
            "giấy phép khai thác nước dưới đất",
            "giấy phép xả nước thải",
        ],
    ),
    (
        "Công Thương",
        &[
            "giấy phép bán lẻ rượu",
            "cửa hàng bán lẻ LPG chai",
            "giấy chứng nhận đủ điều kiện kinh doanh xăng dầu",
        ],
    ),
    (
        "Quản lý nhà nước về hội, quỹ",
        &[
            "thành lập hội",
            "ban vận động thành lập hội",
            "quỹ xã hội, quỹ từ thiện",
        ],
    ),
];

const ACTIONS: [&str; 16] = [
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Điều chỉnh",
    "Gia hạn",
    "Đăng ký",
    "Đăng ký lại",
    "Thu hồi",
    "Công nhận",
    "Xác nhận",
    "Thẩm định",
    "Phê duyệt",
    "Chấm dứt",
    "Thông báo",
    "Giải quyết",
    "Đính chính",
];

const QUALIFIERS: [&str; 8] = [
    "",
    "đối với tổ chức",
    "đối với cá nhân",
    "có yếu tố nước ngoài",
    "trong trường hợp bị mất, hỏng",
    "cho người dân tộc thiểu số",
    "đối với doanh nghiệp nhỏ và vừa",
    "thực hiện tại cấp xã",
];

#[derive(Serialize)]
pub struct GeneratedAgency {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub level: String,
}

pub struct Catalogue {
    pub procedures: Vec<Record>,
    pub agencies: Vec<GeneratedAgency>,
}

/// Generates `procedures` procedures and the agency tree of the 34 provinces, with about
/// `communes_per_province` communes each (3,321 in all in 2025, so about 98).
pub fn catalogue(procedures: usize, communes_per_province: usize, seed: u64) -> Catalogue {
    let mut rng = StdRng::seed_from_u64(seed);
    Catalogue {
        agencies: agencies(&mut rng, communes_per_province),
        procedures: {
            let names = names();
            (0..procedures)
                .map(|i| procedure(&mut rng, &names, i))
                .collect()
        },
    }
}

fn agencies(rng: &mut StdRng, communes: usize) -> Vec<GeneratedAgency> {
    let mut out = Vec::new();
    for (p, province) in PROVINCES.iter().enumerate() {
        let suffix = format!("H{:02}", p + 1);
        let root = format!("000.00.00.{suffix}");
        let kind = if CITIES.contains(province) {
            "thành phố"
        } else {
            "tỉnh"
        };
        out.push(GeneratedAgency {
            code: root.clone(),
            name: format!("Ủy ban nhân dân {kind} {province}"),
            parent: None,
            level: "province".into(),
        });
        for (d, dept) in DEPARTMENTS.iter().enumerate() {
            out.push(GeneratedAgency {
                code: format!("000.00.{:02}.{suffix}", d + 1),
                name: format!("{dept} {kind} {province}"),
                parent: Some(root.clone()),
                level: "province".into(),
            });
        }
        let mut used = std::collections::HashSet::new();
        for c in 0..communes {
            let kind = if rng.random_bool(0.3) {
                "phường"
            } else {
                "xã"
            };
            let mut name;
            loop {
                name = format!(
                    "{} {}",
                    PLACE_SYLLABLES.choose(rng).expect("not empty"),
                    PLACE_SYLLABLES.choose(rng).expect("not empty")
                );
                if used.insert(name.clone()) {
                    break;
                }
            }
            out.push(GeneratedAgency {
                code: format!("{:03}.00.00.{suffix}", c + 1),
                name: format!("Ủy ban nhân dân {kind} {name}"),
                parent: Some(root.clone()),
                level: "commune".into(),
            });
        }
    }
    out
}

/// Every distinct (sector, object, name) the vocabulary gives: about 7,500.
fn names() -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    for qualifier in QUALIFIERS {
        for action in ACTIONS {
            for (sector, objects) in SECTORS {
                for object in objects.iter() {
                    let name = format!("{action} {object} {qualifier}")
                        .trim_end()
                        .to_owned();
                    out.push((sector, *object, name));
                }
            }
        }
    }
    out
}

fn procedure(rng: &mut StdRng, names: &[(&'static str, &'static str, String)], i: usize) -> Record {
    let (sector, object, base) = &names[i % names.len()];
    let (sector, object) = (*sector, *object);
    let round = i / names.len();
    let name = if round > 0 {
        format!("{base} (mẫu {})", round + 1)
    } else {
        base.clone()
    };
    let levels: Vec<String> = match rng.random_range(0..10) {
        0 => vec!["Cấp Bộ".into()],
        1..=4 => vec!["Cấp Tỉnh".into()],
        5..=7 => vec!["Cấp Xã".into()],
        _ => vec!["Cấp Tỉnh".into(), "Cấp Xã".into()],
    };
    let online = match rng.random_range(0..10) {
        0..=3 => "Toàn trình",
        4..=8 => "Một phần",
        _ => "Cung cấp thông tin",
    };
    let days = *[1, 3, 5, 7, 10, 15, 20, 30].choose(rng).expect("not empty");
    let fee = *[0, 0, 0, 8_000, 30_000, 50_000, 100_000, 500_000]
        .choose(rng)
        .expect("not empty");
    let channels = [1, 2, 3]
        .into_iter()
        .filter(|c| *c != 2 || online != "Cung cấp thông tin")
        .map(|channel| RecordChannel {
            channel,
            times: vec![RecordTime {
                amount: Some(days.into()),
                unit: Some("Ngày làm việc".into()),
                description: Some(format!(
                    "{days} ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ."
                )),
                fees: vec![RecordFee {
                    amount: fee,
                    unit: "Đồng".into(),
                    description: Some(if fee == 0 {
                        "Miễn phí".into()
                    } else {
                        "Lệ phí".into()
                    }),
                }],
            }],
        })
        .collect();
    let documents = (0..rng.random_range(2..6))
        .map(|d| RecordDocument {
            name: match d {
                0 => format!("Tờ khai đề nghị {} (theo mẫu)", object),
                1 => "Giấy tờ tùy thân của người đề nghị".into(),
                _ => format!("Giấy tờ chứng minh số {d} liên quan đến {object}"),
            },
            form_template: if d == 0 {
                format!("Mau to khai {}.docx", 900_000 + i)
            } else {
                String::new()
            },
            quantity: if d == 0 {
                "1 bản chính".into()
            } else {
                "1 bản sao".into()
            },
        })
        .collect();
    let steps = [
        "Nộp hồ sơ",
        "Tiếp nhận và kiểm tra hồ sơ",
        "Giải quyết hồ sơ",
        "Trả kết quả",
    ]
    .iter()
    .enumerate()
    .map(|(n, s)| RecordStep {
        text: format!("Bước {}: {s}.", n + 1),
    })
    .collect();
    Record {
        code: format!("9.{:06}", i + 1),
        name,
        status: Some(1),
        sectors: vec![RecordSector {
            code: None,
            name: sector.into(),
        }],
        levels,
        online: online.into(),
        group: None,
        steps: vec![RecordStepGroup {
            case: String::new(),
            steps,
        }],
        channels,
        documents: vec![RecordDocumentGroup {
            case: String::new(),
            documents,
        }],
        legal_basis: vec![RecordLegal {
            number: format!("{}/2025/NĐ-CP", 100 + i % 200),
            title: format!("Nghị định quy định chi tiết về {}", sector.to_lowercase()),
        }],
        target_groups: Vec::new(),
        conditions: None,
        results: Vec::new(),
        agencies: Vec::new(),
        effective_from: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique_and_the_tree_is_whole() {
        let c = catalogue(7000, 5, 1);
        let names: std::collections::HashSet<_> = c.procedures.iter().map(|p| &p.name).collect();
        let codes: std::collections::HashSet<_> = c.procedures.iter().map(|p| &p.code).collect();
        assert_eq!((names.len(), codes.len()), (7000, 7000));
        assert_eq!(c.agencies.len(), 34 * (1 + DEPARTMENTS.len() + 5));
        let codes: std::collections::HashSet<_> = c.agencies.iter().map(|a| &a.code).collect();
        assert_eq!(codes.len(), c.agencies.len());
        assert!(
            c.agencies
                .iter()
                .all(|a| a.parent.as_ref().is_none_or(|p| codes.contains(p)))
        );
    }
}
