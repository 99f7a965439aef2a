//! The tools' arguments, one typed struct each: their JSON Schemas (`inputSchema`) are
//! generated from these, and their names follow the REST fields and bodies (a lead tool names
//! its lead `id`; note and attribute tools name the lead `lead_id` and the item `id`).
//! Field descriptions are at most 40 characters.

use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct NoArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListLeads {
    /// Free text, e.g. restaurants in Paris
    pub query: Option<String>,
    /// Filters, e.g. "and.eq.city.Berlin"
    pub filters: Option<Vec<String>>,
    /// Field to sort by, e.g. "score"
    pub sort: Option<String>,
    /// ASC or DESC
    pub sort_order: Option<String>,
    /// Page size, 1 to 1000 (default 50)
    pub limit: Option<u32>,
    /// next_cursor of the previous page
    pub cursor: Option<String>,
    /// csv, json or xlsx: every match, no pages
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LeadId {
    /// Lead id (cl_...)
    pub id: String,
}

/// A custom attribute as the REST body takes it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AttributeInput {
    /// Attribute name
    pub name: String,
    /// text, number, bool, list or object
    #[serde(rename = "type")]
    pub kind: String,
    /// The value, of that type
    pub value: Value,
}

/// Lead fields (all optional here; `create_lead` needs `name` and `source`).
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct LeadFields {
    /// Business or person name
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the lead came from
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free-text description
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Street address
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// City
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Country
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Postal code
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Latitude, -90 to 90
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude, -180 to 180
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Phone number
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Website URL
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Rating, e.g. 4.5
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<f64>,
    /// Number of reviews
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_count: Option<i64>,
    /// Category, e.g. restaurant
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Id in the source system
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Logo URL
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Status, e.g. new or contacted
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Tags (replace the list)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Custom attributes, upserted by name
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<AttributeInput>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateLead {
    /// Lead id (cl_...)
    pub id: String,
    #[serde(flatten)]
    pub fields: LeadFields,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteById {
    /// Id of the item to delete
    pub id: String,
    /// Must be true to delete
    pub confirm: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LeadTag {
    /// Lead id (cl_...)
    pub id: String,
    /// Tag to add
    pub tag: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BatchCreate {
    /// Leads to create (name and source each)
    pub leads: Vec<LeadFields>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BatchUpdate {
    /// Lead ids (cl_...)
    pub ids: Vec<String>,
    /// Fields to set on every lead
    pub data: LeadFields,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BatchDelete {
    /// Lead ids (cl_...)
    pub ids: Vec<String>,
    /// Must be true to delete
    pub confirm: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LeadRef {
    /// Lead id (cl_...)
    pub lead_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateNote {
    /// Lead id (cl_...)
    pub lead_id: String,
    /// Note text
    pub content: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateNote {
    /// Note id (note_...)
    pub id: String,
    /// New note text
    pub content: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateAttribute {
    /// Lead id (cl_...)
    pub lead_id: String,
    #[serde(flatten)]
    pub attribute: AttributeInput,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateAttribute {
    /// Lead id (cl_...)
    pub lead_id: String,
    /// Attribute id
    pub id: String,
    /// New value, of the attribute's type
    pub value: Value,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteAttribute {
    /// Lead id (cl_...)
    pub lead_id: String,
    /// Attribute id
    pub id: String,
    /// Must be true to delete
    pub confirm: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ItemId {
    /// Id
    pub id: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RuleFields {
    /// Rule name
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Expression, e.g. "rating * 10"
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Weight of the rule's points
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Order of evaluation (lower first)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateRule {
    /// Scoring rule id
    pub id: String,
    #[serde(flatten)]
    pub fields: RuleFields,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CreateWebhook {
    /// Endpoint URL (https://...)
    pub url: String,
    /// Events, e.g. ["lead.*"]; all if absent
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// Signing secret; generated if absent
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// What the endpoint is for
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListApiKeys {
    /// active, revoked, expired or all
    pub status: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CreateApiKey {
    /// Key name, 1 to 100 characters
    pub name: String,
    /// read, write, admin (default all)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Expiry, RFC 3339 (optional)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Ranked {
    /// How many, 1 to 100 (default 20)
    pub limit: Option<u32>,
}
