//! The list query language: every operator of every field type, the dot-splitting rule, form
//! decoding, the number formats the SDKs send, every error, and no panic on arbitrary input.

use super::*;
use crate::lead::Field;

fn cond(raw: &str) -> Condition {
    parse_filter(raw)
        .unwrap_or_else(|e| panic!("{raw}: {e}"))
        .condition
}

fn err(raw: &str) -> QueryError {
    parse_filter(raw).expect_err(raw)
}

#[test]
fn every_text_operator_parses_on_every_text_field() {
    for field in [
        "name",
        "email",
        "phone",
        "city",
        "state",
        "country",
        "postal_code",
        "category",
        "source",
        "source_id",
        "website",
        "status",
        "description",
        "address",
    ] {
        let f = Field::from_name(field).unwrap();
        for (op, expected) in [
            ("eq", TextOp::Eq),
            ("neq", TextOp::Neq),
            ("contains", TextOp::Contains),
            ("not_contains", TextOp::NotContains),
            ("starts_with", TextOp::StartsWith),
            ("ends_with", TextOp::EndsWith),
        ] {
            assert_eq!(
                cond(&format!("and.{op}.{field}.x")),
                Condition::Text {
                    field: f,
                    op: expected,
                    value: "x".into()
                }
            );
        }
        assert_eq!(
            cond(&format!("and.is_empty.{field}")),
            Condition::TextEmpty {
                field: f,
                empty: true
            }
        );
        assert_eq!(
            cond(&format!("and.is_not_empty.{field}")),
            Condition::TextEmpty {
                field: f,
                empty: false
            }
        );
        assert_eq!(
            cond(&format!("and.not_empty.{field}")),
            Condition::TextEmpty {
                field: f,
                empty: false
            }
        );
        assert_eq!(
            cond(&format!("and.in.{field}.a, b ,c")),
            Condition::TextIn {
                field: f,
                values: vec!["a".into(), "b".into(), "c".into()]
            }
        );
    }
}

#[test]
fn every_numeric_operator_parses_with_the_number_formats_sdks_send() {
    for (op, expected) in [
        ("eq", CmpOp::Eq),
        ("neq", CmpOp::Neq),
        ("gt", CmpOp::Gt),
        ("gte", CmpOp::Gte),
        ("lt", CmpOp::Lt),
        ("lte", CmpOp::Lte),
    ] {
        for field in NumberField::ALL {
            assert_eq!(
                cond(&format!("and.{op}.{}.4", field.name())),
                Condition::Number {
                    field,
                    op: expected,
                    value: 4.0
                }
            );
        }
    }
    for (raw, value) in [
        ("4", 4.0),
        ("4.0", 4.0),
        ("1e+16", 1e16),
        ("1E5", 1e5),
        ("-0.5", -0.5),
        ("+3", 3.0),
    ] {
        assert_eq!(
            cond(&format!("and.gte.rating.{raw}")),
            Condition::Number {
                field: NumberField::Rating,
                op: CmpOp::Gte,
                value
            }
        );
    }
}

#[test]
fn array_and_location_operators_parse() {
    assert_eq!(
        cond("and.array_contains.tags.restaurant"),
        Condition::Tags(TagsOp::Contains("restaurant".into()))
    );
    assert_eq!(
        cond("or.array_not_contains.tags.cold lead"),
        Condition::Tags(TagsOp::NotContains("cold lead".into()))
    );
    assert_eq!(cond("and.array_empty.tags"), Condition::Tags(TagsOp::Empty));
    assert_eq!(
        cond("and.array_not_empty.tags."),
        Condition::Tags(TagsOp::NotEmpty)
    );
    assert_eq!(
        cond("and.within_radius.location.52.52,13.405,50"),
        Condition::WithinRadius {
            lat: 52.52,
            lng: 13.405,
            km: 50.0
        }
    );
    assert_eq!(
        cond("and.within_radius.location.-33.86, 151.2 ,0.5"),
        Condition::WithinRadius {
            lat: -33.86,
            lng: 151.2,
            km: 0.5
        }
    );
    assert_eq!(cond("and.is_set.location"), Condition::LocationSet(true));
    assert_eq!(
        cond("and.is_not_set.location"),
        Condition::LocationSet(false)
    );
}

