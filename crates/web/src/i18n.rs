//! The portal's language: Vietnamese by default, English on request (a cookie set by
//! `/lang/{code}`). Procedure content stays as the catalogue publishes it, in Vietnamese.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The same language for the messages motcua sends.
    pub fn for_messages(self) -> domain::notify::Lang {
        match self {
            Lang::Vi => domain::notify::Lang::Vi,
            Lang::En => domain::notify::Lang::En,
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Self {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// The interface text for `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        MESSAGES
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, vi, en)| if self == Lang::Vi { *vi } else { *en })
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing interface text");
                "…"
            })
    }

    /// A count as this language writes it: 96.166 in Vietnamese, 96,166 in English.
    pub fn count(self, n: i64) -> String {
        domain::fees::group_digits(n, if self == Lang::Vi { '.' } else { ',' })
    }

    /// One of two texts written side by side in a template or handler.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    pub fn online_name(self, online: domain::OnlineService) -> &'static str {
        match self {
            Lang::Vi => online.catalogue_name(),
            Lang::En => online.name_en(),
        }
    }

    pub fn channel_name(self, channel: domain::Channel) -> &'static str {
        match self {
            Lang::Vi => channel.name_vi(),
            Lang::En => channel.name_en(),
        }
    }

    pub fn unit_name(self, unit: domain::TimeUnit) -> &'static str {
        match self {
            Lang::Vi => unit.catalogue_name(),
            Lang::En => unit.name_en(),
        }
    }
}

