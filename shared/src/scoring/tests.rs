//! The dialect's table of expressions, its errors with positions, a no-panic property test,
//! and scores with weights and clamping.

use super::*;

/// Fields of the test records: name, city, email, phone, rating, review_count, website.
struct TestSchema;

const FIELDS: [&str; 7] = [
    "name",
    "city",
    "email",
    "phone",
    "rating",
    "review_count",
    "website",
];

impl Schema for TestSchema {
    fn field(&self, name: &str) -> Option<u16> {
        FIELDS.iter().position(|f| *f == name).map(|i| i as u16)
    }
}

#[derive(Default)]
struct Rec {
    fields: [Option<Value<'static>>; 7],
    attrs: Vec<(&'static str, Value<'static>)>,
}

impl Record for Rec {
    fn field(&self, id: u16) -> Value<'_> {
        self.fields
            .get(usize::from(id))
            .copied()
            .flatten()
            .unwrap_or(Value::Nil)
    }
    fn attr(&self, name: &str) -> Value<'_> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Value::Nil, |(_, v)| *v)
    }
}

/// A text value living as long as the test binary.
fn text(s: &str) -> Value<'static> {
    Value::Str(Box::leak(Box::new(s.to_owned())))
}

fn full() -> Rec {
    Rec {
        fields: [
            Some(text("Acme")),
            Some(text("Paris")),
            Some(text("a@acme.com")),
            None,
            Some(Value::Num(4.5)),
            Some(Value::Num(120.0)),
            None,
        ],
        attrs: vec![
            ("industry", text("saas")),
            ("employees", Value::Num(500.0)),
            ("verified", Value::Bool(true)),
        ],
    }
}

fn eval(src: &str, rec: &Rec) -> Outcome {
    Expr::compile(src, &TestSchema)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .evaluate(rec)
}

#[test]
fn the_table_of_expressions() {
    let (lead, empty) = (full(), Rec::default());
    let table: &[(&str, &Rec, f64)] = &[
        // precedence and associativity
        ("1 + 2 * 3", &empty, 7.0),
        ("(1 + 2) * 3", &empty, 9.0),
        ("10 - 4 - 3", &empty, 3.0),
        ("8 / 4 / 2", &empty, 1.0),
        ("-2 * 3", &empty, -6.0),
        ("- -2", &empty, 2.0),
        ("2 * -3 + 1", &empty, -5.0),
        ("!true || true", &empty, 1.0),
        ("!(true || true)", &empty, 0.0),
        ("1 < 2 && 2 < 3", &empty, 1.0),
        ("1 < 2 == true", &empty, 1.0),
        ("1 + 1 == 2 && 3 > 2 || false", &empty, 1.0),
        ("false && 1 / 0", &empty, 0.0),
        ("true || 1 / 0", &empty, 1.0),
        // ternary, nested, right-associative, lazy
        ("rating > 4 ? 10 : 1 / 0", &lead, 10.0),
        ("rating > 5 ? 1 / 0 : 3", &lead, 3.0),
        ("rating >= 4.5 ? rating > 4.9 ? 3 : 2 : 1", &lead, 2.0),
        ("false ? 1 : false ? 2 : 3", &empty, 3.0),
        ("(true ? 2 : 3) * 10", &empty, 20.0),
        // nil: absent fields and attributes
        ("email != nil ? 30 : 0", &lead, 30.0),
        ("email != nil ? 30 : 0", &empty, 0.0),
        ("email == nil", &empty, 1.0),
        ("phone == nil", &lead, 1.0),
        ("nil == nil", &empty, 1.0),
        ("rating == nil", &empty, 1.0),
        ("rating == 0", &empty, 0.0),
        ("rating + 1", &empty, 1.0),
        ("rating > 3", &empty, 0.0),
        ("rating < 3", &empty, 1.0),
        ("attr_missing + 1", &lead, 1.0),
        ("attr_missing == nil", &lead, 1.0),
        ("city == \"\"", &empty, 1.0),
        ("city != \"\"", &lead, 1.0),
        ("nil", &empty, 0.0),
        // attributes
        ("attr_industry == \"saas\" ? 25 : 0", &lead, 25.0),
        ("attr_employees >= 100 ? 20 : 0", &lead, 20.0),
        ("attr_employees / 100", &lead, 5.0),
        ("attr_verified", &lead, 1.0),
        ("attr_verified && rating > 4", &lead, 1.0),
        // strings
        ("city == 'Paris'", &lead, 1.0),
        ("city == \"paris\"", &lead, 0.0),
        ("name < \"B\"", &lead, 1.0),
        ("\"a\\\"b\" == 'a\"b'", &empty, 1.0),
        ("city == 3", &lead, 0.0),
        ("city != 3", &lead, 1.0),
        ("city > 3", &lead, 0.0),
        ("city * 2", &lead, 0.0),
        ("\"x\"", &empty, 0.0),
        ("\"\" || \"x\"", &empty, 1.0),
        // booleans
        ("true + true", &empty, 2.0),
        ("true == 1", &empty, 1.0),
        ("false == 0", &empty, 1.0),
        ("true * 5", &empty, 5.0),
        // numbers in every format
        ("4", &empty, 4.0),
        ("4.0", &empty, 4.0),
        (".5", &empty, 0.5),
        ("1e+16", &empty, 1e16),
        ("2.5E-3", &empty, 0.0025),
        ("1e2 + 1E2", &empty, 200.0),
        ("review_count / 12", &lead, 10.0),
        ("review_count > 100 && rating >= 4.5 ? 40 : 10", &lead, 40.0),
    ];
    for (src, rec, want) in table {
        let got = eval(src, rec);
        assert_eq!(got.value, *want, "{src}");
        assert!(
            !got.division_by_zero,
            "{src}: no division by zero on the taken path"
        );
    }
}

