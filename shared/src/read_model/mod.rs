//! Read-model tables shared by their writer (the projector) and their readers (query-service):
//! names, checkpoints, and the row codecs.

pub mod leads;
pub mod notes;

pub use leads::{
    decode_row, read_leads, write_leads, write_scores, ScoreRow, Tables, LEAD_VIEW_CHECKPOINT,
};
