//! Read-model tables shared by their writer (the projector) and their readers (query-service):
//! names, checkpoints, and the row codecs.

pub mod leads;
pub mod notes;
pub mod scores;

pub use leads::{decode_row, read_leads, write_leads, Tables, LEAD_COLUMNS, LEAD_VIEW_CHECKPOINT};
pub use scores::{write_scores, write_versions, ScoreRow};