#[test]
fn attribute_filters_keep_text_and_number_for_typing_at_query_time() {
    assert_eq!(
        cond("and.eq.attr:cuisine.Italian"),
        Condition::AttrCmp {
            name: "cuisine".into(),
            op: CmpOp::Eq,
            text: "Italian".into(),
            number: None
        }
    );
    assert_eq!(
        cond("and.eq.attr:employees.500"),
        Condition::AttrCmp {
            name: "employees".into(),
            op: CmpOp::Eq,
            text: "500".into(),
            number: Some(500.0)
        }
    );
    assert_eq!(
        cond("and.gte.attr:employees.1e3"),
        Condition::AttrCmp {
            name: "employees".into(),
            op: CmpOp::Gte,
            text: "1e3".into(),
            number: Some(1000.0)
        }
    );
    assert_eq!(
        cond("and.contains.attr:notes.vip"),
        Condition::AttrText {
            name: "notes".into(),
            op: TextOp::Contains,
            value: "vip".into()
        }
    );
    assert_eq!(
        cond("and.in.attr:cuisine.greek,thai"),
        Condition::AttrIn {
            name: "cuisine".into(),
            values: vec!["greek".into(), "thai".into()]
        }
    );
    assert_eq!(
        cond("and.is_empty.attr:cuisine"),
        Condition::AttrEmpty {
            name: "cuisine".into(),
            empty: true
        }
    );
}

#[test]
fn only_the_first_three_dots_split_and_missing_values_are_empty() {
    assert_eq!(
        cond("and.eq.email.a@b.co.uk"),
        Condition::Text {
            field: Field::Email,
            op: TextOp::Eq,
            value: "a@b.co.uk".into()
        }
    );
    assert_eq!(
        cond("and.eq.name.Dr. Who, Esq."),
        Condition::Text {
            field: Field::Name,
            op: TextOp::Eq,
            value: "Dr. Who, Esq.".into()
        }
    );
    assert_eq!(
        cond("and.eq.city"),
        Condition::Text {
            field: Field::City,
            op: TextOp::Eq,
            value: String::new()
        }
    );
    assert_eq!(
        cond("and.eq.city."),
        Condition::Text {
            field: Field::City,
            op: TextOp::Eq,
            value: String::new()
        }
    );
    assert_eq!(parse_filter("OR.EQ.city.x").unwrap().logic, Logic::Or);
}

#[test]
fn the_query_string_is_form_decoded_and_filter_order_is_kept() {
    let q = parse_list_query("filter=and.eq.city.New+York&filter=or.eq.email.a%40b.co&filter=and.in.source.web%2Capi&limit=10").unwrap();
    let conds: Vec<_> = q
        .filters
        .iter()
        .map(|f| (f.logic, f.condition.clone()))
        .collect();
    assert_eq!(
        conds,
        vec![
            (
                Logic::And,
                Condition::Text {
                    field: Field::City,
                    op: TextOp::Eq,
                    value: "New York".into()
                }
            ),
            (
                Logic::Or,
                Condition::Text {
                    field: Field::Email,
                    op: TextOp::Eq,
                    value: "a@b.co".into()
                }
            ),
            (
                Logic::And,
                Condition::TextIn {
                    field: Field::Source,
                    values: vec!["web".into(), "api".into()]
                }
            ),
        ]
    );
    assert_eq!(q.limit, 10);
}

#[test]
fn sort_limit_and_cursor_follow_the_rules() {
    let q = parse_list_query("").unwrap();
    assert_eq!(
        (q.sort.clone(), q.limit, q.cursor.clone()),
        (Sort::default(), 50, None)
    );
    let q = parse_list_query("sort_by=rating&sort_order=desc&limit=5000&cursor=abc").unwrap();
    assert_eq!(
        q.sort,
        Sort {
            key: SortKey::Number(NumberField::Rating),
            descending: true
        }
    );
    assert_eq!(q.limit, 1000, "clamped");
    assert_eq!(q.cursor.as_deref(), Some("abc"));
    assert_eq!(parse_list_query("limit=0").unwrap().limit, 50);
    assert_eq!(parse_list_query("limit=-3").unwrap().limit, 50);
    assert_eq!(
        parse_list_query("sort_by=attr:size&sort_order=Asc")
            .unwrap()
            .sort,
        Sort {
            key: SortKey::Attr("size".into()),
            descending: false
        }
    );
    assert_eq!(
        parse_list_query("sort_by=city").unwrap().sort.key,
        SortKey::Text(Field::City)
    );
    assert_eq!(
        parse_list_query("cursor=&format=csv&whatever=1")
            .unwrap()
            .cursor,
        None
    );
}

