//! Given/when/then tests of the lead deciders: every dedup tier and merge rule, no database.

use super::*;
use crate::events::lead::{LeadEvent, MatchTier};
use crate::lead::fields::{Field, FieldValue};
use crate::lead::input::{parse_lead_object, InputMode, LeadInput};
use crate::lead::state::Lead;
use serde_json::{json, Value};
use uuid::Uuid;

const TENANT: Uuid = Uuid::from_u128(7);

fn push_input(body: Value) -> LeadInput {
    parse_lead_object(&body, InputMode::Create).unwrap()
}

fn patch_input(body: Value) -> LeadInput {
    parse_lead_object(&body, InputMode::Patch).unwrap()
}

/// Given: a lead created from `body` at t=100.
fn existing(id: u128, body: Value) -> Lead {
    let d = decide_push(
        TENANT,
        &push_input(body),
        &PushMatches::default(),
        Uuid::from_u128(id),
        100,
        Uuid::new_v4,
    )
    .unwrap();
    d.lead().clone()
}

fn push(body: Value, matches: &PushMatches<'_>) -> PushDecision {
    decide_push(
        TENANT,
        &push_input(body),
        matches,
        Uuid::from_u128(999),
        200,
        Uuid::new_v4,
    )
    .unwrap()
}

fn text(lead: &Lead, f: Field) -> Option<&str> {
    lead.text(f)
}

#[test]
fn a_lead_without_matches_is_created_with_status_new_and_all_timestamps_now() {
    let d = push(
        json!({"name": "Acme", "source": "web", "tags": ["a"]}),
        &PushMatches::default(),
    );
    let PushDecision::Create {
        lead,
        potential_duplicate_id,
        event,
    } = d
    else {
        panic!("expected create")
    };
    assert!(matches!(event, LeadEvent::Created(_)));
    assert_eq!(potential_duplicate_id, None);
    assert_eq!(text(&lead, Field::Status), Some("new"));
    assert_eq!(
        (lead.created_at, lead.updated_at, lead.last_interaction_at),
        (200, 200, 200)
    );
    assert_eq!(lead.tags, vec!["a"]);
    assert_eq!(lead.version, 1);
}

#[test]
fn tier_1_an_email_match_merges_into_that_lead() {
    let a = existing(
        1,
        json!({"name": "Acme", "source": "web", "email": "hi@acme.com"}),
    );
    let m = PushMatches {
        by_email: Some(&a),
        ..Default::default()
    };
    let PushDecision::Merge { lead, tier, .. } = push(
        json!({"name": "ACME Inc", "source": "csv", "email": "HI@acme.com"}),
        &m,
    ) else {
        panic!("expected merge")
    };
    assert_eq!(tier, MatchTier::Email);
    assert_eq!(lead.id, a.id);
    assert_eq!(text(&lead, Field::Name), Some("ACME Inc"));
}

#[test]
fn tier_1_wins_over_tier_2_when_both_match_the_same_lead() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "email": "a@x.io", "source_id": "S1"}),
    );
    let m = PushMatches {
        by_email: Some(&a),
        by_source_id: Some(&a),
        ..Default::default()
    };
    let PushDecision::Merge { tier, .. } = push(
        json!({"name": "A", "source": "s", "email": "a@x.io", "source_id": "S1"}),
        &m,
    ) else {
        panic!("expected merge")
    };
    assert_eq!(tier, MatchTier::Email);
}

#[test]
fn tier_2_a_source_id_match_merges_when_no_email_matches() {
    let a = existing(1, json!({"name": "A", "source": "s", "source_id": "S1"}));
    let m = PushMatches {
        by_source_id: Some(&a),
        ..Default::default()
    };
    let PushDecision::Merge { lead, tier, .. } = push(
        json!({"name": "A", "source": "s", "source_id": "S1", "email": "new@x.io"}),
        &m,
    ) else {
        panic!("expected merge")
    };
    assert_eq!(tier, MatchTier::SourceId);
    assert_eq!(text(&lead, Field::Email), Some("new@x.io"));
}