#[test]
fn division_by_zero_gives_zero_for_the_rule_and_is_reported() {
    let rec = full();
    for src in [
        "1 / 0",
        "10 + 1 / 0",
        "rating / (review_count - 120)",
        "1 / attr_missing",
    ] {
        let got = eval(src, &rec);
        assert_eq!(
            got,
            Outcome {
                value: 0.0,
                division_by_zero: true
            },
            "{src}"
        );
    }
}

#[test]
fn errors_say_where() {
    let cases: &[(&str, usize, &str)] = &[
        ("1 +", 4, "end of expression"),
        ("rating > > 3", 10, "unexpected '>'"),
        ("foo > 1", 1, "unknown field 'foo'"),
        ("rating > 1 && bar", 15, "unknown field 'bar'"),
        ("\"abc", 1, "unterminated string"),
        ("(1 + 2", 7, "expected ')'"),
        ("true ? 1", 9, "expected ':'"),
        ("1 2", 3, "after a complete expression"),
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("rating = 4", 8, "'=='"),
        ("a & b", 3, "'&&'"),
        ("rating # 2", 8, "unexpected character '#'"),
        ("1e", 1, "exponent"),
        ("1e999", 1, "out of range"),
        ("'\\q'", 2, "unknown escape"),
        ("é > 1", 1, "unexpected character 'é'"),
        ("attr_ > 1", 1, "unknown field 'attr_'"),
        (")", 1, "unexpected ')'"),
    ];
    for (src, position, fragment) in cases {
        let e = Expr::compile(src, &TestSchema).expect_err(src);
        assert_eq!(e.position, *position, "{src}: {e}");
        assert!(e.message.contains(fragment), "{src}: {e}");
    }
    let deep = format!("{}1{}", "(".repeat(65), ")".repeat(65));
    let e = Expr::compile(&deep, &TestSchema).unwrap_err();
    assert!(e.message.contains("nesting"), "{e}");
    assert_eq!(e.position, 65);
    assert!(Expr::compile(
        &format!("{}1{}", "(".repeat(60), ")".repeat(60)),
        &TestSchema
    )
    .is_ok());
    let long = vec!["1"; MAX_EXPRESSION_CHARS].join("+");
    assert!(Expr::compile(&long, &TestSchema).is_err());
}

