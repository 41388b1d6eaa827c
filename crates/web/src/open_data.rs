//! Open data at stable addresses under `/open-data/`: the procedure catalogue and monthly
//! statistics as CSV and JSON, described by a Frictionless Data Package
//! (`datapackage.json`) and a DCAT-AP catalogue (`catalog.jsonld`). Each table is built once
//! with its schema, so the CSV, the JSON and the descriptions cannot disagree.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use documents::{Cell, DataTable};
use serde_json::{Value, json};

use crate::AppState;
use crate::i18n::Lang;
use crate::pages::{PageError, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open-data", get(index))
        .route("/open-data/", get(index))
        .route("/open-data/datapackage.json", get(datapackage))
        .route("/open-data/catalog.jsonld", get(catalog))
        .route("/open-data/{file}", get(dataset))
        .route("/open-data/statistics/{file}", get(statistics))
}

/// A column: its name, Table Schema type and meaning.
struct Field {
    name: &'static str,
    kind: &'static str,
    description: &'static str,
}

/// One published table: where it lives, what it holds, and its columns.
struct Dataset {
    /// The path under `/open-data/` without the extension.
    path: String,
    name: String,
    title: String,
    description: String,
    fields: Vec<Field>,
    primary_key: Vec<&'static str>,
}

const PROCEDURE_FIELDS: [Field; 8] = [
    Field {
        name: "code",
        kind: "string",
        description: "Mã thủ tục hành chính (procedure code)",
    },
    Field {
        name: "name",
        kind: "string",
        description: "Tên thủ tục (name)",
    },
    Field {
        name: "sectors",
        kind: "string",
        description: "Lĩnh vực, cách nhau bởi '; ' (sectors)",
    },
    Field {
        name: "levels",
        kind: "string",
        description: "Cấp thực hiện, cách nhau bởi '; ' (levels: central, province, commune)",
    },
    Field {
        name: "online",
        kind: "string",
        description: "Dịch vụ công trực tuyến: full, partial, none",
    },
    Field {
        name: "fee_min",
        kind: "integer",
        description: "Phí, lệ phí thấp nhất, đồng (lowest fee, VND)",
    },
    Field {
        name: "fee_max",
        kind: "integer",
        description: "Phí, lệ phí cao nhất, đồng (highest fee, VND)",
    },
    Field {
        name: "url",
        kind: "string",
        description: "Trang thủ tục trên cổng (the procedure's page)",
    },
];

/// The count columns of the statistics, matching [`app::OPEN_METRICS`].
const COUNT_FIELDS: [Field; 10] = [
    Field {
        name: "received",
        kind: "integer",
        description: "Hồ sơ tiếp nhận (received)",
    },
    Field {
        name: "received_online",
        kind: "integer",
        description: "Hồ sơ tiếp nhận nộp trực tuyến (received, submitted online)",
    },
    Field {
        name: "resolved_early",
        kind: "integer",
        description: "Giải quyết trước hạn (resolved early)",
    },
    Field {
        name: "resolved_on_time",
        kind: "integer",
        description: "Giải quyết đúng hạn (resolved on time)",
    },
    Field {
        name: "resolved_late",
        kind: "integer",
        description: "Giải quyết trễ hạn (resolved late)",
    },
    Field {
        name: "refused",
        kind: "integer",
        description: "Không tiếp nhận (refused)",
    },
    Field {
        name: "withdrawn",
        kind: "integer",
        description: "Công dân rút hồ sơ (withdrawn)",
    },
    Field {
        name: "returned",
        kind: "integer",
        description: "Đã trả kết quả (result returned)",
    },
    Field {
        name: "rated_satisfied",
        kind: "integer",
        description: "Đánh giá hài lòng (rated satisfied)",
    },
    Field {
        name: "rated_dissatisfied",
        kind: "integer",
        description: "Đánh giá không hài lòng (rated dissatisfied)",
    },
];

fn procedures_dataset() -> Dataset {
    Dataset {
        path: "procedures".into(),
        name: "procedures".into(),
        title: "Danh mục thủ tục hành chính (procedure catalogue)".into(),
        description: "Every administrative procedure in force: code, name, sectors, levels, \
                      online service and fees."
            .into(),
        fields: PROCEDURE_FIELDS.into_iter().collect(),
        primary_key: vec!["code"],
    }
}

