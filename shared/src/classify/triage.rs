//! Influence and triage: how urgently to act on a classified mention and from which account,
//! per category × influence tier (docs/design.md "Classification"; the seed deck's rule for haters:
//! influential critics are answered reactively with a prepared answer, the rest monitored).

use serde::{Deserialize, Serialize};

use crate::domain::{Account, Action, Category, Influence, Priority, Triage};

/// Follower thresholds of the influence tiers (configurable; defaults from docs/design.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfluenceThresholds {
    /// `kecil` below this, `menengah` from it.
    pub menengah: u64,
    pub besar: u64,
    pub sangat_besar: u64,
}

impl Default for InfluenceThresholds {
    fn default() -> Self {
        InfluenceThresholds { menengah: 1_000, besar: 10_000, sangat_besar: 100_000 }
    }
}

impl InfluenceThresholds {
    /// The tier of an author; `tidak_diketahui` when the platform gives no follower count.
    pub fn tier(&self, followers: Option<u64>) -> Influence {
        match followers {
            None => Influence::TidakDiketahui,
            Some(n) if n >= self.sangat_besar => Influence::SangatBesar,
            Some(n) if n >= self.besar => Influence::Besar,
            Some(n) if n >= self.menengah => Influence::Menengah,
            Some(_) => Influence::Kecil,
        }
    }
}

/// Default [`TriageSettings::min_confidence`]. The category confidence is calibrated (a
/// temperature fitted on held-out text after the rules); on the validation tenths of the
/// training files, messages below 0.5 had the right category less than half the time (8 of
/// 17), those from 0.5 to 0.6 59 %, from 0.6 to 0.7 81 % (README, Classification).
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.5;

/// Triage settings: tiers, whether the office runs a second ("reactive") account, and the
/// confidence below which a message is monitored rather than answered.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TriageSettings {
    pub thresholds: InfluenceThresholds,
    pub reactive_account: bool,
    /// A classification less confident than this (the category's calibrated probability) is
    /// triaged `pantau` instead of `tanggapi_*` (0 turns this off). Config: PANTAU_MIN_CONFIDENCE.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
}

fn default_min_confidence() -> f32 {
    DEFAULT_MIN_CONFIDENCE
}

impl Default for TriageSettings {
    fn default() -> Self {
        TriageSettings {
            thresholds: InfluenceThresholds::default(),
            reactive_account: false,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
        }
    }
}

/// Whether an author's reach makes a hater worth answering (and a case and an alert).
pub fn is_influential(influence: Influence) -> bool {
    matches!(influence, Influence::Besar | Influence::SangatBesar)
}

/// Priority, action and account for a category and an author's follower count.
pub fn triage(category: Category, followers: Option<u64>, settings: &TriageSettings) -> Triage {
    triage_for_tier(category, settings.thresholds.tier(followers), settings.reactive_account)
}

/// Triage of a classification for an author of tier `influence` (a known account's tier, else
/// the one of its follower count): [`triage_for_tier`], except that a classification less
/// confident than `settings.min_confidence` is monitored (`pantau`) instead of answered, at the
/// same priority, so an officer looks before anyone replies.
pub fn triage_classified(
    category: Category,
    confidence: f32,
    influence: Influence,
    settings: &TriageSettings,
) -> Triage {
    let mut t = triage_for_tier(category, influence, settings.reactive_account);
    let unsure = confidence.is_nan() || confidence < settings.min_confidence;
    if unsure && matches!(t.action, Action::TanggapiSegera | Action::TanggapiDenganJawaban) {
        t.action = Action::Pantau;
    }
    t
}

