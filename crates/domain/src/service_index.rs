//! The national service-quality index (Bộ chỉ số 766, Decision 766/QĐ-TTg): six groups of
//! indicators worth 100 points. motcua scores each indicator its own data supports and marks
//! the others as needing outside data; it never puts a value on those.

use serde::Serialize;

/// The six groups and their maximum points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Group {
    /// Công khai, minh bạch.
    Ckmb,
    /// Tiến độ giải quyết.
    Tdgq,
    /// Dịch vụ trực tuyến.
    Clgq,
    /// Thanh toán trực tuyến.
    Tttt,
    /// Mức độ hài lòng.
    Mdhl,
    /// Số hóa hồ sơ.
    Mdsh,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Ckmb,
        Group::Tdgq,
        Group::Clgq,
        Group::Tttt,
        Group::Mdhl,
        Group::Mdsh,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Group::Ckmb => "CKMB",
            Group::Tdgq => "TDGQ",
            Group::Clgq => "CLGQ",
            Group::Tttt => "TTTT",
            Group::Mdhl => "MDHL",
            Group::Mdsh => "MDSH",
        }
    }

    pub fn max_points(self) -> f64 {
        match self {
            Group::Ckmb => 18.0,
            Group::Tdgq => 20.0,
            Group::Clgq => 12.0,
            Group::Tttt => 10.0,
            Group::Mdhl => 18.0,
            Group::Mdsh => 22.0,
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Group::Ckmb => "Công khai, minh bạch",
            Group::Tdgq => "Tiến độ giải quyết",
            Group::Clgq => "Dịch vụ trực tuyến",
            Group::Tttt => "Thanh toán trực tuyến",
            Group::Mdhl => "Mức độ hài lòng",
            Group::Mdsh => "Số hóa hồ sơ",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Group::Ckmb => "Publicity and transparency",
            Group::Tdgq => "Processing progress",
            Group::Clgq => "Online service",
            Group::Tttt => "Online payment",
            Group::Mdhl => "Satisfaction",
            Group::Mdsh => "Digitisation",
        }
    }
}

/// The figures of one agency and period the index is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Resolved early or on time, and resolved against a deadline.
    pub on_time: i64,
    pub judged: i64,
    /// Dossiers received, and those of them submitted online.
    pub received: i64,
    pub received_online: i64,
    /// Procedures carried out at the agency's level, and those offered online (full or part).
    pub procedures: i64,
    pub procedures_online: i64,
    /// Ratings given, and the satisfied (or very satisfied) ones.
    pub rated: i64,
    pub satisfied: i64,
    /// Dossiers resolved, and those whose result was issued as a file (every resolution in
    /// motcua stores its result document).
    pub resolved: i64,
    pub electronic_results: i64,
}

/// Where an indicator's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Source {
    /// Computed from motcua's own counters and catalogue.
    Platform,
    /// Needs data motcua does not hold; the text says which.
    Outside {
        needs_vi: &'static str,
        needs_en: &'static str,
    },
}

/// Reads an indicator's numerator and denominator from the inputs.
pub type RateOf = fn(&Inputs) -> (i64, i64);

/// One indicator: its points, threshold, inputs and formula.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Indicator {
    pub code: &'static str,
    pub group: Group,
    pub name_vi: &'static str,
    pub name_en: &'static str,
    pub max_points: f64,
    /// The rate (percent) at or above which the points are full; `None`: points = rate × max.
    pub threshold: Option<f64>,
    pub numerator_vi: &'static str,
    pub denominator_vi: &'static str,
    pub numerator_en: &'static str,
    pub denominator_en: &'static str,
    pub source: Source,
    /// Reads the numerator and denominator from the inputs (platform indicators only).
    #[serde(skip)]
    pub rate_of: Option<RateOf>,
}

const PAYMENT_NOT_KEPT_VI: &str = "dữ liệu thanh toán trực tuyến (chưa tích hợp cổng thanh toán)";
const PAYMENT_NOT_KEPT_EN: &str = "online payment data (no payment gateway is integrated yet)";

