//! The demo yard's life: history into the outbox, then day after day on the demo's clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::state::DemoState;
use super::{
    DayQueue, GATEWAY_ID, HISTORY_DAYS, SimClock, Yard, chute_animals, chute_pass, midnight, sinks,
    todays_chute, yard_sim,
};
use crate::herd::{Channel, DaySummary, SimEvent, YardSim};

/// Why waiting for a simulated time ended early.
enum Woke {
    /// The clock reads the time waited for.
    Due,
    /// The clock has just caught up with the present (today's chute is due).
    CaughtUp,
    /// Ctrl-C.
    Stopped,
}

impl Yard {
    /// Sends the yard's history, then lives on the demo's clock until `stop` (or, with
    /// `exit_when_done`, until today's chute is done).
    pub(super) async fn live(mut self, stop: &CancellationToken) -> anyhow::Result<()> {
        let o = self.options.clone();
        let now = Utc::now();
        let size = (o.pens, o.head_per_lot);
        let saved = DemoState::load(&o.data_dir, &o.feedlot_id, o.seed, size);
        let mut clock_start = midnight(now) - chrono::Duration::days(i64::from(o.days_back));
        let model_start = saved.as_ref().map_or_else(
            || (clock_start - chrono::Duration::days(i64::from(HISTORY_DAYS))).date_naive(),
            |s| s.model_start,
        );
        let sent_until = saved.as_ref().map(|s| s.sent_until);
        if let Some(s) = sent_until {
            clock_start = clock_start.max(s).min(now);
            println!(
                "Resuming the yard from {s} (saved in {}).",
                o.data_dir.display()
            );
        }
        let mut state = DemoState {
            feedlot_id: o.feedlot_id.clone(),
            seed: o.seed,
            pens_and_lot_size: size,
            model_start,
            sent_until: sent_until.unwrap_or(clock_start),
        };
        let mut sim = yard_sim(&o, model_start);
        let already = |e: &SimEvent| sent_until.is_some_and(|s| e.at <= s);
        let (mut history, mut today) = (Vec::new(), DayQueue::new());
        let mut summary = DaySummary::default();
        while sim.date(sim.day()) <= clock_start.date_naive() {
            let (s, events) = sim.step();
            summary = s;
            for e in events.into_iter().filter(|e| !already(e)) {
                if e.at < clock_start {
                    history.push(e);
                } else {
                    today.push_back(e);
                }
            }
        }
        let imported = sinks::import(
            &o.data_dir,
            self.outbox.clone(),
            &o.feedlot_id,
            GATEWAY_ID,
            o.seed,
            &history,
        )
        .await?;
        println!(
            "History: {imported} records from {model_start} to {} committed to the gateway's outbox.",
            clock_start.format("%Y-%m-%d %H:%M")
        );
        state.sent_until = clock_start;
        state.save(&o.data_dir)?;
        let clock = SimClock::new(clock_start, Utc::now(), o.days_per_minute);
        println!(
            "The yard's clock starts at {} and runs {} days a minute until it reaches today; \
             Ctrl-C stops it.",
            clock_start.format("%Y-%m-%d %H:%M"),
            o.days_per_minute
        );
        let mut chute_done = false;
        loop {
            let Some(next_at) = today.front().map(|e| e.at) else {
                // The day is over at midnight: report it and simulate the next.
                let day_end = sim
                    .date(sim.day())
                    .and_time(chrono::NaiveTime::MIN)
                    .and_utc();
                match self.wait(&clock, day_end, chute_done, stop).await {
                    Woke::Stopped => break,
                    Woke::CaughtUp => {
                        chute_done = true;
                        if self.today(&sim).await? {
                            break;
                        }
                        continue;
                    }
                    Woke::Due => {}
                }
                println!("{summary}");
                state.sent_until = day_end;
                state.save(&o.data_dir)?;
                let (s, events) = sim.step();
                summary = s;
                today.extend(events);
                continue;
            };
            match self.wait(&clock, next_at, chute_done, stop).await {
                Woke::Stopped => break,
                Woke::CaughtUp => {
                    chute_done = true;
                    if self.today(&sim).await? {
                        break;
                    }
                    continue;
                }
                Woke::Due => {}
            }
            let now = clock.now();
            let mut batch = Vec::new();
            while today.front().is_some_and(|e| e.at <= now) {
                batch.extend(today.pop_front());
            }
            self.deliver(&batch, clock.caught_up()).await?;
            if let Some(last) = batch.last() {
                state.sent_until = last.at;
                state.save(&o.data_dir)?;
            }
        }
        Ok(())
    }

