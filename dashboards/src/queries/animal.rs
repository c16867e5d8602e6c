//! One animal's record: weighings and gain (since arrival and over the last period), its lot
//! and pen, days on feed, treatments with the withdrawal status, and a projected date to reach
//! the target weight.

use serde::{Deserialize, Serialize};

use schemas::weight::KG_PER_LB;

use super::whereabouts::{PenStay, animal_pens};

/// One weighing as shown to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct WeighingPoint {
    /// Capture time, ms since the Unix epoch UTC.
    pub captured_at_ms: u64,
    /// Weight, kg.
    pub weight_kg: f64,
    /// The weight as displayed by the indicator.
    pub displayed_value: f64,
    /// `kg` or `lb`.
    pub displayed_unit: String,
    /// The scale.
    pub device_id: String,
}

/// A treatment as shown on the animal's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clickhouse::Row)]
pub struct TreatmentLine {
    /// When, ms since the epoch UTC.
    pub captured_at_ms: u64,
    /// `therapeutic`, `vaccination` or `processing`.
    pub purpose: String,
    /// The product.
    pub product: String,
    /// The dose.
    pub dose: f64,
    /// Its unit.
    pub dose_unit: String,
    /// How it was given.
    pub route: String,
    /// Meat withdrawal after this dose, days.
    pub withdrawal_days: u32,
    /// The diagnosis, or empty.
    pub diagnosis: String,
    /// Cost, minor units (0 when not costed).
    pub cost_minor: u64,
    /// Its currency, or empty.
    pub currency: String,
}

/// Where the animal is and how it got there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Whereabouts {
    /// Its lot ('' when never placed).
    pub lot_id: String,
    /// Its pen now: the last of its [`AnimalReport::pens`] (its placement, its own moves and
    /// its lot's whole-lot moves); the pen it left the yard from when dead or shipped, '' when
    /// never placed.
    pub pen_id: String,
    /// `steer`, `heifer`, ... or empty.
    pub sex: String,
    /// Breed, or empty.
    pub breed: String,
    /// When it was placed (0 when never).
    pub placed_at_ms: u64,
    /// When it died (0 when alive).
    pub died_at_ms: u64,
    /// When it shipped (0 when not, or not recorded by EID).
    pub shipped_at_ms: u64,
}

/// [`Whereabouts`] but the pen, as read in one row.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, clickhouse::Row)]
struct PlacedRow {
    lot_id: String,
    sex: String,
    breed: String,
    placed_at_ms: u64,
    died_at_ms: u64,
    shipped_at_ms: u64,
}

/// Days per ms.
const DAY_MS: f64 = 86_400_000.0;

/// An animal's weighings, oldest first, and what it gained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnimalReport {
    /// The yard.
    pub feedlot_id: String,
    /// The animal.
    pub eid: String,
    /// Every weighing, oldest first, each once.
    pub weighings: Vec<WeighingPoint>,
    /// Last weight minus first weight, kg (0 with fewer than two weighings).
    pub gain_kg: f64,
    /// The same in lb.
    pub gain_lb: f64,
    /// Days between the first and the last weighing.
    pub days: f64,
    /// Average daily gain, kg/day, when at least one day passed.
    pub adg_kg_per_day: Option<f64>,
    /// Gain between the last two weighings, kg.
    pub last_period_gain_kg: Option<f64>,
    /// Days between the last two weighings.
    pub last_period_days: Option<f64>,
    /// ADG over the last period, kg/day.
    pub last_period_adg_kg_per_day: Option<f64>,
    /// Lot, pen, sex, breed, placement, death and shipping.
    pub whereabouts: Whereabouts,
    /// Its pens over time, oldest first ([`super::whereabouts`]).
    pub pens: Vec<PenStay>,
    /// `on feed`, `dead` or `shipped` (`unplaced` when it was weighed but never placed).
    pub status: String,
    /// Days on feed: from placement (else the first weighing) to now, death or shipping.
    pub days_on_feed: Option<f64>,
    /// Treatments, oldest first.
    pub treatments: Vec<TreatmentLine>,
    /// Products given to its lot or pen while it was in them (lot- and pen-level treatments),
    /// oldest first; `cost_minor` is one head's share.
    pub group_treatments: Vec<TreatmentLine>,
    /// When the last withdrawal period ends (ms since the epoch), its own treatments' and its
    /// lot's or pen's, when it was ever treated.
    pub withdrawal_until_ms: Option<u64>,
    /// Whether it may be shipped for slaughter now (no withdrawal running).
    pub withdrawal_clear: bool,
    /// The live weight it is projected to reach, kg.
    pub target_weight_kg: f64,
    /// When it is projected to reach it at its latest ADG trend (the last period's, else since
    /// its first weighing); None without a positive trend. Already there: its last weighing.
    pub projected_target_at_ms: Option<u64>,
}

