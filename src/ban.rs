//! Ban risk: would GitLab's Rack::Attack ban this client IP for its failed authentications?
//!
//! GitLab bans an IP that fails `maxretry` times within `findtime` seconds. tokentrail slides a
//! half-open window `[t, t + findtime)` over an IP's failure times and reports the largest count
//! inside any such window, and the first window that reached the threshold.

use crate::time::Millis;

/// A ban rule: `maxretry` failures within `findtime_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BanThreshold {
    /// The preset name, or `custom`.
    pub preset: &'static str,
    /// Failures that trigger a ban.
    pub maxretry: u64,
    /// The window, in seconds.
    pub findtime_s: u64,
}

impl BanThreshold {
    /// Self-managed `rack_attack_git_basic_auth` defaults: 10 in 60 s.
    pub const SELF_MANAGED: Self = Self {
        preset: "self-managed",
        maxretry: 10,
        findtime_s: 60,
    };
    /// GitLab.com today: 300 in 60 s.
    pub const GITLAB_COM: Self = Self {
        preset: "gitlab-com",
        maxretry: 300,
        findtime_s: 60,
    };
    /// GitLab.com before May 2024: 30 in 180 s.
    pub const GITLAB_COM_2024: Self = Self {
        preset: "gitlab-com-2024",
        maxretry: 30,
        findtime_s: 180,
    };

    /// Parses a preset name or `N/SECONDS`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "self-managed" => Ok(Self::SELF_MANAGED),
            "gitlab-com" => Ok(Self::GITLAB_COM),
            "gitlab-com-2024" => Ok(Self::GITLAB_COM_2024),
            _ => {
                let parsed = text.split_once('/').and_then(|(n, s)| {
                    Some((
                        n.trim().parse::<u64>().ok()?,
                        s.trim().trim_end_matches('s').parse::<u64>().ok()?,
                    ))
                });
                match parsed {
                    // A window of up to a year; beyond, a "ban" means nothing.
                    Some((n, s)) if n > 0 && s > 0 && s <= 366 * 86_400 => Ok(Self {
                        preset: "custom",
                        maxretry: n,
                        findtime_s: s,
                    }),
                    _ => Err(format!(
                        "invalid ban threshold '{text}': use self-managed, gitlab-com, gitlab-com-2024 or N/SECONDS such as 10/60"
                    )),
                }
            }
        }
    }
}

impl std::fmt::Display for BanThreshold {
    /// `self-managed: 10 failures in 60 s`, as every report names the rule.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} failures in {} s",
            self.preset, self.maxretry, self.findtime_s
        )
    }
}

/// What the sliding window found for one IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowStats {
    /// The most failures inside any window.
    pub max_in_window: u64,
    /// The first window that held `maxretry` failures: its first failure and the failure that
    /// reached the threshold.
    pub first_crossing: Option<(Millis, Millis)>,
}

/// Slides the window over `times` (sorted ascending).
pub fn windows(times: &[Millis], rule: &BanThreshold) -> WindowStats {
    let findtime = rule.findtime_s.saturating_mul(1000) as i64;
    let mut stats = WindowStats::default();
    let mut i = 0;
    for (j, &t) in times.iter().enumerate() {
        while t - times[i] >= findtime {
            i += 1;
        }
        let n = (j - i + 1) as u64;
        stats.max_in_window = stats.max_in_window.max(n);
        if n >= rule.maxretry && stats.first_crossing.is_none() {
            stats.first_crossing = Some((times[i], t));
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_custom() -> Result<(), String> {
        assert_eq!(BanThreshold::parse("gitlab-com")?.maxretry, 300);
        let c = BanThreshold::parse("5/30")?;
        assert_eq!((c.maxretry, c.findtime_s), (5, 30));
        assert!(BanThreshold::parse("0/30").is_err());
        assert!(BanThreshold::parse("lots").is_err());
        Ok(())
    }

    #[test]
    fn half_open_window() {
        let rule = BanThreshold {
            preset: "custom",
            maxretry: 3,
            findtime_s: 60,
        };
        // 0 s, 30 s and 60 s: the window [0, 60) holds only two.
        let w = windows(&[0, 30_000, 60_000], &rule);
        assert_eq!((w.max_in_window, w.first_crossing), (2, None));
        let w = windows(&[0, 30_000, 59_999, 59_999], &rule);
        assert_eq!(w.max_in_window, 4);
        assert_eq!(w.first_crossing, Some((0, 59_999)));
        assert_eq!(windows(&[], &rule).max_in_window, 0);
    }
}
