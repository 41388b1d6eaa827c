//! E-forms: a JSON Schema per procedure version, checked with the `jsonschema` crate, and
//! errors turned into field-level messages in Vietnamese and English.
//!
//! Beside standard keywords, a form schema may carry annotations the portal reads to draw the
//! form: `title` (Vietnamese) and `title_en`, `description` / `description_en` (a hint),
//! `x-widget: "textarea"`, and a top-level `x-order` listing the fields in display order.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Map, Value, json};

use crate::InvalidField;

/// A compiled form schema and the fields it declares, in display order.
pub struct FormSchema {
    validator: jsonschema::Validator,
    pub fields: Vec<FormField>,
}

impl std::fmt::Debug for FormSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormSchema")
            .field("fields", &self.fields)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    LongText,
    Date,
    Email,
    Integer,
    Number,
    Choice(Vec<String>),
}

/// One field as a person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    pub name: String,
    pub title_vi: String,
    pub title_en: String,
    pub hint_vi: Option<String>,
    pub hint_en: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    pub max_length: Option<u64>,
    /// An identifier or contact detail (`"x-personal": true`): sealed at rest, masked for
    /// officials until they ask to see it, and that asking is recorded.
    pub personal: bool,
}

/// A field that is wrong, said in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// Dotted path from the form's root, e.g. `form.ho_ten`.
    pub field: String,
    pub reason_en: String,
    pub reason_vi: String,
}

impl From<FormError> for InvalidField {
    fn from(e: FormError) -> Self {
        InvalidField::bilingual(e.field, e.reason_en, e.reason_vi)
    }
}

impl FormSchema {
    pub fn compile(schema: &Value) -> Result<Self, String> {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            validator,
            fields: fields_of(schema),
        })
    }

    /// Every problem with `form`, one per field, in display order.
    pub fn check(&self, form: &Value) -> Vec<FormError> {
        let mut errors: Vec<FormError> = Vec::new();
        for error in self.validator.iter_errors(form) {
            let mut path: Vec<String> = error
                .instance_path()
                .as_str()
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            if let ValidationErrorKind::Required { property } = error.kind() {
                path.push(property.as_str().unwrap_or_default().to_owned());
            }
            let field = self.fields.iter().find(|f| Some(&f.name) == path.first());
            let (en, vi) = describe(error.kind(), field);
            let name = std::iter::once("form".to_owned())
                .chain(path)
                .collect::<Vec<_>>()
                .join(".");
            // One message per field is enough for a person to act on.
            if !errors.iter().any(|e| e.field == name) {
                errors.push(FormError {
                    field: name,
                    reason_en: en,
                    reason_vi: vi,
                });
            }
        }
        let position = |e: &FormError| {
            self.fields
                .iter()
                .position(|f| e.field.strip_prefix("form.") == Some(f.name.as_str()))
                .unwrap_or(usize::MAX)
        };
        errors.sort_by_key(position);
        errors
    }

    /// A form from the text a browser posts: empty fields are left out, numbers are read as
    /// numbers (a number that does not parse stays text, so the schema reports it).
    pub fn from_text(&self, values: &[(String, String)]) -> Value {
        let mut form = Map::new();
        for field in &self.fields {
            let Some((_, raw)) = values.iter().find(|(name, _)| name == &field.name) else {
                continue;
            };
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let value = match field.kind {
                FieldKind::Integer => raw.parse::<i64>().map(Value::from).ok(),
                FieldKind::Number => raw.parse::<f64>().ok().map(Value::from),
                _ => None,
            };
            form.insert(
                field.name.clone(),
                value.unwrap_or_else(|| Value::String(raw.to_owned())),
            );
        }
        Value::Object(form)
    }
}

fn fields_of(schema: &Value) -> Vec<FormField> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut names: Vec<&String> = properties.keys().collect();
    if let Some(order) = schema.get("x-order").and_then(Value::as_array) {
        let rank = |name: &String| {
            order
                .iter()
                .position(|o| o.as_str() == Some(name))
                .unwrap_or(usize::MAX)
        };
        names.sort_by_key(|n| rank(n));
    }
    names
        .into_iter()
        .map(|name| {
            let p = &properties[name];
            let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
            let title_vi = text("title").unwrap_or_else(|| name.clone());
            FormField {
                name: name.clone(),
                title_en: text("title_en").unwrap_or_else(|| title_vi.clone()),
                title_vi,
                hint_vi: text("description"),
                hint_en: text("description_en").or_else(|| text("description")),
                kind: kind_of(p),
                required: required.contains(&name.as_str()),
                max_length: p.get("maxLength").and_then(Value::as_u64),
                personal: p.get("x-personal").and_then(Value::as_bool) == Some(true),
            }
        })
        .collect()
}

