//! Feedback and petitions (phản ánh, kiến nghị): a citizen writes to an agency about a
//! procedure or about how they were served; an official of that agency answers within the
//! deadline, and the answer can be published for everyone (the procedure's questions and
//! answers).

use chrono::{DateTime, Utc};

use crate::InvalidField;
use crate::agency::AgencyCode;
use crate::procedure::ProcedureCode;

/// Working days an agency has to answer.
pub const ANSWER_WORKING_DAYS: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub id: i64,
    pub author: String,
    pub procedure: Option<ProcedureCode>,
    pub agency: AgencyCode,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub answer: Option<Answer>,
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Where a piece of feedback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Waiting,
    Overdue,
    Answered,
    AnsweredLate,
}

impl Feedback {
    pub fn standing(&self, now: DateTime<Utc>) -> Standing {
        match &self.answer {
            Some(a) if a.at > self.due_at => Standing::AnsweredLate,
            Some(_) => Standing::Answered,
            None if now > self.due_at => Standing::Overdue,
            None => Standing::Waiting,
        }
    }
}

/// An error when `text` (the field named `en` and `vi` for people) is too short or too long.
fn length_between(
    field: &str,
    text: &str,
    (min, max): (usize, usize),
    (en, vi): (&str, &str),
) -> Option<InvalidField> {
    let n = text.trim().chars().count();
    (n < min || n > max).then(|| {
        InvalidField::bilingual(
            field,
            format!("{en}: between {min} and {max} characters, not {n}"),
            format!("{vi}: từ {min} đến {max} ký tự (hiện có {n})"),
        )
    })
}

/// What is wrong with a new piece of feedback's texts.
pub fn check_texts(subject: &str, body: &str) -> Vec<InvalidField> {
    [
        length_between("subject", subject, (5, 200), ("Subject", "Tiêu đề")),
        length_between("body", body, (10, 5000), ("Your feedback", "Nội dung")),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// What is wrong with an answer's text.
pub fn check_answer(text: &str) -> Option<InvalidField> {
    length_between("answer", text, (10, 5000), ("Answer", "Nội dung trả lời"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feedback(due: i64, answered: Option<i64>) -> Feedback {
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        Feedback {
            id: 1,
            author: "a".into(),
            procedure: None,
            agency: AgencyCode::parse("000.00.00.H31").unwrap(),
            subject: "s".into(),
            body: "b".into(),
            created_at: at(0),
            due_at: at(due),
            answer: answered.map(|t| Answer {
                text: "x".into(),
                by: "o".into(),
                at: at(t),
            }),
            published: false,
        }
    }

    #[test]
    fn standing_is_judged_against_the_deadline() {
        let now = DateTime::from_timestamp(100, 0).unwrap();
        assert_eq!(feedback(200, None).standing(now), Standing::Waiting);
        assert_eq!(feedback(50, None).standing(now), Standing::Overdue);
        assert_eq!(feedback(200, Some(90)).standing(now), Standing::Answered);
        assert_eq!(feedback(50, Some(90)).standing(now), Standing::AnsweredLate);
    }

    #[test]
    fn texts_too_short_or_long_are_named() {
        let errors = check_texts("Hi", &"x".repeat(5001));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "subject");
        assert!(errors[1].reason_vi.as_deref().unwrap().contains("5001"));
        assert!(check_texts("Thời hạn trả kết quả", "Hồ sơ của tôi quá hạn đã lâu.").is_empty());
        assert!(check_answer("Đã xử lý").is_some());
    }
}