/// Priority, action and account for a category and an influence tier.
pub fn triage_for_tier(category: Category, influence: Influence, reactive_account: bool) -> Triage {
    use Action::*;
    use Priority::*;
    let big = is_influential(influence);
    let (priority, action, account) = match category {
        Category::Hater if big => {
            let account = if reactive_account { Account::Reaktif } else { Account::Resmi };
            (if influence == Influence::SangatBesar { P1 } else { P2 }, TanggapiDenganJawaban, account)
        }
        Category::Hater => (P4, Pantau, Account::Resmi),
        Category::Pengaduan => (if big { P1 } else { P2 }, TanggapiSegera, Account::Resmi),
        Category::PermintaanInformasi => (if big { P2 } else { P3 }, TanggapiDenganJawaban, Account::Resmi),
        Category::Aspirasi => (if big { P2 } else { P3 }, TanggapiDenganJawaban, Account::Resmi),
        Category::Apresiasi => (if big { P3 } else { P4 }, Pantau, Account::Resmi),
        Category::Lainnya => (P4, Abaikan, Account::Resmi),
    };
    Triage { influence, priority, action, account }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_documented_thresholds() {
        let t = InfluenceThresholds::default();
        assert_eq!(t.tier(None), Influence::TidakDiketahui);
        assert_eq!(t.tier(Some(999)), Influence::Kecil);
        assert_eq!(t.tier(Some(1_000)), Influence::Menengah);
        assert_eq!(t.tier(Some(9_999)), Influence::Menengah);
        assert_eq!(t.tier(Some(10_000)), Influence::Besar);
        assert_eq!(t.tier(Some(100_000)), Influence::SangatBesar);
    }

    #[test]
    fn influential_haters_are_answered_reactively_and_the_rest_monitored() {
        let with_reactive = TriageSettings { reactive_account: true, ..Default::default() };
        let big = triage(Category::Hater, Some(250_000), &with_reactive);
        assert_eq!(
            (big.priority, big.action, big.account),
            (Priority::P1, Action::TanggapiDenganJawaban, Account::Reaktif)
        );
        let no_reactive = triage(Category::Hater, Some(20_000), &TriageSettings::default());
        assert_eq!((no_reactive.priority, no_reactive.account), (Priority::P2, Account::Resmi));
        let small = triage(Category::Hater, Some(40), &with_reactive);
        assert_eq!((small.priority, small.action), (Priority::P4, Action::Pantau));
        let unknown = triage(Category::Hater, None, &with_reactive);
        assert_eq!(unknown.action, Action::Pantau);
    }

    #[test]
    fn unsure_classifications_are_monitored_not_answered() {
        let s = TriageSettings::default();
        let (small, unknown) = (Influence::Kecil, Influence::TidakDiketahui);
        let sure = triage_classified(Category::Pengaduan, 0.9, small, &s);
        assert_eq!((sure.priority, sure.action), (Priority::P2, Action::TanggapiSegera));
        let unsure = triage_classified(Category::Pengaduan, 0.4, small, &s);
        assert_eq!((unsure.priority, unsure.action), (Priority::P2, Action::Pantau));
        assert_eq!(triage_classified(Category::PermintaanInformasi, 0.3, unknown, &s).action, Action::Pantau);
        // Ignoring stays ignoring; NaN counts as unsure; 0 turns the threshold off.
        assert_eq!(triage_classified(Category::Lainnya, 0.2, unknown, &s).action, Action::Abaikan);
        assert_eq!(triage_classified(Category::Aspirasi, f32::NAN, unknown, &s).action, Action::Pantau);
        let off = TriageSettings { min_confidence: 0.0, ..s };
        assert_eq!(triage_classified(Category::Pengaduan, 0.1, unknown, &off).action, Action::TanggapiSegera);
        // A known account's tier makes a hater without a follower count an influential critic.
        let known = triage_classified(Category::Hater, 0.9, Influence::Besar, &s);
        assert_eq!(
            (known.influence, known.priority, known.action),
            (Influence::Besar, Priority::P2, Action::TanggapiDenganJawaban)
        );
    }

    #[test]
    fn complaints_come_first_and_noise_is_ignored() {
        let s = TriageSettings::default();
        assert_eq!(triage(Category::Pengaduan, Some(12), &s).action, Action::TanggapiSegera);
        assert_eq!(triage(Category::Pengaduan, Some(50_000), &s).priority, Priority::P1);
        assert_eq!(triage(Category::Lainnya, Some(500_000), &s).action, Action::Abaikan);
        assert_eq!(triage(Category::PermintaanInformasi, None, &s).priority, Priority::P3);
    }
}
