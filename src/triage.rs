//! Triage analyses over failure times: token patterns, the onset of a spike, expiry cliffs.
//!
//! Pure functions over sorted millisecond times and per-bucket counts, so that they are easy to
//! test with known truth. They decide nothing about output; `report` calls them and renders them.
//!
//! - A token's failures are **recurring** when they come in runs at a regular interval (a cron job
//!   or a CI schedule still using the token), a **burst** when nearly all of them fall inside ten
//!   minutes, else **sporadic**.
//! - The **onset** is the first timeline bucket whose failures jump far above the mean of the
//!   buckets before it (at least 10, and at least 5 times that mean).
//! - An **expiry cliff** is a UTC day on which the first `token_expired` failure of many distinct
//!   tokens falls (at least 5 tokens, and at least 4 times the mean of the other days): GitLab
//!   expires tokens at 00:00 UTC of their `expires_at` date.

use std::collections::BTreeMap;

use crate::time::Millis;

/// How a token's failures are spread over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Many failures in a short span.
    Burst,
    /// Runs of failures at a regular interval, in seconds.
    Recurring(u64),
    /// Neither.
    Sporadic,
}

impl Pattern {
    /// The name used in JSON and tables.
    pub fn name(&self) -> &'static str {
        match self {
            Pattern::Burst => "burst",
            Pattern::Recurring(_) => "recurring",
            Pattern::Sporadic => "sporadic",
        }
    }

    /// The interval of a recurring pattern.
    pub fn interval_s(&self) -> Option<u64> {
        match self {
            Pattern::Recurring(s) => Some(*s),
            _ => None,
        }
    }
}

/// Failures closer than this belong to the same run (one cron execution retrying).
const RUN_GAP_MS: Millis = 20_000;
/// A burst: at least this many failures…
const BURST_MIN: usize = 10;
/// …of which 90 % fall inside this span.
const BURST_SPAN_MS: Millis = 600_000;

/// Rounds an interval to what a person would schedule: whole minutes above two minutes, whole
/// 10 s steps above 30 s.
fn round_interval(ms: Millis) -> u64 {
    let s = (ms as f64 / 1000.0).round() as u64;
    if s >= 120 {
        ((s as f64 / 60.0).round() as u64) * 60
    } else if s >= 30 {
        ((s as f64 / 10.0).round() as u64) * 10
    } else {
        s.max(1)
    }
}

/// Classifies sorted failure times.
pub fn classify_pattern(times: &[Millis]) -> Pattern {
    if times.len() < 3 {
        return Pattern::Sporadic;
    }
    // Start times of runs.
    let mut runs = vec![times[0]];
    for w in times.windows(2) {
        if w[1] - w[0] > RUN_GAP_MS {
            runs.push(w[1]);
        }
    }
    if runs.len() >= 4 {
        let mut gaps: Vec<Millis> = runs.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        let median = gaps[gaps.len() / 2];
        let tolerance = (median / 10).max(5_000);
        let regular = gaps
            .iter()
            .filter(|g| (**g - median).abs() <= tolerance)
            .count();
        if median >= 30_000 && regular * 10 >= gaps.len() * 8 {
            return Pattern::Recurring(round_interval(median));
        }
    }
    if times.len() >= BURST_MIN {
        let need = (times.len() * 9).div_ceil(10);
        let mut i = 0;
        for j in 0..times.len() {
            while times[j] - times[i] >= BURST_SPAN_MS {
                i += 1;
            }
            if j - i + 1 >= need {
                return Pattern::Burst;
            }
        }
    }
    Pattern::Sporadic
}

/// A jump in the failure rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Onset {
    /// Index of the bucket where it starts.
    pub bucket: usize,
    /// Mean failures per bucket before it.
    pub baseline: f64,
    /// Most failures in one bucket from the onset on.
    pub peak: u64,
}

/// Buckets before a candidate that form its baseline.
const BASELINE_BUCKETS: usize = 30;