    /// Waits until the clock reads `at`, waking early on Ctrl-C or when the clock catches up
    /// (once, while `chute_done` is false) with nothing due.
    async fn wait(
        &self,
        clock: &SimClock,
        at: DateTime<Utc>,
        chute_done: bool,
        stop: &CancellationToken,
    ) -> Woke {
        loop {
            if stop.is_cancelled() {
                return Woke::Stopped;
            }
            // What is due goes first, so every simulated day is summed up and delivered
            // before today's chute starts, however slowly the last day was sent.
            if clock.now() >= at {
                return Woke::Due;
            }
            if !chute_done && clock.caught_up() {
                return Woke::CaughtUp;
            }
            let wake = clock
                .instant_of(at)
                .min(tokio::time::Instant::now() + Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = stop.cancelled() => return Woke::Stopped,
            }
        }
    }

    /// The clock has caught up: today's chute runs in real time. Returns whether the demo
    /// should end (with `exit_when_done`).
    async fn today(&mut self, sim: &YardSim) -> anyhow::Result<bool> {
        let animals = todays_chute(sim, self.options.animals);
        println!(
            "Caught up with today: {} head through the chute (RFID reader and scale on virtual serial ports)…",
            animals.len()
        );
        let n = chute_pass(self, &animals).await?;
        println!("Today's chute: {n} weighings captured by the gateway.");
        if self.options.exit_when_done {
            return Ok(true);
        }
        println!("The yard lives on in real time; Ctrl-C stops it.");
        Ok(false)
    }

    /// Hands `batch` to the gateway: manual records to the records API, feed to the truck,
    /// chute records to the outbox (past days) or the virtual chute (`live`).
    async fn deliver(&mut self, batch: &[SimEvent], live: bool) -> anyhow::Result<()> {
        let o = &self.options;
        let mut refused = 0;
        for e in batch.iter().filter(|e| e.channel == Channel::Office) {
            if let Err(error) = self.office.record(e.at, &e.event).await {
                refused += 1;
                tracing::warn!(%error, "record not accepted");
            }
        }
        if refused > 0 {
            println!("  {refused} record(s) not accepted by the records API (see the log).");
        }
        let feed: Vec<SimEvent> = batch
            .iter()
            .filter(|e| e.channel == Channel::Truck)
            .cloned()
            .collect();
        if !feed.is_empty() {
            let messages = sinks::truck_messages(&self.truck, o.seed, &feed);
            if let Err(error) = sinks::feed(&self.truck, messages).await {
                println!("  feed truck {}: {error}", self.truck.truck_id);
            }
        }
        let chute: Vec<SimEvent> = batch
            .iter()
            .filter(|e| e.channel == Channel::Chute)
            .cloned()
            .collect();
        if !chute.is_empty() {
            if live {
                let animals = chute_animals(&chute);
                println!("  re-weigh: {} head through the chute…", animals.len());
                chute_pass(self, &animals).await?;
            } else {
                sinks::import(
                    &o.data_dir,
                    self.outbox.clone(),
                    &o.feedlot_id,
                    GATEWAY_ID,
                    o.seed,
                    &chute,
                )
                .await?;
            }
        }
        Ok(())
    }
}