#[test]
fn bad_sorts_and_limits_are_bad_requests_naming_what_is_allowed() {
    for raw in [
        "sort_by=tags",
        "sort_by=location",
        "sort_by=nope",
        "sort_order=up",
        "limit=ten",
        "limit=1.5",
    ] {
        let e = parse_list_query(raw).expect_err(raw);
        assert_eq!(e.code, "bad_request", "{raw}");
    }
    assert!(parse_list_query("sort_by=nope")
        .unwrap_err()
        .message
        .contains("created_at"));
}

#[test]
fn every_bad_filter_is_refused_naming_the_filter_and_what_is_allowed() {
    let cases = [
        ("and.between.rating.4", "eq, neq, gt, gte, lt, lte"),
        ("xor.eq.city.x", "and or or"),
        ("and.eq.planet.Mars", "unknown field 'planet'"),
        ("and.gt.city.4", "for text field 'city'"),
        ("and.contains.rating.4", "for number field 'rating'"),
        ("and.gte.rating.high", "not a number"),
        ("and.gte.rating.NaN", "not a number"),
        ("and.eq.rating.inf", "not a number"),
        ("and.eq.tags.x", "array_contains"),
        ("and.array_contains.tags", "give the tag"),
        ("and.within_radius.location.52.5,13.4", "lat,lng,km"),
        ("and.within_radius.location.91,0,5", "lat,lng,km"),
        ("and.within_radius.location.0,0,-1", "lat,lng,km"),
        ("and.eq.location.x", "within_radius"),
        ("and.gt.attr:size.big", "not a number"),
        ("and.eq.attr:bad-name.x", "not a valid attribute name"),
        ("and.in.city.", "comma-separated"),
        ("and.eq", "logic.operator.field"),
        ("", "logic.operator.field"),
    ];
    for (raw, needle) in cases {
        let e = err(raw);
        assert_eq!(e.code, "invalid_filter", "{raw}");
        assert!(
            e.message.contains(&format!("filter '{raw}'")),
            "{raw}: {}",
            e.message
        );
        assert!(e.message.contains(needle), "{raw}: {}", e.message);
    }
}

#[test]
fn the_parser_never_panics_on_arbitrary_input() {
    let alphabet: Vec<char> = "aeqnd.,:%+019-_ orxtgslmi@&=".chars().collect();
    let words = [
        "and.",
        "or.",
        "eq.",
        "in.",
        "gte.",
        "city.",
        "attr:",
        "tags.",
        "location.",
        "within_radius.",
        "filter=",
        "sort_by=",
        "limit=",
        "&",
        "%2",
        "%ZZ",
        "1e+9",
        ",",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for _ in 0..5000 {
        let mut s = String::new();
        for _ in 0..next() % 40 {
            if next() % 3 == 0 {
                s.push_str(words[next() % words.len()]);
            } else {
                s.push(alphabet[next() % alphabet.len()]);
            }
        }
        let _ = parse_filter(&s);
        let _ = parse_list_query(&s);
    }
}

#[test]
fn a_nul_character_in_a_filter_sort_or_cursor_is_refused_naming_the_parameter() {
    let e = parse_list_query("filter=and.eq.city.a%00b").unwrap_err();
    assert_eq!(e.code, "invalid_filter");
    assert!(e.message.contains("and.eq.city.a%00b"), "{}", e.message);
    assert!(e.message.contains("NUL"), "{}", e.message);
    let e = parse_list_query("sort_by=attr:a%00b").unwrap_err();
    assert_eq!(e.code, "bad_request");
    assert!(e.message.starts_with("sort_by"), "{}", e.message);
    let e = parse_list_query("cursor=x%00").unwrap_err();
    assert!(e.message.starts_with("cursor"), "{}", e.message);
    assert!(parse_list_query("other=a%00b").is_ok());
}
