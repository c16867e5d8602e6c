//! Property tests of the day facts' head counts (issue 12: "head counts balance on every
//! lot-day"): for yards generated at random (lots arriving in one or two loads, lot-level
//! deaths, shipments and pen moves, in any order of capture and sharing pens), every lot-day
//! row holds in = on hand + dead + shipped with nothing below zero, the pens hold each lot's
//! head on hand that day, the day's own counts add up to the totals, the totals are the
//! records', and a build resumed from a kept day end writes the rows of a whole build.

use std::collections::HashMap;

use proptest::prelude::*;

use super::build::{Range, build};
use super::rows::{DAY_MS, LotDayRow, PenDayRow, day_of};
use crate::analytics::records::{
    ArrivalRecord, DeathRecord, MoveRecord, ShipmentRecord, YardRecords,
};

/// 2026-01-01 00:00 UTC, ms.
const T0_MS: u64 = 1_767_225_600_000;

/// What happens to a lot after it arrives.
#[derive(Debug, Clone)]
enum Out {
    /// Head dead, recorded by lot (and pen, when `in_pen`).
    Death { head: u32, in_pen: bool },
    /// Head shipped.
    Ship { head: u32 },
    /// The head in the lot's latest pen (all when `head` is 0) moved to pen `to`.
    Move { head: u32, to: u8 },
}

/// One lot of the generated yard: its loads and what follows, offsets in ms.
#[derive(Debug, Clone)]
struct LotPlan {
    head: u32,
    arrives_ms: u64,
    second_load: Option<(u32, u64)>,
    outs: Vec<(u64, Out)>,
}

fn out() -> impl Strategy<Value = Out> {
    prop_oneof![
        (1..=4_u32, any::<bool>()).prop_map(|(head, in_pen)| Out::Death { head, in_pen }),
        (1..=40_u32).prop_map(|head| Out::Ship { head }),
        (0..=20_u32, 0..6_u8).prop_map(|(head, to)| Out::Move { head, to }),
    ]
}

fn lot_plan() -> impl Strategy<Value = LotPlan> {
    (
        1..=60_u32,
        0..10 * DAY_MS,
        proptest::option::of((1..=30_u32, 1..20 * DAY_MS)),
        proptest::collection::vec((1..60 * DAY_MS, out()), 0..12),
    )
        .prop_map(|(head, arrives_ms, second_load, outs)| LotPlan {
            head,
            arrives_ms,
            second_load,
            outs,
        })
}

/// A generated yard's records (in no particular order) and, per lot, the head that came in,
/// died and shipped by them.
struct Generated {
    records: YardRecords,
    totals: HashMap<String, (u32, u32, u32)>,
}

/// The records of `plans`: outs that would take more head than the lot has left are cut to
/// what it has (and dropped at none), so the records are consistent and nothing may go
/// below zero. Moves go to pens P0-P5, which the lots (each arriving in its own pen Pi) share.
fn records_of(plans: &[LotPlan]) -> Generated {
    let mut records = YardRecords::default();
    let mut totals = HashMap::new();
    for (i, plan) in plans.iter().enumerate() {
        let lot = format!("L{i}");
        let home = format!("P{i}");
        let arrived_ms = T0_MS + plan.arrives_ms;
        let arrival = |head: u32, at_ms: u64| ArrivalRecord {
            lot_id: lot.clone(),
            head_count: head,
            origin: "NE".into(),
            pen_id: home.clone(),
            pay_weight_kg: 300.0 * f64::from(head),
            shrink_pct: 2.0,
            purchase_price_minor: 150_000 * u64::from(head),
            currency: "USD".into(),
            at_ms,
        };
        records.arrivals.push(arrival(plan.head, arrived_ms));
        // Loads and outs in time order, to keep the head count within what is there.
        let mut steps: Vec<(u64, Option<&Out>, u32)> = plan
            .outs
            .iter()
            .map(|(after, out)| (arrived_ms + after, Some(out), 0))
            .collect();
        if let Some((head, after)) = plan.second_load {
            steps.push((arrived_ms + after, None, head));
        }
        steps.sort_by_key(|(at, _, _)| *at);
        let (mut on_hand, mut head_in, mut dead, mut shipped) = (plan.head, plan.head, 0, 0);
        let mut pen = home.clone();
        for (at_ms, out, load) in steps {
            match out {
                None => {
                    records.arrivals.push(arrival(load, at_ms));
                    on_hand += load;
                    head_in += load;
                }
                Some(Out::Death { head, in_pen }) => {
                    let head = (*head).min(on_hand);
                    if head == 0 {
                        continue;
                    }
                    records.deaths.push(DeathRecord {
                        eid: String::new(),
                        lot_id: lot.clone(),
                        pen_id: if *in_pen { pen.clone() } else { String::new() },
                        head_count: head,
                        at_ms,
                    });
                    on_hand -= head;
                    dead += head;
                }
                Some(Out::Ship { head }) => {
                    let head = (*head).min(on_hand);
                    if head == 0 {
                        continue;
                    }
                    records.shipments.push(ShipmentRecord {
                        lot_id: lot.clone(),
                        head_count: head,
                        weight_kg: 600.0 * f64::from(head),
                        price_minor: 200_000 * u64::from(head),
                        eids: Vec::new(),
                        at_ms,
                    });
                    on_hand -= head;
                    shipped += head;
                }
                Some(Out::Move { head, to }) => {
                    let to = format!("P{to}");
                    records.moves.push(MoveRecord {
                        eid: String::new(),
                        lot_id: lot.clone(),
                        head_count: *head,
                        from_pen_id: pen.clone(),
                        to_pen_id: to.clone(),
                        at_ms,
                    });
                    pen = to;
                }
            }
        }
        totals.insert(lot, (head_in, dead, shipped));
    }
    // Captured in any order: the replay orders them.
    records.deaths.reverse();
    records.moves.reverse();
    Generated { records, totals }
}