impl Lang {
    /// The reader's language, from the `lang` cookie.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        crate::session::cookie(headers, "lang")
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// (key, Vietnamese, English)
const MESSAGES: &[(&str, &str, &str)] = &[
    ("site_name", "Cổng Dịch vụ công", "Public Service Portal"),
    (
        "site_tagline",
        "Thành phố Hải Phòng — bản trình diễn",
        "Hai Phong City — demo",
    ),
    ("skip", "Bỏ qua, đến nội dung chính", "Skip to main content"),
    ("switch_lang", "English", "Tiếng Việt"),
    ("nav_home", "Trang chủ", "Home"),
    ("nav_procedures", "Thủ tục hành chính", "Procedures"),
    ("nav_sectors", "Lĩnh vực", "Sectors"),
    ("nav_events", "Sự kiện cuộc sống", "Life events"),
    ("nav_agencies", "Cơ quan", "Agencies"),
    ("nav_lookup", "Tra cứu hồ sơ", "Track a dossier"),
    (
        "lookup_title",
        "Tra cứu tình trạng hồ sơ",
        "Track a dossier",
    ),
    (
        "lookup_lead",
        "Nhập mã hồ sơ và mã tra cứu in trên phiếu tiếp nhận và hẹn trả kết quả.",
        "Enter the dossier code and the lookup code printed on your receipt.",
    ),
    ("lookup_code", "Mã hồ sơ", "Dossier code"),
    (
        "lookup_code_hint",
        "Ví dụ: 001.00.00.H31-261122-0001",
        "For example: 001.00.00.H31-261122-0001",
    ),
    ("lookup_secret", "Mã tra cứu", "Lookup code"),
    (
        "lookup_secret_hint",
        "8 ký tự, in trên phiếu tiếp nhận",
        "8 characters, printed on the receipt",
    ),
    ("lookup_button", "Tra cứu", "Look up"),
    (
        "lookup_missing",
        "Vui lòng nhập cả mã hồ sơ và mã tra cứu.",
        "Please enter both the dossier code and the lookup code.",
    ),
    (
        "lookup_not_found",
        "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này. Vui lòng kiểm tra lại phiếu tiếp nhận.",
        "No dossier matches this dossier code and lookup code. Please check your receipt.",
    ),
    ("lookup_status", "Tình trạng", "Status"),
    ("lookup_procedure", "Thủ tục", "Procedure"),
    ("lookup_agency", "Cơ quan tiếp nhận", "Receiving agency"),
    ("lookup_submitted", "Ngày nộp", "Submitted"),
    ("lookup_due", "Ngày hẹn trả kết quả", "Result due"),
    (
        "lookup_due_unset",
        "Được xác định khi hồ sơ được tiếp nhận",
        "Set when the dossier is received",
    ),
    (
        "search_label",
        "Tìm thủ tục hành chính",
        "Search administrative procedures",
    ),
    (
        "search_hint",
        "Gõ tên hoặc mã thủ tục, có dấu hay không dấu đều được, ví dụ: dang ky khai sinh",
        "Type a procedure name or code, with or without accents, e.g. dang ky khai sinh",
    ),
    ("search_button", "Tìm kiếm", "Search"),
    (
        "home_lead",
        "Tra cứu thủ tục hành chính, chuẩn bị hồ sơ và biết trước thời hạn, phí, lệ phí.",
        "Find administrative procedures, prepare your documents and know the deadlines and fees in advance.",
    ),
    (
        "procedures_available",
        "thủ tục đang được công bố",
        "procedures published",
    ),
    ("by_sector", "Theo lĩnh vực", "By sector"),
    ("by_event", "Theo sự kiện cuộc sống", "By life event"),
    (
        "by_online",
        "Theo mức độ dịch vụ công trực tuyến",
        "By online service level",
    ),
    ("procedures_count", "thủ tục", "procedures"),
    ("results_title", "Kết quả tìm kiếm", "Search results"),
    ("all_procedures", "Tất cả thủ tục", "All procedures"),
    ("results_found", "thủ tục phù hợp", "matching procedures"),
    (
        "no_results",
        "Không tìm thấy thủ tục phù hợp. Hãy thử từ khóa khác hoặc bỏ bớt bộ lọc.",
        "No procedure matches. Try other words or remove a filter.",
    ),
    ("filters", "Bộ lọc", "Filters"),
    ("filter_sector", "Lĩnh vực", "Sector"),
    ("filter_level", "Cấp thực hiện", "Level"),
    ("filter_online", "Mức độ trực tuyến", "Online level"),
    ("filter_event", "Sự kiện cuộc sống", "Life event"),
    ("filter_any", "Tất cả", "Any"),
    ("filter_apply", "Áp dụng", "Apply"),
    ("filter_clear", "Xóa bộ lọc", "Clear filters"),
    ("filter_agency", "Cơ quan", "Agency"),
    ("page_prev", "Trang trước", "Previous page"),
    ("page_next", "Trang sau", "Next page"),
    ("page", "Trang", "Page"),
    ("code", "Mã thủ tục", "Procedure code"),
    ("fee", "Phí, lệ phí", "Fees"),
    ("free", "Miễn phí", "Free"),
    ("sections", "Nội dung", "Contents"),
    ("steps", "Trình tự thực hiện", "Steps"),
    ("channels", "Cách thức thực hiện", "How to apply"),
    ("channel", "Hình thức nộp", "Channel"),
    ("processing_time", "Thời hạn giải quyết", "Processing time"),
    ("not_specified", "Không xác định", "Not specified"),
    ("documents", "Thành phần hồ sơ", "Required documents"),
    ("document", "Tên giấy tờ", "Document"),
    ("quantity", "Số lượng", "Quantity"),
    ("form_template", "Mẫu đơn, tờ khai", "Form template"),
    (
        "form_not_uploaded",
        "chưa có tệp mẫu",
        "template file not yet available",
    ),
    ("target_groups", "Đối tượng thực hiện", "Who can apply"),
    ("conditions", "Yêu cầu, điều kiện", "Conditions"),
    ("results", "Kết quả thực hiện", "Result"),
    ("legal_basis", "Căn cứ pháp lý", "Legal basis"),
    ("legal_number", "Số ký hiệu", "Number"),
    ("legal_title", "Trích yếu", "Title"),
    ("agencies", "Cơ quan thực hiện", "Implementing agencies"),
    ("levels", "Cấp thực hiện", "Levels"),
    ("sectors", "Lĩnh vực", "Sectors"),
    ("life_events", "Sự kiện cuộc sống", "Life events"),
    (
        "versions",
        "Phiên bản theo ngày hiệu lực",
        "Versions by effective date",
    ),
    ("effective_from", "Hiệu lực từ", "In force from"),
    ("general_case", "Trường hợp chung", "General case"),
    (
        "not_stated",
        "Nguồn dữ liệu không nêu.",
        "Not stated in the source.",
    ),
    (
        "no_detail",
        "Nguồn dữ liệu chưa công bố chi tiết của thủ tục này (trình tự, hồ sơ, thời hạn). Vui lòng liên hệ cơ quan thực hiện.",
        "The source has not published the details of this procedure (steps, documents, time limits). Please contact the implementing agency.",
    ),
    (
        "online_full_note",
        "Có thể thực hiện toàn bộ trực tuyến, từ nộp hồ sơ đến nhận kết quả.",
        "Can be done fully online, from submission to result.",
    ),
    (
        "online_partial_note",
        "Có thể nộp hồ sơ trực tuyến; một số bước cần thực hiện trực tiếp.",
        "The dossier can be submitted online; some steps are done in person.",
    ),
    (
        "online_none_note",
        "Thủ tục này chưa tiếp nhận hồ sơ trực tuyến.",
        "This procedure does not accept online dossiers yet.",
    ),
    ("and_more", "và thêm", "and"),
    ("more_units", "đơn vị khác", "more"),
    ("units", "đơn vị", "units"),
    ("agency_tree", "Cơ cấu cơ quan, đơn vị", "Agencies"),
    ("agency_code", "Mã định danh", "Agency code"),
    (
        "agency_procedures",
        "Thủ tục của cơ quan",
        "Procedures of this agency",
    ),
    (
        "sectors_title",
        "Thủ tục theo lĩnh vực",
        "Procedures by sector",
    ),
    (
        "events_title",
        "Thủ tục theo sự kiện cuộc sống",
        "Procedures by life event",
    ),
    ("error_back", "Về trang chủ", "Back to the home page"),
    (
        "error_fix",
        "Vui lòng sửa các mục sau:",
        "Please fix the following:",
    ),
    (
        "footer",
        "motcua — phần mềm nguồn mở cho dịch vụ công và một cửa điện tử. Dữ liệu thủ tục: Hải Phòng, 2025.",
        "motcua — open-source software for public services and the electronic one-stop shop. Procedure data: Hai Phong, 2025.",
    ),
];