impl AnimalReport {
    /// Builds the report from weighings sorted oldest first (nothing else known yet).
    pub fn from_weighings(feedlot_id: &str, eid: &str, weighings: Vec<WeighingPoint>) -> Self {
        let (gain_kg, days) = match (weighings.first(), weighings.last()) {
            (Some(first), Some(last)) => (
                last.weight_kg - first.weight_kg,
                (last.captured_at_ms.saturating_sub(first.captured_at_ms)) as f64 / 86_400_000.0,
            ),
            _ => (0.0, 0.0),
        };
        Self {
            feedlot_id: feedlot_id.into(),
            eid: eid.into(),
            weighings,
            gain_kg,
            gain_lb: gain_kg / KG_PER_LB,
            days,
            adg_kg_per_day: (days >= 1.0).then(|| gain_kg / days),
            last_period_gain_kg: None,
            last_period_days: None,
            last_period_adg_kg_per_day: None,
            whereabouts: Whereabouts::default(),
            pens: Vec::new(),
            status: "unplaced".into(),
            days_on_feed: None,
            treatments: Vec::new(),
            group_treatments: Vec::new(),
            withdrawal_until_ms: None,
            withdrawal_clear: true,
            target_weight_kg: 0.0,
            projected_target_at_ms: None,
        }
        .with_last_period()
    }

    fn with_last_period(mut self) -> Self {
        if let [.., before, last] = self.weighings.as_slice() {
            let days = last.captured_at_ms.saturating_sub(before.captured_at_ms) as f64 / DAY_MS;
            let gain = last.weight_kg - before.weight_kg;
            self.last_period_gain_kg = Some(gain);
            self.last_period_days = Some(days);
            self.last_period_adg_kg_per_day = (days >= 1.0).then(|| gain / days);
        }
        self
    }

    /// Adds where the animal is, its treatments, and what follows from them at `now_ms`:
    /// days on feed, withdrawal status and the projection to `target_weight_kg`.
    pub fn with_record(
        mut self,
        whereabouts: Whereabouts,
        treatments: Vec<TreatmentLine>,
        group_treatments: Vec<TreatmentLine>,
        target_weight_kg: f64,
        now_ms: u64,
    ) -> Self {
        let w = &whereabouts;
        self.status = if w.died_at_ms > 0 {
            "dead"
        } else if w.shipped_at_ms > 0 {
            "shipped"
        } else if w.lot_id.is_empty() {
            "unplaced"
        } else {
            "on feed"
        }
        .into();
        let start = if w.placed_at_ms > 0 {
            Some(w.placed_at_ms)
        } else {
            self.weighings.first().map(|p| p.captured_at_ms)
        };
        let end = [w.died_at_ms, w.shipped_at_ms]
            .into_iter()
            .filter(|t| *t > 0)
            .min()
            .unwrap_or(now_ms);
        self.days_on_feed = start.map(|s| end.saturating_sub(s) as f64 / DAY_MS);
        self.withdrawal_until_ms = treatments
            .iter()
            .chain(&group_treatments)
            .map(|t| t.captured_at_ms + u64::from(t.withdrawal_days) * 86_400_000)
            .max();
        self.withdrawal_clear = self.withdrawal_until_ms.is_none_or(|until| until <= now_ms);
        self.target_weight_kg = target_weight_kg;
        let trend = self.last_period_adg_kg_per_day.or(self.adg_kg_per_day);
        self.projected_target_at_ms = self.weighings.last().and_then(|last| {
            let short = target_weight_kg - last.weight_kg;
            if short <= 0.0 {
                return Some(last.captured_at_ms);
            }
            let adg = trend.filter(|a| *a > 0.0)?;
            Some(last.captured_at_ms + (short / adg * DAY_MS) as u64)
        });
        self.whereabouts = whereabouts;
        self.treatments = treatments;
        self.group_treatments = group_treatments;
        self
    }
}