/// Every indicator motcua knows; within a group the points add up to the group's maximum.
/// Where a group has several indicators, the split of its points is motcua's reading of the
/// decision's annex and is shown on the methodology page.
pub const INDICATORS: [Indicator; 10] = [
    Indicator {
        code: "CKMB.1",
        group: Group::Ckmb,
        name_vi: "Công bố, công khai thủ tục hành chính đúng hạn",
        name_en: "Procedures announced and published on time",
        max_points: 9.0,
        threshold: None,
        numerator_vi: "Thủ tục công khai đúng hạn",
        denominator_vi: "Thủ tục phải công bố",
        numerator_en: "Procedures published on time",
        denominator_en: "Procedures to be announced",
        source: Source::Outside {
            needs_vi: "ngày ban hành quyết định công bố của Cơ sở dữ liệu quốc gia về TTHC",
            needs_en: "the announcement decisions' dates from the national procedure database",
        },
        rate_of: None,
    },
    Indicator {
        code: "CKMB.2",
        group: Group::Ckmb,
        name_vi: "Đồng bộ hồ sơ lên Cổng Dịch vụ công quốc gia",
        name_en: "Dossiers synchronised to the National Public Service Portal",
        max_points: 9.0,
        threshold: None,
        numerator_vi: "Hồ sơ Cổng quốc gia xác nhận đã nhận",
        denominator_vi: "Hồ sơ tiếp nhận",
        numerator_en: "Dossiers the national portal acknowledged",
        denominator_en: "Dossiers received",
        source: Source::Outside {
            needs_vi: "xác nhận đồng bộ của Cổng Dịch vụ công quốc gia",
            needs_en: "the national portal's synchronisation acknowledgements",
        },
        rate_of: None,
    },
    Indicator {
        code: "TDGQ.1",
        group: Group::Tdgq,
        name_vi: "Hồ sơ giải quyết trước hạn và đúng hạn",
        name_en: "Dossiers resolved early or on time",
        max_points: 20.0,
        threshold: None,
        numerator_vi: "Hồ sơ giải quyết trước hạn và đúng hạn (hồ sơ đã xin lỗi, hẹn lại tính là trễ hạn; yêu cầu bổ sung lần hai cũng vậy)",
        denominator_vi: "Hồ sơ đã giải quyết có thời hạn",
        numerator_en: "Dossiers resolved early or on time (one resolved after an apology and a new date counts as late, as does one asked for a second supplement)",
        denominator_en: "Dossiers resolved that had a deadline",
        source: Source::Platform,
        rate_of: Some(|i| (i.on_time, i.judged)),
    },
    Indicator {
        code: "CLGQ.1",
        group: Group::Clgq,
        name_vi: "Thủ tục cung cấp dịch vụ công trực tuyến",
        name_en: "Procedures offered as online services",
        max_points: 6.0,
        threshold: Some(80.0),
        numerator_vi: "Thủ tục trực tuyến toàn trình hoặc một phần",
        denominator_vi: "Thủ tục thực hiện ở cấp của cơ quan",
        numerator_en: "Procedures online in full or in part",
        denominator_en: "Procedures carried out at the agency's level",
        source: Source::Platform,
        rate_of: Some(|i| (i.procedures_online, i.procedures)),
    },
    Indicator {
        code: "CLGQ.2",
        group: Group::Clgq,
        name_vi: "Hồ sơ nộp trực tuyến",
        name_en: "Dossiers submitted online",
        max_points: 6.0,
        threshold: Some(50.0),
        numerator_vi: "Hồ sơ tiếp nhận nộp trực tuyến",
        denominator_vi: "Hồ sơ tiếp nhận",
        numerator_en: "Dossiers received that were submitted online",
        denominator_en: "Dossiers received",
        source: Source::Platform,
        rate_of: Some(|i| (i.received_online, i.received)),
    },
    Indicator {
        code: "TTTT.1",
        group: Group::Tttt,
        name_vi: "Thủ tục có phí, lệ phí tích hợp thanh toán trực tuyến",
        name_en: "Procedures with fees payable online",
        max_points: 5.0,
        threshold: Some(80.0),
        numerator_vi: "Thủ tục có phí tích hợp thanh toán",
        denominator_vi: "Thủ tục có phí, lệ phí",
        numerator_en: "Procedures with fees integrated for payment",
        denominator_en: "Procedures with fees",
        source: Source::Outside {
            needs_vi: PAYMENT_NOT_KEPT_VI,
            needs_en: PAYMENT_NOT_KEPT_EN,
        },
        rate_of: None,
    },
    Indicator {
        code: "TTTT.2",
        group: Group::Tttt,
        name_vi: "Hồ sơ thanh toán trực tuyến",
        name_en: "Dossiers paid online",
        max_points: 5.0,
        threshold: Some(50.0),
        numerator_vi: "Hồ sơ nộp phí trực tuyến",
        denominator_vi: "Hồ sơ có phí, lệ phí",
        numerator_en: "Dossiers whose fee was paid online",
        denominator_en: "Dossiers with a fee",
        source: Source::Outside {
            needs_vi: PAYMENT_NOT_KEPT_VI,
            needs_en: PAYMENT_NOT_KEPT_EN,
        },
        rate_of: None,
    },
    Indicator {
        code: "MDHL.1",
        group: Group::Mdhl,
        name_vi: "Người dân, doanh nghiệp hài lòng",
        name_en: "Applicants satisfied",
        max_points: 18.0,
        threshold: Some(90.0),
        numerator_vi: "Đánh giá hài lòng hoặc rất hài lòng",
        denominator_vi: "Đánh giá đã nhận",
        numerator_en: "Ratings satisfied or very satisfied",
        denominator_en: "Ratings given",
        source: Source::Platform,
        rate_of: Some(|i| (i.satisfied, i.rated)),
    },
    Indicator {
        code: "MDSH.1",
        group: Group::Mdsh,
        name_vi: "Hồ sơ được cấp kết quả điện tử",
        name_en: "Dossiers given an electronic result",
        max_points: 11.0,
        threshold: None,
        numerator_vi: "Hồ sơ giải quyết có kết quả lưu dạng tệp",
        denominator_vi: "Hồ sơ đã giải quyết",
        numerator_en: "Dossiers resolved with the result stored as a file",
        denominator_en: "Dossiers resolved",
        source: Source::Platform,
        rate_of: Some(|i| (i.electronic_results, i.resolved)),
    },
    Indicator {
        code: "MDSH.2",
        group: Group::Mdsh,
        name_vi: "Số hóa hồ sơ khi tiếp nhận",
        name_en: "Dossiers digitised on receipt",
        max_points: 11.0,
        threshold: None,
        numerator_vi: "Hồ sơ có thành phần được số hóa khi tiếp nhận",
        denominator_vi: "Hồ sơ tiếp nhận",
        numerator_en: "Dossiers whose documents were digitised on receipt",
        denominator_en: "Dossiers received",
        source: Source::Outside {
            needs_vi: "kết quả số hóa trong Kho dữ liệu điện tử của tổ chức, cá nhân",
            needs_en: "digitisation records from the personal electronic data store",
        },
        rate_of: None,
    },
];

