//! What each input of the gateway is doing, for `/healthz`.
//!
//! Every input (a serial device, an MQTT link, the forwarder) registers once in [`Inputs`] and
//! reports through its [`InputHandle`]: `up` while it works, `down` with the reason while it
//! retries (port missing, broker unreachable), and `stopped` when its handle is dropped, which
//! happens when its task ends for any reason (including a panic). `/healthz` answers 503 unless
//! every input is `up`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// The state of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
    /// Registered, not yet working (a port not opened yet, a link not connected yet).
    Starting,
    /// Working: the port is open, the link is connected, the task runs.
    Up,
    /// Not working, retrying by itself.
    Down,
    /// Its task ended: nothing will retry.
    Stopped,
}

/// One input as `/healthz` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputStatus {
    /// What it is: `serial`, `mqtt` or `forwarder`.
    pub kind: &'static str,
    /// Its state.
    pub state: InputState,
    /// Why it is not up, or what it is connected to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// How many times it went from up to down (reconnects, reopened ports).
    pub interruptions: u64,
    /// When the state last changed (RFC 3339).
    pub since: chrono::DateTime<chrono::Utc>,
}

type Table = Arc<Mutex<BTreeMap<String, InputStatus>>>;

/// Every input of a gateway, by name (`serial:rfid-1`, `mqtt:embedded`, `forwarder`).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    table: Table,
}

impl Inputs {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `name` (state `starting`) and returns the handle it reports through.
    pub fn register(&self, name: impl Into<String>, kind: &'static str) -> InputHandle {
        let name = name.into();
        let status = InputStatus {
            kind,
            state: InputState::Starting,
            detail: None,
            interruptions: 0,
            since: chrono::Utc::now(),
        };
        lock(&self.table).insert(name.clone(), status);
        InputHandle {
            name,
            table: self.table.clone(),
        }
    }

    /// Every input and its status, by name.
    pub fn snapshot(&self) -> BTreeMap<String, InputStatus> {
        lock(&self.table).clone()
    }
}

fn lock(table: &Table) -> std::sync::MutexGuard<'_, BTreeMap<String, InputStatus>> {
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How one input reports its state. Dropping it marks the input `stopped`.
#[derive(Debug)]
pub struct InputHandle {
    name: String,
    table: Table,
}

impl InputHandle {
    /// The input works; `detail` says what it is connected to, if anything.
    pub fn up(&self, detail: Option<String>) {
        self.set(InputState::Up, detail);
    }

    /// The input does not work and retries; `reason` says why.
    pub fn down(&self, reason: impl Into<String>) {
        self.set(InputState::Down, Some(reason.into()));
    }

    fn set(&self, state: InputState, detail: Option<String>) {
        let mut table = lock(&self.table);
        let Some(status) = table.get_mut(&self.name) else {
            return;
        };
        if status.state == InputState::Up && state != InputState::Up {
            status.interruptions += 1;
        }
        if status.state != state {
            status.since = chrono::Utc::now();
        }
        status.state = state;
        status.detail = detail;
    }
}

impl Drop for InputHandle {
    fn drop(&mut self) {
        self.set(InputState::Stopped, Some("its task ended".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_goes_up_down_and_stopped_when_its_handle_is_dropped() {
        let inputs = Inputs::new();
        let handle = inputs.register("mqtt:embedded", "mqtt");
        assert_eq!(
            inputs.snapshot()["mqtt:embedded"].state,
            InputState::Starting
        );
        handle.up(Some("127.0.0.1:1883".into()));
        handle.down("connection refused");
        let status = &inputs.snapshot()["mqtt:embedded"];
        assert_eq!(status.state, InputState::Down);
        assert_eq!(status.detail.as_deref(), Some("connection refused"));
        assert_eq!(status.interruptions, 1);
        drop(handle);
        assert_eq!(
            inputs.snapshot()["mqtt:embedded"].state,
            InputState::Stopped
        );
    }
}