fn kind_of(property: &Value) -> FieldKind {
    if let Some(options) = property.get("enum").and_then(Value::as_array) {
        return FieldKind::Choice(
            options
                .iter()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                .collect(),
        );
    }
    let text = |key: &str| property.get(key).and_then(Value::as_str);
    match (text("type"), text("format"), text("x-widget")) {
        (Some("integer"), _, _) => FieldKind::Integer,
        (Some("number"), _, _) => FieldKind::Number,
        (_, Some("date"), _) => FieldKind::Date,
        (_, Some("email"), _) => FieldKind::Email,
        (_, _, Some("textarea")) => FieldKind::LongText,
        _ => FieldKind::Text,
    }
}

/// What is wrong, in English and Vietnamese, prefixed with the field's title.
fn describe(kind: &ValidationErrorKind, field: Option<&FormField>) -> (String, String) {
    let (en, vi) = match kind {
        ValidationErrorKind::Required { .. } => ("is required".into(), "bắt buộc nhập".into()),
        ValidationErrorKind::MinLength { limit } => (
            format!("needs at least {limit} characters"),
            format!("cần ít nhất {limit} ký tự"),
        ),
        ValidationErrorKind::MaxLength { limit } => (
            format!("must be at most {limit} characters"),
            format!("không quá {limit} ký tự"),
        ),
        ValidationErrorKind::Pattern { .. } => {
            let hint_en = field.and_then(|f| f.hint_en.clone());
            let hint_vi = field.and_then(|f| f.hint_vi.clone());
            (
                format!(
                    "is not in the expected format{}",
                    hint_en.map(|h| format!(": {h}")).unwrap_or_default()
                ),
                format!(
                    "không đúng định dạng{}",
                    hint_vi.map(|h| format!(": {h}")).unwrap_or_default()
                ),
            )
        }
        ValidationErrorKind::Format { format } if format == "date" => (
            "must be a date (YYYY-MM-DD)".into(),
            "phải là một ngày (năm-tháng-ngày)".into(),
        ),
        ValidationErrorKind::Format { format } if format == "email" => (
            "must be an email address".into(),
            "phải là địa chỉ thư điện tử".into(),
        ),
        ValidationErrorKind::Format { format } => (
            format!("must be a valid {format}"),
            format!("không đúng định dạng {format}"),
        ),
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let vi = match expected.as_str() {
                "integer" => "phải là số nguyên".to_owned(),
                "number" => "phải là một số".to_owned(),
                "string" => "phải là chữ".to_owned(),
                "object" => "phải là một đối tượng JSON".to_owned(),
                other => format!("phải có kiểu {other}"),
            };
            (format!("must be of type {expected}"), vi)
        }
        ValidationErrorKind::Enum { options } => {
            let list = options
                .as_array()
                .map(|o| {
                    o.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            (
                format!("must be one of: {list}"),
                format!("phải là một trong: {list}"),
            )
        }
        ValidationErrorKind::Minimum { limit } => (
            format!("must be at least {limit}"),
            format!("không nhỏ hơn {limit}"),
        ),
        ValidationErrorKind::Maximum { limit } => (
            format!("must be at most {limit}"),
            format!("không lớn hơn {limit}"),
        ),
        ValidationErrorKind::AdditionalProperties { unexpected } => (
            format!(
                "has fields the form does not have: {}",
                unexpected.join(", ")
            ),
            format!("có trường không thuộc tờ khai: {}", unexpected.join(", ")),
        ),
        other => {
            let text = format!("{other:?}");
            (
                format!("is not valid ({text})"),
                format!("không hợp lệ ({text})"),
            )
        }
    };
    match field {
        Some(f) => (
            format!("{}: {en}", f.title_en),
            format!("{}: {vi}", f.title_vi),
        ),
        None => (en, vi),
    }
}

/// The application form every procedure gets until it has its own: who applies, how to
/// reach them, and what they ask for.
pub fn generic_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false,
        "x-order": ["ho_ten", "so_dinh_danh", "ngay_sinh", "dien_thoai", "email", "dia_chi", "noi_dung"],
        "required": ["ho_ten", "so_dinh_danh", "dien_thoai", "dia_chi", "noi_dung"],
        "properties": {
            "ho_ten": {"type": "string", "minLength": 2, "maxLength": 100,
                "title": "Họ và tên người nộp", "title_en": "Applicant's full name"},
            "so_dinh_danh": {"type": "string", "pattern": "^[0-9]{12}$", "x-personal": true,
                "title": "Số định danh cá nhân", "title_en": "Personal identification number",
                "description": "12 chữ số trên thẻ căn cước",
                "description_en": "the 12 digits on the citizen identity card"},
            "ngay_sinh": {"type": "string", "format": "date", "x-personal": true,
                "title": "Ngày sinh", "title_en": "Date of birth"},
            "dien_thoai": {"type": "string", "pattern": "^(0|\\+84)[0-9]{9,10}$", "x-personal": true,
                "title": "Số điện thoại", "title_en": "Phone number",
                "description": "ví dụ 0912345678", "description_en": "for example 0912345678"},
            "email": {"type": "string", "format": "email", "maxLength": 200, "x-personal": true,
                "title": "Thư điện tử", "title_en": "Email"},
            "dia_chi": {"type": "string", "minLength": 5, "maxLength": 300, "x-personal": true,
                "title": "Địa chỉ liên hệ", "title_en": "Contact address"},
            "noi_dung": {"type": "string", "minLength": 5, "maxLength": 2000, "x-widget": "textarea",
                "title": "Nội dung đề nghị", "title_en": "What you apply for"}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> FormSchema {
        FormSchema::compile(&generic_schema()).unwrap()
    }

    fn valid() -> Value {
        json!({"ho_ten": "Nguyễn Văn An", "so_dinh_danh": "079201001234",
               "dien_thoai": "0912345678", "dia_chi": "12 Lê Lợi, Bến Nghé",
               "noi_dung": "Đề nghị cấp bản sao trích lục khai sinh"})
    }

    #[test]
    fn accepts_a_filled_form() {
        assert_eq!(schema().check(&valid()), []);
    }

    #[test]
    fn names_each_wrong_field_in_both_languages() {
        let mut form = valid();
        form["so_dinh_danh"] = json!("12345");
        form["ngay_sinh"] = json!("31/02/1990");
        form.as_object_mut().unwrap().remove("ho_ten");
        let errors = schema().check(&form);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["form.ho_ten", "form.so_dinh_danh", "form.ngay_sinh"]
        );
        assert_eq!(errors[0].reason_vi, "Họ và tên người nộp: bắt buộc nhập");
        assert_eq!(errors[0].reason_en, "Applicant's full name: is required");
        assert!(errors[1].reason_vi.contains("12 chữ số"), "{:?}", errors[1]);
        assert!(
            errors[2].reason_en.contains("YYYY-MM-DD"),
            "{:?}",
            errors[2]
        );
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_named() {
        let mut form = valid();
        form["extra"] = json!(1);
        form["ho_ten"] = json!(42);
        let errors = schema().check(&form);
        assert!(
            errors
                .iter()
                .any(|e| e.field == "form" && e.reason_en.contains("extra"))
        );
        assert!(
            errors
                .iter()
                .any(|e| e.field == "form.ho_ten" && e.reason_vi.contains("chữ"))
        );
        let not_object = schema().check(&json!([1, 2]));
        assert_eq!(not_object[0].field, "form");
    }

    #[test]
    fn reads_browser_text_in_field_order() {
        let s = schema();
        assert_eq!(s.fields[0].name, "ho_ten");
        assert!(s.fields[0].required);
        assert_eq!(s.fields[6].kind, FieldKind::LongText);
        let form = s.from_text(&[
            ("ho_ten".into(), "  An  ".into()),
            ("email".into(), "".into()),
            ("unknown".into(), "x".into()),
        ]);
        assert_eq!(form, json!({"ho_ten": "An"}));
    }
}
