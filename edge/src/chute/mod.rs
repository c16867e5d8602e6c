//! Chute-side: a local animal registry and the page the chute tablet shows.
//!
//! The gateway keeps, per animal, its first weighing (taken as its arrival weight), its last two
//! weighings, its lot and pen (following whole-lot moves) and its treatments, and per lot its
//! animals and its lot-level treatments, in its own redb file (`registry.redb`). Every event the
//! gateway captures updates it right after the outbox commit, so offline the chute still shows,
//! for the animal on the scale: its previous weight, gain and ADG since arrival, its pen, and a
//! warning while a treatment's meat withdrawal period runs, its lot's treatments included, as
//! corrected: a voided dose is dropped and an amended one takes its new product and withdrawal
//! (docs/edge-operations.md, "The chute pages").

mod corrections;
mod lots;
mod page;
mod registry;

pub use page::{route_paths, router};
pub use registry::{AnimalRecord, Registry, RegistryError, TreatmentAt, WeightAt};
