//! Dedup keys (SPEC §5, invariant 5): how a lead's e-mail, source id, phone and name+city are
//! normalized into keys, the name similarity used with phone matches, and the advisory-lock
//! ids that serialize concurrent pushes sharing a key.

use crate::lead::fields::{Field, FieldValue};
use rapidfuzz::distance::levenshtein;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Name similarity above which a phone match merges (SPEC §5 tier 3).
pub const NAME_SIMILARITY_THRESHOLD: f64 = 0.8;
/// Fewer digits than this is not a phone number worth matching on.
const MIN_PHONE_DIGITS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Email,
    SourceId,
    Phone,
    NameCity,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Email => "email",
            KeyKind::SourceId => "source_id",
            KeyKind::Phone => "phone",
            KeyKind::NameCity => "name_city",
        }
    }

    pub fn parse(raw: &str) -> Option<KeyKind> {
        [
            KeyKind::Email,
            KeyKind::SourceId,
            KeyKind::Phone,
            KeyKind::NameCity,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }

    /// E-mail and source id identify one lead; phone and name+city may be shared.
    pub fn unique(self) -> bool {
        matches!(self, KeyKind::Email | KeyKind::SourceId)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupKey {
    pub kind: KeyKind,
    pub key: String,
}

pub fn normalize_email(raw: &str) -> Option<String> {
    let s = raw.trim().to_lowercase();
    (!s.is_empty()).then_some(s)
}

/// Digits only: `+33 (0)1 23-45` and `330123 45` are the same phone.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= MIN_PHONE_DIGITS).then_some(digits)
}

pub fn name_city_key(name: &str, city: &str) -> Option<String> {
    let (name, city) = (name.trim().to_lowercase(), city.trim().to_lowercase());
    (!name.is_empty() && !city.is_empty()).then(|| format!("{name}\u{1f}{city}"))
}

/// Similarity of two names in [0, 1]: normalized Levenshtein (1 - edits / longer length, in
/// characters) over lower-cased names with runs of non-alphanumerics folded to one space.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    levenshtein::normalized_similarity(fold_name(a).chars(), fold_name(b).chars())
}

/// A name folded for comparison (see `name_similarity`), computed once per name.
#[derive(Debug, Clone)]
pub struct FoldedName(Vec<char>);

impl FoldedName {
    pub fn new(name: &str) -> Self {
        Self(fold_name(name).chars().collect())
    }

    /// The similarity to `other` when it is above `NAME_SIMILARITY_THRESHOLD`. Bit-parallel and
    /// cut off at the threshold: a pair of 1,000-character names costs microseconds.
    pub fn similar(&self, other: &FoldedName) -> Option<f64> {
        let args = levenshtein::Args::default().score_cutoff(NAME_SIMILARITY_THRESHOLD);
        levenshtein::normalized_similarity_with_args(
            self.0.iter().copied(),
            other.0.iter().copied(),
            &args,
        )
        .filter(|s| *s > NAME_SIMILARITY_THRESHOLD)
    }
}

fn fold_name(s: &str) -> String {
    let lower = s.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keys longer than this many bytes are stored as their SHA-256, so every key fits the
/// unique indexes of `dedup_keys` (migration 0016 converted the stored ones).
pub const MAX_KEY_BYTES: usize = 256;

fn bounded(key: String) -> String {
    if key.len() <= MAX_KEY_BYTES {
        key
    } else {
        format!("sha256:{:x}", Sha256::digest(key.as_bytes()))
    }
}

/// The dedup keys of a set of field values (a lead's state, or what a push gave).
pub fn keys_of(fields: &BTreeMap<Field, FieldValue>) -> Vec<DedupKey> {
    let text = |f: Field| fields.get(&f).and_then(FieldValue::as_text);
    let mut keys = Vec::with_capacity(4);
    if let Some(key) = text(Field::Email).and_then(normalize_email) {
        keys.push(DedupKey {
            kind: KeyKind::Email,
            key: bounded(key),
        });
    }
    if let Some(key) = text(Field::SourceId)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        keys.push(DedupKey {
            kind: KeyKind::SourceId,
            key: bounded(key.to_owned()),
        });
    }
    if let Some(key) = text(Field::Phone).and_then(normalize_phone) {
        keys.push(DedupKey {
            kind: KeyKind::Phone,
            key: bounded(key),
        });
    }
    if let (Some(name), Some(city)) = (text(Field::Name), text(Field::City)) {
        if let Some(key) = name_city_key(name, city) {
            keys.push(DedupKey {
                kind: KeyKind::NameCity,
                key: bounded(key),
            });
        }
    }
    keys
}

