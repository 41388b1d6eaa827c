//! Catalogue editing by administrators in the browser: a new procedure, or a new version of
//! one, together with how it is served (e-form, documents, steps). The form arrives as typed
//! and is checked whole, each error naming the field it came from, before anything is stored.

use chrono::NaiveDate;
use domain::procedure::{
    Channel, ChannelOption, DocumentGroup, Fee, OnlineService, ProcessingTime, RequiredDocument,
    Sector, StepGroup, TimeUnit,
};
use domain::service::{
    DesignError, DocumentRequirement, FormSchema, ServiceDesign, WorkflowStep, is_conditional,
};
use domain::user::{Role, User};
use domain::{InvalidField, Procedure, ProcedureCode};

use crate::{App, AppError, Result};

/// A document line ending so is optional (the catalogue's own words for it).
pub const OPTIONAL_MARK: &str = "(nếu có)";

/// The editor's form as typed.
#[derive(Debug, Clone, Default)]
pub struct ProcedureEdit {
    pub code: String,
    pub name: String,
    /// `YYYY-MM-DD` (what a date input sends) or `dd/mm/yyyy`.
    pub effective_from: String,
    pub sector: String,
    pub levels: Vec<String>,
    pub online: String,
    /// Implementing agencies, separated by `;`.
    pub agency: String,
    /// The processing time in working days.
    pub days: String,
    /// The fee in VND (`8.000` or `8000`); empty for none.
    pub fee: String,
    /// One required document per line; a line ending in [`OPTIONAL_MARK`] is optional.
    pub documents: String,
    /// One result per line.
    pub results: String,
    /// The e-form's JSON Schema; empty for the generic form.
    pub form: String,
    pub steps: Vec<StepEdit>,
}

#[derive(Debug, Clone, Default)]
pub struct StepEdit {
    pub name_vi: String,
    pub name_en: String,
    pub role: String,
    /// A level code, or empty for the agency that holds the dossier.
    pub level: String,
    pub share: String,
}

/// A stored version, as the editor shows it.
#[derive(Debug, Clone)]
pub struct ProcedureEditor {
    pub edit: ProcedureEdit,
    /// Effective dates of the stored versions, oldest first.
    pub versions: Vec<NaiveDate>,
    pub shown: NaiveDate,
}

/// The checked result: what would be stored.
struct Checked {
    procedure: Procedure,
    design: ServiceDesign,
}

/// The catalogue is the province's, so its editor is a system administrator's (and saving is
/// privileged: an elevation, and an entry in the privileged log).
fn may_edit(actor: &User) -> Result<()> {
    if actor.role == Role::SystemAdmin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only system administrators edit the catalogue".into(),
        ))
    }
}

/// The processing time and fee a procedure states first (online before other channels).
fn headline(p: &Procedure) -> (Option<f64>, Option<i64>) {
    let time = p
        .channels
        .iter()
        .filter(|c| c.channel == Channel::Online)
        .chain(p.channels.iter())
        .flat_map(|c| &c.times)
        .next();
    (
        time.and_then(|t| t.amount),
        time.and_then(|t| t.fees.first()).map(|f| f.amount_vnd),
    )
}

