//! Least-squares line through a lot's weigh sessions (mean weight per head against days on
//! feed), each session weighted by the head it weighed.

/// One weigh session of a lot: the mean scale weight of the head weighed that day.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Session {
    /// Days on feed at the session (from the lot's arrival), fractional.
    pub days_on_feed: f64,
    /// Mean scale (full) weight of the head weighed, kg.
    pub mean_kg: f64,
    /// Head weighed.
    pub head: u32,
}

/// A fitted line: weight per head = `intercept_kg` + `adg_kg` × days on feed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Fit {
    /// Slope: gain per head per day over the sessions fitted, kg.
    pub adg_kg: f64,
    /// Weight per head at 0 days on feed, kg.
    pub intercept_kg: f64,
    /// The days on feed the sessions centre on (head-weighted mean): the slope is the ADG
    /// about then.
    pub mid_days_on_feed: f64,
    /// Standard error of the slope from the residuals, kg/day (None with two sessions: a line
    /// through two points has no residual).
    pub adg_se_kg: Option<f64>,
    /// Sessions fitted.
    pub sessions: usize,
}

impl Fit {
    /// The line's weight at `days_on_feed`, kg.
    pub fn at(&self, days_on_feed: f64) -> f64 {
        self.intercept_kg + self.adg_kg * days_on_feed
    }
}

/// The head-weighted least-squares line through `sessions`; None with fewer than two sessions
/// or when they all fall on one day.
pub fn fit(sessions: &[Session]) -> Option<Fit> {
    if sessions.len() < 2 {
        return None;
    }
    let w: f64 = sessions.iter().map(|s| f64::from(s.head)).sum();
    if w <= 0.0 {
        return None;
    }
    let mx = sessions
        .iter()
        .map(|s| f64::from(s.head) * s.days_on_feed)
        .sum::<f64>()
        / w;
    let my = sessions
        .iter()
        .map(|s| f64::from(s.head) * s.mean_kg)
        .sum::<f64>()
        / w;
    let sxx: f64 = sessions
        .iter()
        .map(|s| f64::from(s.head) * (s.days_on_feed - mx).powi(2))
        .sum();
    if sxx < 1e-9 * w {
        return None;
    }
    let sxy: f64 = sessions
        .iter()
        .map(|s| f64::from(s.head) * (s.days_on_feed - mx) * (s.mean_kg - my))
        .sum();
    let adg = sxy / sxx;
    let intercept = my - adg * mx;
    let n = sessions.len();
    let adg_se_kg = (n > 2).then(|| {
        let sse: f64 = sessions
            .iter()
            .map(|s| f64::from(s.head) * (s.mean_kg - intercept - adg * s.days_on_feed).powi(2))
            .sum();
        // Weighted residual variance per unit weight, with n - 2 degrees of freedom.
        let var = sse / w * n as f64 / (n as f64 - 2.0);
        (var / (sxx / w) / n as f64).sqrt()
    });
    Some(Fit {
        adg_kg: adg,
        intercept_kg: intercept,
        mid_days_on_feed: mx,
        adg_se_kg,
        sessions: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(days: f64, kg: f64, head: u32) -> Session {
        Session {
            days_on_feed: days,
            mean_kg: kg,
            head,
        }
    }

    #[test]
    fn two_sessions_give_the_line_through_them_without_an_error() {
        let f = fit(&[s(1.0, 350.0, 80), s(41.0, 420.0, 78)]).unwrap();
        assert!((f.adg_kg - 1.75).abs() < 1e-9, "{f:?}");
        assert!((f.at(41.0) - 420.0).abs() < 1e-9);
        assert_eq!(f.adg_se_kg, None);
        assert_eq!(f.sessions, 2);
    }

    #[test]
    fn points_on_a_line_fit_it_exactly_with_no_error() {
        let f = fit(&[s(0.0, 300.0, 10), s(30.0, 345.0, 10), s(60.0, 390.0, 9)]).unwrap();
        assert!((f.adg_kg - 1.5).abs() < 1e-9);
        assert!((f.intercept_kg - 300.0).abs() < 1e-9);
        assert!(f.adg_se_kg.unwrap() < 1e-6);
    }

    #[test]
    fn scatter_gives_a_slope_error_and_head_weights_the_fit() {
        let f = fit(&[
            s(0.0, 300.0, 50),
            s(30.0, 350.0, 50),
            s(60.0, 385.0, 50),
            s(90.0, 440.0, 50),
        ])
        .unwrap();
        assert!((f.adg_kg - 1.5).abs() < 0.1, "{f:?}");
        let se = f.adg_se_kg.unwrap();
        assert!(se > 0.01 && se < 0.5, "{se}");
        // A session of one head barely moves a line through two of a hundred (unweighted, the
        // slope would be 3.3).
        let heavy = fit(&[s(0.0, 300.0, 100), s(30.0, 345.0, 100), s(60.0, 500.0, 1)]).unwrap();
        assert!((heavy.adg_kg - 1.5).abs() < 0.15, "{heavy:?}");
    }

    #[test]
    fn fewer_than_two_days_fit_nothing() {
        assert_eq!(fit(&[]), None);
        assert_eq!(fit(&[s(5.0, 300.0, 3)]), None);
        assert_eq!(fit(&[s(5.0, 300.0, 3), s(5.0, 310.0, 3)]), None);
        assert_eq!(fit(&[s(5.0, 300.0, 0), s(9.0, 310.0, 0)]), None);
    }
}
