//! One open lot's forecast: when it reaches its target weight, the feed and cost to get it
//! there, and its projected closeout, with a range (see `docs/forecasts.md`).
//!
//! ```text
//! weigh sessions (mean scale weight per head by day) ─▶ fit (ADG, weight now)
//! lot_day_facts (last `recent_days`) ─▶ intake (DM kg/head/day), feed cost per kg DM
//!   ─▶ day-by-day projection to the target (ADG declining with days on feed, intake
//!      following body weight) ─▶ out date, feed, cost ─▶ closeout (COG, breakeven)
//! ```

use serde::Serialize;

use super::fit::{Fit, Session, fit};
use super::{ForecastError, ForecastOptions};
use crate::analytics::{KG_PER_CWT, Settings};
use crate::facts::read::lot_totals;
use crate::facts::rows::{DAY_MS, LotDayRow};

/// Where the forecast's ADG comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdgSource {
    /// A least-squares line through the lot's weigh sessions.
    WeighSessions,
    /// The lot's measured ADG (pay in-weight to its re-weighs), when it has under two
    /// sessions.
    LotMeasures,
}

/// One projection to the target at one ADG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The lot's ADG now that this projection assumes, kg/day (scale basis).
    pub adg_now_kg: f64,
    /// Days from `as_of` until the lot's head on hand reach the target.
    pub days_to_finish: f64,
    /// When they reach it, ms since the epoch UTC.
    pub out_date_ms: u64,
    /// Head-weighted days on feed at the closeout (shipped head at their shipping, head on
    /// hand at the out date).
    pub days_on_feed_at_out: f64,
    /// Dry matter the head on hand eat until then, kg in all.
    pub dry_matter_to_finish_kg: f64,
    /// The same as fed, kg in all.
    pub as_fed_to_finish_kg: f64,
    /// Its cost at the lot's recent cost per kg of dry matter, minor units.
    pub feed_cost_to_finish_minor: f64,
    /// Yardage until then at the lot's rate, minor units.
    pub yardage_to_finish_minor: f64,
    /// Total cost at the closeout (cattle, feed, yardage, medicine to date), minor units.
    pub total_cost_minor: f64,
    /// Weight gained by the live head at the closeout, kg in all.
    pub gain_kg: f64,
    /// All-in cost of gain at the closeout (feed + yardage + medicine) / gain, minor units
    /// per kg.
    pub cost_of_gain_per_kg_minor: Option<f64>,
    /// The same per cwt (100 lb).
    pub cost_of_gain_per_cwt_minor: Option<f64>,
    /// Sale price that covers the total cost: total cost / sale weight of the live head,
    /// minor units per kg.
    pub breakeven_per_kg_minor: Option<f64>,
    /// The same per cwt.
    pub breakeven_per_cwt_minor: Option<f64>,
}

/// An open lot's forecast as of a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotForecast {
    /// The lot.
    pub lot_id: String,
    /// The moment forecast from, ms since the epoch UTC.
    pub as_of_ms: u64,
    /// Days on feed then.
    pub days_on_feed: f64,
    /// Head on feed then.
    pub head_on_hand: i64,
    /// The scale (full) weight per head the lot is finished at, kg.
    pub target_live_weight_kg: f64,
    /// The weight per head it sells at (what shipments record), kg.
    pub sale_weight_kg: f64,
    /// Mean scale weight per head now, kg.
    pub weight_now_kg: f64,
    /// Where the ADG comes from.
    pub adg_source: AdgSource,
    /// Weigh sessions fitted (0 for [`AdgSource::LotMeasures`]).
    pub weigh_sessions: usize,
    /// The ADG the sessions give, kg/day, about `adg_mid_days_on_feed`.
    pub adg_fitted_kg: f64,
    /// Days on feed the fitted ADG is centred on.
    pub adg_mid_days_on_feed: f64,
    /// Standard error of the fitted ADG, kg/day (three or more sessions).
    pub adg_se_kg: Option<f64>,
    /// The range's half-width as a share of the ADG, %.
    pub range_pct: f64,
    /// Dry-matter intake now, kg per head per day (the last `recent_days` of feed).
    pub dmi_now_kg: Option<f64>,
    /// Feed cost per kg of dry matter over the last `recent_days`, minor units.
    pub feed_cost_per_kg_dm_minor: Option<f64>,
    /// The expected projection.
    pub expected: Projection,
    /// At the high end of the ADG range: the earliest out date, least feed.
    pub fast: Projection,
    /// At the low end of the ADG range: the latest out date, most feed.
    pub slow: Projection,
    /// ISO 4217 code of every money field.
    pub currency: String,
}