/// splitmix64, so the property test is repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn no_input_makes_the_parser_or_the_evaluator_panic() {
    const PIECES: &[&str] = &[
        "1",
        "0",
        "4.5",
        ".5",
        "1e+16",
        "1e",
        "9e999",
        "\"",
        "'",
        "\"Paris\"",
        "'x'",
        "\\",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "<",
        "<=",
        ">",
        ">=",
        "==",
        "!=",
        "=",
        "!",
        "&&",
        "||",
        "&",
        "|",
        "?",
        ":",
        "rating",
        "email",
        "city",
        "nil",
        "true",
        "false",
        "attr_x",
        "attr_",
        "foo",
        " ",
        "\t",
        "é",
        "😀",
        "\u{0}",
        "_",
        "review_count",
    ];
    let mut rng = Rng(7);
    let rec = full();
    let mut compiled = 0;
    const OPERANDS: &[&str] = &[
        "1", "2.5", "rating", "email", "nil", "\"x\"", "attr_x", "true",
    ];
    const OPERATORS: &[&str] = &["+", "-", "*", "/", "<", ">=", "==", "!=", "&&", "||"];
    for i in 0..20_000u32 {
        let n = 1 + rng.next() % 12;
        let src: String = if i.is_multiple_of(2) {
            (0..n).map(|_| rng.pick(PIECES)).collect()
        } else {
            // Mostly well-formed: operand (operator operand)*, sometimes a ternary.
            let mut s = rng.pick(OPERANDS).to_owned();
            for _ in 0..n {
                s = format!("{s} {} {}", rng.pick(OPERATORS), rng.pick(OPERANDS));
                if rng.next().is_multiple_of(5) {
                    s = format!("({s}) ? {} : {}", rng.pick(OPERANDS), rng.pick(OPERANDS));
                }
            }
            s
        };
        if let Ok(expr) = Expr::compile(&src, &TestSchema) {
            compiled += 1;
            let o = expr.evaluate(&rec);
            assert!(o.value.is_finite(), "{src}");
        }
    }
    assert!(
        compiled > 9000,
        "the generator reaches valid expressions too ({compiled})"
    );
    for src in [
        "(".repeat(10_000),
        ")".repeat(10_000),
        "!".repeat(10_000) + "1",
        "-".repeat(10_000) + "1",
        "1 ? ".repeat(5_000),
        vec!["1"; 999].join("+"),
    ] {
        if let Ok(expr) = Expr::compile(&src, &TestSchema) {
            expr.evaluate(&rec);
        }
    }
}

fn rules(specs: &[(&str, f64)]) -> Vec<Rule> {
    specs
        .iter()
        .map(|(src, weight)| Rule {
            expr: Expr::compile(src, &TestSchema).unwrap(),
            weight: *weight,
        })
        .collect()
}

#[test]
fn scores_are_weighted_sums_clamped_to_0_100() {
    let rec = full();
    let r = rules(&[("email != nil ? 30 : 0", 1.0), ("rating * 10", 2.0)]);
    assert_eq!(score(&r, &rec), 100.0, "30 + 90 clamps to 100");
    let r = rules(&[("email != nil ? 30 : 0", 1.0), ("rating > 4", -50.0)]);
    assert_eq!(score(&r, &rec), 0.0, "30 - 50 clamps to 0");
    let r = rules(&[
        ("email != nil ? 30 : 0", 0.5),
        ("1 / 0", 3.0),
        ("attr_verified", 12.0),
    ]);
    let (parts, total) = breakdown(&r, &rec);
    assert_eq!(total, 27.0);
    assert_eq!(score(&r, &rec), 27.0);
    assert_eq!(
        parts.iter().map(|p| p.points).collect::<Vec<_>>(),
        [15.0, 0.0, 12.0]
    );
    assert!(parts[1].division_by_zero && !parts[0].division_by_zero);
    assert_eq!(parts.iter().map(|p| p.points).sum::<f64>(), total);
    assert_eq!(score(&[], &rec), 0.0);
}

#[test]
fn leads_expose_every_field_and_their_attributes() {
    use crate::lead::{Field, FieldValue, Lead};
    let mut lead = Lead {
        id: uuid::Uuid::nil(),
        tenant_id: uuid::Uuid::nil(),
        version: 1,
        fields: Default::default(),
        tags: vec![],
        attributes: vec![],
        score: 0.0,
        created_at: 1_700_000_000,
        updated_at: 1_700_000_100,
        last_interaction_at: 1_700_000_200,
        deleted: false,
        snapshot_version: 0,
    };
    lead.fields.insert(Field::Rating, FieldValue::Number(4.5));
    lead.fields
        .insert(Field::ReviewCount, FieldValue::Integer(7));
    lead.fields
        .insert(Field::City, FieldValue::Text("Lyon".into()));
    lead.attributes = serde_json::from_value(serde_json::json!([
        {"id": uuid::Uuid::nil(), "name": "seats", "type": "number", "value": 12},
        {"id": uuid::Uuid::nil(), "name": "langs", "type": "list", "value": ["fr"]},
    ]))
    .unwrap();
    for field in Field::ALL {
        assert!(LeadSchema.field(field.name()).is_some(), "{}", field.name());
    }
    let cases = [
        ("rating * review_count", 31.5),
        ("city == \"Lyon\" && status == \"new\"", 1.0),
        ("email == nil", 1.0),
        ("attr_seats / 4", 3.0),
        ("attr_langs ? 1 : 0", 1.0),
        ("updated_at - created_at", 100.0),
        ("last_interaction_at > updated_at", 1.0),
    ];
    for (src, want) in cases {
        let expr = Expr::compile(src, &LeadSchema).unwrap();
        assert_eq!(expr.evaluate(&lead).value, want, "{src}");
    }
    assert!(
        Expr::compile("score > 1", &LeadSchema).is_err(),
        "a score cannot score itself"
    );
}

