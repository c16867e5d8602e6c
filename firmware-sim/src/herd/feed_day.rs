//! Feeding day on a simulated yard: bunk calls per pen (and the hospital pen), the truck's
//! loads and deliveries, ingredient purchases when stocks run low, and the day's intake and
//! growth.

use std::collections::BTreeMap;

use rand::Rng;
use schemas::{Event, FeedPurchase};

use super::feeding::{self, Bunk, FEEDINGS, PenCall};
use super::health::HOSPITAL_PEN;
use super::lots::Status;
use super::market::INGREDIENTS;
use super::yard::YardSim;
use super::{Channel, DaySummary, SimEvent};
use crate::growth::DMI_FRACTION_OF_BODY_WEIGHT;

impl YardSim {
    /// Two feedings: bunk calls per pen (and the hospital pen), loads and deliveries, ingredient
    /// purchases when stocks run low, and the day's intake and growth.
    pub(super) fn feed(&mut self, day: u32, out: &mut Vec<SimEvent>, summary: &mut DaySummary) {
        // Today's pens with cattle: home pens, the sorting pen, the hospital pen.
        let pen_of = |sim: &YardSim, i: usize| -> Option<String> {
            let a = &sim.animals[i];
            match a.status {
                Status::Hospital { .. } => Some(HOSPITAL_PEN.to_owned()),
                Status::OnFeed | Status::Arrived => Some(sim.lots[a.lot].pen_id.clone()),
                _ => None,
            }
        };
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut demand = Vec::new();
        let mut head = Vec::new();
        let mut members: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut oldest_dof = Vec::new();
        for i in 0..self.animals.len() {
            let Some(pen_id) = pen_of(self, i) else {
                continue;
            };
            let next = index.len();
            let p = *index.entry(pen_id).or_insert(next);
            if p == demand.len() {
                demand.push(0.0);
                head.push(0usize);
                members.push(Vec::new());
                oldest_dof.push(0u32);
            }
            let a = &self.animals[i];
            let dof = self.lots[a.lot].dof(day);
            let ramp = 0.7 + 0.3 * (f64::from(dof) / 21.0).min(1.0);
            let sick = if matches!(a.status, Status::Hospital { .. }) {
                0.5
            } else {
                1.0
            };
            let dmi = a.weight_kg * DMI_FRACTION_OF_BODY_WEIGHT * ramp * sick;
            demand[p] += dmi;
            head[p] += 1;
            members[p].push((i, dmi));
            oldest_dof[p] = oldest_dof[p].max(dof);
        }
        let pens = demand.len();
        let mut calls = Vec::new();
        let mut ration_dm = vec![0.0; pens];
        for (pen_id, &p) in &index {
            let ration_id = if pen_id == HOSPITAL_PEN {
                "starter"
            } else {
                feeding::ration_for(oldest_dof[p])
            };
            let bunk = self.bunks.get(pen_id).copied().unwrap_or_default();
            let dm_pct = self
                .rations
                .iter()
                .find(|r| r.ration_id == ration_id)
                .map_or(70.0, |r| r.dry_matter_pct());
            ration_dm[p] = dm_pct / 100.0;
            let call_dm = bunk.call_dm_kg(head[p], demand[p] * 0.9);
            calls.push((p, pen_id.clone(), ration_id, call_dm / ration_dm[p]));
        }
        let mut delivered_dm = vec![0.0; pens];
        let mut used_kg = vec![0.0; INGREDIENTS.len()];
        let mut loads_out = Vec::new();
        for (hour, minute, share) in FEEDINGS.iter() {
            let feeding_calls: Vec<PenCall> = calls
                .iter()
                .map(|(_, pen_id, ration_id, kg)| PenCall {
                    pen_id: pen_id.clone(),
                    ration_id,
                    target_kg: kg * share,
                })
                .collect();
            let rations = self.rations.clone();
            let loads = feeding::mix_and_deliver(
                &feeding_calls,
                &rations,
                &mut self.batch_no,
                &mut self.rng,
            );
            let mut minute_of = 0i64;
            for (load, deliveries) in loads {
                for ing in &load.ingredients {
                    if let Some(k) = INGREDIENTS.iter().position(|i| i.name == ing.ingredient) {
                        used_kg[k] += ing.weight_kg;
                    }
                }
                loads_out.push((
                    self.at(day, *hour, *minute, minute_of * 60),
                    Event::FeedLoad(load),
                ));
                for d in deliveries {
                    minute_of += 8;
                    if let Some((p, ..)) = calls.iter().find(|c| c.1 == d.pen_id) {
                        delivered_dm[*p] += d.delivered_kg * ration_dm[*p];
                    }
                    summary.fed_kg += d.delivered_kg;
                    loads_out.push((
                        self.at(day, *hour, *minute, minute_of * 60),
                        Event::FeedDelivery(d),
                    ));
                }
                minute_of += 10;
            }
        }
        self.buy_feed(day, &used_kg, out);
        out.extend(loads_out.into_iter().map(|(at, event)| SimEvent {
            at,
            channel: Channel::Truck,
            event,
        }));
        // Intake and growth.
        for (pen_id, &p) in &index {
            let eaten = delivered_dm[p].min(demand[p]);
            let fed_share = if demand[p] > 0.0 {
                eaten / demand[p]
            } else {
                1.0
            };
            for &(i, _) in &members[p] {
                let a = &mut self.animals[i];
                let days_fed = self.lots[a.lot].dof(day).saturating_sub(1);
                let sick = if pen_id == HOSPITAL_PEN { 0.25 } else { 1.0 };
                if a.status != Status::Arrived {
                    a.weight_kg += a.curve.adg_kg(f64::from(days_fed)) * fed_share * sick;
                }
            }
            let bunk = Bunk {
                delivered_dm_kg: delivered_dm[p],
                eaten_dm_kg: eaten,
                head: head[p],
            };
            self.bunks.insert(pen_id.clone(), bunk);
        }
    }

    /// Buys (06:00) about two weeks' worth of what runs below four days' use after today's.
    fn buy_feed(&mut self, day: u32, used_kg: &[f64], out: &mut Vec<SimEvent>) {
        let mut n = 0i64;
        for (k, ingredient) in INGREDIENTS.iter().enumerate() {
            let used = used_kg[k];
            while self.stock_kg[k] - used < used * 4.0 && used > 0.0 {
                let (supplier, origin) =
                    ingredient.suppliers[self.rng.random_range(0..ingredient.suppliers.len())];
                // About two weeks' use, at most a truckload (small yards buy small loads).
                let kg = (used * 14.0).clamp(2_000.0, ingredient.truckload_kg)
                    * self.rng.random_range(0.95..1.05);
                let kg = (kg / 10.0).round() * 10.0;
                self.stock_kg[k] += kg;
                out.push(SimEvent::office(
                    self.at(day, 6, 0, n * 300),
                    Event::FeedPurchase(FeedPurchase {
                        ingredient: ingredient.name.into(),
                        supplier: supplier.into(),
                        origin: origin.into(),
                        quantity_kg: kg,
                        price_minor: self.market.feed_cost_minor(k, kg),
                        currency: "USD".into(),
                        dry_matter_pct: ingredient.dry_matter_pct,
                    }),
                ));
                n += 1;
            }
            self.stock_kg[k] -= used;
        }
    }
}