/// What the projections share.
struct Basis<'a> {
    row: &'a LotDayRow,
    options: &'a ForecastOptions,
    as_of_ms: u64,
    dof_now: f64,
    weight_now_kg: f64,
    target_kg: f64,
    sale_weight_kg: f64,
    dmi_now_kg: f64,
    dm_share: f64,
    cost_per_kg_dm: f64,
    feed_to_date_minor: f64,
    yardage_to_date_minor: f64,
}

fn ratio(n: f64, d: f64) -> Option<f64> {
    (d.abs() > 1e-12 && n.is_finite()).then(|| n / d)
}

impl Basis<'_> {
    /// The projection with ADG `adg_now_kg` at `dof_now`, declining with days on feed.
    fn project(&self, adg_now_kg: f64) -> Projection {
        let k = self.options.adg_decline_per_day;
        let shape = |dof: f64| (1.0 - k * dof).max(0.3);
        // ADG at 0 days on feed that gives `adg_now_kg` now.
        let adg0 = adg_now_kg.max(0.05) / shape(self.dof_now);
        let (mut w, mut days, mut dm) = (self.weight_now_kg, 0.0_f64, 0.0_f64);
        while w < self.target_kg && days < f64::from(self.options.max_days) {
            let gain = adg0 * shape(self.dof_now + days + 0.5);
            let step = ((self.target_kg - w) / gain).min(1.0);
            // Intake follows body weight (a steady share of it).
            let w_mid = w + gain * step / 2.0;
            dm += self.dmi_now_kg * w_mid / self.weight_now_kg * step;
            w += gain * step;
            days += step;
        }
        let r = self.row;
        let on_hand = r.head_on_hand.max(0) as f64;
        let dm_all = dm * on_hand;
        let feed_finish = dm_all * self.cost_per_kg_dm;
        let yardage_finish = r.yardage_rate_minor * on_hand * days;
        let feed_total = self.feed_to_date_minor + feed_finish;
        let yardage_total = self.yardage_to_date_minor + yardage_finish;
        let total = r.purchase_minor + feed_total + yardage_total + r.medicine_minor;
        let head_in = f64::from(r.head_in).max(1.0);
        let in_per_head = r.in_pay_kg / head_in;
        let live = on_hand + f64::from(r.head_shipped);
        let out_kg = r.out_pay_kg + on_hand * self.sale_weight_kg;
        let gain = out_kg - in_per_head * live;
        let cog = ratio(feed_total + yardage_total + r.medicine_minor, gain);
        let breakeven = ratio(total, out_kg);
        let dof_out = ratio(
            r.shipped_ms / DAY_MS as f64 + on_hand * (self.dof_now + days),
            live,
        )
        .unwrap_or(self.dof_now + days);
        Projection {
            adg_now_kg,
            days_to_finish: days,
            out_date_ms: self.as_of_ms + (days * DAY_MS as f64).round() as u64,
            days_on_feed_at_out: dof_out,
            dry_matter_to_finish_kg: dm_all,
            as_fed_to_finish_kg: ratio(dm_all, self.dm_share).unwrap_or(0.0),
            feed_cost_to_finish_minor: feed_finish,
            yardage_to_finish_minor: yardage_finish,
            total_cost_minor: total,
            gain_kg: gain,
            cost_of_gain_per_kg_minor: cog,
            cost_of_gain_per_cwt_minor: cog.map(|c| c * KG_PER_CWT),
            breakeven_per_kg_minor: breakeven,
            breakeven_per_cwt_minor: breakeven.map(|b| b * KG_PER_CWT),
        }
    }
}

