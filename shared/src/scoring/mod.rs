//! The scoring engine (SPEC §6, ARCHITECTURE "Decisions"): a small expression dialect —
//! arithmetic, comparisons, `&& || !`, parentheses, `cond ? a : b` (only the branch taken is
//! evaluated), string literals, `nil`, lead fields by name and attributes as `attr_<name>`.
//! A rule compiles once (names resolved, errors with their position); evaluating it borrows
//! from the lead and allocates nothing. score = clamp(Σ value × weight, 0, 100).

mod eval;
pub mod jobs;
mod lead;
mod lexer;
mod parser;
pub mod rule_input;
pub mod rules_table;
#[cfg(test)]
mod tests;

pub use eval::Value;
pub use lead::LeadSchema;
pub use parser::MAX_DEPTH;

/// Longest expression accepted (characters); with [`MAX_DEPTH`] it bounds the tree's depth.
pub const MAX_EXPRESSION_CHARS: usize = 2000;

/// Resolves field names at compile time. `attr_<name>` never reaches it.
pub trait Schema {
    fn field(&self, name: &str) -> Option<u16>;
}

/// What an expression reads from a lead.
pub trait Record {
    fn field(&self, id: u16) -> Value<'_>;
    /// `Nil` when the lead has no such attribute.
    fn attr(&self, name: &str) -> Value<'_>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// 1-based character position of the offending token.
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for CompileError {}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr(parser::Node);

/// A rule's value for one lead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Numbers as they are, booleans 1/0, nil and strings 0; 0 after a division by zero.
    pub value: f64,
    pub division_by_zero: bool,
}

impl Expr {
    pub fn compile(source: &str, schema: &impl Schema) -> Result<Expr, CompileError> {
        let len = source.chars().count();
        if len > MAX_EXPRESSION_CHARS {
            return Err(CompileError {
                position: MAX_EXPRESSION_CHARS + 1,
                message: format!(
                    "expression longer than {MAX_EXPRESSION_CHARS} characters ({len})"
                ),
            });
        }
        parser::parse(source, schema).map(Expr)
    }

    pub fn evaluate(&self, record: &impl Record) -> Outcome {
        let mut walk = eval::Walk::new(record);
        let value = walk.number(&self.0);
        if walk.division_by_zero {
            return Outcome {
                value: 0.0,
                division_by_zero: true,
            };
        }
        Outcome {
            value: if value.is_finite() { value } else { 0.0 },
            division_by_zero: false,
        }
    }
}

/// A compiled rule with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub expr: Expr,
    pub weight: f64,
}

/// One rule's part of a score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contribution {
    pub value: f64,
    pub weight: f64,
    /// value × weight.
    pub points: f64,
    pub division_by_zero: bool,
}

fn clamp(total: f64) -> f64 {
    if total.is_nan() {
        0.0
    } else {
        total.clamp(0.0, 100.0)
    }
}

/// clamp(Σ value × weight, 0, 100), allocating nothing.
pub fn score(rules: &[Rule], record: &impl Record) -> f64 {
    clamp(
        rules
            .iter()
            .map(|r| r.expr.evaluate(record).value * r.weight)
            .sum(),
    )
}

/// Each rule's contribution, in rule order, and the clamped total.
pub fn breakdown(rules: &[Rule], record: &impl Record) -> (Vec<Contribution>, f64) {
    let parts: Vec<Contribution> = rules
        .iter()
        .map(|r| {
            let o = r.expr.evaluate(record);
            Contribution {
                value: o.value,
                weight: r.weight,
                points: o.value * r.weight,
                division_by_zero: o.division_by_zero,
            }
        })
        .collect();
    let total = clamp(parts.iter().map(|c| c.points).sum());
    (parts, total)
}
