//! The read models as their readers see them (query-service, and command-service's rescore,
//! which starts from a current row): table names, checkpoints, row decoding. The projector
//! owns the writes (`projector::lead_view`).

pub mod failures;
pub mod leads;
pub mod notes;

pub use leads::{decode_row, read_leads, Tables, LEAD_COLUMNS, LEAD_VIEW_CHECKPOINT};