/// The points for a rate (percent): full at or above the threshold, rate × max ÷ threshold
/// below it; without a threshold, rate × max ÷ 100.
pub fn points(rate: f64, max: f64, threshold: Option<f64>) -> f64 {
    let rate = rate.clamp(0.0, 100.0);
    let full_at = threshold.unwrap_or(100.0);
    if rate >= full_at {
        max
    } else {
        rate * max / full_at
    }
}

/// One indicator's result for an agency and period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scored {
    Points {
        numerator: i64,
        denominator: i64,
        rate: f64,
        points: f64,
    },
    /// Platform data, but nothing to divide by in this period (e.g. no ratings).
    NoData,
    /// Needs data motcua does not hold.
    Outside,
}

/// An agency's index: each indicator's result and the totals.
#[derive(Debug, Clone)]
pub struct IndexScore {
    pub results: Vec<(&'static Indicator, Scored)>,
}

impl IndexScore {
    pub fn of(inputs: &Inputs) -> Self {
        let results = INDICATORS
            .iter()
            .map(|indicator| {
                let scored = match indicator.rate_of {
                    None => Scored::Outside,
                    Some(rate_of) => match rate_of(inputs) {
                        (_, 0) => Scored::NoData,
                        (numerator, denominator) => {
                            let rate = 100.0 * numerator as f64 / denominator as f64;
                            Scored::Points {
                                numerator,
                                denominator,
                                rate,
                                points: points(rate, indicator.max_points, indicator.threshold),
                            }
                        }
                    },
                };
                (indicator, scored)
            })
            .collect();
        Self { results }
    }

