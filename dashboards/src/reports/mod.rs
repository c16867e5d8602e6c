//! Printed reports: a lot's closeout and a yard's monthly report as PDF, laid out here from
//! figures the web layer formats exactly as its pages print them (see `web::printed`), so a
//! printed report and the page agree by construction.
//!
//! - [`layout`]: pages, headings, lines and tables that flow onto further pages;
//! - [`font`]: the built-in Helvetica (nothing embedded) and its metrics;
//! - [`month`]: the `?month=YYYY-MM` of the monthly report;
//! - [`closeout`] and [`monthly`]: the two reports.

pub mod closeout;
pub mod font;
pub mod layout;
pub mod month;
pub mod monthly;

pub use layout::{Document, Table};
pub use month::Month;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The `month` asked for is not a month the report can be made for; the message names
    /// the field and says why.
    #[error("{0}")]
    Month(String),
    /// The report would have more than `pages` pages.
    #[error("the report would run past {pages} pages")]
    TooLong {
        /// The most pages a report may have.
        pages: usize,
    },
}
