//! A small page layout over `pdf-writer`: headings, lines of text and tables that flow onto
//! further pages (repeating their header), set in the built-in Helvetica, with a footer naming
//! the report and the page on every page.
//!
//! Every piece of text is its own text object (`BT … ET`), so a PDF text extractor reads one
//! cell or line per line of text, in the order they were laid out. Content streams are left
//! uncompressed (reports are small), and coordinates are taken to the half point.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::ReportError;
use super::font::{Face, width, win_ansi};

/// The most pages a report may have: a bound on the work one request can ask for.
pub const MAX_PAGES: usize = 500;

/// A page size, points (1/72 inch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// US Letter, portrait.
pub const LETTER: PageSize = PageSize {
    width: 612.0,
    height: 792.0,
};

/// US Letter, landscape (for wide tables).
pub const LETTER_LANDSCAPE: PageSize = PageSize {
    width: 792.0,
    height: 612.0,
};

/// The margin on every side, points.
const MARGIN: f32 = 40.0;
/// Room kept at the bottom for the footer, points.
const FOOTER: f32 = 18.0;
/// The body text size, points.
const BODY: f32 = 9.0;
/// The smallest size a wide table is shrunk to, points.
const SMALLEST: f32 = 5.0;
/// Space on each side of a table cell's text, points.
const PAD: f32 = 4.0;

/// A table: a header and rows of text cells. The first column is set left (names), and so is
/// any other column holding text; columns of numbers are set right.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headers.
    pub header: Vec<String>,
    /// Rows, each as many cells as the header.
    pub rows: Vec<Vec<String>>,
}

/// Whether every non-blank one of `cells` is a figure (starts with a digit, a sign or the
/// dash the pages print for a missing number), so that the column is set right.
fn numeric<'a>(cells: impl Iterator<Item = &'a String>) -> bool {
    cells
        .filter_map(|c| c.chars().next())
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '–' | '+'))
}

/// `v` to the half point (so that positions print short).
fn snap(v: f32) -> f32 {
    (v * 2.0).round() / 2.0
}

/// `text` as its own text object on `page`, its baseline starting at (`x`, `y`).
fn draw_text(page: &mut Content, x: f32, y: f32, face: Face, size: f32, text: &str) {
    let encoded = win_ansi(text);
    page.begin_text();
    page.set_font(Name(face.resource()), snap(size * 10.0) / 10.0);
    page.next_line(snap(x), snap(y));
    page.show(Str(&encoded));
    page.end_text();
}

/// A report being laid out, page by page, top to bottom.
pub struct Document {
    title: String,
    size: PageSize,
    pages: Vec<Content>,
    /// The baseline of the next line on the last page, from the bottom.
    y: f32,
}

impl Document {
    /// An empty report titled `title` (the document's title, and its footer) on `size` pages.
    pub fn new(title: &str, size: PageSize) -> Self {
        Self {
            title: title.to_owned(),
            size,
            pages: vec![Content::new()],
            y: size.height - MARGIN,
        }
    }