/// The facts of `records` from their first day through two days after the last.
fn whole_build(
    records: &YardRecords,
    keep: &std::ops::RangeInclusive<u16>,
) -> (super::rows::YardFacts, Vec<super::build::DayEnd>, Range) {
    let last_ms = [
        records.arrivals.iter().map(|r| r.at_ms).max(),
        records.deaths.iter().map(|r| r.at_ms).max(),
        records.shipments.iter().map(|r| r.at_ms).max(),
        records.moves.iter().map(|r| r.at_ms).max(),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(T0_MS);
    let range = Range {
        from_day: 0,
        through_day: day_of(last_ms) + 2,
        stored_until: HashMap::new(),
    };
    let (facts, kept) = build("prop-yard", records, &range, 1, None, keep);
    (facts, kept, range)
}

/// No day end to keep.
fn nothing_kept() -> std::ops::RangeInclusive<u16> {
    std::ops::RangeInclusive::new(1, 0)
}

/// Each lot's head in the pens per day, from the pen rows.
fn head_in_pens(pens: &[PenDayRow]) -> HashMap<(String, u16), i64> {
    let mut held = HashMap::new();
    for row in pens {
        for (lot, head) in row.lots.iter().zip(&row.lot_head) {
            *held.entry((lot.clone(), row.day)).or_insert(0) += head;
        }
    }
    held
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn head_balances_on_every_lot_day_and_the_pens_hold_it(
        plans in proptest::collection::vec(lot_plan(), 1..=4),
    ) {
        let generated = records_of(&plans);
        let (facts, _, _) = whole_build(&generated.records, &nothing_kept());
        prop_assert!(!facts.lots.is_empty());
        let held = head_in_pens(&facts.pens);
        let mut last: HashMap<&str, &LotDayRow> = HashMap::new();
        let mut day_sums: HashMap<&str, (u32, u32, u32)> = HashMap::new();
        for row in &facts.lots {
            prop_assert_eq!(
                i64::from(row.head_in),
                row.head_on_hand + i64::from(row.head_dead) + i64::from(row.head_shipped),
                "in = on hand + dead + shipped: {:?}", row
            );
            prop_assert!(row.head_on_hand >= 0, "{:?}", row);
            let in_pens = held.get(&(row.lot_id.clone(), row.day)).copied().unwrap_or(0);
            prop_assert_eq!(in_pens, row.head_on_hand, "the pens hold lot {} on day {}", row.lot_id, row.day);
            let sums = day_sums.entry(&row.lot_id).or_default();
            sums.0 += row.day_head_in;
            sums.1 += row.day_head_dead;
            sums.2 += row.day_head_shipped;
            last.insert(&row.lot_id, row);
        }
        for ((lot, day), head) in &held {
            if *head != 0 {
                prop_assert!(
                    facts.lots.iter().any(|r| &r.lot_id == lot && r.day == *day),
                    "pens hold {} head of lot {} on day {} without its row", head, lot, day
                );
            }
        }
        for (lot, (head_in, dead, shipped)) in &generated.totals {
            let row = last[lot.as_str()];
            prop_assert_eq!((row.head_in, row.head_dead, row.head_shipped), (*head_in, *dead, *shipped), "lot {}", lot);
            prop_assert_eq!(day_sums[lot.as_str()], (*head_in, *dead, *shipped), "lot {}'s days", lot);
        }
    }

    #[test]
    fn a_build_resumed_from_a_kept_day_end_writes_the_rows_of_a_whole_build(
        plans in proptest::collection::vec(lot_plan(), 1..=4),
        cut in 0..40_u16,
    ) {
        let generated = records_of(&plans);
        let first_day = day_of(T0_MS);
        let kept_day = first_day + cut;
        let (whole, kept, range) = whole_build(&generated.records, &(kept_day..=kept_day));
        let Some(start) = kept.into_iter().next() else {
            // The records begin after that day: nothing to resume from.
            return Ok(());
        };
        let after_ms = u64::from(kept_day + 1) * DAY_MS;
        let mut later = generated.records.clone();
        later.arrivals.retain(|r| r.at_ms >= after_ms);
        later.deaths.retain(|r| r.at_ms >= after_ms);
        later.shipments.retain(|r| r.at_ms >= after_ms);
        later.moves.retain(|r| r.at_ms >= after_ms);
        let (resumed, _) = build("prop-yard", &later, &range, 1, Some(start), &nothing_kept());
        let after = |rows: &[LotDayRow]| -> Vec<LotDayRow> {
            rows.iter().filter(|r| r.day > kept_day).cloned().collect()
        };
        prop_assert_eq!(after(&resumed.lots), after(&whole.lots));
        let pens_after = |rows: &[PenDayRow]| -> Vec<PenDayRow> {
            rows.iter().filter(|r| r.day > kept_day).cloned().collect()
        };
        prop_assert_eq!(pens_after(&resumed.pens), pens_after(&whole.pens));
    }
}
