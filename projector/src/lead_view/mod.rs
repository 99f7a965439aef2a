//! The lead read model: one row per lead in `lead_view` (tombstones for deleted leads) and one
//! typed row per attribute in `lead_view_attrs`. Rows are the aggregate's own state: the
//! projection loads the rows an event batch touches, applies the events with `Lead::apply`,
//! and writes the rows back, so the read model equals the write side by construction.

mod notes;
mod projection;
mod rows;
mod scores;

pub use projection::LeadView;
pub use rows::write_leads;
pub use scores::{write_scores, write_versions, ScoreRow};
pub use shared::read_model::{read_leads, Tables, LEAD_VIEW_CHECKPOINT as CHECKPOINT};