#[test]
fn tier_3_a_phone_match_merges_only_when_names_are_over_80_percent_similar() {
    let a = existing(
        1,
        json!({"name": "Blue Bottle Coffee", "source": "s", "phone": "+1 415 555 0100"}),
    );
    let m = PushMatches {
        by_phone: vec![&a],
        ..Default::default()
    };
    let PushDecision::Merge { tier, lead, .. } = push(
        json!({"name": "Blue Bottle Cofee", "source": "s", "phone": "14155550100"}),
        &m,
    ) else {
        panic!("expected merge")
    };
    assert_eq!(tier, MatchTier::PhoneAndName);
    assert_eq!(lead.id, a.id);

    let d = push(
        json!({"name": "Red Door Bakery", "source": "s", "phone": "14155550100"}),
        &m,
    );
    assert!(
        matches!(d, PushDecision::Create { .. }),
        "different name, same phone: a new lead"
    );
}

#[test]
fn tier_3_picks_the_most_similar_of_several_leads_sharing_a_phone() {
    let a = existing(
        1,
        json!({"name": "Acme Coffee Roasters", "source": "s", "phone": "5550100"}),
    );
    let b = existing(
        2,
        json!({"name": "Acme Coffee", "source": "s", "phone": "5550100"}),
    );
    let m = PushMatches {
        by_phone: vec![&a, &b],
        ..Default::default()
    };
    let PushDecision::Merge { lead, .. } = push(
        json!({"name": "Acme Coffee", "source": "s", "phone": "555-0100"}),
        &m,
    ) else {
        panic!("expected merge")
    };
    assert_eq!(lead.id, b.id);
}

#[test]
fn tier_4_a_name_and_city_match_creates_a_new_lead_with_a_hint() {
    let a = existing(1, json!({"name": "Acme", "source": "s", "city": "Paris"}));
    let m = PushMatches {
        by_name_city: vec![&a],
        ..Default::default()
    };
    let PushDecision::Create {
        lead,
        potential_duplicate_id,
        event,
    } = push(json!({"name": "ACME", "source": "t", "city": "paris"}), &m)
    else {
        panic!("expected create")
    };
    assert_eq!(potential_duplicate_id, Some(a.id));
    assert_ne!(lead.id, a.id);
    let LeadEvent::Created(created) = event else {
        panic!()
    };
    assert_eq!(created.potential_duplicate_of, Some(a.id));
}

#[test]
fn merge_overwrites_given_fields_and_keeps_absent_ones() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "email": "a@x.io", "city": "Paris", "rating": 3.0}),
    );
    let m = PushMatches {
        by_email: Some(&a),
        ..Default::default()
    };
    let lead = push(
        json!({"name": "A", "source": "s", "email": "a@x.io", "rating": 4.5, "city": ""}),
        &m,
    )
    .lead()
    .clone();
    assert_eq!(lead.fields[&Field::Rating], FieldValue::Number(4.5));
    assert_eq!(
        text(&lead, Field::City),
        Some("Paris"),
        "an empty incoming field does not overwrite"
    );
    assert_eq!(lead.updated_at, 200);
}

#[test]
fn merge_unites_tags_in_order_without_repeats() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "email": "a@x.io", "tags": ["x", "y"]}),
    );
    let m = PushMatches {
        by_email: Some(&a),
        ..Default::default()
    };
    let lead = push(
        json!({"name": "A", "source": "s", "email": "a@x.io", "tags": ["y", "z"]}),
        &m,
    )
    .lead()
    .clone();
    assert_eq!(lead.tags, vec!["x", "y", "z"]);
}

#[test]
fn merge_upserts_attributes_by_name_keeping_their_ids() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "email": "a@x.io",
        "attributes": [{"name": "size", "type": "number", "value": 5}, {"name": "kind", "type": "text", "value": "cafe"}]}),
    );
    let size_id = a.attributes[0].id;
    let m = PushMatches {
        by_email: Some(&a),
        ..Default::default()
    };
    let lead = push(json!({"name": "A", "source": "s", "email": "a@x.io",
        "attributes": [{"name": "size", "type": "number", "value": 9}, {"name": "new_one", "type": "bool", "value": true}]}), &m)
        .lead().clone();
    assert_eq!(lead.attributes.len(), 3);
    assert_eq!(lead.attributes[0].id, size_id);
    assert_eq!(lead.attributes[0].value, json!(9));
    assert_eq!(lead.attributes[1].value, json!("cafe"));
    assert_eq!(lead.attributes[2].name, "new_one");
}

