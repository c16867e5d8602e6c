//! The "Changes" table the animal and lot pages show: the corrections of their records
//! ([`crate::queries::changes`]), oldest first.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::queries::changes::Change;

fn utc(ms: u64) -> String {
    DateTime::<Utc>::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The section: a heading and a table `#changes` (one row per correction), or a line saying
/// there are none.
pub fn section(changes: &[Change]) -> Markup {
    html! {
        h2 { "Changes" }
        @if changes.is_empty() {
            p #no-changes { "No record here has been corrected." }
        } @else {
            table #changes {
                thead { tr { th { "When (UTC)" } th { "Who" } th { "Record" } th { "Action" } th { "Old -> new" } th { "Reason" } } }
                tbody {
                    @for c in changes {
                        tr data-record=(c.record_event_id) data-action=(c.action) {
                            td.when { (utc(c.at_ms)) }
                            td.who { (c.who) }
                            td.record { (c.record_kind) " of " (utc(c.record_at_ms)) " " small { (c.record_event_id) } }
                            td.action { (c.action) }
                            td.change { (c.old_to_new.join("; ")) }
                            td.reason { (c.reason) }
                        }
                    }
                }
            }
        }
    }
}