fn statistics_dataset(by_procedure: bool, year: i32, suppress_below: i64) -> Dataset {
    let (what, key, key_description, extra): (_, _, _, Vec<Field>) = if by_procedure {
        (
            "procedures",
            "procedure_code",
            "Mã thủ tục (procedure code)",
            vec![Field {
                name: "procedure_name",
                kind: "string",
                description: "Tên thủ tục (procedure name)",
            }],
        )
    } else {
        (
            "agencies",
            "agency_code",
            "Mã cơ quan (agency code)",
            vec![
                Field {
                    name: "agency_name",
                    kind: "string",
                    description: "Tên cơ quan (agency name)",
                },
                Field {
                    name: "level",
                    kind: "string",
                    description: "Cấp (level: central, province, commune)",
                },
            ],
        )
    };
    let mut fields = vec![
        Field {
            name: "month",
            kind: "string",
            description: "Tháng, YYYY-MM, giờ Việt Nam (month, Vietnam time)",
        },
        Field {
            name: key,
            kind: "string",
            description: key_description,
        },
    ];
    fields.extend(extra);
    fields.extend(COUNT_FIELDS);
    let detail = if by_procedure {
        "every row"
    } else {
        "commune rows"
    };
    Dataset {
        path: format!("statistics/{what}-{year}"),
        name: format!("statistics-{what}-{year}"),
        title: format!("Thống kê hồ sơ theo tháng và {what} {year} (dossiers by month, {year})"),
        description: format!(
            "Dossiers received and resolved per month and {} in {year}, from the counters the \
             dossier events keep. Counts from 1 to {} in {detail} are left empty to protect \
             privacy.",
            if by_procedure { "procedure" } else { "agency" },
            suppress_below - 1
        ),
        fields,
        primary_key: vec!["month", key],
    }
}

/// The datasets published now: the catalogue and two statistics tables per year.
async fn datasets(state: &AppState) -> Result<Vec<Dataset>, app::AppError> {
    let settings = state.app.open_data_settings();
    let mut all = vec![procedures_dataset()];
    for year in state.app.open_data_years().await? {
        for by_procedure in [false, true] {
            all.push(statistics_dataset(
                by_procedure,
                year,
                settings.suppress_below,
            ));
        }
    }
    Ok(all)
}

async fn procedures_table(state: &AppState, base: &str) -> Result<DataTable, app::AppError> {
    let hits = state.app.all_procedures()?;
    let fee = |f: Option<i64>| f.map_or(Cell::Empty, Cell::Count);
    Ok(DataTable {
        title: "procedures".into(),
        headers: PROCEDURE_FIELDS
            .iter()
            .map(|f| f.name.to_string())
            .collect(),
        rows: hits
            .into_iter()
            .map(|h| {
                let url = format!("{base}/procedures/{}", h.code);
                vec![
                    Cell::Text(h.code),
                    Cell::Text(h.name),
                    Cell::Text(h.card.sectors.join("; ")),
                    Cell::Text(h.card.levels.join("; ")),
                    Cell::Text(h.card.online.code().into()),
                    fee(h.card.fee_range.map(|r| r.0)),
                    fee(h.card.fee_range.map(|r| r.1)),
                    Cell::Text(url),
                ]
            })
            .collect(),
    })
}

async fn statistics_table(
    state: &AppState,
    year: i32,
    by_procedure: bool,
) -> Result<DataTable, app::AppError> {
    let dataset = statistics_dataset(
        by_procedure,
        year,
        state.app.open_data_settings().suppress_below,
    );
    let rows = state.app.open_statistics(year, by_procedure).await?;
    Ok(DataTable {
        title: dataset.name,
        headers: dataset.fields.iter().map(|f| f.name.to_string()).collect(),
        rows: rows
            .into_iter()
            .map(|r| {
                let mut cells = vec![Cell::Text(r.month), Cell::Text(r.code), Cell::Text(r.name)];
                if !by_procedure {
                    cells.push(Cell::Text(r.level));
                }
                cells.extend(
                    r.counts
                        .into_iter()
                        .map(|c| c.map_or(Cell::Empty, Cell::Count)),
                );
                cells
            })
            .collect(),
    })
}

/// The table as a JSON array of objects: numbers as numbers, withheld or missing as null.
fn to_json(table: &DataTable) -> Value {
    Value::Array(
        table
            .rows
            .iter()
            .map(|row| {
                let object = table
                    .headers
                    .iter()
                    .zip(row)
                    .map(|(h, cell)| {
                        let value = match cell {
                            Cell::Text(t) => Value::from(t.as_str()),
                            Cell::Count(n) => Value::from(*n),
                            Cell::Percent(p) => Value::from(*p),
                            Cell::Empty => Value::Null,
                        };
                        (h.clone(), value)
                    })
                    .collect();
                Value::Object(object)
            })
            .collect(),
    )
}

fn send(table: &DataTable, format: &str, lang: Lang) -> Result<Response, PageError> {
    match format {
        "csv" => {
            let bytes = documents::to_csv(table, false)
                .map_err(|e| PageError::new(lang, app::AppError::Internal(e.to_string())))?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
        }
        _ => Ok((
            [(header::CONTENT_TYPE, "application/json")],
            to_json(table).to_string(),
        )
            .into_response()),
    }
}

fn not_found(lang: Lang, file: &str) -> PageError {
    PageError::new(
        lang,
        app::AppError::NotFound {
            what: "open data file",
            id: file.to_string(),
        },
    )
}

/// `procedures.csv` or `procedures.json`.
async fn dataset(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let format = match file.as_str() {
        "procedures.csv" => "csv",
        "procedures.json" => "json",
        _ => return Err(not_found(lang, &file)),
    };
    let table = procedures_table(&state, &crate::desk::base_url(&headers))
        .await
        .map_err(|e| PageError::new(lang, e))?;
    send(&table, format, lang)
}

