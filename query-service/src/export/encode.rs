//! Encoding leads for export: CSV (one row per lead, a fixed column set) and JSON (an array of
//! Lead objects), chunk by chunk.

use bytes::Bytes;
use serde_json::Value;
use shared::ids::lead_public_id;
use shared::lead::view::lead_json;
use shared::lead::{Field, FieldValue, Lead};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Option<Format> {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("csv") => Some(Format::Csv),
            Some("json") => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// Turns pages of leads into the bytes of one document.
pub struct Encoder {
    format: Format,
    rows: usize,
}

fn csv_header() -> Vec<String> {
    let mut h = vec!["id".to_owned()];
    h.extend(Field::ALL.iter().map(|f| f.name().to_owned()));
    h.extend(
        [
            "score",
            "tags",
            "attributes",
            "created_at",
            "updated_at",
            "last_interaction_at",
        ]
        .map(str::to_owned),
    );
    h
}

fn csv_record(lead: &Lead) -> Vec<String> {
    let mut r = vec![lead_public_id(lead.id)];
    r.extend(Field::ALL.iter().map(|f| match lead.fields.get(f) {
        Some(FieldValue::Text(s)) => s.clone(),
        Some(FieldValue::Integer(i)) => i.to_string(),
        Some(FieldValue::Number(n)) => n.to_string(),
        None if *f == Field::Status => "new".to_owned(),
        None => String::new(),
    }));
    r.push(lead.score.to_string());
    r.push(lead.tags.join(", "));
    r.push(serde_json::to_string(&lead.attributes).unwrap_or_default());
    r.extend([lead.created_at, lead.updated_at, lead.last_interaction_at].map(|t| t.to_string()));
    r
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        Self { format, rows: 0 }
    }

    pub fn start(&mut self) -> Bytes {
        match self.format {
            Format::Csv => self.csv(&[csv_header()]),
            Format::Json => Bytes::from_static(b"["),
        }
    }

    pub fn rows(&mut self, leads: &[Lead]) -> Bytes {
        match self.format {
            Format::Csv => self.csv(&leads.iter().map(csv_record).collect::<Vec<_>>()),
            Format::Json => {
                let mut out = Vec::with_capacity(leads.len() * 512);
                for lead in leads {
                    if self.rows > 0 {
                        out.push(b',');
                    }
                    self.rows += 1;
                    // A map of strings and numbers always serializes.
                    let _ = serde_json::to_writer(&mut out, &Value::Object(lead_json(lead)));
                }
                Bytes::from(out)
            }
        }
    }

    pub fn finish(&mut self) -> Bytes {
        match self.format {
            Format::Csv => Bytes::new(),
            Format::Json => Bytes::from_static(b"]"),
        }
    }

    fn csv(&mut self, records: &[Vec<String>]) -> Bytes {
        let mut w = csv::Writer::from_writer(Vec::with_capacity(records.len() * 256));
        for r in records {
            // Writing to a Vec cannot fail.
            let _ = w.write_record(r);
        }
        Bytes::from(w.into_inner().unwrap_or_default())
    }
}
