//! Which fields a list query can filter and sort on, and of what type each is.

use crate::lead::fields::{Field, FieldKind};

/// Numeric fields: two lead fields plus the score and the timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberField {
    Rating,
    ReviewCount,
    Score,
    CreatedAt,
    UpdatedAt,
    LastInteractionAt,
}

impl NumberField {
    pub const ALL: [NumberField; 6] = [
        NumberField::Rating,
        NumberField::ReviewCount,
        NumberField::Score,
        NumberField::CreatedAt,
        NumberField::UpdatedAt,
        NumberField::LastInteractionAt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NumberField::Rating => "rating",
            NumberField::ReviewCount => "review_count",
            NumberField::Score => "score",
            NumberField::CreatedAt => "created_at",
            NumberField::UpdatedAt => "updated_at",
            NumberField::LastInteractionAt => "last_interaction_at",
        }
    }

    pub fn parse(name: &str) -> Option<NumberField> {
        NumberField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Text fields: every lead field that holds text (status included).
pub fn text_field(name: &str) -> Option<Field> {
    Field::from_name(name)
        .filter(|f| matches!(f.kind(), FieldKind::Text { .. } | FieldKind::Status))
}

pub const TEXT_FIELDS: &str = "name, email, phone, city, state, country, postal_code, category, \
     source, source_id, website, status, description, address, logo_url";
pub const NUMBER_FIELDS: &str =
    "rating, review_count, score, created_at, updated_at, last_interaction_at";

/// `attr:<name>` with a valid attribute name.
pub fn attr_name(field: &str) -> Option<&str> {
    field
        .strip_prefix("attr:")
        .filter(|n| crate::lead::attribute::valid_attribute_name(n))
}

/// What a list can be sorted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Text(Field),
    Number(NumberField),
    Attr(String),
}

impl SortKey {
    pub const NAMES: &'static str = "name, email, phone, city, state, country, postal_code, \
         category, source, source_id, website, status, description, address, logo_url, rating, \
         review_count, score, created_at, updated_at, last_interaction_at";

    pub fn parse(name: &str) -> Option<SortKey> {
        if let Some(f) = NumberField::parse(name) {
            return Some(SortKey::Number(f));
        }
        if let Some(f) = text_field(name) {
            return Some(SortKey::Text(f));
        }
        attr_name(name).map(|n| SortKey::Attr(n.to_owned()))
    }

    /// The name the client used (and the cursor records).
    pub fn name(&self) -> String {
        match self {
            SortKey::Text(f) => f.name().to_owned(),
            SortKey::Number(f) => f.name().to_owned(),
            SortKey::Attr(n) => format!("attr:{n}"),
        }
    }
}
