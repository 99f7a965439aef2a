//! Public identifiers: leads are `cl_<uuid>`, notes `note_<uuid>`, everything else a plain
//! UUID (SPEC §1.10). A malformed id is simply "not found".

use uuid::Uuid;

const LEAD_PREFIX: &str = "cl_";

/// Formats a lead's stream id as its public id.
pub fn lead_public_id(id: Uuid) -> String {
    format!("{LEAD_PREFIX}{id}")
}

/// Parses a public lead id; `None` for anything that is not `cl_<uuid>`.
pub fn parse_lead_id(raw: &str) -> Option<Uuid> {
    raw.strip_prefix(LEAD_PREFIX)
        .and_then(|rest| Uuid::parse_str(rest).ok())
}

const NOTE_PREFIX: &str = "note_";

pub fn note_public_id(id: Uuid) -> String {
    format!("{NOTE_PREFIX}{id}")
}

/// Parses a public note id; `None` for anything that is not `note_<uuid>`.
pub fn parse_note_id(raw: &str) -> Option<Uuid> {
    raw.strip_prefix(NOTE_PREFIX)
        .and_then(|rest| Uuid::parse_str(rest).ok())
}

/// A new, time-ordered id (UUID v7) so fresh rows land at the end of b-tree indexes.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_ids_round_trip_through_their_public_form() {
        let id = new_id();
        assert_eq!(parse_lead_id(&lead_public_id(id)), Some(id));
    }

    #[test]
    fn malformed_lead_ids_are_rejected() {
        for raw in [
            "",
            "cl_",
            "cl_nope",
            "note_0190a6f0-0000-7000-8000-000000000000",
            "0190a6f0",
        ] {
            assert_eq!(parse_lead_id(raw), None, "{raw}");
        }
    }
}