    /// The points scored, over the indicators computed.
    pub fn total(&self) -> f64 {
        self.results
            .iter()
            .map(|(_, s)| match s {
                Scored::Points { points, .. } => *points,
                _ => 0.0,
            })
            .sum()
    }

    /// The most points the computed indicators could give: what `total` is out of.
    pub fn computable(&self) -> f64 {
        self.results
            .iter()
            .filter(|(_, s)| matches!(s, Scored::Points { .. }))
            .map(|(i, _)| i.max_points)
            .sum()
    }

    /// A group's points over its computed indicators; `None` when none was computed.
    pub fn group_points(&self, group: Group) -> Option<f64> {
        let mut any = false;
        let mut sum = 0.0;
        for (indicator, scored) in &self.results {
            if let (true, Scored::Points { points, .. }) = (indicator.group == group, scored) {
                any = true;
                sum += points;
            }
        }
        any.then_some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_add_up_to_their_maximum_and_to_one_hundred() {
        for group in Group::ALL {
            let sum: f64 = INDICATORS
                .iter()
                .filter(|i| i.group == group)
                .map(|i| i.max_points)
                .sum();
            assert_eq!(sum, group.max_points(), "{}", group.code());
        }
        let all: f64 = Group::ALL.iter().map(|g| g.max_points()).sum();
        assert_eq!(all, 100.0);
    }

    #[test]
    fn thresholds_give_full_points_at_or_above_and_a_share_below() {
        assert_eq!(points(90.0, 18.0, Some(90.0)), 18.0);
        assert_eq!(points(95.0, 18.0, Some(90.0)), 18.0);
        assert_eq!(points(45.0, 18.0, Some(90.0)), 9.0);
        assert_eq!(points(25.0, 6.0, Some(50.0)), 3.0);
        assert_eq!(points(91.0, 20.0, None), 18.2);
        assert_eq!(points(150.0, 20.0, None), 20.0);
    }

    #[test]
    fn only_platform_indicators_are_scored_and_missing_data_is_not_zero() {
        let inputs = Inputs {
            on_time: 9,
            judged: 10,
            received: 20,
            received_online: 5,
            procedures: 10,
            procedures_online: 8,
            rated: 0,
            satisfied: 0,
            resolved: 12,
            electronic_results: 12,
        };
        let score = IndexScore::of(&inputs);
        let by_code = |code: &str| {
            score
                .results
                .iter()
                .find(|(i, _)| i.code == code)
                .map(|(_, s)| *s)
                .unwrap()
        };
        assert!(matches!(by_code("TDGQ.1"), Scored::Points { points, .. } if points == 18.0));
        // 25 % online against a 50 % threshold: half of 6.
        assert!(matches!(by_code("CLGQ.2"), Scored::Points { points, .. } if points == 3.0));
        assert!(matches!(by_code("CLGQ.1"), Scored::Points { points, .. } if points == 6.0));
        assert_eq!(by_code("MDHL.1"), Scored::NoData);
        assert_eq!(by_code("TTTT.1"), Scored::Outside);
        assert_eq!(score.total(), 18.0 + 3.0 + 6.0 + 11.0);
        assert_eq!(score.computable(), 20.0 + 6.0 + 6.0 + 11.0);
        assert_eq!(score.group_points(Group::Ckmb), None);
        assert_eq!(score.group_points(Group::Clgq), Some(9.0));
    }
}