    /// How many pages so far.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn bottom(&self) -> f32 {
        MARGIN + FOOTER
    }

    fn new_page(&mut self) -> Result<(), ReportError> {
        if self.pages.len() >= MAX_PAGES {
            return Err(ReportError::TooLong { pages: MAX_PAGES });
        }
        self.pages.push(Content::new());
        self.y = self.size.height - MARGIN;
        Ok(())
    }

    /// Makes room for `height` points below the cursor, on a new page if this one is full.
    fn room(&mut self, height: f32) -> Result<(), ReportError> {
        if self.y - height < self.bottom() {
            self.new_page()?;
        }
        Ok(())
    }

    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, text: &str) {
        if let Some(page) = self.pages.last_mut() {
            draw_text(page, x, y, face, size, text);
        }
    }

    fn rule(&mut self, y: f32, length: f32, gray: f32) {
        let (left, right) = (MARGIN, MARGIN + length);
        if let Some(page) = self.pages.last_mut() {
            page.set_stroke_gray(gray);
            page.set_line_width(0.5);
            page.move_to(snap(left), snap(y));
            page.line_to(snap(right), snap(y));
            page.stroke();
        }
    }

    /// The report's heading, large and bold.
    pub fn heading(&mut self, text: &str) -> Result<(), ReportError> {
        let size = 16.0;
        self.room(size * 1.6)?;
        self.y -= size;
        self.text(MARGIN, self.y, Face::Bold, size, text);
        self.y -= size * 0.6;
        Ok(())
    }

    /// A section's title, bold, with space above it; on a new page when fewer than three
    /// lines of body would follow it on this one.
    pub fn section(&mut self, text: &str) -> Result<(), ReportError> {
        let size = 11.5;
        self.room(size * 2.0 + BODY * 1.5 * 3.0)?;
        self.y -= size * 1.4;
        self.text(MARGIN, self.y, Face::Bold, size, text);
        self.y -= size * 0.6;
        Ok(())
    }

    /// A line of body text.
    pub fn line(&mut self, text: &str) -> Result<(), ReportError> {
        self.room(BODY * 1.5)?;
        self.y -= BODY * 1.4;
        self.text(MARGIN, self.y, Face::Regular, BODY, text);
        Ok(())
    }

    /// The natural column widths of `table` at `size`, points.
    fn widths(table: &Table, size: f32) -> Vec<f32> {
        (0..table.header.len())
            .map(|i| {
                let cells = table
                    .rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|cell| width(cell, Face::Regular, size));
                cells
                    .fold(width(&table.header[i], Face::Bold, size), f32::max)
                    .max(size)
                    + 2.0 * PAD
            })
            .collect()
    }

    /// `table`, its header on top, at the body size or, when it is wider than the page, as
    /// small as it takes to fit (down to a floor). Rows that do not fit on this page go on
    /// the next, under the header again.
    pub fn table(&mut self, table: &Table) -> Result<(), ReportError> {
        let available = self.size.width - 2.0 * MARGIN;
        let mut size = BODY;
        let natural: f32 = Self::widths(table, size).iter().sum();
        if natural > available {
            let pads = 2.0 * PAD * table.header.len() as f32;
            size = (BODY * (available - pads) / (natural - pads)).max(SMALLEST);
        }
        let widths = Self::widths(table, size);
        let length: f32 = widths.iter().sum();
        let right: Vec<bool> = (0..table.header.len())
            .map(|i| i > 0 && numeric(table.rows.iter().filter_map(|row| row.get(i))))
            .collect();
        let row_height = size * 1.6;
        let draw_header = |doc: &mut Self| {
            doc.y -= row_height;
            doc.row(&table.header, &widths, &right, Face::Bold, size);
            doc.rule(doc.y - size * 0.5, length, 0.3);
        };
        self.room(row_height * 2.5)?;
        draw_header(self);
        for row in &table.rows {
            if self.y - row_height < self.bottom() {
                self.new_page()?;
                draw_header(self);
            }
            self.y -= row_height;
            self.row(row, &widths, &right, Face::Regular, size);
        }
        self.y -= size * 0.5;
        Ok(())
    }

    /// One row of cells at the cursor, each set right in its column where `right` says so,
    /// else left.
    fn row(&mut self, cells: &[String], widths: &[f32], right: &[bool], face: Face, size: f32) {
        let mut x = MARGIN;
        for (i, (cell, column)) in cells.iter().zip(widths).enumerate() {
            let at = if right.get(i).copied().unwrap_or(false) {
                x + column - PAD - width(cell, face, size)
            } else {
                x + PAD
            };
            if !cell.is_empty() {
                self.text(at, self.y, face, size, cell);
            }
            x += column;
        }
    }

    /// The PDF: every page with its footer ("title · page n of m"), the built-in Helvetica
    /// faces, and the title in the document's information.
    pub fn finish(self) -> Vec<u8> {
        let total = self.pages.len();
        let pages = self.pages;
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first = 6;
        let page_ref = |i: usize| Ref::new(first + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(first + 2 * i as i32 + 1);
        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids((0..total).map(page_ref))
            .count(total as i32);
        for (i, mut content) in pages.into_iter().enumerate() {
            let footer = format!("{} · page {} of {total}", self.title, i + 1);
            draw_text(&mut content, MARGIN, MARGIN, Face::Regular, 7.0, &footer);
            let mut page = pdf.page(page_ref(i));
            page.media_box(Rect::new(0.0, 0.0, self.size.width, self.size.height));
            page.parent(tree);
            page.contents(content_ref(i));
            page.resources()
                .fonts()
                .pair(Name(Face::Regular.resource()), regular)
                .pair(Name(Face::Bold.resource()), bold);
            page.finish();
            pdf.stream(content_ref(i), &content.finish());
        }
        for (id, face) in [(regular, Face::Regular), (bold, Face::Bold)] {
            pdf.type1_font(id)
                .base_font(Name(face.base_font()))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("feedlot dashboards"));
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The text of every page of `pdf`, a line per text object.
    pub(crate) fn text_of(pdf: &[u8]) -> Vec<String> {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        pages
            .iter()
            .map(|p| doc.extract_text(&[*p]).unwrap())
            .collect()
    }

    #[test]
    fn a_long_table_flows_onto_further_pages_under_its_header_again() {
        let mut doc = Document::new("Flow test", LETTER);
        doc.heading("Many rows").unwrap();
        let table = Table {
            header: vec!["Pen".into(), "Head".into()],
            rows: (0..200)
                .map(|i| vec![format!("P{i}"), format!("{}", i * 3)])
                .collect(),
        };
        doc.table(&table).unwrap();
        doc.line("After the table – the end").unwrap();
        let pages = text_of(&doc.finish());
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let mut rows = 0;
        for (i, page) in pages.iter().enumerate() {
            let lines: Vec<&str> = page.lines().collect();
            let head = if i == 0 { 1 } else { 0 };
            assert_eq!(lines[head..head + 2], ["Pen", "Head"], "page {}", i + 1);
            assert_eq!(
                lines.last().copied(),
                Some(format!("Flow test · page {} of {}", i + 1, pages.len()).as_str())
            );
            rows += lines
                .iter()
                .filter(|l| l.starts_with('P') && *l != &"Pen")
                .count();
        }
        assert_eq!(rows, 200, "every row once");
        assert!(pages[0].starts_with("Many rows\n"));
        assert!(
            pages
                .last()
                .unwrap()
                .contains("P199\n597\nAfter the table – the end\n")
        );
    }

    #[test]
    fn a_wide_table_is_shrunk_to_the_page_and_the_page_count_is_bounded() {
        let mut doc = Document::new("Wide", LETTER);
        let table = Table {
            header: (0..30).map(|i| format!("Column number {i}")).collect(),
            rows: vec![(0..30).map(|i| format!("{i}")).collect()],
        };
        doc.table(&table).unwrap();
        assert!(text_of(&doc.finish())[0].contains("Column number 29\n"));
        let mut doc = Document::new("Endless", LETTER);
        let endless = Table {
            header: vec!["n".into()],
            rows: (0..MAX_PAGES * 60).map(|i| vec![i.to_string()]).collect(),
        };
        assert!(matches!(
            doc.table(&endless),
            Err(ReportError::TooLong { pages: MAX_PAGES })
        ));
    }
}
