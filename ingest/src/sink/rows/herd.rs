//! The herd's records: `treatments`, `arrivals`, `pen_moves`, `deaths`, `shipments` and
//! `yardage_rates`, `placements` and `yard_profiles`. An absent optional id is stored as an empty string.

use schemas::{
    Arrival, Death, LotDeath, LotTreatment, PenMove, Placement, Shipment, Treatment, YardProfile,
    YardageRate,
};

use super::{Meta, event_row, row};

event_row! {
    /// A row of `treatments`.
    TreatmentRow {
        /// The animal's 15-digit EID.
        eid: String,
        /// `therapeutic`, `vaccination` or `processing`.
        purpose: String,
        /// The product.
        product: String,
        /// The dose, in `dose_unit`.
        dose: f64,
        /// `ml`, `mg`, `g` or `unit`.
        dose_unit: String,
        /// How it was given (`subcutaneous`, ...).
        route: String,
        /// The product's lot or serial.
        product_lot: String,
        /// Meat withdrawal period, days after this dose.
        withdrawal_days: u32,
        /// Who gave it.
        administered_by: String,
        /// The diagnosis, or empty.
        diagnosis: String,
        /// Days after this dose a booster is due, or 0.
        booster_after_days: u32,
        /// What the dose cost, minor units of `currency` (0 when not costed).
        cost_minor: u64,
        /// ISO 4217 code of `cost_minor`, or empty.
        currency: String,
        /// The lot of a lot-level treatment, or empty.
        lot_id: String,
        /// The pen of a lot-level treatment, or empty.
        pen_id: String,
        /// Head given the product: 1 for one animal.
        head_count: u32,
    }
}

event_row! {
    /// A row of `arrivals`.
    ArrivalRow {
        /// The lot.
        lot_id: String,
        /// Head placed.
        head_count: u32,
        /// Where they came from.
        origin: String,
        /// Who sold them, or empty.
        source: String,
        /// The pen placed in, or empty.
        pen_id: String,
        /// Pay weight, kg (after shrink).
        pay_weight_kg: f64,
        /// Shrink taken, %.
        shrink_pct: f64,
        /// Purchase price, minor units of `currency`.
        purchase_price_minor: u64,
        /// ISO 4217 code.
        currency: String,
    }
}

event_row! {
    /// A row of `pen_moves`.
    PenMoveRow {
        /// The animal, or empty for a lot move.
        eid: String,
        /// The lot, or empty.
        lot_id: String,
        /// Head moved: 1 for one animal, the count given for a lot, 0 when not given.
        head_count: u32,
        /// The pen left.
        from_pen_id: String,
        /// The pen entered.
        to_pen_id: String,
    }
}

event_row! {
    /// A row of `deaths`.
    DeathRow {
        /// The animal.
        eid: String,
        /// The recorded cause.
        cause: String,
        /// Its lot, or empty.
        lot_id: String,
        /// Its pen, or empty.
        pen_id: String,
        /// Head dead: 1 for one animal.
        head_count: u32,
    }
}

event_row! {
    /// A row of `shipments`.
    ShipmentRow {
        /// The lot.
        lot_id: String,
        /// Head shipped.
        head_count: u32,
        /// The buyer.
        buyer: String,
        /// Shipped weight, kg.
        weight_kg: f64,
        /// Sale price, minor units of `currency`.
        price_minor: u64,
        /// ISO 4217 code.
        currency: String,
        /// The shipped animals' EIDs, or empty when not recorded.
        eids: Vec<String>,
    }
}

event_row! {
    /// A row of `placements`.
    PlacementRow {
        /// The animal's 15-digit EID.
        eid: String,
        /// Its lot.
        lot_id: String,
        /// Its pen.
        pen_id: String,
        /// `steer`, `heifer`, `bull`, `cow`, or empty.
        sex: String,
        /// Breed, or empty.
        breed: String,
    }
}

event_row! {
    /// A row of `yard_profiles`.
    YardProfileRow {
        /// The yard's display name.
        name: String,
        /// Its benchmark region.
        region: String,
        /// ISO 3166-1 alpha-2 code.
        country: String,
        /// Degrees north.
        latitude: f64,
        /// Degrees east.
        longitude: f64,
        /// Capacity, head (0 when not given).
        capacity_head: u32,
    }
}

event_row! {
    /// A row of `yardage_rates`.
    YardageRateRow {
        /// The lot, or empty for the yard's default rate.
        lot_id: String,
        /// Fee per head per day, minor units of `currency`.
        per_head_per_day_minor: u64,
        /// ISO 4217 code.
        currency: String,
    }
}

