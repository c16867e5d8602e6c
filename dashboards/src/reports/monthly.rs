//! A yard's monthly report as PDF: its lots and pens as of the month's end, the head that
//! came, died and shipped in the month, and the feed fed in it with its cost.

use super::ReportError;
use super::layout::{Document, LETTER_LANDSCAPE, Table};

/// What a yard's printed monthly report shows, every figure already formatted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monthly {
    /// The report's title, e.g. "Monthly report: yard-1, 2026-03".
    pub title: String,
    /// Lines under the title: the period, the moment figures are taken at, units.
    pub about: Vec<String>,
    /// The month in figures (measure, value).
    pub summary: Table,
    /// Head movements in the month, by lot.
    pub movements: Table,
    /// Feed fed in the month and its cost, by pen.
    pub feed: Table,
    /// The lots as of the month's end (the lots page's columns).
    pub lots: Table,
    /// The pens as of the month's end (the pens page's columns).
    pub pens: Table,
}

/// The monthly report as a PDF file (landscape, for the lots' many columns).
pub fn render(monthly: &Monthly) -> Result<Vec<u8>, ReportError> {
    let mut doc = Document::new(&monthly.title, LETTER_LANDSCAPE);
    doc.heading(&monthly.title)?;
    for line in &monthly.about {
        doc.line(line)?;
    }
    doc.section("The month in figures")?;
    doc.table(&monthly.summary)?;
    doc.section("Head movements in the month, by lot")?;
    doc.table(&monthly.movements)?;
    doc.section("Feed fed in the month, by pen")?;
    doc.table(&monthly.feed)?;
    doc.section("Lots at the month's end")?;
    doc.table(&monthly.lots)?;
    doc.section("Pens at the month's end")?;
    doc.table(&monthly.pens)?;
    tracing::debug!(title = %monthly.title, pages = doc.page_count(), "monthly report laid out");
    Ok(doc.finish())
}
