//! The portal's language: Vietnamese by default, English on request (a cookie set by
//! `/lang/{code}`). Procedure content stays as the catalogue publishes it, in Vietnamese.
//! The interface texts are Fluent message files, `locales/{vi,en}/portal.ftl`, read into the
//! binary and formatted once at first use.

use std::collections::HashMap;
use std::sync::LazyLock;

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
        TEXTS[self as usize]
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing interface text");
                "…"
            })
    }

    /// A count as this language writes it: 96.166 in Vietnamese, 96,166 in English.
    pub fn count(self, n: i64) -> String {
        domain::fees::group_digits(n, if self == Lang::Vi { '.' } else { ',' })
    }

    /// A number with one decimal, as this language writes it: 66,7 or 66.7.
    pub fn decimal(self, value: f64) -> String {
        let text = format!("{value:.1}");
        match self {
            Lang::Vi => text.replace('.', ","),
            Lang::En => text,
        }
    }

    /// A share in percent with one decimal: 66,7 % or 66.7 %.
    pub fn percent(self, share: f64) -> String {
        format!("{} %", self.decimal(share))
    }

    /// A day as Vietnamese write it, day first: 05/12/2026 (English pages too, as in Vietnam).
    pub fn date(self, day: chrono::NaiveDate) -> String {
        day.format("%d/%m/%Y").to_string()
    }

    /// A table cell for a page (the CSV and XLSX downloads keep the machine form).
    pub fn cell(self, cell: &documents::Cell) -> String {
        match cell {
            documents::Cell::Count(n) => self.count(*n),
            documents::Cell::Percent(p) => self.decimal(*p),
            other => other.text(),
        }
    }

    /// One of two texts that come as data in both languages (a status's or a field's names);
    /// the interface's own texts are in the message files.
    pub fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// A dossier status's name, from the message files (`status-<code>`).
    pub fn status(self, status: domain::dossier::Status) -> &'static str {
        self.t(&format!("status-{}", status.code()))
    }

    /// A dossier action's name, from the message files (`action-<code>`).
    pub fn action(self, action: domain::dossier::Action) -> &'static str {
        self.t(&format!("action-{}", action.code()))
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
/// The message files, in the order of [`Lang`]'s variants.
const MESSAGE_FILES: [(&str, &str); 2] = [
    ("vi", include_str!("../locales/vi/portal.ftl")),
    ("en", include_str!("../locales/en/portal.ftl")),
];

/// Every interface text, per language: the portal's texts take no arguments, so each is
/// formatted once.
static TEXTS: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| {
    MESSAGE_FILES.map(|(code, source)| {
        messages(code, source).unwrap_or_else(|e| panic!("locales/{code}/portal.ftl: {e}"))
    })
});

/// The messages of one Fluent file, formatted; an error names what does not parse or format.
fn messages(code: &str, source: &str) -> Result<HashMap<String, String>, String> {
    use fluent_bundle::{FluentBundle, FluentResource};
    use fluent_syntax::ast;
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| format!("does not parse: {errors:?}"))?;
    let language: unic_langid::LanguageIdentifier =
        code.parse().map_err(|e| format!("language {code}: {e}"))?;
    let mut bundle = FluentBundle::new(vec![language]);
    // The texts go into HTML as they are: no Unicode isolation marks around placeables.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(&resource)
        .map_err(|errors| format!("repeats a message: {errors:?}"))?;
    let mut texts = HashMap::new();
    for entry in resource.entries() {
        let ast::Entry::Message(message) = entry else {
            continue;
        };
        let id = message.id.name;
        let pattern = bundle
            .get_message(id)
            .and_then(|m| m.value())
            .ok_or_else(|| format!("{id} has no text"))?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        if !errors.is_empty() {
            return Err(format!("{id}: {errors:?}"));
        }
        texts.insert(id.to_owned(), text.into_owned());
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The templates and the handlers, but this file, which tests the texts: path and text.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for folder in ["templates", "src"] {
            for file in std::fs::read_dir(root.join(folder)).unwrap() {
                let path = file.unwrap().path();
                if !path.ends_with("i18n.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    files.push((path, text));
                }
            }
        }
        files
    }

    /// Every `t("key")` in the templates and the handlers.
    fn keys_used() -> Vec<(String, String)> {
        let mut used = Vec::new();
        for (path, text) in sources() {
            for piece in text.split(".t(\"").skip(1) {
                let key = piece.split('"').next().unwrap().to_owned();
                used.push((path.display().to_string(), key));
            }
        }
        used
    }

    #[test]
    fn both_languages_have_the_same_messages_and_every_key_used() {
        let [vi, en] = &*TEXTS;
        let mut vi_keys: Vec<_> = vi.keys().collect();
        let mut en_keys: Vec<_> = en.keys().collect();
        vi_keys.sort();
        en_keys.sort();
        assert_eq!(vi_keys, en_keys);
        assert!(vi.len() > 400, "{}", vi.len());
        let used = keys_used();
        assert!(used.len() > 400, "{}", used.len());
        for (file, key) in used {
            assert!(
                vi.contains_key(&key),
                "{file} uses {key}, which no message file has"
            );
        }
    }

    #[test]
    fn every_status_and_action_is_named_in_both_files() {
        use domain::dossier::{Action, Status};
        for status in Status::ALL {
            assert_eq!(Lang::Vi.status(status), status.name_vi(), "{status:?}");
            assert_ne!(Lang::En.status(status), "…", "{status:?}");
        }
        for action in Action::ALL {
            assert_eq!(Lang::Vi.action(action), action.name_vi(), "{action:?}");
            assert_ne!(Lang::En.action(action), "…", "{action:?}");
        }
    }

    #[test]
    fn interface_texts_come_from_the_message_files() {
        assert_eq!(Lang::Vi.t("site_name"), "Cổng Dịch vụ công");
        assert_eq!(Lang::En.t("site_name"), "Public Service Portal");
        assert_eq!(Lang::En.t("no-such-key"), "…");
        // No interface text written side by side in code any more.
        for (path, text) in sources() {
            assert!(
                !text.contains("pick(\""),
                "{} writes a text in code; put it in locales/",
                path.display()
            );
        }
    }

    #[test]
    fn numbers_and_days_are_written_as_each_language_writes_them() {
        assert_eq!(Lang::Vi.count(96_166), "96.166");
        assert_eq!(Lang::En.count(96_166), "96,166");
        assert_eq!(Lang::Vi.percent(91.04), "91,0 %");
        assert_eq!(Lang::En.percent(91.04), "91.0 %");
        assert_eq!(Lang::Vi.cell(&documents::Cell::Count(82_805)), "82.805");
        assert_eq!(Lang::Vi.cell(&documents::Cell::Percent(66.66)), "66,7");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(Lang::Vi.date(day), "05/12/2026");
    }
}
