//! What a merge or an update changed: fields set or cleared, the new tag list, attributes
//! upserted or removed. Empty changes leave `updated_at` alone.

use super::attribute::Attribute;
use super::fields::{Field, FieldValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadChanges {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<Field, FieldValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<Field>,
    /// The whole new tag list, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Attributes added or changed (upserted by name, ids kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Ids of attributes removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_attributes: Vec<Uuid>,
}

impl LeadChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
            && self.cleared.is_empty()
            && self.tags.is_none()
            && self.attributes.is_empty()
            && self.removed_attributes.is_empty()
    }
}
