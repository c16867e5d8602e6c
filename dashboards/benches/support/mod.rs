//! What the dashboards benches share: a generated yard ([`big_yard`]) and timing ([`timing`]).

pub mod big_yard;
pub mod timing;
