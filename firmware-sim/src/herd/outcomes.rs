//! A simulated yard's records add up to a realistic closeout: death loss, ADG, days on feed,
//! feed conversion, prices and bunk calls within published US finishing ranges
//! (`shared/reference/metrics.md`), computed from the records it emits.

#![allow(clippy::unwrap_used)] // In tests a failed unwrap is a failed test.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemas::{Eid, Event, Sex};

use super::lots::Status;
use super::market::INGREDIENTS;
use super::{Channel, DaySummary, SimEvent, YardConfig, YardSim};

fn run(
    pens: usize,
    head: usize,
    days: u32,
    seed: u64,
) -> (YardSim, Vec<DaySummary>, Vec<SimEvent>) {
    let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let mut yard = YardSim::new(YardConfig::new(pens, head, seed, start));
    let (mut summaries, mut events) = (Vec::new(), Vec::new());
    for _ in 0..days {
        let (s, e) = yard.step();
        summaries.push(s);
        events.extend(e);
    }
    (yard, summaries, events)
}

#[test]
fn every_record_is_valid_in_time_order_and_the_same_seed_repeats_it() {
    let (_, _, events) = run(4, 60, 260, 11);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));
    for e in &events {
        assert!(e.event.validate().is_ok(), "{e:?}");
    }
    let kinds: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e.event.kind().as_str()).collect();
    for kind in [
        "arrival",
        "placement",
        "weighing",
        "treatment",
        "death",
        "pen_move",
        "shipment",
        "ration",
        "feed_purchase",
        "feed_delivery",
        "feed_load",
        "yardage_rate",
    ] {
        assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
    }
    assert_eq!(run(4, 60, 260, 11).2, events);
    assert_ne!(run(4, 60, 260, 12).2, events);
    let envelopes = super::envelopes(&events, "yard-1", "gw-1", 7);
    assert!(envelopes.iter().all(|e| e.validate().is_ok()));
    assert_eq!(envelopes, super::envelopes(&events, "yard-1", "gw-1", 7));
}

/// A big yard over two turns of its pens.
fn big_yard() -> (YardSim, Vec<DaySummary>, Vec<SimEvent>) {
    run(12, 100, 480, 3)
}

#[test]
fn a_big_yard_closes_out_like_us_finishing_cattle() {
    let (yard, _, events) = big_yard();
    let mut placed: BTreeMap<Eid, (NaiveDate, Sex)> = BTreeMap::new();
    let mut in_weight: BTreeMap<Eid, f64> = BTreeMap::new();
    let (mut deaths, mut shipped_head) = (0usize, 0usize);
    let (mut steer_gain, mut steer_days, mut steer_head) = (0.0, 0.0, 0.0);
    for e in &events {
        match &e.event {
            Event::Placement(p) => {
                placed.insert(p.eid.clone(), (e.at.date_naive(), p.sex.unwrap()));
            }
            Event::Weighing(w) => {
                in_weight.entry(w.eid.clone()).or_insert(w.weight.kg());
            }
            Event::Death(_) => deaths += 1,
            Event::Shipment(s) => {
                assert_eq!(s.head_count as usize, s.eids.len());
                shipped_head += s.eids.len();
                if placed[&s.eids[0]].1 == Sex::Steer {
                    let ins: f64 = s.eids.iter().map(|e| in_weight[e]).sum();
                    let days: i64 = s
                        .eids
                        .iter()
                        .map(|eid| (e.at.date_naive() - placed[eid].0).num_days())
                        .sum();
                    steer_gain += s.weight_kg - ins;
                    steer_days += days as f64;
                    steer_head += s.eids.len() as f64;
                }
            }
            _ => {}
        }
    }
    assert!(
        shipped_head > 1000,
        "two turns ship most cattle: {shipped_head}"
    );
    let death_loss = deaths as f64 / placed.len() as f64;
    assert!(
        (0.005..=0.03).contains(&death_loss),
        "death loss {death_loss}"
    );
    let adg = steer_gain / steer_days;
    assert!((1.4..=1.8).contains(&adg), "steer ADG {adg} kg/day");
    let dof = steer_days / steer_head;
    assert!((150.0..=200.0).contains(&dof), "steer DOF {dof}");
    for a in yard
        .animals()
        .iter()
        .filter(|a| a.status == Status::Shipped)
    {
        assert!(a.weight_kg >= a.target_kg, "{} shipped under target", a.eid);
    }
}

