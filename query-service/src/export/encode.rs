//! Encoding leads for export: CSV and XLSX (one row per lead, the columns of
//! [`super::columns`]) and JSON (an array of Lead objects), chunk by chunk.

use super::columns::{cells, header, Cell};
use super::xlsx::XlsxStream;
use bytes::Bytes;
use serde_json::Value;
use shared::lead::view::lead_json;
use shared::lead::Lead;
use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Option<Format> {
        match raw.map(|r| r.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("csv") => Some(Format::Csv),
            Some("json") => Some(Format::Json),
            Some("xlsx") => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Turns pages of leads into the bytes of one document.
pub enum Encoder {
    Csv,
    Json { rows: usize },
    Xlsx(Box<XlsxStream>),
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        match format {
            Format::Csv => Encoder::Csv,
            Format::Json => Encoder::Json { rows: 0 },
            Format::Xlsx => Encoder::Xlsx(Box::new(XlsxStream::new(header()))),
        }
    }

    pub fn start(&mut self) -> io::Result<Bytes> {
        match self {
            Encoder::Csv => {
                let mut w = csv_writer(256);
                w.write_record(header())?;
                Ok(into_bytes(w))
            }
            Encoder::Json { .. } => Ok(Bytes::from_static(b"[")),
            Encoder::Xlsx(x) => x.start(),
        }
    }

    pub fn rows(&mut self, leads: &[Lead]) -> io::Result<Bytes> {
        match self {
            Encoder::Csv => {
                let mut w = csv_writer(leads.len() * 384);
                let mut num = Vec::with_capacity(24);
                for lead in leads {
                    for cell in cells(lead) {
                        match cell {
                            Cell::Text(s) => w.write_field(s)?,
                            Cell::Owned(s) => w.write_field(s)?,
                            Cell::Int(i) => write_num(&mut w, &mut num, i)?,
                            Cell::Num(n) => write_num(&mut w, &mut num, n)?,
                        }
                    }
                    w.write_record(None::<&[u8]>)?;
                }
                Ok(into_bytes(w))
            }
            Encoder::Json { rows } => {
                let mut out = Vec::with_capacity(leads.len() * 512);
                for lead in leads {
                    if *rows > 0 {
                        out.push(b',');
                    }
                    *rows += 1;
                    serde_json::to_writer(&mut out, &Value::Object(lead_json(lead)))?;
                }
                Ok(Bytes::from(out))
            }
            Encoder::Xlsx(x) => x.rows(leads.iter().map(cells)),
        }
    }

    pub fn finish(self) -> io::Result<Bytes> {
        match self {
            Encoder::Csv => Ok(Bytes::new()),
            Encoder::Json { .. } => Ok(Bytes::from_static(b"]")),
            Encoder::Xlsx(x) => x.finish(),
        }
    }
}

fn write_num(
    w: &mut csv::Writer<Vec<u8>>,
    buf: &mut Vec<u8>,
    n: impl std::fmt::Display,
) -> io::Result<()> {
    use std::io::Write;
    buf.clear();
    write!(buf, "{n}")?;
    Ok(w.write_field(&*buf)?)
}

fn csv_writer(capacity: usize) -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::with_capacity(capacity))
}

fn into_bytes(w: csv::Writer<Vec<u8>>) -> Bytes {
    // Flushing into a Vec cannot fail.
    Bytes::from(w.into_inner().unwrap_or_default())
}