/// Intake, dry-matter share and feed cost per kg DM over the rows of the last `days` (the
/// lot's whole feeding when it has fewer): (DMI kg/head/day, DM / as fed, minor per kg DM).
fn recent_feed(rows: &[LotDayRow], days: usize) -> (Option<f64>, Option<f64>, Option<f64>) {
    let Some(last) = rows.last() else {
        return (None, None, None);
    };
    let first = rows
        .len()
        .checked_sub(days + 1)
        .and_then(|i| rows.get(i))
        .filter(|r| r.head_ms > 0.0);
    let (dm, as_fed, minor, head_ms) = match first {
        Some(f) => (
            last.dry_matter_kg - f.dry_matter_kg,
            last.as_fed_kg - f.as_fed_kg,
            last.feed_minor - f.feed_minor,
            last.head_ms - f.head_ms,
        ),
        None => (
            last.dry_matter_kg,
            last.as_fed_kg,
            last.feed_minor,
            last.head_ms,
        ),
    };
    (
        ratio(dm, head_ms / DAY_MS as f64),
        ratio(dm, as_fed),
        ratio(minor, dm),
    )
}

/// `rows` (the lot's day facts up to `as_of_ms`'s day, oldest first) and its weigh `sessions`
/// up to `as_of_ms` forecast to the target (`options.target_live_weight_kg`, else the yard's
/// `settings.target_live_weight_kg`).
pub fn forecast(
    rows: &[LotDayRow],
    sessions: &[Session],
    as_of_ms: u64,
    settings: &Settings,
    options: &ForecastOptions,
) -> Result<LotForecast, ForecastError> {
    let row = rows.last().ok_or(ForecastError::NoFacts)?;
    if row.closed_ms > 0 && row.closed_ms <= as_of_ms || row.head_on_hand <= 0 {
        return Err(ForecastError::Closed {
            lot_id: row.lot_id.clone(),
            closed_ms: row.closed_ms,
        });
    }
    let dof_now = as_of_ms.saturating_sub(row.arrived_ms) as f64 / DAY_MS as f64;
    let kept = ratio(row.in_pay_kg, row.in_full_kg).unwrap_or(1.0);
    let m = crate::analytics::lots::measure(&lot_totals(row, as_of_ms), as_of_ms, settings);
    let recent: Vec<Session> = sessions
        .iter()
        .filter(|s| s.head > 0 && s.days_on_feed <= dof_now)
        .copied()
        .collect();
    let recent = &recent[recent.len().saturating_sub(options.sessions)..];
    let (source, line) = match fit(recent) {
        Some(line) if line.adg_kg > 0.0 => (AdgSource::WeighSessions, line),
        _ => {
            // The facts' measures, on the scale basis (pay / the arrival's shrink).
            let (Some(adg), Some(now)) = (m.adg_deads_out_kg, m.current_weight_kg) else {
                return Err(ForecastError::NoGain(row.lot_id.clone()));
            };
            let (adg, now) = (adg / kept, now / kept);
            (
                AdgSource::LotMeasures,
                Fit {
                    adg_kg: adg,
                    intercept_kg: now - adg * dof_now,
                    mid_days_on_feed: dof_now / 2.0,
                    adg_se_kg: None,
                    sessions: 0,
                },
            )
        }
    };
    let k = options.adg_decline_per_day;
    let shape = |dof: f64| (1.0 - k * dof).max(0.3);
    // The fitted slope is the ADG about the sessions' middle; carried to now.
    let adg_now = line.adg_kg * shape(dof_now) / shape(line.mid_days_on_feed);
    let weight_now_kg = match recent.last() {
        Some(last) if source == AdgSource::WeighSessions => {
            line.at(last.days_on_feed) + (dof_now - last.days_on_feed) * adg_now
        }
        _ => line.at(dof_now),
    };
    let (dmi, dm_share, cost_per_kg_dm) = recent_feed(rows, options.recent_days as usize);
    // Intake measured over the recent days is that of the lot's weight then (mid-window).
    let window = f64::from(options.recent_days).min(dof_now) / 2.0;
    let dmi_now = dmi.map(|d| d * weight_now_kg / (weight_now_kg - adg_now * window).max(1.0));
    let target_kg = options
        .target_live_weight_kg
        .unwrap_or(settings.target_live_weight_kg);
    let sale_weight_kg =
        target_kg * settings.target_sale_weight_kg / settings.target_live_weight_kg;
    let range = (2.0 * line.adg_se_kg.unwrap_or(0.0) / line.adg_kg.abs().max(1e-9))
        .max(options.range_pct / 100.0)
        .min(0.9);
    let basis = Basis {
        row,
        options,
        as_of_ms,
        dof_now,
        weight_now_kg,
        target_kg,
        sale_weight_kg,
        dmi_now_kg: dmi_now.unwrap_or(0.0),
        dm_share: dm_share.unwrap_or(1.0),
        cost_per_kg_dm: cost_per_kg_dm.unwrap_or(0.0),
        feed_to_date_minor: m.feed_cost_minor,
        yardage_to_date_minor: m.yardage_minor,
    };
    Ok(LotForecast {
        lot_id: row.lot_id.clone(),
        as_of_ms,
        days_on_feed: dof_now,
        head_on_hand: row.head_on_hand,
        target_live_weight_kg: target_kg,
        sale_weight_kg,
        weight_now_kg,
        adg_source: source,
        weigh_sessions: line.sessions,
        adg_fitted_kg: line.adg_kg,
        adg_mid_days_on_feed: line.mid_days_on_feed,
        adg_se_kg: line.adg_se_kg,
        range_pct: 100.0 * range,
        dmi_now_kg: dmi_now,
        feed_cost_per_kg_dm_minor: cost_per_kg_dm,
        expected: basis.project(adg_now),
        fast: basis.project(adg_now * (1.0 + range)),
        slow: basis.project(adg_now * (1.0 - range)),
        currency: row.currency.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = DAY_MS;

    /// A lot of 100 head arrived at 0, 350 kg pay (360 full), on day `d`: 10 kg DM a head a
    /// day at 30 cents per kg DM (as fed 12.5 kg), yardage 50 cents.
    fn row(d: u64) -> LotDayRow {
        let head_ms = 100.0 * (d * DAY) as f64;
        let head_days = 100.0 * d as f64;
        LotDayRow {
            feedlot_id: "Y".into(),
            lot_id: "L".into(),
            day: u16::try_from(d).unwrap(),
            through_ms: (d + 1) * DAY,
            origin: "NE".into(),
            currency: "USD".into(),
            pens: vec!["P1".into()],
            arrived_ms: 0,
            closed_ms: 0,
            head_in: 100,
            in_pay_kg: 35_000.0,
            in_full_kg: 36_000.0,
            purchase_minor: 10_000_000.0,
            head_on_hand: 100,
            head_ms,
            dead_ms: 0.0,
            head_dead: 0,
            head_shipped: 0,
            shipped_ms: 0.0,
            out_pay_kg: 0.0,
            revenue_minor: 0.0,
            as_fed_kg: 12.5 * head_days,
            dry_matter_kg: 10.0 * head_days,
            feed_minor: 300.0 * head_days,
            yardage_minor: 50.0 * head_days,
            yardage_rate_minor: 50.0,
            medicine_minor: 0.0,
            head_pulled: 0,
            reweighed_head: 0,
            reweighed_full_kg: 0.0,
            reweighed_days: 0.0,
            day_head_in: 0,
            day_head_dead: 0,
            day_head_shipped: 0,
            day_head_pulled: 0,
            version: 1,
        }
    }

    fn options() -> ForecastOptions {
        ForecastOptions {
            adg_decline_per_day: 0.0,
            target_live_weight_kg: Some(600.0),
            ..ForecastOptions::default()
        }
    }

    fn settings() -> Settings {
        Settings {
            target_sale_weight_kg: 576.0,
            target_live_weight_kg: 600.0,
            adg_decline_per_day: 0.0,
        }
    }

    fn sessions() -> Vec<Session> {
        vec![
            Session {
                days_on_feed: 0.0,
                mean_kg: 360.0,
                head: 100,
            },
            Session {
                days_on_feed: 60.0,
                mean_kg: 480.0,
                head: 100,
            },
        ]
    }

    #[test]
    fn a_steady_lot_finishes_when_its_adg_carries_it_to_the_target() {
        let rows: Vec<LotDayRow> = (0..=59).map(row).collect();
        let f = forecast(&rows, &sessions(), 60 * DAY, &settings(), &options()).unwrap();
        assert_eq!(f.adg_source, AdgSource::WeighSessions);
        assert!((f.adg_fitted_kg - 2.0).abs() < 1e-9);
        assert!((f.weight_now_kg - 480.0).abs() < 1e-9);
        // 120 kg to go at 2 kg/day.
        let e = &f.expected;
        assert!((e.days_to_finish - 60.0).abs() < 1e-6, "{e:?}");
        assert_eq!(e.out_date_ms, 120 * DAY);
        assert!((e.days_on_feed_at_out - 120.0).abs() < 1e-6);
        // Intake follows weight: 10 kg DM at ~466 kg (mid-window), mean weight 540 ahead.
        let dmi_now = 10.0 * 480.0 / (480.0 - 2.0 * 7.0);
        assert!((f.dmi_now_kg.unwrap() - dmi_now).abs() < 1e-9);
        let dm = dmi_now * 540.0 / 480.0 * 60.0 * 100.0;
        assert!((e.dry_matter_to_finish_kg - dm).abs() < 1e-6 * dm, "{e:?}");
        assert!((e.as_fed_to_finish_kg - dm * 1.25).abs() < 1e-6 * dm);
        assert!((e.feed_cost_to_finish_minor - dm * 30.0).abs() < 1e-6 * dm * 30.0);
        assert!((e.yardage_to_finish_minor - 50.0 * 100.0 * 60.0).abs() < 1e-6);
        // Sold at 576 kg pay a head: gain 226 kg a head.
        assert!((e.gain_kg - 22_600.0).abs() < 1e-6);
        // Fed and charged to date for 59 head-days a head (the rows' last day), then to finish.
        let feeding = 300.0 * 5_900.0 + dm * 30.0 + 50.0 * (5_900.0 + 6_000.0);
        let cog = feeding / 22_600.0;
        assert!((e.cost_of_gain_per_kg_minor.unwrap() - cog).abs() < 1e-6);
        let be = (10_000_000.0 + feeding) / 57_600.0;
        assert!((e.breakeven_per_kg_minor.unwrap() - be).abs() < 1e-6);
        assert!((e.breakeven_per_cwt_minor.unwrap() - be * KG_PER_CWT).abs() < 1e-6);
    }

    #[test]
    fn the_range_brackets_the_expected_projection() {
        let rows: Vec<LotDayRow> = (0..=59).map(row).collect();
        let f = forecast(&rows, &sessions(), 60 * DAY, &settings(), &options()).unwrap();
        assert!((f.range_pct - 10.0).abs() < 1e-9);
        assert!(f.fast.days_to_finish < f.expected.days_to_finish);
        assert!(f.slow.days_to_finish > f.expected.days_to_finish);
        assert!((f.fast.days_to_finish - 120.0 / 2.2).abs() < 1e-6);
        assert!(f.slow.cost_of_gain_per_kg_minor > f.expected.cost_of_gain_per_kg_minor);
    }

    #[test]
    fn a_declining_adg_takes_longer_than_a_straight_line() {
        let rows: Vec<LotDayRow> = (0..=59).map(row).collect();
        let straight = forecast(&rows, &sessions(), 60 * DAY, &settings(), &options()).unwrap();
        let declining = ForecastOptions {
            adg_decline_per_day: 0.0015,
            ..options()
        };
        let f = forecast(&rows, &sessions(), 60 * DAY, &settings(), &declining).unwrap();
        // The fitted 2.0 is the ADG at day 30; by day 60 it is lower, and falling.
        assert!(f.expected.adg_now_kg < 2.0);
        assert!(f.expected.days_to_finish > straight.expected.days_to_finish + 5.0);
    }

    #[test]
    fn a_lot_weighed_once_uses_its_measures_and_a_lot_never_reweighed_has_no_forecast() {
        let mut rows: Vec<LotDayRow> = (0..=59).map(row).collect();
        let one = &sessions()[..1];
        assert!(matches!(
            forecast(&rows, one, 60 * DAY, &settings(), &options()),
            Err(ForecastError::NoGain(_))
        ));
        // Re-weighed at day 60: 100 head at 480 kg full (466.7 pay).
        let last = rows.last_mut().unwrap();
        last.reweighed_head = 100;
        last.reweighed_full_kg = 48_000.0;
        last.reweighed_days = 6_000.0;
        let f = forecast(&rows, one, 60 * DAY, &settings(), &options()).unwrap();
        assert_eq!(f.adg_source, AdgSource::LotMeasures);
        assert!((f.weight_now_kg - 480.0).abs() < 1e-6, "{f:?}");
    }

    #[test]
    fn a_closed_lot_and_no_facts_are_errors() {
        assert!(matches!(
            forecast(&[], &[], 0, &settings(), &options()),
            Err(ForecastError::NoFacts)
        ));
        let mut r = row(10);
        r.closed_ms = 5 * DAY;
        assert!(matches!(
            forecast(&[r], &sessions(), 10 * DAY, &settings(), &options()),
            Err(ForecastError::Closed { .. })
        ));
    }
}
