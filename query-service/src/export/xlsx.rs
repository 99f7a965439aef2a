//! A streamed XLSX workbook: the ZIP container is written with data descriptors (no seeking),
//! sheets come first and hold inline strings (no shared-string table to keep in memory), and
//! the workbook parts that list the sheets are written last, once their number is known.
//! A sheet holds at most Excel's 1,048,576 rows; longer exports continue on further sheets.

use super::columns::Cell;
use bytes::Bytes;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// Rows per sheet, header included (Excel's limit).
const SHEET_ROWS: usize = 1_048_576;
/// Excel's limit on the characters of one cell.
const CELL_CHARS: usize = 32_767;

/// Where the ZIP writer's output collects until the next chunk is taken.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> Bytes {
        self.0
            .lock()
            .map(|mut v| Bytes::from(std::mem::take(&mut *v)))
            .unwrap_or_default()
    }
}

pub struct XlsxStream {
    zip: ZipWriter<StreamWriter<Sink>>,
    sink: Sink,
    header: Vec<&'static str>,
    columns: Vec<String>,
    sheets: usize,
    /// Rows per sheet, header included.
    sheet_rows: usize,
    /// Rows written to the open sheet, header included.
    rows: usize,
    xml: Vec<u8>,
}

fn to_io(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
}

/// `A`, `B`, ... `Z`, `AA`, ...
fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// XML-escapes `s`, dropping the control characters XML 1.0 cannot carry.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    for (i, ch) in s.chars().enumerate() {
        if i >= CELL_CHARS {
            break;
        }
        match ch {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' | '\n' | '\r' => out.push(ch as u8),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

impl XlsxStream {
    pub fn new(header: Vec<&'static str>) -> Self {
        Self::with_sheet_rows(header, SHEET_ROWS)
    }

    fn with_sheet_rows(header: Vec<&'static str>, sheet_rows: usize) -> Self {
        let sink = Sink::default();
        let columns = (0..header.len()).map(column_name).collect();
        Self {
            zip: ZipWriter::new_stream(sink.clone()),
            sink,
            header,
            columns,
            sheets: 0,
            sheet_rows: sheet_rows.max(2),
            rows: 0,
            xml: Vec::with_capacity(64 * 1024),
        }
    }

    /// Opens the first sheet and writes its header row.
    pub fn start(&mut self) -> io::Result<Bytes> {
        self.open_sheet()?;
        Ok(self.sink.take())
    }

    pub fn rows<'a>(&mut self, rows: impl Iterator<Item = Vec<Cell<'a>>>) -> io::Result<Bytes> {
        for cells in rows {
            if self.rows >= self.sheet_rows {
                self.close_sheet()?;
                self.open_sheet()?;
            }
            self.rows += 1;
            self.row(&cells);
        }
        self.flush_xml()?;
        Ok(self.sink.take())
    }

    /// Closes the last sheet and writes the parts that list the sheets, then the ZIP's
    /// central directory.
    pub fn finish(mut self) -> io::Result<Bytes> {
        self.close_sheet()?;
        let sheets = self.sheets;
        let mut content_types = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
        );
        let mut workbook = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#,
        );
        let mut rels = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
        );
        for n in 1..=sheets {
            let name = if n == 1 {
                "Leads".to_owned()
            } else {
                format!("Leads {n}")
            };
            content_types.push_str(&format!(
                r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
            ));
            workbook.push_str(&format!(
                r#"<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>"#
            ));
            rels.push_str(&format!(
                r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
            ));
        }
        content_types.push_str("</Types>");
        workbook.push_str("</sheets></workbook>");
        rels.push_str("</Relationships>");
        let parts = [
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", rels),
            ("[Content_Types].xml", content_types),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                    .to_owned(),
            ),
        ];
        for (path, body) in parts {
            self.zip.start_file(path, options()).map_err(to_io)?;
            self.zip.write_all(body.as_bytes())?;
        }
        self.zip.finish().map_err(to_io)?;
        Ok(self.sink.take())
    }

    fn open_sheet(&mut self) -> io::Result<()> {
        self.sheets += 1;
        self.rows = 1;
        let path = format!("xl/worksheets/sheet{}.xml", self.sheets);
        self.zip.start_file(path, options()).map_err(to_io)?;
        self.xml.extend_from_slice(
            br#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        let header: Vec<Cell> = self.header.iter().map(|h| Cell::Text(h)).collect();
        self.row(&header);
        self.flush_xml()
    }

    fn close_sheet(&mut self) -> io::Result<()> {
        self.xml.extend_from_slice(b"</sheetData></worksheet>");
        self.flush_xml()
    }

    fn flush_xml(&mut self) -> io::Result<()> {
        self.zip.write_all(&self.xml)?;
        self.xml.clear();
        Ok(())
    }

    /// Appends row `self.rows` to the sheet XML. Empty cells are left out.
    fn row(&mut self, cells: &[Cell]) {
        let r = self.rows;
        let out = &mut self.xml;
        out.extend_from_slice(format!("<row r=\"{r}\">").as_bytes());
        for (cell, col) in cells.iter().zip(&self.columns) {
            let text = match cell {
                Cell::Text(s) => Some(*s),
                Cell::Owned(s) => Some(s.as_str()),
                Cell::Int(_) | Cell::Num(_) => None,
            };
            match (cell, text) {
                (_, Some("")) => {}
                (_, Some(s)) => {
                    out.extend_from_slice(
                        format!("<c r=\"{col}{r}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">")
                            .as_bytes(),
                    );
                    escape_into(out, s);
                    out.extend_from_slice(b"</t></is></c>");
                }
                (Cell::Int(i), None) => {
                    out.extend_from_slice(format!("<c r=\"{col}{r}\"><v>{i}</v></c>").as_bytes())
                }
                (Cell::Num(n), None) if n.is_finite() => {
                    out.extend_from_slice(format!("<c r=\"{col}{r}\"><v>{n}</v></c>").as_bytes())
                }
                _ => {}
            }
        }
        out.extend_from_slice(b"</row>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_exports_continue_on_further_sheets_each_with_the_header() {
        use calamine::{Data, Reader};
        let mut x = XlsxStream::with_sheet_rows(vec!["n", "label"], 3);
        let mut bytes = x.start().unwrap().to_vec();
        let rows = (1..=5).map(|i| vec![Cell::Int(i), Cell::Owned(format!("row <{i}>"))]);
        bytes.extend_from_slice(&x.rows(rows).unwrap());
        bytes.extend_from_slice(&x.finish().unwrap());
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["Leads", "Leads 2", "Leads 3"]);
        let mut seen = Vec::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            let mut rows = range.rows();
            assert_eq!(rows.next().unwrap()[0], Data::String("n".into()));
            for row in rows {
                seen.push((row[0].clone(), row[1].to_string()));
            }
        }
        let expected: Vec<(Data, String)> = (1..=5)
            .map(|i| (Data::Float(i as f64), format!("row <{i}>")))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn column_names_follow_excel() {
        let names: Vec<String> = [0, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_name)
            .collect();
        assert_eq!(names, ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        let mut out = Vec::new();
        escape_into(&mut out, "a<b & \"c\"\u{1}\td");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b &amp; &quot;c&quot;\td"
        );
    }
}
