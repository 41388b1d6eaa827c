//! How a procedure is served online: its e-form (a JSON Schema), the documents to attach and
//! the workflow steps officials go through. A procedure version without a design of its own
//! gets the generic one, so that every procedure in the catalogue can be applied for.

mod form;

use serde::{Deserialize, Serialize};

use crate::procedure::Procedure;
use crate::text::fold;
use crate::user::Role;

pub use form::{FieldKind, FormError, FormField, FormSchema, generic_schema};

/// The document name under which officials attach the result (kết quả giải quyết).
pub const RESULT_DOCUMENT: &str = "result";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDesign {
    /// The e-form's JSON Schema; null means the generic form.
    #[serde(default)]
    pub form: serde_json::Value,
    /// The documents the applicant attaches; empty means the catalogue's list.
    #[serde(default)]
    pub documents: Vec<DocumentRequirement>,
    /// The processing steps after reception, in order; the last is the approval.
    pub steps: Vec<WorkflowStep>,
    /// The least level of assurance an applicant must have signed in with to submit online
    /// (0: any account; 1 or 2: the national e-ID at that level).
    #[serde(default)]
    pub min_assurance: crate::user::Assurance,
    /// The fees and charges (phí, lệ phí) with their exemptions; empty means the catalogue's.
    #[serde(default)]
    pub fees: Vec<crate::fees::Fee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequirement {
    pub name: String,
    /// False for documents the catalogue marks "nếu có" (if any).
    pub required: bool,
}

/// One step of processing: who does it, at which level, with what share of the legal time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowStep {
    pub name_vi: String,
    pub name_en: String,
    /// Handler for processing steps, approver for the final one.
    pub role: Role,
    /// The level of the agency that does this step; None means the agency that holds the
    /// dossier. A step at another level transfers the dossier there (liên thông).
    #[serde(default)]
    pub level: Option<String>,
    /// Percent of the processing time allotted to the step; the steps add up to 100.
    pub share: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesignError {
    #[error("the form is not a valid JSON Schema: {0}")]
    Form(String),
    #[error("a workflow needs at least one step")]
    NoSteps,
    #[error("the step shares add up to {0}%, not 100%")]
    Shares(u32),
    #[error("step {0} is for the {1} role; steps are for handlers, and the last for an approver")]
    Role(usize, &'static str),
    #[error("{0}")]
    Fees(crate::InvalidField),
}

impl ServiceDesign {
    /// The design a procedure gets until one is written for it: a generic application form,
    /// the catalogue's documents for the general case, assessment then approval.
    pub fn generic(procedure: &Procedure) -> Self {
        let documents = procedure
            .documents
            .first()
            .map(|group| {
                group
                    .documents
                    .iter()
                    .map(|d| DocumentRequirement {
                        required: must_upload(&d.name),
                        name: d.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            form: form::generic_schema(),
            documents,
            steps: vec![
                WorkflowStep {
                    name_vi: "Thẩm định, xử lý hồ sơ".into(),
                    name_en: "Assess the dossier".into(),
                    role: Role::Handler,
                    level: None,
                    share: 70,
                },
                WorkflowStep {
                    name_vi: "Phê duyệt kết quả".into(),
                    name_en: "Approve the result".into(),
                    role: Role::Approver,
                    level: None,
                    share: 30,
                },
            ],
            min_assurance: Default::default(),
            fees: Vec::new(),
        }
    }

    /// Fills what a stored design leaves to the defaults: the generic form, the catalogue's
    /// documents.
    pub fn filled_from(mut self, procedure: &Procedure) -> Self {
        let generic = Self::generic(procedure);
        if self.form.is_null() {
            self.form = generic.form;
        }
        if self.documents.is_empty() {
            self.documents = generic.documents;
        }
        self
    }

    /// Checks the design before it is stored: a schema that compiles, steps that add up.
    pub fn validate(&self) -> Result<FormSchema, DesignError> {
        let schema = FormSchema::compile(&self.form).map_err(DesignError::Form)?;
        if self.steps.is_empty() {
            return Err(DesignError::NoSteps);
        }
        let total: u32 = self.steps.iter().map(|s| s.share).sum();
        if total != 100 {
            return Err(DesignError::Shares(total));
        }
        if let Some(problem) = crate::fees::check(&self.fees).into_iter().next() {
            return Err(DesignError::Fees(problem));
        }
        let last = self.steps.len() - 1;
        for (i, step) in self.steps.iter().enumerate() {
            let expected = if i == last {
                Role::Approver
            } else {
                Role::Handler
            };
            if step.role != expected {
                return Err(DesignError::Role(i + 1, step.role.code()));
            }
        }
        Ok(schema)
    }

    /// The working days allotted up to the end of step `index`, out of `total` (rounded up,
    /// so a step never gets less than its share).
    pub fn days_until_end_of(&self, index: usize, total: u32) -> u32 {
        let share: u32 = self.steps.iter().take(index + 1).map(|s| s.share).sum();
        (total * share).div_ceil(100)
    }
}

/// Whether an online applicant must upload a catalogue document. Not when it is needed in
/// some cases only ("nếu có", "trường hợp …"), nor when it is the application itself (tờ
/// khai, đơn, văn bản or giấy đề nghị, bản khai): online, the e-form takes its place.
fn must_upload(name: &str) -> bool {
    let folded = fold(name);
    let folded = folded.trim_start();
    let application = [
        "to khai",
        "don ",
        "don de nghi",
        "van ban de nghi",
        "giay de nghi",
        "ban khai",
        "phieu yeu cau",
    ]
    .iter()
    .any(|p| folded.starts_with(p));
    !(is_conditional(name) || application)
}

/// Whether the catalogue names a document for some cases only ("nếu có", "trường hợp …").
pub fn is_conditional(name: &str) -> bool {
    let folded = fold(name);
    let folded = folded.trim_start();
    folded.contains("neu co")
        || folded.starts_with("truong hop")
        || folded.contains("trong truong hop")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::{DocumentGroup, OnlineService, RequiredDocument};

    fn procedure() -> Procedure {
        let document = |name: &str| RequiredDocument {
            name: name.into(),
            form_template: None,
            quantity: "1 bản chính".into(),
        };
        Procedure {
            code: crate::ProcedureCode::parse("1.000001").unwrap(),
            name: "Thủ tục A".into(),
            effective_from: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            in_force: Some(true),
            sectors: vec![],
            levels: vec!["commune".into()],
            online: OnlineService::Full,
            group: None,
            steps: vec![],
            channels: vec![],
            documents: vec![DocumentGroup {
                case: String::new(),
                documents: vec![
                    document("Bản sao giấy chứng nhận kết hôn"),
                    document("Giấy tờ khác (nếu có)"),
                    document("Trường hợp ủy quyền: văn bản ủy quyền"),
                    document("Tờ khai đăng ký khai sinh theo mẫu"),
                    document("Văn bản ủy quyền trong trường hợp ủy quyền"),
                ],
            }],
            legal_basis: vec![],
            target_groups: vec![],
            conditions: None,
            results: vec![],
            agencies: vec![],
        }
    }

    #[test]
    fn generic_design_is_valid_and_ends_with_approval() {
        let procedure = procedure();
        let design = ServiceDesign::generic(&procedure);
        design.validate().expect("the generic design is valid");
        assert_eq!(design.steps.last().unwrap().role, Role::Approver);
        let required: Vec<bool> = design.documents.iter().map(|d| d.required).collect();
        assert_eq!(
            required,
            [true, false, false, false, false],
            "conditional documents and the application itself need no upload"
        );
        assert_eq!(design.days_until_end_of(0, 10), 7);
        assert_eq!(design.days_until_end_of(1, 10), 10);
        // Shares round up: 70% of 3 days is 2.1, so the first step gets 3.
        assert_eq!(design.days_until_end_of(0, 3), 3);
    }

    #[test]
    fn bad_designs_are_named() {
        let procedure = procedure();
        let mut design = ServiceDesign::generic(&procedure);
        design.steps[0].share = 50;
        assert_eq!(design.validate().unwrap_err(), DesignError::Shares(80));
        design.steps[0].share = 70;
        design.steps.reverse();
        assert!(matches!(
            design.validate(),
            Err(DesignError::Role(1, "approver"))
        ));
        design.steps.clear();
        assert_eq!(design.validate().unwrap_err(), DesignError::NoSteps);
        let broken = ServiceDesign {
            form: serde_json::json!({"type": "no-such-type"}),
            ..ServiceDesign::generic(&procedure)
        };
        assert!(matches!(broken.validate(), Err(DesignError::Form(_))));
    }
}