/// The animal `eid`'s record at `feedlot_id` as of `now_ms`, each event once, projected to
/// `target_weight_kg`.
pub async fn animal_record(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eid: &str,
    target_weight_kg: f64,
    now_ms: u64,
) -> Result<AnimalReport, clickhouse::error::Error> {
    let report = animal_report(client, feedlot_id, eid).await?;
    let treatments = client
        .query(&format!(
            "SELECT captured_at_ms, purpose, product, dose, dose_unit, route, withdrawal_days, \
                    diagnosis, cost_minor, currency \
             FROM {} ORDER BY captured_at_ms, event_id",
            super::live::source("treatments", "feedlot_id = ? AND eid = ?")
        ))
        .bind(feedlot_id)
        .bind(eid)
        .fetch_all::<TreatmentLine>()
        .await?;
    // One row: the latest placement, death and shipping; the pen comes from the history.
    let placed = client
        .query(&format!(
            "SELECT \
                   (SELECT argMax(lot_id, captured_at_ms) FROM {placed}) AS lot_id, \
                   (SELECT argMax(sex, captured_at_ms) FROM {placed}) AS sex, \
                   (SELECT argMax(breed, captured_at_ms) FROM {placed}) AS breed, \
                   (SELECT min(captured_at_ms) FROM {placed}) AS placed_at_ms, \
                   (SELECT min(captured_at_ms) FROM {died}) AS died_at_ms, \
                   (SELECT min(captured_at_ms) FROM {shipped}) AS shipped_at_ms",
            // As corrected: a voided placement, death or shipment does not count.
            placed = super::live::source("placements", "feedlot_id = ? AND eid = ?"),
            died = super::live::source("deaths", "feedlot_id = ? AND eid = ?"),
            shipped = super::live::source("shipments", "feedlot_id = ? AND has(eids, ?)"),
        ))
        .bind(feedlot_id)
        .bind(eid)
        .bind(feedlot_id)
        .bind(eid)
        .bind(feedlot_id)
        .bind(eid)
        .bind(feedlot_id)
        .bind(eid)
        .bind(feedlot_id)
        .bind(eid)
        .bind(feedlot_id)
        .bind(eid)
        .fetch_one::<PlacedRow>();
    let (placed, pens) = tokio::try_join!(placed, animal_pens(client, feedlot_id, eid))?;
    let group_treatments = group_treatments(client, feedlot_id, &pens).await?;
    let whereabouts = Whereabouts {
        pen_id: pens.last().map(|s| s.pen_id.clone()).unwrap_or_default(),
        lot_id: placed.lot_id,
        sex: placed.sex,
        breed: placed.breed,
        placed_at_ms: placed.placed_at_ms,
        died_at_ms: placed.died_at_ms,
        shipped_at_ms: placed.shipped_at_ms,
    };
    let mut report = report.with_record(
        whereabouts,
        treatments,
        group_treatments,
        target_weight_kg,
        now_ms,
    );
    report.pens = pens;
    Ok(report)
}

/// A lot- or pen-level treatment and whom it was given to (the [`TreatmentLine`] columns,
/// then the lot and pen).
#[derive(Debug, Clone, Deserialize, clickhouse::Row)]
struct GroupTreatment {
    captured_at_ms: u64,
    purpose: String,
    product: String,
    dose: f64,
    dose_unit: String,
    route: String,
    withdrawal_days: u32,
    diagnosis: String,
    cost_minor: u64,
    currency: String,
    lot_id: String,
    pen_id: String,
}

impl GroupTreatment {
    fn line(self) -> TreatmentLine {
        TreatmentLine {
            captured_at_ms: self.captured_at_ms,
            purpose: self.purpose,
            product: self.product,
            dose: self.dose,
            dose_unit: self.dose_unit,
            route: self.route,
            withdrawal_days: self.withdrawal_days,
            diagnosis: self.diagnosis,
            cost_minor: self.cost_minor,
            currency: self.currency,
        }
    }
}

/// The lot- and pen-level treatments (as corrected) given while the animal was there, by its
/// pen `stays`: one given to its lot (in any pen, or in the pen it was in when a pen is named
/// too), or to the pen it was in with no lot named. A vet relies on these for its withdrawal.
async fn group_treatments(
    client: &clickhouse::Client,
    feedlot_id: &str,
    stays: &[PenStay],
) -> Result<Vec<TreatmentLine>, clickhouse::error::Error> {
    if stays.is_empty() {
        return Ok(Vec::new());
    }
    let lots: Vec<&str> = stays.iter().map(|s| s.lot_id.as_str()).collect();
    let pens: Vec<&str> = stays.iter().map(|s| s.pen_id.as_str()).collect();
    let rows = client
        .query(&format!(
            "SELECT captured_at_ms, purpose, product, dose, dose_unit, route, withdrawal_days, \
                    diagnosis, intDiv(cost_minor, greatest(head_count, 1)), currency, lot_id, \
                    pen_id \
             FROM {} ORDER BY captured_at_ms, event_id",
            super::live::source(
                "treatments",
                "feedlot_id = ? AND eid = '' AND (has(?, lot_id) OR (lot_id = '' AND has(?, pen_id)))"
            )
        ))
        .bind(feedlot_id)
        .bind(&lots)
        .bind(&pens)
        .fetch_all::<GroupTreatment>()
        .await?;
    Ok(rows
        .into_iter()
        .filter(|g| given_while_there(stays, g.captured_at_ms, &g.lot_id, &g.pen_id))
        .map(GroupTreatment::line)
        .collect())
}

