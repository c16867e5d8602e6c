//! A lot's closeout (or, while head are on feed, its report to date) as PDF: who the lot is,
//! its measures as the lot page prints them, and its cost per live head by part.

use super::ReportError;
use super::layout::{Document, LETTER, Table};

/// What a lot's printed closeout shows, every figure already formatted as the page prints it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Closeout {
    /// The report's title, e.g. "Closeout: lot L2".
    pub title: String,
    /// Lines under the title: the yard, origin, dates, units.
    pub about: Vec<String>,
    /// The measures table (measure, value), as the lot page's.
    pub measures: Table,
    /// The cost table (part, per live head, lot total).
    pub costs: Table,
}

/// The closeout as a PDF file.
pub fn render(closeout: &Closeout) -> Result<Vec<u8>, ReportError> {
    let mut doc = Document::new(&closeout.title, LETTER);
    doc.heading(&closeout.title)?;
    for line in &closeout.about {
        doc.line(line)?;
    }
    doc.section("Measures")?;
    doc.table(&closeout.measures)?;
    doc.section("Cost per live head")?;
    doc.table(&closeout.costs)?;
    tracing::debug!(title = %closeout.title, pages = doc.page_count(), "closeout laid out");
    Ok(doc.finish())
}