/// Finds the first bucket far above the mean of the (up to 30) buckets before it. The first bucket
/// has no baseline and is never an onset.
pub fn find_onset(counts: &[u64]) -> Option<Onset> {
    for i in 1..counts.len() {
        let from = i.saturating_sub(BASELINE_BUCKETS);
        let before = &counts[from..i];
        let baseline = before.iter().sum::<u64>() as f64 / before.len() as f64;
        let c = counts[i] as f64;
        if c >= 10.0 && c >= 5.0 * baseline {
            let peak = counts[i..].iter().copied().max().unwrap_or(0);
            return Some(Onset {
                bucket: i,
                baseline,
                peak,
            });
        }
    }
    None
}

/// Days (as the millisecond of their midnight UTC) on which many tokens first failed with
/// `token_expired`. `first_expired` holds one first-expiry time per token; `observed_from` is the
/// first failure of the whole log. The day the log starts is never a cliff: every token already
/// failing when the log begins would look as if it started failing then.
pub fn cliff_days(first_expired: &[Millis], observed_from: Millis) -> Vec<Millis> {
    let first_day = observed_from.div_euclid(86_400_000) * 86_400_000;
    let mut per_day: BTreeMap<Millis, u64> = BTreeMap::new();
    for &t in first_expired {
        *per_day
            .entry(t.div_euclid(86_400_000) * 86_400_000)
            .or_default() += 1;
    }
    let total: u64 = per_day.values().sum();
    let days = per_day.len() as u64;
    per_day
        .iter()
        .filter(|&(&d, _)| d > first_day)
        .filter(|&(_, &n)| {
            let others = if days > 1 {
                (total - n) as f64 / (days - 1) as f64
            } else {
                0.0
            };
            n >= 5 && n as f64 >= 4.0 * others.max(1.0)
        })
        .map(|(&d, _)| d)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    #[test]
    fn every_ten_minutes_is_recurring() {
        let times: Vec<Millis> = (0..432).map(|i| i * 10 * MIN + (i % 3) * 1_000).collect();
        assert_eq!(classify_pattern(&times), Pattern::Recurring(600));
        // Three retries per run still make one run.
        let retries: Vec<Millis> = (0..50)
            .flat_map(|i| [i * 10 * MIN, i * 10 * MIN + 2_000, i * 10 * MIN + 5_000])
            .collect();
        assert_eq!(classify_pattern(&retries), Pattern::Recurring(600));
    }

    #[test]
    fn bursts_and_sporadic() {
        let burst: Vec<Millis> = (0..200).map(|i| i * 500).collect();
        assert_eq!(classify_pattern(&burst), Pattern::Burst);
        assert_eq!(classify_pattern(&[0, 5 * MIN]), Pattern::Sporadic);
        let irregular = [0, 7 * MIN, 9 * MIN, 60 * MIN, 61 * MIN + 30_000, 300 * MIN];
        assert_eq!(classify_pattern(&irregular), Pattern::Sporadic);
    }

    #[test]
    fn onset_needs_a_baseline_and_a_jump() {
        assert_eq!(find_onset(&[]), None);
        assert_eq!(find_onset(&[50, 50, 50, 50]), None);
        let o = find_onset(&[1, 0, 2, 1, 40, 300, 120]);
        assert_eq!(o.map(|o| (o.bucket, o.peak)), Some((4, 300)));
        assert!(o.is_some_and(|o| (o.baseline - 1.0).abs() < 1e-9));
        assert_eq!(find_onset(&[0, 0, 9]), None, "below the absolute minimum");
    }

    #[test]
    fn cliffs() {
        let day = 86_400_000;
        let mut firsts: Vec<Millis> = (0..300).map(|i| 10 * day + i * 1000).collect();
        firsts.extend([3 * day, 4 * day + 5, 7 * day]);
        assert_eq!(cliff_days(&firsts, 3 * day), vec![10 * day]);
        assert!(cliff_days(&[day, day + 1, 2 * day], 0).is_empty());
        // Tokens already failing when the log starts make no cliff on its first day.
        let at_start: Vec<Millis> = (0..300).map(|i| 10 * day + 3_600_000 + i).collect();
        assert!(cliff_days(&at_start, 10 * day + 3_600_000).is_empty());
    }
}
