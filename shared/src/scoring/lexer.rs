//! Tokens of the scoring dialect, each with its 1-based character position.

use super::CompileError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    True,
    False,
    Nil,
    Plus,
    Minus,
    Star,
    Slash,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    Bang,
    Question,
    Colon,
    LParen,
    RParen,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    /// 1-based character column.
    pub pos: usize,
}

fn err(pos: usize, message: impl Into<String>) -> CompileError {
    CompileError {
        position: pos,
        message: message.into(),
    }
}

pub(super) fn tokenize(source: &str) -> Result<Vec<Token>, CompileError> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = |next: char| chars.get(i + 1) == Some(&next);
        let (tok, len) = match c {
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '?' => (Tok::Question, 1),
            ':' => (Tok::Colon, 1),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '<' if two('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if two('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '=' if two('=') => (Tok::Eq, 2),
            '!' if two('=') => (Tok::Ne, 2),
            '!' => (Tok::Bang, 1),
            '&' if two('&') => (Tok::And, 2),
            '|' if two('|') => (Tok::Or, 2),
            '=' => return Err(err(pos, "'=' is not an operator; compare with '=='")),
            '&' => return Err(err(pos, "'&' is not an operator; use '&&'")),
            '|' => return Err(err(pos, "'|' is not an operator; use '||'")),
            '"' | '\'' => {
                let (s, len) = string(&chars[i..], pos)?;
                (Tok::Str(s), len)
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let (n, len) = number(&chars[i..], pos)?;
                (Tok::Num(n), len)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                let tok = match word.as_str() {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "nil" | "null" => Tok::Nil,
                    _ => Tok::Ident(word),
                };
                (tok, len)
            }
            other => return Err(err(pos, format!("unexpected character '{other}'"))),
        };
        out.push(Token { tok, pos });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        pos: chars.len() + 1,
    });
    Ok(out)
}

/// A quoted string starting at `s[0]`; answers its value and length in characters.
fn string(s: &[char], pos: usize) -> Result<(String, usize), CompileError> {
    let quote = s[0];
    let mut out = String::new();
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            c if c == quote => return Ok((out, i + 1)),
            '\\' => {
                let escaped = match s.get(i + 1) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(c @ ('"' | '\'' | '\\')) => *c,
                    Some(c) => {
                        return Err(err(pos + i, format!("unknown escape '\\{c}' in string")))
                    }
                    None => break,
                };
                out.push(escaped);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(err(
        pos,
        format!("unterminated string: add the closing {quote}"),
    ))
}

/// `4`, `4.0`, `.5`, `1e+16`, `2.5E-3`.
fn number(s: &[char], pos: usize) -> Result<(f64, usize), CompileError> {
    let mut i = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if s.get(i) == Some(&'.') {
        i += 1;
        i += s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if matches!(s.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some('+' | '-')) {
            j += 1;
        }
        let digits = s[j.min(s.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err(err(pos, "malformed number: the exponent has no digits"));
        }
        i = j + digits;
    }
    let text: String = s[..i].iter().collect();
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok((n, i)),
        _ => Err(err(pos, format!("number '{text}' is out of range"))),
    }
}
