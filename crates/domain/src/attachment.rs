//! Files attached to dossiers: which kinds are accepted, judged by their content (the `infer`
//! crate reads the magic bytes), never by the name the sender gave them.

use serde::{Deserialize, Serialize};

/// A kind of file the one-stop shop accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    pub content_type: &'static str,
    /// File name endings that may carry this kind.
    pub extensions: &'static [&'static str],
}

pub const ACCEPTED: &[FileKind] = &[
    FileKind {
        content_type: "application/pdf",
        extensions: &["pdf"],
    },
    FileKind {
        content_type: "image/jpeg",
        extensions: &["jpg", "jpeg"],
    },
    FileKind {
        content_type: "image/png",
        extensions: &["png"],
    },
    FileKind {
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        extensions: &["docx"],
    },
    FileKind {
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        extensions: &["xlsx"],
    },
    FileKind {
        content_type: "application/msword",
        extensions: &["doc"],
    },
];

/// A stored file's description, as the dossier and its events record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    /// Who uploaded it.
    pub owner: String,
    /// The dossier it belongs to, once submitted with one.
    pub dossier_code: Option<String>,
    /// The required document it stands for, or [`crate::service::RESULT_DOCUMENT`].
    pub document: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An uploaded file named as one of a dossier's documents; the hash goes into the event, so
/// the chain vouches for the file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentLink {
    /// The upload's id.
    pub id: String,
    pub document: String,
    pub sha256: String,
    /// The dossier whose document this upload reuses from the applicant's data warehouse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
}

impl AttachmentLink {
    /// How the event that adds the file lists it.
    pub fn event_entry(&self) -> serde_json::Value {
        let mut entry = serde_json::json!({"document": self.document, "sha256": self.sha256});
        if let Some(dossier) = &self.reused_from {
            entry["reused_from"] = dossier.clone().into();
        }
        entry
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the file name is missing or not usable")]
    BadName,
    #[error("the content is {}, which is not accepted: send PDF, JPEG, PNG, DOC, DOCX or XLSX", detected.as_deref().unwrap_or("not a known file type"))]
    NotAccepted { detected: Option<String> },
    #[error("the name ends in .{extension} but the content is {detected}")]
    Disguised {
        extension: String,
        detected: &'static str,
    },
}

impl FileProblem {
    pub fn reason_vi(&self) -> String {
        match self {
            FileProblem::Empty => "tệp rỗng".into(),
            FileProblem::TooLarge { size, max } => {
                format!("tệp có {size} byte, vượt giới hạn {max} byte")
            }
            FileProblem::BadName => "thiếu tên tệp hoặc tên tệp không dùng được".into(),
            FileProblem::NotAccepted { detected } => format!(
                "nội dung tệp là {}, không được chấp nhận: hãy gửi PDF, JPEG, PNG, DOC, DOCX hoặc XLSX",
                detected.as_deref().unwrap_or("loại không xác định")
            ),
            FileProblem::Disguised {
                extension,
                detected,
            } => format!("tên tệp có đuôi .{extension} nhưng nội dung là {detected}"),
        }
    }
}

/// Checks a file before it is stored: not empty, within `max_bytes`, of an accepted kind by
/// its content, and named for what it is. Returns the kind and the cleaned file name.
pub fn check_file(
    file_name: &str,
    content: &[u8],
    max_bytes: usize,
) -> Result<(FileKind, String), FileProblem> {
    if content.is_empty() {
        return Err(FileProblem::Empty);
    }
    if content.len() > max_bytes {
        return Err(FileProblem::TooLarge {
            size: content.len(),
            max: max_bytes,
        });
    }
    let name = clean_name(file_name).ok_or(FileProblem::BadName)?;
    let detected = infer::get(content);
    let kind = detected
        .and_then(|t| ACCEPTED.iter().find(|k| k.content_type == t.mime_type()))
        .copied()
        .ok_or_else(|| FileProblem::NotAccepted {
            detected: detected.map(|t| t.mime_type().to_owned()),
        })?;
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !kind.extensions.contains(&extension.as_str()) {
        return Err(FileProblem::Disguised {
            extension,
            detected: kind.content_type,
        });
    }
    Ok((kind, name))
}

/// The last path component, without control characters, at most 200 characters.
fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n";
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

    #[test]
    fn accepts_files_that_are_what_they_say() {
        let (kind, name) = check_file("C:\\Users\\an\\to-khai.pdf", PDF, 1000).unwrap();
        assert_eq!(kind.content_type, "application/pdf");
        assert_eq!(name, "to-khai.pdf");
        assert_eq!(
            check_file("anh.PNG", PNG, 1000).unwrap().0.content_type,
            "image/png"
        );
    }

    #[test]
    fn refuses_disguised_unknown_empty_and_large_files() {
        assert_eq!(
            check_file("to-khai.pdf", PNG, 1000),
            Err(FileProblem::Disguised {
                extension: "pdf".into(),
                detected: "image/png"
            })
        );
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
        assert!(matches!(
            check_file("to-khai.pdf", exe, 1000),
            Err(FileProblem::NotAccepted { detected: Some(_) })
        ));
        assert!(matches!(
            check_file("note.pdf", b"just some text", 1000),
            Err(FileProblem::NotAccepted { detected: None })
        ));
        assert_eq!(check_file("a.pdf", b"", 1000), Err(FileProblem::Empty));
        assert_eq!(
            check_file("a.pdf", PDF, 10),
            Err(FileProblem::TooLarge {
                size: PDF.len(),
                max: 10
            })
        );
        assert_eq!(check_file("../", PDF, 1000), Err(FileProblem::BadName));
        assert!(FileProblem::Empty.reason_vi().contains("rỗng"));
    }
}