/// Whether a lot- or pen-level treatment given at `at_ms` to `lot_id` (empty: none named) and
/// `pen_id` (empty: none named) reached an animal with these pen `stays`: given to its lot (in
/// any pen, or in the pen it was in when a pen is named too), or to the pen it was in with no
/// lot named, while it was there.
pub fn given_while_there(stays: &[PenStay], at_ms: u64, lot_id: &str, pen_id: &str) -> bool {
    stays.iter().any(|s| {
        let there = s.from_ms <= at_ms && s.to_ms.is_none_or(|to| at_ms < to);
        let whom = if lot_id.is_empty() {
            s.pen_id == pen_id
        } else {
            s.lot_id == lot_id && (pen_id.is_empty() || s.pen_id == pen_id)
        };
        there && whom
    })
}

/// The animal `eid`'s weighings at `feedlot_id`, each event once.
pub async fn animal_report(
    client: &clickhouse::Client,
    feedlot_id: &str,
    eid: &str,
) -> Result<AnimalReport, clickhouse::error::Error> {
    let weighings = client
        .query(&format!(
            "SELECT captured_at_ms, weight_kg, displayed_value, displayed_unit, device_id \
             FROM {} ORDER BY captured_at_ms, event_id",
            super::live::source("weighings", "feedlot_id = ? AND eid = ?")
        ))
        .bind(feedlot_id)
        .bind(eid)
        .fetch_all::<WeighingPoint>()
        .await?;
    Ok(AnimalReport::from_weighings(feedlot_id, eid, weighings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: u64, kg: f64) -> WeighingPoint {
        WeighingPoint {
            captured_at_ms: day * 86_400_000,
            weight_kg: kg,
            displayed_value: kg,
            displayed_unit: "kg".into(),
            device_id: "scale-1".into(),
        }
    }

    #[test]
    fn gain_and_adg_run_from_the_first_to_the_last_weighing() {
        let r = AnimalReport::from_weighings(
            "y",
            "982000000000001",
            vec![point(0, 350.0), point(10, 360.0), point(50, 430.0)],
        );
        assert_eq!(r.gain_kg, 80.0);
        assert_eq!(r.days, 50.0);
        assert_eq!(r.adg_kg_per_day, Some(1.6));
        assert!((r.gain_lb - 176.37).abs() < 0.01);
    }

    #[test]
    fn the_record_gives_the_last_period_withdrawal_and_the_projected_date() {
        let r = AnimalReport::from_weighings(
            "y",
            "982000000000001",
            vec![point(0, 350.0), point(40, 420.0), point(60, 460.0)],
        );
        assert_eq!(r.last_period_adg_kg_per_day, Some(2.0));
        let treated = TreatmentLine {
            captured_at_ms: 50 * 86_400_000,
            purpose: "therapeutic".into(),
            product: "Draxxin".into(),
            dose: 5.0,
            dose_unit: "ml".into(),
            route: "subcutaneous".into(),
            withdrawal_days: 18,
            diagnosis: "BRD".into(),
            cost_minor: 2_000,
            currency: "USD".into(),
        };
        let placed = Whereabouts {
            lot_id: "L1".into(),
            pen_id: "P1".into(),
            placed_at_ms: 86_400_000,
            ..Whereabouts::default()
        };
        let r = r.with_record(placed, vec![treated], Vec::new(), 600.0, 61 * 86_400_000);
        assert_eq!(r.status, "on feed");
        assert_eq!(r.days_on_feed, Some(60.0));
        assert_eq!(r.withdrawal_until_ms, Some(68 * 86_400_000));
        assert!(
            !r.withdrawal_clear,
            "day 61 is inside the 18 days after day 50"
        );
        // 140 kg short at the last period's 2 kg/day: 70 days after day 60.
        assert_eq!(r.projected_target_at_ms, Some(130 * 86_400_000));
    }

    #[test]
    fn one_weighing_has_no_gain_and_no_adg() {
        let r = AnimalReport::from_weighings("y", "982000000000001", vec![point(3, 350.0)]);
        assert_eq!((r.gain_kg, r.adg_kg_per_day), (0.0, None));
    }
}