impl ProcedureEdit {
    /// The form filled from a stored version and the design it is served with.
    pub fn from_version(p: &Procedure, design: &ServiceDesign) -> Self {
        let (days, fee) = headline(p);
        Self {
            code: p.code.to_string(),
            name: p.name.clone(),
            effective_from: p.effective_from.to_string(),
            sector: p
                .sectors
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            levels: p.levels.clone(),
            online: p.online.code().to_owned(),
            agency: p.agencies.join("; "),
            days: days.map(|d| d.to_string()).unwrap_or_default(),
            fee: fee.map(|f| f.to_string()).unwrap_or_default(),
            documents: design
                .documents
                .iter()
                .map(|d| {
                    if d.required || is_conditional(&d.name) {
                        d.name.clone()
                    } else {
                        format!("{} {OPTIONAL_MARK}", d.name)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            results: p.results.join("\n"),
            form: serde_json::to_string_pretty(&design.form).unwrap_or_default(),
            steps: design
                .steps
                .iter()
                .map(|s| StepEdit {
                    name_vi: s.name_vi.clone(),
                    name_en: s.name_en.clone(),
                    role: s.role.code().to_owned(),
                    level: s.level.clone().unwrap_or_default(),
                    share: s.share.to_string(),
                })
                .collect(),
        }
    }
}

/// A day as a date input sends it, or as people in Vietnam write it.
pub(crate) fn parse_day(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// Lines with their surrounding space trimmed, empty ones left out.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The e-form of the editor: the generic one when the text is empty.
pub fn form_of(text: &str) -> std::result::Result<serde_json::Value, InvalidField> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(text).map_err(|e| {
        InvalidField::bilingual(
            "form",
            format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
            format!(
                "không phải JSON hợp lệ: dòng {}, cột {}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The e-form drawn from the editor's schema text, for the preview.
pub fn form_preview(edit: &ProcedureEdit) -> Result<FormSchema> {
    let form = match form_of(&edit.form).map_err(|e| AppError::Invalid(vec![e]))? {
        serde_json::Value::Null => domain::service::generic_schema(),
        form => form,
    };
    FormSchema::compile(&form).map_err(|e| {
        AppError::Invalid(vec![InvalidField::bilingual(
            "form",
            format!("not a valid JSON Schema: {e}"),
            format!("không phải JSON Schema hợp lệ: {e}"),
        )])
    })
}

fn steps_of(
    edit: &ProcedureEdit,
    levels: &[String],
    errors: &mut Vec<InvalidField>,
) -> Vec<WorkflowStep> {
    let mut steps = Vec::new();
    for (i, s) in edit.steps.iter().enumerate() {
        if s.name_vi.trim().is_empty() && s.share.trim().is_empty() {
            continue; // an empty row of the form
        }
        let field = |part: &str| format!("steps.{i}.{part}");
        if s.name_vi.trim().is_empty() {
            errors.push(InvalidField::bilingual(
                field("name_vi"),
                format!("step {}: give the step's name", i + 1),
                format!("bước {}: nhập tên bước", i + 1),
            ));
        }
        let role =
            Role::from_code(s.role.trim()).filter(|r| matches!(r, Role::Handler | Role::Approver));
        if role.is_none() {
            errors.push(InvalidField::bilingual(
                field("role"),
                format!("step {}: choose a handler or an approver", i + 1),
                format!(
                    "bước {}: chọn chuyên viên xử lý hoặc lãnh đạo phê duyệt",
                    i + 1
                ),
            ));
        }
        let level = Some(s.level.trim().to_owned()).filter(|l| !l.is_empty());
        if let Some(l) = &level
            && !levels.contains(l)
        {
            errors.push(InvalidField::bilingual(
                field("level"),
                format!("step {}: no level '{l}'", i + 1),
                format!("bước {}: không có cấp '{l}'", i + 1),
            ));
        }
        let share = s
            .share
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|s| (1..=100).contains(s));
        if share.is_none() {
            errors.push(InvalidField::bilingual(
                field("share"),
                format!(
                    "step {}: give its share of the time as a whole percent from 1 to 100",
                    i + 1
                ),
                format!(
                    "bước {}: nhập tỷ lệ thời gian là số nguyên từ 1 đến 100",
                    i + 1
                ),
            ));
        }
        steps.push(WorkflowStep {
            name_vi: s.name_vi.trim().to_owned(),
            name_en: Some(s.name_en.trim())
                .filter(|n| !n.is_empty())
                .unwrap_or(s.name_vi.trim())
                .to_owned(),
            role: role.unwrap_or(Role::Handler),
            level,
            share: share.unwrap_or(0),
        });
    }
    steps
}

impl App {
    /// The editor's form for a stored version (the one in force on `version`, else today).
    pub async fn procedure_editor(
        &self,
        actor: &User,
        code: &str,
        version: Option<NaiveDate>,
    ) -> Result<ProcedureEditor> {
        may_edit(actor)?;
        let not_found = || AppError::NotFound {
            what: "procedure",
            id: code.to_owned(),
        };
        let code = ProcedureCode::parse(code).map_err(|_| not_found())?;
        let procedure = self
            .store
            .procedure(&code, version.unwrap_or_else(crate::today))
            .await?
            .ok_or_else(not_found)?;
        let served = self.served(&procedure).await?;
        Ok(ProcedureEditor {
            edit: ProcedureEdit::from_version(&procedure, &served.design),
            versions: self.store.procedure_versions(&code).await?,
            shown: procedure.effective_from,
        })
    }

    /// Checks an edit whole; every problem is named by its field.
    async fn check_edit(&self, edit: &ProcedureEdit, new: bool) -> Result<Checked> {
        let mut errors = Vec::new();
        let code = match ProcedureCode::parse(&edit.code) {
            Ok(code) => Some(code),
            Err(_) => {
                errors.push(InvalidField::bilingual(
                    "code",
                    "give a procedure code of letters, digits, dots and hyphens (e.g. 1.001193)",
                    "nhập mã thủ tục gồm chữ, số, dấu chấm và gạch ngang (ví dụ 1.001193)",
                ));
                None
            }
        };
        let versions = match &code {
            Some(code) => self.store.procedure_versions(code).await?,
            None => Vec::new(),
        };
        if new && !versions.is_empty() {
            errors.push(InvalidField::bilingual(
                "code",
                "a procedure has this code already: open it to add a version",
                "mã này đã có thủ tục: mở thủ tục đó để thêm phiên bản",
            ));
        }
        if !new && code.is_some() && versions.is_empty() {
            return Err(AppError::NotFound {
                what: "procedure",
                id: edit.code.clone(),
            });
        }
        let name = edit.name.trim();
        if name.is_empty() || name.chars().count() > 500 {
            errors.push(InvalidField::bilingual(
                "name",
                "give the procedure's name (at most 500 characters)",
                "nhập tên thủ tục (tối đa 500 ký tự)",
            ));
        }
        let effective_from = parse_day(&edit.effective_from);
        if effective_from.is_none() {
            errors.push(InvalidField::bilingual(
                "effective_from",
                "give the day it takes effect, as dd/mm/yyyy",
                "nhập ngày có hiệu lực theo dạng ngày/tháng/năm",
            ));
        }
        if edit.sector.trim().is_empty() {
            errors.push(InvalidField::bilingual(
                "sector",
                "give the sector (lĩnh vực)",
                "nhập lĩnh vực",
            ));
        }
        let known: Vec<String> = self
            .lookups()
            .levels
            .iter()
            .map(|l| l.code.clone())
            .collect();
        if edit.levels.is_empty() || edit.levels.iter().any(|l| !known.contains(l)) {
            errors.push(InvalidField::bilingual(
                "levels",
                "choose at least one level that carries it out",
                "chọn ít nhất một cấp thực hiện",
            ));
        }
        let online = OnlineService::from_code(edit.online.trim());
        if online.is_none() {
            errors.push(InvalidField::bilingual(
                "online",
                "choose how far it is offered online",
                "chọn mức độ cung cấp trực tuyến",
            ));
        }
        let days = edit
            .days
            .trim()
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|d| *d > 0.0 && *d <= 365.0);
        if days.is_none() {
            errors.push(InvalidField::bilingual(
                "days",
                "give the processing time in working days, more than 0 and at most 365",
                "nhập thời hạn giải quyết bằng số ngày làm việc, lớn hơn 0 và không quá 365",
            ));
        }
        let fee_text: String = edit
            .fee
            .trim()
            .chars()
            .filter(|c| !matches!(c, '.' | ' '))
            .collect();
        let fee = if fee_text.is_empty() {
            Some(0)
        } else {
            fee_text
                .parse::<i64>()
                .ok()
                .filter(|f| (0..=1_000_000_000).contains(f))
        };
        if fee.is_none() {
            errors.push(InvalidField::bilingual(
                "fee",
                "give the fee as a whole number of đồng (0 or empty for none)",
                "nhập lệ phí bằng số đồng (để trống hoặc 0 nếu không thu)",
            ));
        }
        let documents: Vec<DocumentRequirement> = lines(&edit.documents)
            .into_iter()
            .map(|line| match line.strip_suffix(OPTIONAL_MARK) {
                Some(name) if !is_conditional(name) => DocumentRequirement {
                    name: name.trim().to_owned(),
                    required: false,
                },
                _ => DocumentRequirement {
                    required: !is_conditional(&line),
                    name: line,
                },
            })
            .collect();
        if documents
            .iter()
            .any(|d| d.name.is_empty() || d.name.chars().count() > 300)
        {
            errors.push(InvalidField::bilingual(
                "documents",
                "each document is a line of at most 300 characters",
                "mỗi giấy tờ là một dòng, tối đa 300 ký tự",
            ));
        }
        let form = form_of(&edit.form)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let steps = steps_of(edit, &known, &mut errors);

        let (Some(code), Some(effective_from)) = (code, effective_from) else {
            return Err(AppError::Invalid(errors));
        };
        let base = if new {
            None
        } else {
            self.store.procedure(&code, effective_from).await?
        };
        let mut procedure = base.clone().unwrap_or_else(|| Procedure {
            code: code.clone(),
            name: String::new(),
            effective_from,
            in_force: Some(true),
            sectors: Vec::new(),
            levels: Vec::new(),
            online: OnlineService::None,
            group: None,
            steps: Vec::new(),
            channels: Vec::new(),
            documents: Vec::new(),
            legal_basis: Vec::new(),
            target_groups: Vec::new(),
            conditions: None,
            results: Vec::new(),
            agencies: Vec::new(),
        });
        procedure.name = name.to_owned();
        procedure.effective_from = effective_from;
        if procedure.sectors.first().map(|s| s.name.as_str()) != Some(edit.sector.trim()) {
            procedure.sectors = vec![Sector {
                code: None,
                name: edit.sector.trim().to_owned(),
            }];
        }
        procedure.levels = edit.levels.clone();
        procedure.online = online.unwrap_or(OnlineService::None);
        procedure.agencies = edit
            .agency
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        procedure.results = lines(&edit.results);
        // The catalogue's channels stay as they were unless the time or the fee changed.
        let unchanged = base.as_ref().is_some_and(|b| {
            let (was_days, was_fee) = headline(b);
            was_days == days
                && was_fee.unwrap_or(0) == fee.unwrap_or(0)
                && b.online == procedure.online
        });
        if !unchanged {
            let time = |channel| ChannelOption {
                channel,
                times: vec![ProcessingTime {
                    amount: days,
                    unit: Some(TimeUnit::WorkingDays),
                    description: None,
                    fees: vec![Fee {
                        amount_vnd: fee.unwrap_or(0),
                        description: None,
                    }],
                }],
            };
            // The channels the version had (a new one: in person and by post), with online
            // as its online level says.
            let mut kinds: Vec<Channel> = match &base {
                Some(b) if !b.channels.is_empty() => b.channels.iter().map(|c| c.channel).collect(),
                _ => vec![Channel::InPerson, Channel::Postal],
            };
            kinds.retain(|c| *c != Channel::Online);
            kinds.dedup();
            if procedure.online != OnlineService::None {
                kinds.push(Channel::Online);
            }
            procedure.channels = kinds.into_iter().map(time).collect();
        }
        // The documents as the catalogue lists them follow the editor's list when it changed.
        let listed = |p: &Procedure| {
            p.documents
                .first()
                .map(|g| {
                    g.documents
                        .iter()
                        .map(|d| d.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let typed_names: Vec<String> = documents
            .iter()
            .map(|d| {
                if d.required || is_conditional(&d.name) {
                    d.name.clone()
                } else {
                    format!("{} {OPTIONAL_MARK}", d.name)
                }
            })
            .collect();
        if base.is_some() && listed(&procedure) != typed_names {
            let first = RequiredDocument {
                name: String::new(),
                form_template: None,
                quantity: "01 bản".into(),
            };
            let group = procedure.documents.first().cloned();
            let kept: Vec<RequiredDocument> = typed_names
                .iter()
                .map(|name| {
                    group
                        .as_ref()
                        .and_then(|g| g.documents.iter().find(|d| &d.name == name).cloned())
                        .unwrap_or_else(|| RequiredDocument {
                            name: name.clone(),
                            ..first.clone()
                        })
                })
                .collect();
            match procedure.documents.first_mut() {
                Some(g) => g.documents = kept,
                None => procedure.documents.push(DocumentGroup {
                    case: String::new(),
                    documents: kept,
                }),
            }
        }
        if procedure.documents.is_empty() {
            procedure.documents = vec![DocumentGroup {
                case: String::new(),
                documents: typed_names
                    .iter()
                    .map(|name| RequiredDocument {
                        name: name.clone(),
                        form_template: None,
                        quantity: "01 bản".into(),
                    })
                    .collect(),
            }];
        }
        if procedure.steps.is_empty() {
            procedure.steps = vec![StepGroup {
                case: String::new(),
                steps: std::iter::once("Nộp hồ sơ".to_owned())
                    .chain(steps.iter().map(|s| s.name_vi.clone()))
                    .chain(std::iter::once("Trả kết quả".to_owned()))
                    .collect(),
            }];
        }
        let stored = if new {
            None
        } else {
            self.store.service_design(&code, effective_from).await?
        };
        let design_fees = stored.as_ref().map(|d| d.fees.clone()).unwrap_or_default();
        if !design_fees.is_empty() && !unchanged {
            errors.push(InvalidField::bilingual(
                "fee",
                "this procedure's fees, with their exemptions, are set in its service design: change them with `motcua import services`",
                "lệ phí của thủ tục này (kèm các trường hợp miễn) đặt trong thiết kế dịch vụ: thay đổi bằng `motcua import services`",
            ));
        }
        let design = ServiceDesign {
            form,
            documents,
            steps,
            min_assurance: stored.as_ref().map(|d| d.min_assurance).unwrap_or_default(),
            fees: design_fees,
        };
        if errors
            .iter()
            .all(|e| !e.field.starts_with("steps") && e.field != "form")
            && let Err(e) = design.clone().filled_from(&procedure).validate()
        {
            errors.push(match e {
                DesignError::Form(why) => InvalidField::bilingual(
                    "form",
                    format!("not a valid JSON Schema: {why}"),
                    format!("không phải JSON Schema hợp lệ: {why}"),
                ),
                DesignError::Shares(total) => InvalidField::bilingual(
                    "steps",
                    format!("the steps' shares add up to {total}%, not 100%"),
                    format!("tỷ lệ thời gian của các bước cộng lại là {total}%, chưa đủ 100%"),
                ),
                DesignError::NoSteps => InvalidField::bilingual(
                    "steps",
                    "give at least one step",
                    "nhập ít nhất một bước xử lý",
                ),
                DesignError::Role(..) => InvalidField::bilingual(
                    "steps",
                    "the last step is the approval (an approver); the others are for handlers",
                    "bước cuối là phê duyệt (lãnh đạo phê duyệt); các bước khác do chuyên viên xử lý",
                ),
                DesignError::Fees(field) => InvalidField { field: "fee".into(), ..field },
            });
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(Checked { procedure, design })
    }

    /// Stores a new procedure (`new`) or a version of one: a version with the same effective
    /// day is replaced, a later day adds a version (dossiers keep the version they were
    /// submitted under). Searchable and open for submissions as soon as this returns.
    pub async fn save_procedure(
        &self,
        actor: &User,
        edit: &ProcedureEdit,
        new: bool,
    ) -> Result<(ProcedureCode, NaiveDate)> {
        may_edit(actor)?;
        let Checked { procedure, design } = self.check_edit(edit, new).await?;
        self.privileged(
            actor,
            if new { "procedure_added" } else { "procedure_saved" },
            serde_json::json!({ "procedure": procedure.code.as_str(), "from": procedure.effective_from }),
            false,
        )
        .await?;
        // Both parts were checked above, so only the database can fail between the two writes.
        self.store
            .import_procedures(std::slice::from_ref(&procedure), &|_| {})
            .await?;
        self.put_service_design(
            Some(actor),
            procedure.code.as_str(),
            procedure.effective_from,
            design,
        )
        .await?;
        self.refresh_index().await?;
        tracing::info!(code = %procedure.code, from = %procedure.effective_from, by = %actor.username, new, "procedure saved");
        Ok((procedure.code, procedure.effective_from))
    }

    /// Checks an edit without storing it, for the editor's preview.
    pub async fn check_procedure(
        &self,
        actor: &User,
        edit: &ProcedureEdit,
        new: bool,
    ) -> Result<Procedure> {
        may_edit(actor)?;
        Ok(self.check_edit(edit, new).await?.procedure)
    }
}
