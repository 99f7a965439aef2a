//! The lead read model: one row per lead in `lead_view` (tombstones for deleted leads) and one
//! typed row per attribute in `lead_view_attrs`. Rows are the aggregate's own state: the
//! projection loads the rows an event batch touches, applies the events with `Lead::apply`,
//! and writes the rows back, so the read model equals the write side by construction.

mod codec;
mod projection;

pub use codec::{read_leads, write_leads, Tables};
pub use projection::LeadView;

/// The projection's checkpoint name.
pub const CHECKPOINT: &str = "lead-view";
