//! The scoring dialect's grammar, by precedence climbing (lowest first): `c ? a : b`
//! (right-associative), `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* /`, unary `! -`,
//! then literals, names and parentheses. Names resolve while parsing, so an unknown field is
//! a compile error with its position. Nesting is bounded: no input can exhaust the stack.

use super::lexer::{tokenize, Tok, Token};
use super::{CompileError, Schema};

/// Deepest nesting of parentheses, unary operators and ternaries.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Nil,
    Num(f64),
    Bool(bool),
    Str(String),
    Field(u16),
    Attr(Box<str>),
    Not(Box<Node>),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
}

struct Parser<'s, S> {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    schema: &'s S,
}

fn err(pos: usize, message: impl Into<String>) -> CompileError {
    CompileError {
        position: pos,
        message: message.into(),
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Ident(name) => format!("'{name}'"),
        Tok::True => "'true'".into(),
        Tok::False => "'false'".into(),
        Tok::Nil => "'nil'".into(),
        Tok::End => "end of expression".into(),
        other => format!("'{}'", op_text(other)),
    }
}

fn op_text(tok: &Tok) -> &'static str {
    match tok {
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::And => "&&",
        Tok::Or => "||",
        Tok::Bang => "!",
        Tok::Question => "?",
        Tok::Colon => ":",
        Tok::LParen => "(",
        Tok::RParen => ")",
        _ => "",
    }
}

pub(super) fn parse(source: &str, schema: &impl Schema) -> Result<Node, CompileError> {
    let tokens = tokenize(source)?;
    if tokens.len() == 1 {
        return Err(err(1, "empty expression"));
    }
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
        schema,
    };
    let node = p.ternary()?;
    let next = p.peek();
    if next.tok != Tok::End {
        return Err(err(
            next.pos,
            format!(
                "unexpected {} after a complete expression",
                describe(&next.tok)
            ),
        ));
    }
    Ok(node)
}

impl<S: Schema> Parser<'_, S> {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `at` never passes it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.at += 1;
        }
        t
    }

    fn enter(&mut self, pos: usize) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(pos, format!("nesting deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Node, CompileError> {
        let cond = self.or()?;
        if self.peek().tok != Tok::Question {
            return Ok(cond);
        }
        let q = self.bump();
        self.enter(q.pos)?;
        let then = self.ternary()?;
        let colon = self.bump();
        if colon.tok != Tok::Colon {
            return Err(err(
                colon.pos,
                format!(
                    "expected ':' of the '?' at position {}, found {}",
                    q.pos,
                    describe(&colon.tok)
                ),
            ));
        }
        let other = self.ternary()?;
        self.depth -= 1;
        Ok(Node::Cond(Box::new(cond), Box::new(then), Box::new(other)))
    }

    fn or(&mut self) -> Result<Node, CompileError> {
        let mut left = self.and()?;
        while self.peek().tok == Tok::Or {
            self.bump();
            let right = self.and()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, CompileError> {
        let mut left = self.binary(0)?;
        while self.peek().tok == Tok::And {
            self.bump();
            let right = self.binary(0)?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Left-associative binary levels: 0 equality, 1 ordering, 2 additive, 3 multiplicative.
    fn binary(&mut self, level: usize) -> Result<Node, CompileError> {
        if level > 3 {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let op = match (level, &self.peek().tok) {
                (0, Tok::Eq) => BinOp::Eq,
                (0, Tok::Ne) => BinOp::Ne,
                (1, Tok::Lt) => BinOp::Lt,
                (1, Tok::Le) => BinOp::Le,
                (1, Tok::Gt) => BinOp::Gt,
                (1, Tok::Ge) => BinOp::Ge,
                (2, Tok::Plus) => BinOp::Add,
                (2, Tok::Minus) => BinOp::Sub,
                (3, Tok::Star) => BinOp::Mul,
                (3, Tok::Slash) => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.binary(level + 1)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Node, CompileError> {
        let t = self.peek().clone();
        let wrap: fn(Box<Node>) -> Node = match t.tok {
            Tok::Bang => Node::Not,
            Tok::Minus => Node::Neg,
            _ => return self.primary(),
        };
        self.bump();
        self.enter(t.pos)?;
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(wrap(Box::new(inner)))
    }

    fn primary(&mut self) -> Result<Node, CompileError> {
        let t = self.bump();
        Ok(match t.tok {
            Tok::Num(n) => Node::Num(n),
            Tok::Str(s) => Node::Str(s),
            Tok::True => Node::Bool(true),
            Tok::False => Node::Bool(false),
            Tok::Nil => Node::Nil,
            Tok::Ident(name) => match name.strip_prefix("attr_") {
                Some(attr) if !attr.is_empty() => Node::Attr(attr.into()),
                _ => match self.schema.field(&name) {
                    Some(id) => Node::Field(id),
                    None => {
                        return Err(err(
                            t.pos,
                            format!(
                                "unknown field '{name}' (use a lead field such as rating or email, or attr_<name> for an attribute)"
                            ),
                        ))
                    }
                },
            },
            Tok::LParen => {
                self.enter(t.pos)?;
                let inner = self.ternary()?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return Err(err(
                        close.pos,
                        format!(
                            "expected ')' closing the '(' at position {}, found {}",
                            t.pos,
                            describe(&close.tok)
                        ),
                    ));
                }
                self.depth -= 1;
                inner
            }
            Tok::End => return Err(err(t.pos, "unexpected end of expression: a value is missing")),
            other => {
                return Err(err(
                    t.pos,
                    format!("unexpected {}: a value was expected here", describe(&other)),
                ))
            }
        })
    }
}
