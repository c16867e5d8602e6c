//! RFID ear-tag reads.

use serde::{Deserialize, Serialize};

use crate::Eid;

/// One read of an animal's ear tag by an RFID reader (repeats within the dedup window collapsed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TagRead {
    /// The animal's EID.
    pub eid: Eid,
}
