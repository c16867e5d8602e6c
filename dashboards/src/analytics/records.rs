//! What the analytics read: one yard's records, as loaded from ClickHouse (see [`super::load`]).
//! Times are ms since the Unix epoch, UTC; weights kg; money minor units of the yard's currency.

use serde::Deserialize;

/// A lot placed in the yard (`arrivals`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct ArrivalRecord {
    /// The lot.
    pub lot_id: String,
    /// Head placed.
    pub head_count: u32,
    /// Where they came from.
    pub origin: String,
    /// The pen, or empty when not given.
    pub pen_id: String,
    /// Pay weight of all head, kg (after shrink).
    pub pay_weight_kg: f64,
    /// Shrink taken off the full weight, %.
    pub shrink_pct: f64,
    /// What the lot cost, minor units.
    pub purchase_price_minor: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// When.
    pub at_ms: u64,
}

/// An animal tagged into a lot and pen (`placements`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct PlacementRecord {
    /// The animal.
    pub eid: String,
    /// Its lot.
    pub lot_id: String,
    /// Its pen.
    pub pen_id: String,
    /// When.
    pub at_ms: u64,
}

/// A pen move (`pen_moves`): one animal (`eid`) or `head_count` of a lot (0 = the whole lot in
/// `from_pen_id`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct MoveRecord {
    /// The animal, or empty for a lot move.
    pub eid: String,
    /// The lot, or empty.
    pub lot_id: String,
    /// Head moved (1 for an animal; 0 = all of the lot in the pen).
    pub head_count: u32,
    /// From.
    pub from_pen_id: String,
    /// To.
    pub to_pen_id: String,
    /// When.
    pub at_ms: u64,
}

/// A death (`deaths`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct DeathRecord {
    /// The animal.
    pub eid: String,
    /// Its lot, or empty (then its placement's lot).
    pub lot_id: String,
    /// Its pen, or empty (then where it was last placed or moved).
    pub pen_id: String,
    /// Head dead: 1 for one animal, the count of a lot-level death (empty `eid`).
    pub head_count: u32,
    /// When.
    pub at_ms: u64,
}

/// A product given to every head of a lot or pen (`treatments` rows with an empty `eid`):
/// charged to the lot as medicine (a pen's lots share it by head).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct LotTreatmentRecord {
    /// The lot, or empty (then the lots in `pen_id`).
    pub lot_id: String,
    /// The pen, or empty.
    pub pen_id: String,
    /// Head given the product.
    pub head_count: u32,
    /// What all head's doses cost, minor units.
    pub cost_minor: u64,
    /// When.
    pub at_ms: u64,
}

/// A draft shipped (`shipments`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct ShipmentRecord {
    /// The lot.
    pub lot_id: String,
    /// Head shipped.
    pub head_count: u32,
    /// Pay weight of all head shipped, kg.
    pub weight_kg: f64,
    /// What the buyer paid, minor units.
    pub price_minor: u64,
    /// The animals, when recorded.
    pub eids: Vec<String>,
    /// When.
    pub at_ms: u64,
}

/// Feed dropped in a pen's bunk (`feed_deliveries`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct DeliveryRecord {
    /// The pen.
    pub pen_id: String,
    /// The ration delivered.
    pub ration_id: String,
    /// As fed, kg.
    pub delivered_kg: f64,
    /// When.
    pub at_ms: u64,
}

/// A feed ingredient bought (`feed_purchases`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct PurchaseRecord {
    /// The ingredient.
    pub ingredient: String,
    /// Who sold it.
    pub supplier: String,
    /// Where it was grown or made.
    pub origin: String,
    /// As fed, kg.
    pub quantity_kg: f64,
    /// What it cost in all, minor units.
    pub price_minor: u64,
    /// When.
    pub at_ms: u64,
}

/// A ration formula (`rations`), in effect from `at_ms` until the next for the same ration.
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct RationRecord {
    /// The ration.
    pub ration_id: String,
    /// Ingredients.
    pub ingredients: Vec<String>,
    /// Their inclusion, % as fed (same order).
    pub inclusion_as_fed_pct: Vec<f64>,
    /// The ration's dry matter, %.
    pub dry_matter_pct: f64,
    /// When it took effect.
    pub at_ms: u64,
}

