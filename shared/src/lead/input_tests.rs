//! Every validation rule of SPEC §2, one test each.

use super::*;
use serde_json::json;

fn create(body: Value) -> Result<LeadInput, ValidationError> {
    parse_lead_object(&body, InputMode::Create)
}

fn patch(body: Value) -> Result<LeadInput, ValidationError> {
    parse_lead_object(&body, InputMode::Patch)
}

fn field_of(r: Result<LeadInput, ValidationError>) -> String {
    r.unwrap_err().field
}

#[test]
fn name_and_source_are_required_non_empty_after_trimming() {
    assert_eq!(field_of(create(json!({"source": "s"}))), "name");
    assert_eq!(
        field_of(create(json!({"name": "   ", "source": "s"}))),
        "name"
    );
    assert_eq!(field_of(create(json!({"name": "n"}))), "source");
    assert_eq!(field_of(patch(json!({"source": ""}))), "source");
    assert_eq!(field_of(patch(json!({"name": null}))), "name");
}

#[test]
fn the_body_must_be_an_object() {
    assert_eq!(field_of(create(json!([1, 2]))), "body");
    assert_eq!(field_of(create(json!("lead"))), "body");
}

#[test]
fn strings_are_trimmed_and_limited_to_1000_characters() {
    let ok = create(json!({"name": "  Acme  ", "source": "s", "city": "x".repeat(1000)})).unwrap();
    assert_eq!(ok.text(Field::Name), Some("Acme"));
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "city": "x".repeat(1001)})
        )),
        "city"
    );
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "email": 42}))),
        "email"
    );
}

#[test]
fn description_may_hold_10000_characters() {
    assert!(create(json!({"name": "n", "source": "s", "description": "é".repeat(10_000)})).is_ok());
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "description": "é".repeat(10_001)})
        )),
        "description"
    );
}

#[test]
fn coordinates_are_in_range_and_given_together() {
    assert!(
        create(json!({"name": "n", "source": "s", "latitude": 48.85, "longitude": 2.35})).is_ok()
    );
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "latitude": 91, "longitude": 0})
        )),
        "latitude"
    );
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "latitude": 0, "longitude": -180.5})
        )),
        "longitude"
    );
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "latitude": 10}))),
        "latitude"
    );
    assert_eq!(
        field_of(patch(json!({"latitude": 10, "longitude": null}))),
        "latitude"
    );
    assert!(patch(json!({"latitude": null, "longitude": null})).is_ok());
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "latitude": "10", "longitude": 1})
        )),
        "latitude"
    );
}

#[test]
fn rating_must_be_a_finite_number() {
    assert!(create(json!({"name": "n", "source": "s", "rating": 4})).is_ok());
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "rating": "4.5"}))),
        "rating"
    );
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "rating": true}))),
        "rating"
    );
}

#[test]
fn review_count_is_a_non_negative_integer() {
    let ok = create(json!({"name": "n", "source": "s", "review_count": 12.0})).unwrap();
    assert_eq!(ok.value(Field::ReviewCount), Some(&FieldValue::Integer(12)));
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "review_count": -1})
        )),
        "review_count"
    );
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "review_count": 1.5})
        )),
        "review_count"
    );
}

#[test]
fn status_is_one_of_the_five_values() {
    let ok = create(json!({"name": "n", "source": "s", "status": "Qualified"})).unwrap();
    assert_eq!(ok.text(Field::Status), Some("qualified"));
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "status": "won"}))),
        "status"
    );
}

#[test]
fn tags_are_at_most_100_non_empty_strings_without_repeats() {
    let ok = create(json!({"name": "n", "source": "s", "tags": ["a", " b ", "a"]})).unwrap();
    assert_eq!(ok.tags, Some(vec!["a".to_owned(), "b".to_owned()]));
    let many: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "tags": many}))),
        "tags"
    );
    assert_eq!(
        field_of(create(
            json!({"name": "n", "source": "s", "tags": ["ok", ""]})
        )),
        "tags[1]"
    );
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "tags": "a,b"}))),
        "tags"
    );
    assert_eq!(
        field_of(create(json!({"name": "n", "source": "s", "tags": [1]}))),
        "tags[0]"
    );
}

#[test]
fn attributes_need_a_valid_name_a_known_type_and_a_matching_value() {
    let base = |attrs: Value| create(json!({"name": "n", "source": "s", "attributes": attrs}));
    assert!(base(json!([{"id": "ignored", "name": "size", "type": "number", "value": 3}])).is_ok());
    assert_eq!(
        field_of(base(
            json!([{"name": "bad name", "type": "text", "value": "x"}])
        )),
        "attributes[0].name"
    );
    assert_eq!(
        field_of(base(json!([{"name": "a", "type": "date", "value": "x"}]))),
        "attributes[0].type"
    );
    assert_eq!(
        field_of(base(json!([{"name": "a", "type": "number", "value": "3"}]))),
        "attributes[0].value"
    );
    assert_eq!(
        field_of(base(json!([{"name": "a", "type": "list", "value": {}}]))),
        "attributes[0].value"
    );
    assert_eq!(
        field_of(base(
            json!([{"name": "a", "type": "bool", "value": true}, {"name": "a", "type": "bool", "value": false}])
        )),
        "attributes[1].name"
    );
    assert_eq!(field_of(base(json!({"name": "a"}))), "attributes");
    assert_eq!(field_of(base(json!(["a"]))), "attributes[0]");
}

#[test]
fn unknown_and_read_only_keys_are_ignored() {
    let ok = create(json!({"name": "n", "source": "s", "id": "cl_x", "score": 99, "created_at": 1, "whatever": [1]})).unwrap();
    assert_eq!(ok.fields.len(), 2);
}

#[test]
fn empty_optional_strings_mean_clear_in_a_patch() {
    let p = patch(json!({"city": "", "email": null})).unwrap();
    assert_eq!(p.fields.get(&Field::City), Some(&None));
    assert_eq!(p.fields.get(&Field::Email), Some(&None));
}