/// Advisory-lock id for one key of one tenant (transaction-scoped, exclusive).
pub fn key_lock_id(tenant: Uuid, key: &DedupKey) -> i64 {
    lock_id(&[
        b"dedup",
        tenant.as_bytes(),
        key.kind.as_str().as_bytes(),
        key.key.as_bytes(),
    ])
}

/// Advisory-lock id of a tenant's lead writes: single commands hold it shared, batches
/// exclusive, so a batch's in-memory dedup sees every concurrent write.
pub fn tenant_lock_id(tenant: Uuid) -> i64 {
    lock_id(&[b"tenant-leads", tenant.as_bytes()])
}

/// Advisory-lock id of a tenant's lead count: creates under a plan's lead limit take it.
pub fn lead_count_lock_id(tenant: Uuid) -> i64 {
    lock_id(&[b"tenant-lead-count", tenant.as_bytes()])
}

fn lock_id(parts: &[&[u8]]) -> i64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_match_case_insensitively_and_trimmed() {
        assert_eq!(
            normalize_email("  Bob@Example.COM "),
            normalize_email("bob@example.com")
        );
        assert_eq!(normalize_email("   "), None);
    }

    #[test]
    fn phones_compare_by_digits_only() {
        assert_eq!(
            normalize_phone("+33 (1) 23-45-67"),
            Some("3312345 67".replace(' ', ""))
        );
        assert_eq!(
            normalize_phone("+33 1 23 45 67"),
            normalize_phone("33.1.23.45.67")
        );
        assert_eq!(normalize_phone("n/a"), None);
        assert_eq!(normalize_phone("123"), None);
    }

    #[test]
    fn similar_names_score_above_the_threshold_and_different_ones_below() {
        assert!(name_similarity("Acme Corp", "ACME Corp.") > NAME_SIMILARITY_THRESHOLD);
        assert!(
            name_similarity("Blue Bottle Coffee", "Blue Bottle Cofee") > NAME_SIMILARITY_THRESHOLD
        );
        assert!(name_similarity("Acme Corp", "ACME Corporation") <= NAME_SIMILARITY_THRESHOLD);
        assert!(name_similarity("Joe's Pizza", "Sushi Bar") < 0.5);
    }

    #[test]
    fn keys_need_both_name_and_city_for_the_name_city_tier() {
        let mut fields = BTreeMap::new();
        fields.insert(Field::Name, FieldValue::Text("Acme".into()));
        assert!(keys_of(&fields).is_empty());
        fields.insert(Field::City, FieldValue::Text("Paris".into()));
        assert_eq!(keys_of(&fields)[0].kind, KeyKind::NameCity);
        assert_eq!(keys_of(&fields)[0].key, "acme\u{1f}paris");
    }

    #[test]
    fn lock_ids_differ_by_tenant_kind_and_key() {
        let t1 = Uuid::from_u128(1);
        let t2 = Uuid::from_u128(2);
        let k = |kind, key: &str| DedupKey {
            kind,
            key: key.into(),
        };
        let a = key_lock_id(t1, &k(KeyKind::Email, "a@b.c"));
        assert_ne!(a, key_lock_id(t2, &k(KeyKind::Email, "a@b.c")));
        assert_ne!(a, key_lock_id(t1, &k(KeyKind::SourceId, "a@b.c")));
        assert_ne!(a, key_lock_id(t1, &k(KeyKind::Email, "a@b.d")));
        assert_eq!(a, key_lock_id(t1, &k(KeyKind::Email, "a@b.c")));
    }
}