/// `agencies-YYYY.csv|json` or `procedures-YYYY.csv|json`.
async fn statistics(
    State(state): State<AppState>,
    lang: Lang,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let parsed = file.rsplit_once('.').and_then(|(stem, format)| {
        let (what, year) = stem.rsplit_once('-')?;
        let year: i32 = year.parse().ok()?;
        let by_procedure = match what {
            "agencies" => false,
            "procedures" => true,
            _ => return None,
        };
        matches!(format, "csv" | "json").then_some((by_procedure, year, format))
    });
    let Some((by_procedure, year, format)) = parsed else {
        return Err(not_found(lang, &file));
    };
    let years = state
        .app
        .open_data_years()
        .await
        .map_err(|e| PageError::new(lang, e))?;
    if !years.contains(&year) {
        return Err(not_found(lang, &file));
    }
    let table = statistics_table(&state, year, by_procedure)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    send(&table, format, lang)
}

fn licence(state: &AppState) -> Value {
    let s = state.app.open_data_settings();
    json!({"name": s.licence_id, "title": s.licence_title, "path": s.licence_url})
}

/// The Frictionless Data Package describing every CSV file.
async fn datapackage(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let all = datasets(&state)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let resources: Vec<Value> = all
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "path": format!("{}.csv", d.path),
                "title": d.title,
                "description": d.description,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": d.fields.iter().map(|f| json!({
                        "name": f.name, "type": f.kind, "description": f.description,
                    })).collect::<Vec<_>>(),
                    "primaryKey": d.primary_key,
                    "missingValues": [""],
                },
            })
        })
        .collect();
    let package = json!({
        "profile": "tabular-data-package",
        "name": "motcua-open-data",
        "title": "Dữ liệu mở motcua: thủ tục hành chính và thống kê hồ sơ",
        "description": "The administrative procedure catalogue and monthly dossier statistics \
                        published by this motcua portal.",
        "licenses": [licence(&state)],
        "created": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "resources": resources,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        package.to_string(),
    )
        .into_response())
}

/// The DCAT-AP catalogue: each dataset with its CSV and JSON distributions.
async fn catalog(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let all = datasets(&state)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let base = format!("{}/open-data", crate::desk::base_url(&headers));
    let licence_url = state.app.open_data_settings().licence_url.clone();
    let publisher = json!({"@type": "foaf:Agent", "foaf:name": "motcua"});
    let media = |format: &str| match format {
        "csv" => "http://www.iana.org/assignments/media-types/text/csv",
        _ => "http://www.iana.org/assignments/media-types/application/json",
    };
    let datasets: Vec<Value> = all
        .iter()
        .map(|d| {
            let distributions: Vec<Value> = ["csv", "json"]
                .iter()
                .map(|format| {
                    let url = format!("{base}/{}.{format}", d.path);
                    json!({
                        "@id": url,
                        "@type": "dcat:Distribution",
                        "dct:title": format!("{} ({})", d.title, format.to_uppercase()),
                        "dcat:accessURL": {"@id": url},
                        "dcat:downloadURL": {"@id": url},
                        "dcat:mediaType": {"@id": media(format)},
                        "dct:license": {"@id": licence_url},
                    })
                })
                .collect();
            json!({
                "@id": format!("{base}/{}", d.path),
                "@type": "dcat:Dataset",
                "dct:identifier": d.name,
                "dct:title": {"@value": d.title, "@language": "vi"},
                "dct:description": {"@value": d.description, "@language": "en"},
                "dct:publisher": publisher,
                "dct:license": {"@id": licence_url},
                "dcat:keyword": ["thủ tục hành chính", "dịch vụ công", "một cửa"],
                "dcat:distribution": distributions,
            })
        })
        .collect();
    let catalogue = json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": format!("{base}/catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": {"@value": "Dữ liệu mở motcua", "@language": "vi"},
        "dct:description": {"@value": "Open data of this motcua portal: the procedure catalogue and dossier statistics.", "@language": "en"},
        "dct:publisher": publisher,
        "dct:license": {"@id": licence_url},
        "dcat:dataset": datasets,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        catalogue.to_string(),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "open_data.html")]
struct OpenDataPage {
    lang: Lang,
    path: String,
    datasets: Vec<Dataset>,
    licence_title: String,
    licence_url: String,
    suppress_below: i64,
}

async fn index(State(state): State<AppState>, lang: Lang) -> Result<Response, PageError> {
    let datasets = datasets(&state)
        .await
        .map_err(|e| PageError::new(lang, e))?;
    let settings = state.app.open_data_settings();
    Ok(render(&OpenDataPage {
        lang,
        path: "/open-data/".into(),
        datasets,
        licence_title: settings.licence_title.clone(),
        licence_url: settings.licence_url.clone(),
        suppress_below: settings.suppress_below,
    }))
}