/// The plain dynamic evaluation (every node answers a `Value`), as the typed walk must answer.
fn reference<'a>(node: &'a parser::Node, r: &'a Rec) -> Result<Value<'a>, ()> {
    use parser::{BinOp, Node};
    Ok(match node {
        Node::Nil => Value::Nil,
        Node::Num(n) => Value::Num(*n),
        Node::Bool(b) => Value::Bool(*b),
        Node::Str(s) => Value::Str(s),
        Node::Field(id) => r.field(*id),
        Node::Attr(name) => r.attr(name),
        Node::Not(inner) => Value::Bool(!reference(inner, r)?.truthy()),
        Node::Neg(inner) => Value::Num(-reference(inner, r)?.number()),
        Node::And(a, b) => Value::Bool(reference(a, r)?.truthy() && reference(b, r)?.truthy()),
        Node::Or(a, b) => Value::Bool(reference(a, r)?.truthy() || reference(b, r)?.truthy()),
        Node::Cond(c, then, other) => {
            if reference(c, r)?.truthy() {
                reference(then, r)?
            } else {
                reference(other, r)?
            }
        }
        Node::Binary(op, a, b) => {
            let (x, y) = (reference(a, r)?, reference(b, r)?);
            let (n, m) = (x.number(), y.number());
            match op {
                BinOp::Add => Value::Num(n + m),
                BinOp::Sub => Value::Num(n - m),
                BinOp::Mul => Value::Num(n * m),
                BinOp::Div if m == 0.0 => return Err(()),
                BinOp::Div => Value::Num(n / m),
                BinOp::Eq => Value::Bool(eval::equal(x, y)),
                BinOp::Ne => Value::Bool(!eval::equal(x, y)),
                _ => Value::Bool(eval::order(*op, x, y)),
            }
        }
    })
}

#[test]
fn the_typed_walk_answers_what_a_dynamic_evaluation_answers() {
    const OPERANDS: &[&str] = &[
        "0",
        "1",
        "2.5",
        "rating",
        "review_count",
        "email",
        "phone",
        "city",
        "nil",
        "\"Paris\"",
        "\"\"",
        "attr_employees",
        "attr_verified",
        "attr_industry",
        "attr_none",
        "true",
        "false",
    ];
    const OPERATORS: &[&str] = &[
        "+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "&&", "||",
    ];
    const PREFIXES: &[&str] = &["", "", "", "!", "-"];
    let mut rng = Rng(11);
    let (full, empty) = (full(), Rec::default());
    let mut divisions = 0;
    for _ in 0..20_000 {
        let operand = |rng: &mut Rng| format!("{}{}", rng.pick(PREFIXES), rng.pick(OPERANDS));
        let mut src = operand(&mut rng);
        for _ in 0..1 + rng.next() % 6 {
            src = format!("{src} {} {}", rng.pick(OPERATORS), operand(&mut rng));
            match rng.next() % 6 {
                0 => src = format!("({src}) ? {} : {}", operand(&mut rng), operand(&mut rng)),
                1 => src = format!("{} ? ({src}) : {}", operand(&mut rng), operand(&mut rng)),
                2 => src = format!("{}({src})", rng.pick(PREFIXES)),
                _ => {}
            }
        }
        let expr = Expr::compile(&src, &TestSchema).unwrap_or_else(|e| panic!("{src}: {e}"));
        for rec in [&full, &empty] {
            let want = match reference(&expr.0, rec) {
                Ok(v) if v.number().is_finite() => (v.number(), false),
                Ok(_) => (0.0, false),
                Err(()) => (0.0, true),
            };
            let got = expr.evaluate(rec);
            divisions += usize::from(got.division_by_zero);
            assert_eq!(
                (got.value.to_bits(), got.division_by_zero),
                (want.0.to_bits(), want.1),
                "{src}"
            );
        }
    }
    assert!(divisions > 100, "divisions by zero were met ({divisions})");
}
