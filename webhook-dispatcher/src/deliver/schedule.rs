//! When a failed delivery is tried again: `WEBHOOK_RETRY_SCHEDULE` (default after 5 s, 5 min,
//! 30 min, 2 h, 5 h, 10 h, 10 h — Svix's), each wait ±20% jitter; a `Retry-After` of a 429 or
//! 503 replaces the wait (capped at a day). Past the schedule the delivery is exhausted.

use rand::Rng;
use std::time::Duration;

const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub waits: Vec<Duration>,
    /// Relative jitter, 0.2 = ±20%.
    pub jitter: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        let m = 60;
        Self {
            waits: [5, 5 * m, 30 * m, 120 * m, 300 * m, 600 * m, 600 * m]
                .map(Duration::from_secs)
                .to_vec(),
            jitter: 0.2,
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let waits = raw
            .split(',')
            .map(shared::config::parse_duration)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            waits,
            ..Self::default()
        })
    }
}

impl Schedule {
    /// The wait before the next try after `failures` failed attempts of this round (`None`:
    /// exhausted).
    pub fn next_try(
        &self,
        failures: i32,
        retry_after: Option<Duration>,
    ) -> Option<chrono::Duration> {
        let wait = *self
            .waits
            .get(usize::try_from(failures).ok()?.checked_sub(1)?)?;
        let wait = match retry_after {
            Some(asked) => asked.min(MAX_RETRY_AFTER),
            None => {
                let factor = 1.0 + rand::thread_rng().gen_range(-self.jitter..=self.jitter);
                wait.mul_f64(factor.max(0.0))
            }
        };
        chrono::Duration::from_std(wait).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_runs_out_after_its_last_wait_and_jitters_within_20_percent() {
        let s = Schedule::default();
        for _ in 0..100 {
            let w = s.next_try(1, None).unwrap().num_milliseconds();
            assert!((4000..=6000).contains(&w), "{w}");
        }
        assert!(s.next_try(7, None).is_some());
        assert!(s.next_try(8, None).is_none());
        let capped = s
            .next_try(1, Some(Duration::from_secs(10 * 86_400)))
            .unwrap();
        assert_eq!(capped.num_seconds(), 86_400);
        let asked = s.next_try(2, Some(Duration::from_secs(7))).unwrap();
        assert_eq!(asked.num_seconds(), 7);
        let custom: Schedule = "100ms,1s".parse().unwrap();
        assert_eq!(custom.waits.len(), 2);
        assert!("5x".parse::<Schedule>().is_err());
    }
}
