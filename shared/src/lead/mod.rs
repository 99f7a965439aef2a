//! The lead aggregate: its fields, attributes, state and events' effects, input parsing and
//! validation (SPEC §2), the wire view, and the pure deciders for every lead command.

pub mod attribute;
pub mod changes;
pub mod decide;
pub mod fields;
pub mod input;
pub mod state;
pub mod view;

pub use attribute::{AttrType, Attribute, AttributeInput};
pub use changes::LeadChanges;
pub use fields::{Field, FieldValue, Status};
pub use input::{parse_attribute, parse_lead_object, InputMode, LeadInput, ValidationError};
pub use state::Lead;