#[test]
fn dry_matter_conversion_and_bunk_calls_track_intake() {
    let (yard, summaries, events) = big_yard();
    // Dry matter fed, through the ration in effect at each delivery.
    let mut dm_pct: BTreeMap<String, f64> = BTreeMap::new();
    let mut dm_fed = 0.0;
    let mut per_day_dm: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for e in &events {
        match &e.event {
            Event::Ration(r) => {
                dm_pct.insert(r.ration_id.clone(), r.dry_matter_pct());
            }
            Event::FeedDelivery(d) => {
                let dm = d.delivered_kg * dm_pct[&d.ration_id] / 100.0;
                dm_fed += dm;
                *per_day_dm.entry(e.at.date_naive()).or_default() += dm;
                assert!((d.delivered_kg - d.target_kg).abs() <= d.target_kg * 0.016 + 0.5);
            }
            _ => {}
        }
    }
    let gain: f64 = yard
        .animals()
        .iter()
        .filter(|a| a.status != Status::Arrived)
        .map(|a| a.weight_kg - a.in_weight_kg)
        .sum();
    let fg = dm_fed / gain;
    assert!((5.5..=7.0).contains(&fg), "dry-matter F:G {fg}");
    // Daily dry matter fed per head stays near 1.9 % of body weight once the yard is full.
    let mut ratios = Vec::new();
    for s in summaries.iter().skip(120) {
        if s.head_on_feed > 0 && s.mean_weight_kg > 0.0 {
            let dm = per_day_dm.get(&s.date).copied().unwrap_or(0.0);
            ratios.push(dm / (s.head_on_feed as f64 * s.mean_weight_kg));
        }
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!(
        (0.016..=0.021).contains(&mean),
        "DM fed {mean} of body weight a day"
    );
    // Tail-enders are sorted out so pens refill: the yard stays mostly full.
    let full: Vec<usize> = summaries.iter().skip(200).map(|s| s.head_on_feed).collect();
    let occupancy = full.iter().sum::<usize>() as f64 / full.len() as f64 / 1200.0;
    assert!((0.75..=1.1).contains(&occupancy), "occupancy {occupancy}");
    assert!(events.iter().any(|e| matches!(&e.event,
        Event::PenMove(m) if m.eid.is_none() && m.to_pen_id == "R1" && m.head_count.is_some())));
    let wild = ratios
        .iter()
        .filter(|r| !(0.012..=0.025).contains(*r))
        .count();
    assert!(
        wild * 20 < ratios.len(),
        "{wild} of {} days far off",
        ratios.len()
    );
}

#[test]
fn feed_prices_move_within_their_band_and_every_sick_animal_goes_to_hospital_and_back() {
    let (_, _, events) = big_yard();
    for ingredient in INGREDIENTS {
        let per_tonne: Vec<f64> = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::FeedPurchase(p) if p.ingredient == ingredient.name => {
                    Some(p.price_minor as f64 / p.quantity_kg * 1000.0)
                }
                _ => None,
            })
            .collect();
        assert!(
            per_tonne.len() > 5,
            "{} bought {} times",
            ingredient.name,
            per_tonne.len()
        );
        let base = ingredient.base_price_per_tonne_minor as f64;
        let (lo, hi) = per_tonne
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(*p), hi.max(*p)));
        assert!(
            lo >= base * 0.74 && hi <= base * 1.26,
            "{}: {lo}..{hi}",
            ingredient.name
        );
        assert!(
            hi / lo > 1.03,
            "{} price never moved: {lo}..{hi}",
            ingredient.name
        );
    }
    let mut in_hospital: BTreeMap<Eid, u32> = BTreeMap::new();
    for e in &events {
        match &e.event {
            Event::PenMove(m) if m.to_pen_id == "H1" => {
                *in_hospital.entry(m.eid.clone().unwrap()).or_default() += 1;
            }
            Event::PenMove(m) if m.from_pen_id == "H1" => {
                *in_hospital.get_mut(m.eid.as_ref().unwrap()).unwrap() -= 1;
            }
            Event::Treatment(t) if t.diagnosis.is_some() => {
                assert_eq!(in_hospital.get(&t.eid), Some(&1), "treated in hospital");
            }
            Event::Shipment(s) => {
                for eid in &s.eids {
                    assert_eq!(in_hospital.get(eid).copied().unwrap_or(0), 0);
                }
            }
            _ => {}
        }
    }
    assert!(events.iter().any(
        |e| matches!(&e.event, Event::Ration(_)) && e.at.format("%H:%M").to_string() == "12:00"
    ));
    assert!(events.iter().any(|e| e.channel == Channel::Chute));
}