/// A yardage rate (`yardage_rates`), in effect from `at_ms`.
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct YardageRecord {
    /// The lot, or empty for the yard's default.
    pub lot_id: String,
    /// Per head per day, minor units.
    pub per_head_per_day_minor: u64,
    /// When it took effect.
    pub at_ms: u64,
}

/// One animal's treatments, summed (`treatments`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct AnimalHealth {
    /// The animal.
    pub eid: String,
    /// Medicine cost of all its treatments, minor units.
    pub cost_minor: u64,
    /// Therapeutic treatments (pulls for sickness).
    pub therapeutic: u64,
}

/// One animal's latest scale weight (`weighings`).
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct LatestWeight {
    /// The animal.
    pub eid: String,
    /// Its latest weight, kg as weighed (full).
    pub weight_kg: f64,
    /// When.
    pub at_ms: u64,
}

/// One treatment, as given (`treatments`): the facts replay charges it to the animal's lot.
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct TreatmentRecord {
    /// The animal.
    pub eid: String,
    /// Medicine cost, minor units.
    pub cost_minor: u64,
    /// 1 when therapeutic (a pull for sickness).
    pub therapeutic: u8,
    /// When.
    pub at_ms: u64,
}

/// One scale weight (`weighings`): the facts replay keeps each animal's latest.
#[derive(Debug, Clone, PartialEq, Deserialize, clickhouse::Row)]
pub struct WeighingRecord {
    /// The animal.
    pub eid: String,
    /// Kg as weighed (full).
    pub weight_kg: f64,
    /// When.
    pub at_ms: u64,
}

/// Everything the measures of one yard are computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct YardRecords {
    /// Lots placed.
    pub arrivals: Vec<ArrivalRecord>,
    /// Animals tagged into lots.
    pub placements: Vec<PlacementRecord>,
    /// Pen moves.
    pub moves: Vec<MoveRecord>,
    /// Deaths.
    pub deaths: Vec<DeathRecord>,
    /// Shipments.
    pub shipments: Vec<ShipmentRecord>,
    /// Feed deliveries.
    pub deliveries: Vec<DeliveryRecord>,
    /// Ingredient purchases.
    pub purchases: Vec<PurchaseRecord>,
    /// Ration formulas.
    pub rations: Vec<RationRecord>,
    /// Yardage rates.
    pub yardage: Vec<YardageRecord>,
    /// Treatments per animal.
    pub health: Vec<AnimalHealth>,
    /// Latest weight per animal.
    pub weights: Vec<LatestWeight>,
    /// Every treatment, in time (the facts replay; empty for a replay that uses `health`).
    pub treatments: Vec<TreatmentRecord>,
    /// Every weighing, in time (the facts replay; empty for a replay that uses `weights`).
    pub weighings: Vec<WeighingRecord>,
    /// Lot- and pen-level treatments (both replays).
    pub lot_treatments: Vec<LotTreatmentRecord>,
}

/// Applies `$do` to each timed list of a [`YardRecords`] (every list but the per-animal
/// `health` and `weights`, which have no time).
macro_rules! each_timed {
    ($do:ident) => {
        $do!(
            arrivals,
            placements,
            moves,
            deaths,
            shipments,
            deliveries,
            purchases,
            rations,
            yardage,
            treatments,
            weighings,
            lot_treatments
        )
    };
}

impl YardRecords {
    /// Records held in all.
    pub fn len(&self) -> usize {
        macro_rules! sum {
            ($($list:ident),*) => { 0 $(+ self.$list.len())* };
        }
        each_timed!(sum) + self.health.len() + self.weights.len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps only the timed records captured before `cut_ms`.
    pub fn keep_before(&mut self, cut_ms: u64) {
        macro_rules! keep {
            ($($list:ident),*) => { $(self.$list.retain(|r| r.at_ms < cut_ms);)* };
        }
        each_timed!(keep);
    }

    /// Moves every record of `later` to the end of these.
    pub fn append(&mut self, mut later: YardRecords) {
        macro_rules! append {
            ($($list:ident),*) => { $(self.$list.append(&mut later.$list);)* };
        }
        each_timed!(append);
        self.health.append(&mut later.health);
        self.weights.append(&mut later.weights);
    }
}
