//! Scoring-rule request bodies: `{name, expression, weight?, priority?}` on create, any subset
//! on update. Unknown and read-only keys are ignored; the expression must compile against the
//! Lead schema (the error says where it fails).

use super::{Expr, LeadSchema};
use crate::events::scoring::ScoringRuleUpdated;
use serde_json::{Map, Value};

/// Longest rule name (characters).
pub const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub enum RuleInputError {
    /// A field is missing or malformed (400 `bad_request`).
    Field(String),
    /// The expression does not compile (400 `invalid_expression`).
    Expression(String),
}

impl std::fmt::Display for RuleInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleInputError::Field(m) | RuleInputError::Expression(m) => f.write_str(m),
        }
    }
}

/// The fields a body gives (all optional here; `parse_create` requires name and expression).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleInput {
    pub name: Option<String>,
    pub expression: Option<String>,
    pub weight: Option<f64>,
    pub priority: Option<i64>,
}

fn object(body: &Value) -> Result<&Map<String, Value>, RuleInputError> {
    body.as_object().ok_or_else(|| {
        RuleInputError::Field("the body must be a JSON object like {\"name\", \"expression\", \"weight\", \"priority\"}".into())
    })
}

fn parse(body: &Value) -> Result<RuleInput, RuleInputError> {
    let o = object(body)?;
    let mut input = RuleInput::default();
    match o.get("name") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Err(RuleInputError::Field("'name' must not be empty".into()));
            }
            if s.chars().count() > MAX_NAME_CHARS {
                return Err(RuleInputError::Field(format!(
                    "'name' is longer than {MAX_NAME_CHARS} characters"
                )));
            }
            input.name = Some(s.to_owned());
        }
        Some(_) => return Err(RuleInputError::Field("'name' must be a string".into())),
    }
    match o.get("expression") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            Expr::compile(s, &LeadSchema).map_err(|e| {
                RuleInputError::Expression(format!("'expression' does not compile {e}"))
            })?;
            input.expression = Some(s.clone());
        }
        Some(_) => {
            return Err(RuleInputError::Field(
                "'expression' must be a string".into(),
            ))
        }
    }
    match o.get("weight") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => match n.as_f64().filter(|w| w.is_finite()) {
            Some(w) => input.weight = Some(w),
            None => {
                return Err(RuleInputError::Field(
                    "'weight' must be a finite number".into(),
                ))
            }
        },
        Some(_) => return Err(RuleInputError::Field("'weight' must be a number".into())),
    }
    match o.get("priority") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) => {
            let p = n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            });
            match p {
                Some(p) => input.priority = Some(p),
                None => {
                    return Err(RuleInputError::Field(
                        "'priority' must be an integer".into(),
                    ))
                }
            }
        }
        Some(_) => {
            return Err(RuleInputError::Field(
                "'priority' must be an integer".into(),
            ))
        }
    }
    Ok(input)
}

/// A create body: name and expression required; weight defaults to 1.0, priority to 0.
pub fn parse_create(body: &Value) -> Result<(String, String, f64, i64), RuleInputError> {
    let input = parse(body)?;
    let name = input
        .name
        .ok_or_else(|| RuleInputError::Field("'name' is required".into()))?;
    let expression = input
        .expression
        .ok_or_else(|| RuleInputError::Field("'expression' is required".into()))?;
    Ok((
        name,
        expression,
        input.weight.unwrap_or(1.0),
        input.priority.unwrap_or(0),
    ))
}

/// An update body: the given fields, as the event will carry them (`at` set by the caller).
pub fn parse_update(body: &Value) -> Result<ScoringRuleUpdated, RuleInputError> {
    let input = parse(body)?;
    Ok(ScoringRuleUpdated {
        name: input.name,
        expression: input.expression,
        weight: input.weight,
        priority: input.priority,
        at: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_bodies_default_weight_and_priority() {
        let (name, expr, weight, priority) = parse_create(
            &json!({"name": " Has email ", "expression": "email != nil ? 30 : 0", "id": "x"}),
        )
        .unwrap();
        assert_eq!(
            (name.as_str(), expr.as_str(), weight, priority),
            ("Has email", "email != nil ? 30 : 0", 1.0, 0)
        );
        let (_, _, weight, priority) =
            parse_create(&json!({"name": "r", "expression": "1", "weight": 2.5, "priority": 3.0}))
                .unwrap();
        assert_eq!((weight, priority), (2.5, 3));
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let cases = [
            (json!([]), "JSON object"),
            (json!({"expression": "1"}), "'name' is required"),
            (json!({"name": "r"}), "'expression' is required"),
            (
                json!({"name": "  ", "expression": "1"}),
                "must not be empty",
            ),
            (
                json!({"name": 3, "expression": "1"}),
                "'name' must be a string",
            ),
            (
                json!({"name": "r", "expression": 1}),
                "'expression' must be a string",
            ),
            (
                json!({"name": "r", "expression": "1", "weight": "2"}),
                "'weight' must be a number",
            ),
            (
                json!({"name": "r", "expression": "1", "priority": 1.5}),
                "'priority' must be an integer",
            ),
            (
                json!({"name": "r", "expression": "rating >"}),
                "at position 9",
            ),
            (
                json!({"name": "r", "expression": "revenue > 3"}),
                "unknown field 'revenue'",
            ),
        ];
        for (body, fragment) in cases {
            let e = parse_create(&body).expect_err(&body.to_string());
            assert!(e.to_string().contains(fragment), "{body}: {e}");
        }
        assert!(matches!(
            parse_create(&json!({"name": "r", "expression": "(("})),
            Err(RuleInputError::Expression(_))
        ));
    }

    #[test]
    fn updates_carry_only_the_given_fields() {
        let u = parse_update(&json!({"weight": 3, "created_at": 5})).unwrap();
        assert_eq!(
            u,
            ScoringRuleUpdated {
                weight: Some(3.0),
                ..Default::default()
            }
        );
        assert!(parse_update(&json!({"expression": "nope"})).is_err());
    }
}
