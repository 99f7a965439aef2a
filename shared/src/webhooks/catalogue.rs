//! The public events a webhook can subscribe to, and `events` patterns: an exact name,
//! `prefix.*` or `*`. An empty list subscribes to everything.

/// Every public event name, in the order error messages list them.
pub const PUBLIC_EVENTS: &[&str] = &[
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "lead.scored",
    "leads.created",
    "leads.updated",
    "leads.deleted",
    "leads.scored",
    "note.created",
    "note.updated",
    "note.deleted",
];

/// Sent by `POST /webhooks/{id}/test` to that endpoint whatever it subscribes to.
pub const TEST_EVENT: &str = "webhook.test";

/// Longest pattern accepted, and most patterns per endpoint.
const MAX_PATTERN_BYTES: usize = 100;
const MAX_PATTERNS: usize = 100;

fn prefixes() -> impl Iterator<Item = &'static str> {
    PUBLIC_EVENTS
        .iter()
        .filter_map(|e| e.split_once('.').map(|(p, _)| p))
}

/// Checks `events` patterns; answers them deduplicated in their given order, or a message
/// naming the first unknown one and listing the valid names.
pub fn validate_patterns(patterns: &[String]) -> Result<Vec<String>, String> {
    if patterns.len() > MAX_PATTERNS {
        return Err(format!(
            "'events' has {} entries; at most {MAX_PATTERNS} are allowed",
            patterns.len()
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(patterns.len());
    for p in patterns {
        let known = p.len() <= MAX_PATTERN_BYTES
            && (p == "*"
                || PUBLIC_EVENTS.contains(&p.as_str())
                || p.strip_suffix(".*")
                    .is_some_and(|prefix| prefixes().any(|k| k == prefix)));
        if !known {
            let mut shown: String = p.chars().take(60).collect();
            if shown.len() < p.len() {
                shown.push('…');
            }
            return Err(format!(
                "unknown event '{shown}' in 'events': valid names are {}, a prefix wildcard \
                 such as 'lead.*', or '*' (an empty list means every event)",
                PUBLIC_EVENTS.join(", ")
            ));
        }
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Whether an endpoint subscribed to `patterns` receives `event`.
pub fn matches(patterns: &[String], event: &str) -> bool {
    event == TEST_EVENT
        || patterns.is_empty()
        || patterns.iter().any(|p| {
            p == "*"
                || p == event
                || p.strip_suffix('*')
                    .is_some_and(|prefix| prefix.ends_with('.') && event.starts_with(prefix))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn patterns_match_exact_names_prefixes_and_everything() {
        assert!(matches(&[], "lead.created"));
        assert!(matches(&v(&["*"]), "note.deleted"));
        assert!(matches(&v(&["lead.*"]), "lead.scored"));
        assert!(!matches(&v(&["lead.*"]), "leads.created"));
        assert!(matches(&v(&["leads.*"]), "leads.created"));
        assert!(!matches(&v(&["note.created"]), "note.updated"));
        assert!(matches(&v(&["note.created"]), TEST_EVENT));
    }

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let err = validate_patterns(&v(&["lead.exploded"])).unwrap_err();
        assert!(
            err.contains("lead.exploded") && err.contains("note.deleted"),
            "{err}"
        );
        assert!(validate_patterns(&v(&["deal.*"])).is_err());
        assert!(validate_patterns(&v(&["lead*"])).is_err());
        assert!(validate_patterns(&v(&[""])).is_err());
        assert!(validate_patterns(&v(&["webhook.test"])).is_err());
        assert_eq!(
            validate_patterns(&v(&["lead.*", "*", "lead.*"])).unwrap(),
            v(&["lead.*", "*"])
        );
    }
}
