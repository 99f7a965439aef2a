//! Evaluation: a walk over the compiled tree with borrowed values; nothing is allocated.
//! A missing field is `Nil`: 0 in arithmetic, "" against a string, distinct from numbers in
//! `==`; booleans count as 1/0; a division by zero stops the rule (its value is then 0).

use super::parser::{BinOp, Node};
use super::Record;

/// A borrowed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Nil,
    Num(f64),
    Bool(bool),
    Str(&'a str),
}

impl Value<'_> {
    /// The value in arithmetic: numbers as they are, booleans 1/0, anything else 0.
    pub fn number(self) -> f64 {
        match self {
            Value::Num(n) => n,
            Value::Bool(b) => f64::from(u8::from(b)),
            Value::Nil | Value::Str(_) => 0.0,
        }
    }

    pub fn truthy(self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => b,
            Value::Num(n) => n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }
}

/// The evaluation met a division by zero.
pub(super) struct DivisionByZero;

fn equal(a: Value, b: Value) -> bool {
    use Value::*;
    match (a, b) {
        (Nil, Nil) => true,
        (Nil, Str(s)) | (Str(s), Nil) => s.is_empty(),
        (Nil, _) | (_, Nil) => false,
        (Str(x), Str(y)) => x == y,
        (Str(_), _) | (_, Str(_)) => false,
        (x, y) => x.number() == y.number(),
    }
}

fn order(op: BinOp, a: Value, b: Value) -> bool {
    use Value::*;
    let ord = match (a, b) {
        (Str(x), Str(y)) => x.cmp(y),
        (Str(x), Nil) => x.cmp(""),
        (Nil, Str(y)) => "".cmp(y),
        (Str(_), _) | (_, Str(_)) => return false,
        (x, y) => match x.number().partial_cmp(&y.number()) {
            Some(o) => o,
            None => return false,
        },
    };
    match op {
        BinOp::Lt => ord.is_lt(),
        BinOp::Le => ord.is_le(),
        BinOp::Gt => ord.is_gt(),
        _ => ord.is_ge(),
    }
}

pub(super) fn eval<'a, R: Record>(node: &'a Node, r: &'a R) -> Result<Value<'a>, DivisionByZero> {
    Ok(match node {
        Node::Nil => Value::Nil,
        Node::Num(n) => Value::Num(*n),
        Node::Bool(b) => Value::Bool(*b),
        Node::Str(s) => Value::Str(s),
        Node::Field(id) => r.field(*id),
        Node::Attr(name) => r.attr(name),
        Node::Not(inner) => Value::Bool(!eval(inner, r)?.truthy()),
        Node::Neg(inner) => Value::Num(-eval(inner, r)?.number()),
        Node::And(a, b) => Value::Bool(eval(a, r)?.truthy() && eval(b, r)?.truthy()),
        Node::Or(a, b) => Value::Bool(eval(a, r)?.truthy() || eval(b, r)?.truthy()),
        Node::Cond(c, then, other) => {
            if eval(c, r)?.truthy() {
                eval(then, r)?
            } else {
                eval(other, r)?
            }
        }
        Node::Binary(op, a, b) => {
            let (x, y) = (eval(a, r)?, eval(b, r)?);
            match op {
                BinOp::Add => Value::Num(x.number() + y.number()),
                BinOp::Sub => Value::Num(x.number() - y.number()),
                BinOp::Mul => Value::Num(x.number() * y.number()),
                BinOp::Div => {
                    let d = y.number();
                    if d == 0.0 {
                        return Err(DivisionByZero);
                    }
                    Value::Num(x.number() / d)
                }
                BinOp::Eq => Value::Bool(equal(x, y)),
                BinOp::Ne => Value::Bool(!equal(x, y)),
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(order(*op, x, y)),
            }
        }
    })
}
