//! The event ids the subscriber captured recently, so a re-sent record is answered `captured`
//! again instead of being stored twice.
//!
//! Re-sends are routine: a truck that lost its connection before it saw `captured` sends the
//! record again, and a broker re-delivers what the gateway had not acknowledged when its link
//! died. The set lives in memory and forgets the oldest ids beyond its capacity; after a
//! gateway restart a re-send is stored again and the pipeline removes it (`event_id`).

use std::collections::{HashSet, VecDeque};

use uuid::Uuid;

/// A bounded set of recently captured event ids, oldest forgotten first.
#[derive(Debug)]
pub struct RecentIds {
    capacity: usize,
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
}

impl RecentIds {
    /// An empty set that remembers up to `capacity` ids.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ids: HashSet::with_capacity(capacity.min(4096)),
            order: VecDeque::with_capacity(capacity.min(4096)),
        }
    }

    /// Whether `id` was captured recently.
    pub fn contains(&self, id: &Uuid) -> bool {
        self.ids.contains(id)
    }

    /// Remembers `id`, forgetting the oldest id if full.
    pub fn insert(&mut self, id: Uuid) {
        if self.capacity == 0 || !self.ids.insert(id) {
            return;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_up_to_its_capacity_and_forgets_the_oldest_first() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let mut recent = RecentIds::new(3);
        for id in &ids {
            recent.insert(*id);
        }
        recent.insert(ids[3]);
        assert!(!recent.contains(&ids[0]));
        assert!(ids[1..].iter().all(|id| recent.contains(id)));
    }
}
