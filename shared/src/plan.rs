//! Plans and their limits (SPEC §8). Limits are configuration; enforcement of lead and request
//! limits comes later, the batch limit is enforced now.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Pro,
    Unlimited,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Unlimited => "unlimited",
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Plan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "free" => Ok(Self::Free),
            "pro" => Ok(Self::Pro),
            "unlimited" => Ok(Self::Unlimited),
            other => Err(format!(
                "unknown plan '{other}' (expected free, pro or unlimited)"
            )),
        }
    }
}

/// What a plan allows. `None` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    pub max_leads: Option<u64>,
    pub requests_per_window: Option<u64>,
    pub batch_size: usize,
}

/// The limits of every plan, from configuration with SPEC §8's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTable {
    pub free: PlanLimits,
    pub pro: PlanLimits,
    pub unlimited: PlanLimits,
}

impl Default for PlanTable {
    fn default() -> Self {
        Self {
            free: PlanLimits {
                max_leads: Some(100),
                requests_per_window: Some(100),
                batch_size: 100,
            },
            pro: PlanLimits {
                max_leads: Some(500),
                requests_per_window: Some(1000),
                batch_size: 500,
            },
            unlimited: PlanLimits {
                max_leads: None,
                requests_per_window: None,
                batch_size: 1000,
            },
        }
    }
}

impl PlanTable {
    pub fn limits(&self, plan: Plan) -> PlanLimits {
        match plan {
            Plan::Free => self.free,
            Plan::Pro => self.pro,
            Plan::Unlimited => self.unlimited,
        }
    }
}

/// Plans given to particular accounts by configuration (`LEADSTREAM_ACCOUNT_PLANS`, e.g.
/// `ops@acme.com=pro,trial@acme.com=free`), keyed by lower-cased e-mail. They apply to
/// existing accounts at once (the next key lookup) and to new ones at registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPlans(HashMap<String, Plan>);

impl AccountPlans {
    pub fn get(&self, email: &str) -> Option<Plan> {
        self.0.get(&email.trim().to_lowercase()).copied()
    }
}

impl FromStr for AccountPlans {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut map = HashMap::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (email, plan) = entry
                .split_once('=')
                .ok_or_else(|| format!("'{entry}' is not email=plan"))?;
            map.insert(email.trim().to_lowercase(), plan.parse()?);
        }
        Ok(Self(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse_case_insensitively_and_refuse_unknown_names() {
        assert_eq!("PRO".parse::<Plan>(), Ok(Plan::Pro));
        assert!("gold".parse::<Plan>().is_err());
    }

    #[test]
    fn account_plans_parse_from_a_list_and_match_emails_case_insensitively() {
        let plans: AccountPlans = "Ops@Acme.com=pro, trial@acme.com=FREE".parse().unwrap();
        assert_eq!(plans.get("ops@acme.com"), Some(Plan::Pro));
        assert_eq!(plans.get(" TRIAL@acme.com"), Some(Plan::Free));
        assert_eq!(plans.get("other@acme.com"), None);
        assert!("ops@acme.com".parse::<AccountPlans>().is_err());
        assert!("ops@acme.com=gold".parse::<AccountPlans>().is_err());
    }

    #[test]
    fn default_batch_limits_follow_the_spec() {
        let t = PlanTable::default();
        assert_eq!(t.limits(Plan::Free).batch_size, 100);
        assert_eq!(t.limits(Plan::Pro).batch_size, 500);
        assert_eq!(t.limits(Plan::Unlimited).batch_size, 1000);
    }
}