#[test]
fn a_merge_that_changes_nothing_moves_only_last_interaction_at() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "email": "a@x.io", "tags": ["t"]}),
    );
    let m = PushMatches {
        by_email: Some(&a),
        ..Default::default()
    };
    let PushDecision::Merge { lead, event, .. } = push(
        json!({"name": "A", "source": "s", "email": "a@x.io", "tags": ["t"]}),
        &m,
    ) else {
        panic!("expected merge")
    };
    let LeadEvent::Merged(merged) = event else {
        panic!()
    };
    assert!(merged.changes.is_empty());
    assert_eq!(lead.updated_at, 100);
    assert_eq!(lead.last_interaction_at, 200);
    assert_eq!(lead.version, 2);
}

#[test]
fn an_email_match_whose_source_id_belongs_to_another_lead_is_a_conflict() {
    let a = existing(1, json!({"name": "A", "source": "s", "email": "a@x.io"}));
    let b = existing(2, json!({"name": "B", "source": "s", "source_id": "S2"}));
    let m = PushMatches {
        by_email: Some(&a),
        by_source_id: Some(&b),
        ..Default::default()
    };
    let err = decide_push(
        TENANT,
        &push_input(json!({"name": "A", "source": "s", "email": "a@x.io", "source_id": "S2"})),
        &m,
        Uuid::new_v4(),
        200,
        Uuid::new_v4,
    )
    .unwrap_err();
    assert!(
        matches!(err, Rejected::Conflict(ref msg) if msg.contains("source_id 'S2'")),
        "{err:?}"
    );
}

#[test]
fn update_sets_given_fields_clears_nulls_and_replaces_tags() {
    let a = existing(
        1,
        json!({"name": "A", "source": "s", "city": "Paris", "phone": "123456", "tags": ["x", "y"]}),
    );
    let (after, event) = decide_update(
        &a,
        &patch_input(json!({"city": "Lyon", "phone": null, "tags": ["z"]})),
        |_| None,
        300,
        Uuid::new_v4,
    )
    .unwrap();
    assert!(event.is_some());
    assert_eq!(text(&after, Field::City), Some("Lyon"));
    assert_eq!(text(&after, Field::Phone), None);
    assert_eq!(after.tags, vec!["z"]);
    assert_eq!(after.updated_at, 300);
    assert_eq!(after.last_interaction_at, 100, "an update is not a push");
}

#[test]
fn an_update_that_changes_nothing_writes_no_event() {
    let a = existing(1, json!({"name": "A", "source": "s", "city": "Paris"}));
    let (after, event) = decide_update(
        &a,
        &patch_input(json!({"city": "Paris", "email": null})),
        |_| None,
        300,
        Uuid::new_v4,
    )
    .unwrap();
    assert!(event.is_none());
    assert_eq!(after, a);
}

#[test]
fn an_update_to_an_email_another_lead_holds_is_a_conflict() {
    let a = existing(1, json!({"name": "A", "source": "s"}));
    let other = Uuid::from_u128(2);
    let err = decide_update(
        &a,
        &patch_input(json!({"email": "taken@x.io"})),
        |_| Some(other),
        300,
        Uuid::new_v4,
    )
    .unwrap_err();
    assert!(matches!(err, Rejected::Conflict(_)));
}

#[test]
fn deleted_leads_cannot_be_updated_or_deleted_again() {
    let a = existing(1, json!({"name": "A", "source": "s"}));
    let (gone, _) = decide_delete(&a, 300).unwrap();
    assert!(gone.deleted);
    assert_eq!(decide_delete(&gone, 400).unwrap_err(), Rejected::NotFound);
    assert_eq!(
        decide_update(
            &gone,
            &patch_input(json!({"city": "X"})),
            |_| None,
            400,
            Uuid::new_v4
        )
        .unwrap_err(),
        Rejected::NotFound
    );
}
