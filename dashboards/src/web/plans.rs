//! The "Planned shipments" table of the lot page: the lot's plans as corrected
//! ([`crate::queries::plans`]), by planned day.

use maud::{Markup, html};

use crate::facts::rows::date_text;
use crate::queries::plans::PlanStatus;

/// The section: a heading and a table `#shipment-plans` (one row per plan not voided), or a
/// line saying there are none.
pub fn section(plans: &[PlanStatus]) -> Markup {
    html! {
        h2 { "Planned shipments" }
        @if plans.is_empty() {
            p #no-shipment-plans { "No shipment is planned for this lot." }
        } @else {
            table #shipment-plans {
                thead { tr { th { "Date (UTC)" } th { "Head" } th { "Buyer" } th { "Note" } th { "Status" } } }
                tbody {
                    @for p in plans {
                        tr data-plan=(p.plan.event_id) {
                            td.date { (date_text(p.plan.planned_day)) }
                            td.head { (p.plan.head_count)
                                @if !p.plan.eids.is_empty() { " " small { "(" (p.plan.eids.len()) " chosen by tag)" } } }
                            td.buyer { (p.plan.buyer)
                                @if !p.plan.destination.is_empty() { " · " (p.plan.destination) } }
                            td.note { (p.plan.note) }
                            td.status { @if p.shipped_at_ms.is_some() { "shipped" } @else { "planned" } }
                        }
                    }
                }
            }
        }
    }
}