impl TreatmentRow {
    pub(super) fn new(m: &Meta, t: &Treatment) -> Self {
        row!(TreatmentRow, m, {
            eid: t.eid.to_string(),
            purpose: t.purpose.as_str().to_owned(),
            product: t.product.clone(),
            dose: t.dose,
            dose_unit: t.dose_unit.as_str().to_owned(),
            route: t.route.as_str().to_owned(),
            product_lot: t.product_lot.clone(),
            withdrawal_days: t.withdrawal_days,
            administered_by: t.administered_by.clone(),
            diagnosis: t.diagnosis.clone().unwrap_or_default(),
            booster_after_days: t.booster_after_days.unwrap_or(0),
            cost_minor: t.cost_minor.unwrap_or(0),
            currency: t.currency.clone().unwrap_or_default(),
            lot_id: String::new(),
            pen_id: String::new(),
            head_count: 1,
        })
    }

    /// The row of a lot-level treatment: no eid, the dose per head, the whole cost.
    pub(super) fn of_lot(m: &Meta, t: &LotTreatment) -> Self {
        row!(TreatmentRow, m, {
            eid: String::new(),
            purpose: t.purpose.as_str().to_owned(),
            product: t.product.clone(),
            dose: t.dose_per_head,
            dose_unit: t.dose_unit.as_str().to_owned(),
            route: t.route.as_str().to_owned(),
            product_lot: t.product_lot.clone(),
            withdrawal_days: t.withdrawal_days,
            administered_by: t.administered_by.clone(),
            diagnosis: t.diagnosis.clone().unwrap_or_default(),
            booster_after_days: 0,
            cost_minor: t.total_cost_minor.unwrap_or(0),
            currency: t.currency.clone().unwrap_or_default(),
            lot_id: t.lot_id.clone().unwrap_or_default(),
            pen_id: t.pen_id.clone().unwrap_or_default(),
            head_count: t.head_count,
        })
    }
}

impl ArrivalRow {
    pub(super) fn new(m: &Meta, a: &Arrival) -> Self {
        row!(ArrivalRow, m, {
            lot_id: a.lot_id.clone(),
            head_count: a.head_count,
            origin: a.origin.clone(),
            source: a.source.clone().unwrap_or_default(),
            pen_id: a.pen_id.clone().unwrap_or_default(),
            pay_weight_kg: a.pay_weight_kg,
            shrink_pct: a.shrink_pct,
            purchase_price_minor: a.purchase_price_minor,
            currency: a.currency.clone(),
        })
    }
}

impl PenMoveRow {
    pub(super) fn new(m: &Meta, p: &PenMove) -> Self {
        row!(PenMoveRow, m, {
            eid: p.eid.as_ref().map(ToString::to_string).unwrap_or_default(),
            lot_id: p.lot_id.clone().unwrap_or_default(),
            head_count: p.head().unwrap_or(0),
            from_pen_id: p.from_pen_id.clone(),
            to_pen_id: p.to_pen_id.clone(),
        })
    }
}

impl DeathRow {
    pub(super) fn new(m: &Meta, d: &Death) -> Self {
        row!(DeathRow, m, {
            eid: d.eid.to_string(),
            cause: d.cause.clone(),
            lot_id: d.lot_id.clone().unwrap_or_default(),
            pen_id: d.pen_id.clone().unwrap_or_default(),
            head_count: 1,
        })
    }

    /// The row of a lot-level death: no eid, its head count.
    pub(super) fn of_lot(m: &Meta, d: &LotDeath) -> Self {
        row!(DeathRow, m, {
            eid: String::new(),
            cause: d.cause.clone(),
            lot_id: d.lot_id.clone().unwrap_or_default(),
            pen_id: d.pen_id.clone().unwrap_or_default(),
            head_count: d.head_count,
        })
    }
}

impl ShipmentRow {
    pub(super) fn new(m: &Meta, s: &Shipment) -> Self {
        row!(ShipmentRow, m, {
            lot_id: s.lot_id.clone(),
            head_count: s.head_count,
            buyer: s.buyer.clone(),
            weight_kg: s.weight_kg,
            price_minor: s.price_minor,
            currency: s.currency.clone(),
            eids: s.eids.iter().map(ToString::to_string).collect(),
        })
    }
}

impl PlacementRow {
    pub(super) fn new(m: &Meta, p: &Placement) -> Self {
        row!(PlacementRow, m, {
            eid: p.eid.to_string(),
            lot_id: p.lot_id.clone(),
            pen_id: p.pen_id.clone(),
            sex: p.sex.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            breed: p.breed.clone().unwrap_or_default(),
        })
    }
}

impl YardProfileRow {
    pub(super) fn new(m: &Meta, y: &YardProfile) -> Self {
        row!(YardProfileRow, m, {
            name: y.name.clone(),
            region: y.region.clone(),
            country: y.country.clone(),
            latitude: y.latitude,
            longitude: y.longitude,
            capacity_head: y.capacity_head.unwrap_or(0),
        })
    }
}

impl YardageRateRow {
    pub(super) fn new(m: &Meta, y: &YardageRate) -> Self {
        row!(YardageRateRow, m, {
            lot_id: y.lot_id.clone().unwrap_or_default(),
            per_head_per_day_minor: y.per_head_per_day_minor,
            currency: y.currency.clone(),
        })
    }
}
