//! JSONPath as used by the Amazon States Language (JSONPath query language).
//!
//! This module owns parsing JSONPath strings (`$...` input paths, `$$...`
//! context-object paths and `$name...` workflow-variable paths) into an AST,
//! classifying them (reference path, definite path), printing them in a
//! canonical form, and evaluating them against `serde_json::Value`s
//! (`query`, `get`, and ResultPath-style `set`).
//!
//! Semantics follow the Jayway JSONPath implementation that AWS Step Functions
//! uses where they are observable: a name selector only matches objects, a
//! filter applied to an object tests the object itself, and `!=` is the
//! negation of `==`. Two leniencies of Jayway's parsers that AWS accepts are kept:
//! an unquoted word in a filter comparison is a string (`[?(@.status==Failure)]`),
//! and a name may follow `]` without a dot (`$.Instances[0]InstanceId`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use serde_json::{Map, Number, Value};

/// Maximum nesting of filters, parentheses and `!` inside one path. Keeps
/// the recursive-descent parser and evaluator safe from stack exhaustion.
const MAX_NESTING: usize = 32;

/// A JSONPath string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath: {message} (at byte {position})")]
pub struct PathError {
    /// Human readable description of the problem.
    pub message: String,
    /// Byte offset into the parsed string where the problem was detected.
    pub position: usize,
}

/// A value could not be written with [`JsonPath::set`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Only reference paths (names and non-negative indexes) can be written.
    #[error("'{path}' is not a reference path and cannot be used as a write target")]
    NotReferencePath { path: String },
    /// A value on the way to the target exists but is not an object.
    #[error("cannot set '{path}': the value at '{at}' is {found}, not an object")]
    NotAnObject {
        path: String,
        at: String,
        found: &'static str,
    },
    /// An index was used on something that is not an array.
    #[error("cannot set '{path}': the value at '{at}' is {found}, not an array")]
    NotAnArray {
        path: String,
        at: String,
        found: &'static str,
    },
    /// An index points past the end of an array.
    #[error(
        "cannot set '{path}': index {index} is out of range for the array at '{at}' (length {len})"
    )]
    IndexOutOfRange {
        path: String,
        at: String,
        index: i64,
        len: usize,
    },
}

/// What the leading `$` of a path refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Root {
    /// `$`: the state input (or whatever document the field is applied to).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    /// What the path starts from.
    pub root: Root,
    /// Steps applied in order, starting at the root.
    pub segments: Vec<Segment>,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Apply the selector to the current node (`.name`, `[0]`, `[*]`, ...).
    Child(Selector),
    /// Apply the selector to the current node and all its descendants
    /// (`..name`, `..*`, `..[0]`).
    Descendant(Selector),
}

/// What a segment selects from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Object member by name: `.name`, `['name']`, `["name"]`.
    Name(String),
    /// Array element by index; negative counts from the end: `[0]`, `[-1]`.
    Index(i64),
    /// All members of an object or elements of an array: `.*`, `[*]`.
    Wildcard,
    /// Several object members: `['a','b']`.
    NameUnion(Vec<String>),
    /// Several array elements: `[0,1]`.
    IndexUnion(Vec<i64>),
    /// Array slice `[start:end:step]`, every part optional.
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
    },
    /// Filter `[?(...)]`.
    Filter(Box<FilterExpr>),
    /// Script index `[(@.length-1)]`: the element at `length + offset`.
    LengthOffset(i64),
}

/// A boolean filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterExpr {
    Or(Box<FilterExpr>, Box<FilterExpr>),
    And(Box<FilterExpr>, Box<FilterExpr>),
    Not(Box<FilterExpr>),
    /// `left op right`.
    Compare {
        left: Operand,
        op: CompareOp,
        right: Operand,
    },
    /// `@.isbn`: true when the path selects at least one value.
    Exists(FilterPath),
}

/// A comparison operator inside a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The operator as written in a path.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// One side of a filter comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// A literal number, string, boolean or null.
    Literal(Value),
    /// A path relative to the current node (`@...`) or the query root (`$...`).
    Path(FilterPath),
}

/// A path used inside a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPath {
    /// `true` for `@...` (current node), `false` for `$...` (query root).
    pub relative: bool,
    pub segments: Vec<Segment>,
}

/// Parse a JSONPath string such as `$.a.b[0]`, `$$.Execution.Input` or `$var.x`.
///
/// Leading whitespace is rejected (an ASL path must start with `$`); trailing
/// whitespace is ignored, as Jayway does.
pub fn parse(s: &str) -> Result<JsonPath, PathError> {
    let src = s.trim_end();
    let mut p = Parser::new(src);
    let root = match p.peek() {
        None => return p.fail("path is empty"),
        Some('$') => {
            p.bump();
            if p.eat('$') {
                Root::Context
            } else if p.peek().is_some_and(is_variable_start) {
                let start = p.pos;
                while p.peek().is_some_and(is_variable_continue) {
                    p.bump();
                }
                Root::Variable(src[start..p.pos].to_string())
            } else {
                Root::Input
            }
        }
        Some(c) => return p.fail(format!("path must start with '$', found {c:?}")),
    };
    let segments = p.segments(NameContext::TopLevel)?;
    if let Some(c) = p.peek() {
        let hint = if c.is_whitespace() {
            "; names containing whitespace need bracket notation, e.g. ['a b']"
        } else if c == '(' {
            "; function calls such as length() are not supported"
        } else {
            ""
        };
        return p.fail(format!("unexpected character {c:?}{hint}"));
    }
    Ok(JsonPath { root, segments })
}

impl JsonPath {
    /// The path `$` (the whole input).
    pub fn input_root() -> Self {
        JsonPath {
            root: Root::Input,
            segments: Vec::new(),
        }
    }

    /// `true` for an ASL Reference Path: only member names and non-negative
    /// single indexes, so it identifies at most one node and can be written.
    pub fn is_reference_path(&self) -> bool {
        self.segments.iter().all(|s| {
            matches!(
                s,
                Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(0..))
            )
        })
    }

    /// `true` if the path starts with `$$` (the context object).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    /// The variable name if the path starts with `$name`.
    pub fn variable(&self) -> Option<&str> {
        match &self.root {
            Root::Variable(name) => Some(name),
            _ => None,
        }
    }

    /// `true` if the path can never select more than one value.
    pub fn is_definite(&self) -> bool {
        segments_are_definite(&self.segments)
    }

    /// All values selected by the path, in document order. `root` is the
    /// document the path's root refers to (state input for `$`, context object
    /// for `$$`, the variable's value for `$name`).
    pub fn query<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        apply_segments(&self.segments, root, root, 0)
    }

    /// The single value selected by a definite path, or `None` if nothing
    /// matches or the path is not definite (use [`JsonPath::query`] then).
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        if !self.is_definite() {
            return None;
        }
        self.query(root).into_iter().next()
    }

    /// Write `value` at this path with ASL `ResultPath` semantics: missing
    /// intermediate members are created as empty objects, the path `$`
    /// replaces the whole document, and an existing intermediate that is not
    /// an object (or an out-of-range index) is an error.
    pub fn set(&self, root: &mut Value, value: Value) -> Result<(), SetError> {
        if !self.is_reference_path() {
            return Err(SetError::NotReferencePath {
                path: self.to_string(),
            });
        }
        let Some((last, init)) = self.segments.split_last() else {
            *root = value;
            return Ok(());
        };
        let mut at = JsonPath {
            root: self.root.clone(),
            segments: Vec::with_capacity(self.segments.len()),
        };
        let mut cur = root;
        for seg in init {
            cur = match seg {
                Segment::Child(Selector::Name(name)) => match cur {
                    Value::Object(map) => map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new())),
                    other => {
                        return Err(SetError::NotAnObject {
                            path: self.to_string(),
                            at: at.to_string(),
                            found: type_name(other),
                        });
                    }
                },
                Segment::Child(Selector::Index(index)) => self.array_slot(cur, *index, &at)?,
                _ => {
                    return Err(SetError::NotReferencePath {
                        path: self.to_string(),
                    });
                }
            };
            at.segments.push(seg.clone());
        }
        match last {
            Segment::Child(Selector::Name(name)) => match cur {
                Value::Object(map) => {
                    map.insert(name.clone(), value);
                    Ok(())
                }
                other => Err(SetError::NotAnObject {
                    path: self.to_string(),
                    at: at.to_string(),
                    found: type_name(other),
                }),
            },
            Segment::Child(Selector::Index(index)) => {
                *self.array_slot(cur, *index, &at)? = value;
                Ok(())
            }
            _ => Err(SetError::NotReferencePath {
                path: self.to_string(),
            }),
        }
    }

    fn array_slot<'v>(
        &self,
        cur: &'v mut Value,
        index: i64,
        at: &JsonPath,
    ) -> Result<&'v mut Value, SetError> {
        match cur {
            Value::Array(items) => {
                let len = items.len();
                usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| SetError::IndexOutOfRange {
                        path: self.to_string(),
                        at: at.to_string(),
                        index,
                        len,
                    })
            }
            other => Err(SetError::NotAnArray {
                path: self.to_string(),
                at: at.to_string(),
                found: type_name(other),
            }),
        }
    }
}

impl std::str::FromStr for JsonPath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn segments_are_definite(segments: &[Segment]) -> bool {
    segments.iter().all(|s| {
        matches!(
            s,
            Segment::Child(Selector::Name(_) | Selector::Index(_) | Selector::LengthOffset(_))
        )
    })
}

fn is_variable_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_variable_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// Where a dot-notation name appears; inside filters, operator characters
/// end a name so that `@.price<10` works.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NameContext {
    TopLevel,
    Filter,
}

impl NameContext {
    fn ends_name(self, c: char) -> bool {
        let always = matches!(c, '.' | '[' | ']' | '(' | ')') || c.is_whitespace();
        always
            || (self == NameContext::Filter && matches!(c, '<' | '>' | '=' | '!' | '&' | '|' | ','))
    }
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
        }
    }

    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, PathError> {
        Err(PathError {
            message: message.into(),
            position: self.pos,
        })
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), PathError> {
        if self.eat(c) {
            Ok(())
        } else {
            match self.peek() {
                Some(found) => self.fail(format!("expected {what}, found {found:?}")),
                None => self.fail(format!("expected {what}, found end of path")),
            }
        }
    }

    fn enter(&mut self) -> Result<(), PathError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.fail(format!(
                "expression nested deeper than {MAX_NESTING} levels"
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Segments until the next character cannot start a segment.
    ///
    /// Right after a bracket selector, a name (or `*`) may follow without a dot:
    /// `$.Instances[0]InstanceId` is `$.Instances[0].InstanceId`. Jayway's PathCompiler reads
    /// the next token straight after `]` and takes anything that is not `[`, `.` or `*` as a
    /// property name, and AWS accepts such paths.
    fn segments(&mut self, ctx: NameContext) -> Result<Vec<Segment>, PathError> {
        let mut out = Vec::new();
        let mut after_bracket = false;
        loop {
            let segment = match self.peek() {
                Some('.') => {
                    self.bump();
                    if self.eat('.') {
                        Segment::Descendant(self.after_dot(ctx, "'..'")?)
                    } else {
                        Segment::Child(self.after_dot(ctx, "'.'")?)
                    }
                }
                Some('[') => {
                    self.bump();
                    Segment::Child(self.bracket()?)
                }
                Some(c) if after_bracket && (c == '*' || !ctx.ends_name(c)) => {
                    Segment::Child(self.after_dot(ctx, "']'")?)
                }
                _ => return Ok(out),
            };
            after_bracket = self.src[..self.pos].ends_with(']');
            out.push(segment);
        }
    }

    /// What follows `.` or `..`: a name, `*`, or a bracket selector.
    fn after_dot(&mut self, ctx: NameContext, dot: &str) -> Result<Selector, PathError> {
        match self.peek() {
            Some('[') => {
                self.bump();
                self.bracket()
            }
            Some('*') => {
                self.bump();
                match self.peek() {
                    Some(c) if !ctx.ends_name(c) => {
                        self.fail(format!("unexpected character {c:?} after wildcard '*'"))
                    }
                    _ => Ok(Selector::Wildcard),
                }
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|c| !ctx.ends_name(c)) {
                    self.bump();
                }
                if self.pos == start {
                    return match self.peek() {
                        None => self.fail(format!("path must not end with {dot}")),
                        Some(c) => self.fail(format!("expected a name after {dot}, found {c:?}")),
                    };
                }
                Ok(Selector::Name(self.src[start..self.pos].to_string()))
            }
        }
    }

    /// A bracket selector; the `[` has been consumed.
    fn bracket(&mut self) -> Result<Selector, PathError> {
        self.skip_ws();
        let sel = match self.peek() {
            Some('*') => {
                self.bump();
                Selector::Wildcard
            }
            Some('\'' | '"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if !self.eat(',') {
                        break;
                    }
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                if names.len() == 1 {
                    Selector::Name(names.swap_remove(0))
                } else {
                    Selector::NameUnion(names)
                }
            }
            Some('?') => {
                self.bump();
                self.skip_ws();
                let expr = self.filter_or()?;
                Selector::Filter(Box::new(expr))
            }
            Some('(') => self.script()?,
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.index_or_slice()?,
            Some(']') => return self.fail("empty brackets '[]'"),
            Some(c) => return self.fail(format!("unexpected character {c:?} in brackets")),
            None => return self.fail("unterminated '['"),
        };
        self.skip_ws();
        self.expect(']', "']'")?;
        Ok(sel)
    }

    /// A quoted string with either quote character. Inside it, a backslash
    /// followed by the delimiter or by another backslash is an escape; any
    /// other backslash is kept literally (AWS resolves `$['a\"b']` to the
    /// member named `a\"b`).
    fn quoted(&mut self) -> Result<String, PathError> {
        let start = self.pos;
        let Some(delim) = self.bump().filter(|c| *c == '\'' || *c == '"') else {
            return self.fail("expected a quoted name");
        };
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(PathError {
                        message: "unterminated string".into(),
                        position: start,
                    });
                }
                Some('\\') => match self.peek() {
                    Some(c) if c == delim || c == '\\' => {
                        self.bump();
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some(c) if c == delim => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn integer(&mut self) -> Result<i64, PathError> {
        let start = self.pos;
        self.eat('-');
        let digits = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        if self.pos == digits {
            return self.fail("expected an integer");
        }
        self.src[start..self.pos].parse().map_err(|_| PathError {
            message: format!("integer {} is out of range", &self.src[start..self.pos]),
            position: start,
        })
    }

    fn optional_integer(&mut self) -> Result<Option<i64>, PathError> {
        self.skip_ws();
        match self.peek() {
            Some(c) if c == '-' || c.is_ascii_digit() => self.integer().map(Some),
            _ => Ok(None),
        }
    }

    fn index_or_slice(&mut self) -> Result<Selector, PathError> {
        let first = self.optional_integer()?;
        self.skip_ws();
        if self.eat(':') {
            let end = self.optional_integer()?;
            self.skip_ws();
            let step = if self.eat(':') {
                let at = self.pos;
                let step = self.optional_integer()?;
                if step == Some(0) {
                    return Err(PathError {
                        message: "slice step must not be 0".into(),
                        position: at,
                    });
                }
                step
            } else {
                None
            };
            return Ok(Selector::Slice {
                start: first,
                end,
                step,
            });
        }
        let Some(first) = first else {
            return self.fail("expected an index");
        };
        let mut indexes = vec![first];
        while self.eat(',') {
            self.skip_ws();
            indexes.push(self.integer()?);
            self.skip_ws();
        }
        Ok(if indexes.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::IndexUnion(indexes)
        })
    }

    /// `(@.length)`, `(@.length-1)`, `(@.length + 2)`.
    fn script(&mut self) -> Result<Selector, PathError> {
        self.expect('(', "'('")?;
        self.skip_ws();
        if !self.eat_str("@.length") {
            return self.fail("only script expressions of the form (@.length-N) are supported");
        }
        self.skip_ws();
        let offset = match self.peek() {
            Some(sign @ ('-' | '+')) => {
                self.bump();
                self.skip_ws();
                let at = self.pos;
                let n = self.integer()?;
                if n < 0 {
                    return Err(PathError {
                        message: "expected a non-negative integer".into(),
                        position: at,
                    });
                }
                if sign == '-' { -n } else { n }
            }
            _ => 0,
        };
        self.skip_ws();
        self.expect(')', "')'")?;
        Ok(Selector::LengthOffset(offset))
    }

    fn filter_or(&mut self) -> Result<FilterExpr, PathError> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if !self.eat_str("||") {
                return Ok(left);
            }
            let right = self.filter_and()?;
            left = FilterExpr::Or(Box::new(left), Box::new(right));
        }
    }

    fn filter_and(&mut self) -> Result<FilterExpr, PathError> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if !self.eat_str("&&") {
                return Ok(left);
            }
            let right = self.filter_unary()?;
            left = FilterExpr::And(Box::new(left), Box::new(right));
        }
    }

    fn filter_unary(&mut self) -> Result<FilterExpr, PathError> {
        self.skip_ws();
        self.enter()?;
        let expr = if self.peek() == Some('!') && self.peek_second() != Some('=') {
            self.bump();
            FilterExpr::Not(Box::new(self.filter_unary()?))
        } else if self.eat('(') {
            let inner = self.filter_or()?;
            self.skip_ws();
            self.expect(')', "')'")?;
            inner
        } else {
            self.comparison()?
        };
        self.leave();
        Ok(expr)
    }

    fn comparison(&mut self) -> Result<FilterExpr, PathError> {
        let left_pos = self.pos;
        let left = self.operand()?;
        self.skip_ws();
        let op = if self.eat_str("==") {
            Some(CompareOp::Eq)
        } else if self.eat_str("!=") {
            Some(CompareOp::Ne)
        } else if self.eat_str("<=") {
            Some(CompareOp::Le)
        } else if self.eat_str(">=") {
            Some(CompareOp::Ge)
        } else if self.eat('<') {
            Some(CompareOp::Lt)
        } else if self.eat('>') {
            Some(CompareOp::Gt)
        } else if self.rest().starts_with("=~") {
            return self.fail("regular expression matching (=~) is not supported");
        } else if self.peek() == Some('=') {
            return self.fail("single '=' is not an operator; use '=='");
        } else if self.peek().is_some_and(char::is_alphabetic) {
            let word: String = self
                .rest()
                .chars()
                .take_while(|c| c.is_alphabetic())
                .collect();
            return self.fail(format!("filter operator '{word}' is not supported"));
        } else {
            None
        };
        match (op, left) {
            (Some(op), left) => {
                let right = self.operand()?;
                Ok(FilterExpr::Compare { left, op, right })
            }
            (None, Operand::Path(path)) => Ok(FilterExpr::Exists(path)),
            (None, Operand::Literal(_)) => Err(PathError {
                message: "a literal must be compared with something".into(),
                position: left_pos,
            }),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.skip_ws();
        match self.peek() {
            Some(c @ ('@' | '$')) => {
                self.bump();
                if c == '$' && self.peek() == Some('$') {
                    return self.fail("context paths ($$) are not supported inside filters");
                }
                self.enter()?;
                let segments = self.segments(NameContext::Filter)?;
                self.leave();
                Ok(Operand::Path(FilterPath {
                    relative: c == '@',
                    segments,
                }))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some('/') => self.fail("regular expressions are not supported"),
            Some(c) if is_bare_char(c) => self.bare_literal().map(Operand::Literal),
            Some(c) => self.fail(format!("expected a path or literal in filter, found {c:?}")),
            None => self.fail("unterminated filter expression"),
        }
    }

    /// An unquoted literal: `true`, `false`, `null`, a number, or else a string. The older
    /// Jayway releases AWS runs compare the raw text after the operator, so
    /// `[?(@.status==Failure)]` matches the string `"Failure"`; we follow that for a single
    /// token (a bare word never spans whitespace or an operator).
    fn bare_literal(&mut self) -> Result<Value, PathError> {
        let start = self.pos;
        while self.peek().is_some_and(is_bare_char) {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        Ok(match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => match number_syntax(text) {
                Some(integral) => number_from_text(text, integral)
                    .map(Value::Number)
                    .ok_or_else(|| PathError {
                        message: format!("number {text} is out of range"),
                        position: start,
                    })?,
                None => Value::String(text.to_owned()),
            },
        })
    }
}

/// Characters of an unquoted filter literal: anything but whitespace, quotes, brackets,
/// braces, parentheses, commas and the characters of operators. (`@` and `$` start a path instead,
/// so they never start one.)
fn is_bare_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '\'' | '"'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | ','
                | '&'
                | '|'
                | '<'
                | '>'
                | '='
                | '!'
        )
}

/// `Some(integral)` when the whole text is a number (`-12`, `1.5`, `2e-3`), else `None`.
fn number_syntax(text: &str) -> Option<bool> {
    let digits = |s: &str| -> usize { s.bytes().take_while(u8::is_ascii_digit).count() };
    let rest = text.strip_prefix('-').unwrap_or(text);
    let int_len = digits(rest);
    if int_len == 0 {
        return None;
    }
    let mut rest = &rest[int_len..];
    let mut integral = true;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = digits(frac);
        if n == 0 {
            return None;
        }
        integral = false;
        rest = &frac[n..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let n = digits(exp);
        if n == 0 {
            return None;
        }
        integral = false;
        rest = &exp[n..];
    }
    rest.is_empty().then_some(integral)
}

/// Convert validated number text to a JSON number; integers that do not fit
/// 64 bits fall back to floating point. `None` only for non-finite values.
pub(crate) fn number_from_text(text: &str, integral: bool) -> Option<Number> {
    if integral {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::from(i));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Some(Number::from(u));
        }
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

fn apply_segments<'a>(
    segments: &[Segment],
    start: &'a Value,
    root: &'a Value,
    depth: usize,
) -> Vec<&'a Value> {
    let mut current = vec![start];
    for seg in segments {
        let mut next = Vec::new();
        for node in current {
            match seg {
                Segment::Child(sel) => select(sel, node, root, depth, &mut next),
                Segment::Descendant(sel) => {
                    // Explicit stack: pre-order walk without recursion.
                    let mut stack = vec![node];
                    while let Some(n) = stack.pop() {
                        match sel {
                            // Jayway: a descendant filter tests every object
                            // node itself (once), never scalars or arrays.
                            Selector::Filter(expr) => {
                                if n.is_object() && test(expr, n, root, depth) {
                                    next.push(n);
                                }
                            }
                            _ => select(sel, n, root, depth, &mut next),
                        }
                        match n {
                            Value::Array(items) => stack.extend(items.iter().rev()),
                            Value::Object(map) => stack.extend(map.values().rev()),
                            _ => {}
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// Resolve a possibly negative index against an array length.
fn normalize_index(index: i64, len: usize) -> Option<usize> {
    let len_i = i64::try_from(len).ok()?;
    let i = if index < 0 {
        len_i.checked_add(index)?
    } else {
        index
    };
    if (0..len_i).contains(&i) {
        usize::try_from(i).ok()
    } else {
        None
    }
}

fn slice_indices(
    len: usize,
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
) -> Vec<usize> {
    let Ok(len) = i64::try_from(len) else {
        return Vec::new();
    };
    let step = step.unwrap_or(1);
    let norm = |i: i64| if i < 0 { len.saturating_add(i) } else { i };
    let mut out = Vec::new();
    if step > 0 {
        let lo = start.map_or(0, norm).clamp(0, len);
        let hi = end.map_or(len, norm).clamp(0, len);
        let mut i = lo;
        while i < hi {
            out.extend(usize::try_from(i).ok());
            i = i.saturating_add(step);
        }
    } else if step < 0 {
        let hi = start.map_or(len - 1, norm).clamp(-1, len - 1);
        let lo = end.map_or(-1, norm).clamp(-1, len - 1);
        let mut i = hi;
        while i > lo {
            out.extend(usize::try_from(i).ok());
            i = i.saturating_add(step);
        }
    }
    out
}

fn select<'a>(
    sel: &Selector,
    node: &'a Value,
    root: &'a Value,
    depth: usize,
    out: &mut Vec<&'a Value>,
) {
    match sel {
        Selector::Name(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Selector::NameUnion(names) => {
            if let Some(map) = node.as_object() {
                out.extend(names.iter().filter_map(|n| map.get(n)));
            }
        }
        Selector::Index(index) => {
            if let Some(items) = node.as_array() {
                out.extend(normalize_index(*index, items.len()).and_then(|i| items.get(i)));
            }
        }
        Selector::IndexUnion(indexes) => {
            if let Some(items) = node.as_array() {
                out.extend(
                    indexes.iter().filter_map(|i| {
                        normalize_index(*i, items.len()).and_then(|i| items.get(i))
                    }),
                );
            }
        }
        Selector::LengthOffset(offset) => {
            if let Some(items) = node.as_array() {
                let index = i64::try_from(items.len())
                    .ok()
                    .and_then(|len| len.checked_add(*offset))
                    .and_then(|i| usize::try_from(i).ok());
                out.extend(index.and_then(|i| items.get(i)));
            }
        }
        Selector::Wildcard => match node {
            Value::Array(items) => out.extend(items.iter()),
            Value::Object(map) => out.extend(map.values()),
            _ => {}
        },
        Selector::Slice { start, end, step } => {
            if let Some(items) = node.as_array() {
                out.extend(
                    slice_indices(items.len(), *start, *end, *step)
                        .into_iter()
                        .filter_map(|i| items.get(i)),
                );
            }
        }
        Selector::Filter(expr) => match node {
            Value::Array(items) => {
                out.extend(items.iter().filter(|item| test(expr, item, root, depth)));
            }
            Value::Object(_) if test(expr, node, root, depth) => out.push(node),
            _ => {}
        },
    }
}

fn test(expr: &FilterExpr, current: &Value, root: &Value, depth: usize) -> bool {
    // The parser bounds nesting; this guards ASTs built by hand.
    if depth > MAX_NESTING * 4 {
        return false;
    }
    let depth = depth + 1;
    match expr {
        FilterExpr::Or(a, b) => test(a, current, root, depth) || test(b, current, root, depth),
        FilterExpr::And(a, b) => test(a, current, root, depth) && test(b, current, root, depth),
        FilterExpr::Not(e) => !test(e, current, root, depth),
        FilterExpr::Exists(path) => !eval_filter_path(path, current, root, depth).is_empty(),
        FilterExpr::Compare { left, op, right } => {
            let l = operand_value(left, current, root, depth);
            let r = operand_value(right, current, root, depth);
            compare(*op, l.as_deref(), r.as_deref())
        }
    }
}

fn eval_filter_path<'a>(
    path: &FilterPath,
    current: &'a Value,
    root: &'a Value,
    depth: usize,
) -> Vec<&'a Value> {
    let start = if path.relative { current } else { root };
    apply_segments(&path.segments, start, root, depth)
}

/// The value of an operand; an indefinite path yields an array of its
/// matches (as Jayway does), a definite path that matches nothing is `None`.
fn operand_value<'a>(
    operand: &'a Operand,
    current: &'a Value,
    root: &'a Value,
    depth: usize,
) -> Option<Cow<'a, Value>> {
    match operand {
        Operand::Literal(v) => Some(Cow::Borrowed(v)),
        Operand::Path(path) => {
            let found = eval_filter_path(path, current, root, depth);
            if segments_are_definite(&path.segments) {
                found.into_iter().next().map(Cow::Borrowed)
            } else {
                Some(Cow::Owned(Value::Array(
                    found.into_iter().cloned().collect(),
                )))
            }
        }
    }
}

fn compare(op: CompareOp, left: Option<&Value>, right: Option<&Value>) -> bool {
    let equal = || match (left, right) {
        (Some(l), Some(r)) => json_equal(l, r),
        _ => false,
    };
    match op {
        CompareOp::Eq => equal(),
        CompareOp::Ne => !equal(),
        CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge => {
            let ord = match (left, right) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => compare_numbers(a, b),
                (Some(Value::String(a)), Some(Value::String(b))) => Some(a.cmp(b)),
                _ => None,
            };
            match ord {
                Some(o) => match op {
                    CompareOp::Lt => o == Ordering::Less,
                    CompareOp::Le => o != Ordering::Greater,
                    CompareOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
                None => false,
            }
        }
    }
}

/// Numeric comparison that is exact for 64-bit integers.
pub(crate) fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let as_int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// Display (canonical form)
// ---------------------------------------------------------------------------

/// Names printed with dot notation; everything else uses `['...']`.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '@')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '@'))
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

fn write_segments(f: &mut fmt::Formatter<'_>, segments: &[Segment]) -> fmt::Result {
    for seg in segments {
        match seg {
            Segment::Child(Selector::Name(n)) if is_plain_name(n) => write!(f, ".{n}")?,
            Segment::Child(sel) => write!(f, "{sel}")?,
            Segment::Descendant(Selector::Name(n)) if is_plain_name(n) => write!(f, "..{n}")?,
            Segment::Descendant(Selector::Wildcard) => f.write_str("..*")?,
            Segment::Descendant(sel) => write!(f, "..{sel}")?,
        }
    }
    Ok(())
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            Root::Input => f.write_str("$")?,
            Root::Context => f.write_str("$$")?,
            Root::Variable(name) => write!(f, "${name}")?,
        }
        write_segments(f, &self.segments)
    }
}

impl fmt::Display for Selector {
    /// The bracket form of the selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Name(n) => {
                f.write_char('[')?;
                write_quoted(f, n)?;
                f.write_char(']')
            }
            Selector::NameUnion(names) => {
                f.write_char('[')?;
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_quoted(f, n)?;
                }
                f.write_char(']')
            }
            Selector::Index(i) => write!(f, "[{i}]"),
            Selector::IndexUnion(indexes) => {
                f.write_char('[')?;
                for (n, i) in indexes.iter().enumerate() {
                    if n > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{i}")?;
                }
                f.write_char(']')
            }
            Selector::Wildcard => f.write_str("[*]"),
            Selector::Slice { start, end, step } => {
                f.write_char('[')?;
                if let Some(s) = start {
                    write!(f, "{s}")?;
                }
                f.write_char(':')?;
                if let Some(e) = end {
                    write!(f, "{e}")?;
                }
                if let Some(s) = step {
                    write!(f, ":{s}")?;
                }
                f.write_char(']')
            }
            Selector::Filter(expr) => write!(f, "[?({expr})]"),
            Selector::LengthOffset(0) => f.write_str("[(@.length)]"),
            Selector::LengthOffset(o) if *o < 0 => write!(f, "[(@.length-{})]", o.unsigned_abs()),
            Selector::LengthOffset(o) => write!(f, "[(@.length+{o})]"),
        }
    }
}

impl FilterExpr {
    fn precedence(&self) -> u8 {
        match self {
            FilterExpr::Or(..) => 1,
            FilterExpr::And(..) => 2,
            _ => 3,
        }
    }

    fn write_child(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for FilterExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterExpr::Or(a, b) => {
                a.write_child(f, 1)?;
                f.write_str(" || ")?;
                b.write_child(f, 2)
            }
            FilterExpr::And(a, b) => {
                a.write_child(f, 2)?;
                f.write_str(" && ")?;
                b.write_child(f, 3)
            }
            FilterExpr::Not(e) => {
                f.write_char('!')?;
                match **e {
                    FilterExpr::Exists(_) | FilterExpr::Not(_) => write!(f, "{e}"),
                    _ => write!(f, "({e})"),
                }
            }
            FilterExpr::Compare { left, op, right } => {
                write!(f, "{left} {} {right}", op.symbol())
            }
            FilterExpr::Exists(path) => write!(f, "{path}"),
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Literal(Value::String(s)) => write_quoted(f, s),
            Operand::Literal(v) => write!(f, "{v}"),
            Operand::Path(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for FilterPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char(if self.relative { '@' } else { '$' })?;
        write_segments(f, &self.segments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> JsonPath {
        match parse(s) {
            Ok(path) => path,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn q(path: &str, doc: &Value) -> Vec<Value> {
        p(path).query(doc).into_iter().cloned().collect()
    }

    /// Values of `.$` keys and `*Path` fields from AWS-accepted definitions.
    const ACCEPTED: &[&str] = &[
        "$",
        "$$",
        "$$.Execution",
        "$$.Execution.Id",
        "$$.Execution.Input",
        "$$.Execution.Input.input-value",
        "$$.Execution.Input.values",
        "$$.Execution.StartTime",
        "$$.Map.Item.Index",
        "$$.Map.Item.Value",
        "$$.State.EnteredTime",
        "$$.State.RetryCount",
        "$$.StateMachine.Name",
        "$$.Task.Token",
        "$.AnnouncePokemon",
        "$.delivery-partner",
        "$.sub-values",
        "$.item.items[*]",
        "$.item.items[1:5]",
        "$.item.items[1:5].itemValue",
        "$.item.items[1:]",
        "$.items[*].itemValue",
        "$.items[0]",
        "$.items[10]",
        "$.items[1:].itemValue",
        "$.items[:1]",
        "$.items[:1].itemValue",
        "$.no.such.result.path",
        "$['Test\\\"\"Name\"']",
        "$[*]",
        "$[0]",
        "$[2]",
        "$PokemonList",
        "$answer",
        "$theAnswerVar",
        "$x",
        "$maxItemsPerBatch",
        "$toleratedFailurePercentage",
    ];

    #[test]
    fn accepts_corpus_paths() {
        for s in ACCEPTED {
            p(s);
        }
    }

    #[test]
    fn accepts_documented_and_lenient_forms() {
        for s in [
            "$.Payload",
            "$.foo-bar",
            "$.ä",
            "$.日本語.名前",
            "$.a_b",
            "$.0",
            "$.a$b",
            "$.a'b",
            "$.abc.['def ghi']",
            "$['a']['b']",
            "$[\"a\"]",
            "$[ 'a' , \"b\" ]",
            "$[ 0 ]",
            "$[-1]",
            "$[0,1, 2]",
            "$[::2]",
            "$[-2:]",
            "$[:]",
            "$[5:1:-1]",
            "$..name",
            "$..*",
            "$..[0]",
            "$..['a b']",
            "$.*",
            "$.a.*.b",
            "$[?(@.price < 10)]",
            "$[?(@.price<10)]",
            "$[?(@.isbn)]",
            "$[?(!@.isbn)]",
            "$[?(@.a == 'x' && (@.b > 1 || @.c != null))]",
            "$[?(@['x'] >= -1.5e3)]",
            "$[?(@.a.b == true)]",
            "$[?(@ == 3)]",
            "$[?(@.price < $.limit)]",
            "$.books[?(@.tags[*] == 'x')]",
            "$[(@.length-1)]",
            "$[( @.length - 2 )]",
            "$.a ",
            "$$.Execution.Input['a.b']",
            "$var['x'][0]",
            "$_v1.a",
        ] {
            p(s);
        }
    }

    #[test]
    fn roots() {
        assert_eq!(p("$").root, Root::Input);
        assert_eq!(p("$.a").root, Root::Input);
        assert_eq!(p("$[0]").root, Root::Input);
        assert_eq!(p("$$").root, Root::Context);
        assert!(p("$$.Task.Token").is_context());
        assert_eq!(p("$myVar.x").variable(), Some("myVar"));
        assert_eq!(
            p("$myVar.x").segments,
            vec![Segment::Child(Selector::Name("x".into()))]
        );
        assert!(!p("$.x").is_context());
    }

    #[test]
    fn rejects_invalid_paths() {
        for s in [
            "",
            " $.a",
            "a.b",
            "States.Format('x')",
            "$.",
            "$..",
            "$.a.",
            "$.a..",
            "$a-b",
            "$.a b",
            "$.a[",
            "$.a[]",
            "$.a[0",
            "$.a['x",
            "$.a[x]",
            "$[0,]",
            "$[1:2:0]",
            "$[99999999999999999999]",
            "$.a]",
            "$.length()",
            "$[?(@.a = 1)]",
            "$[?(@.a =~ /x/)]",
            "$[?(@.a in ['x'])]",
            "$[?(1)]",
            "$[?(@.a == )]",
            "$[?(@.a == 1]",
            "$[?(@.a == 1)",
            "$[?(@.a == 1) && ]",
            "$[?($$.a == 1)]",
            "$[(1+2)]",
            "$[(@.length-)]",
            "$.*x",
            "$$$",
            "$$x",
            "$.a[?(@.b == 'x')]]",
            "$[?(@.x == [1])]",
        ] {
            assert!(parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn error_positions_and_messages() {
        let e = parse("$.a b").unwrap_err();
        assert_eq!(e.position, 3);
        assert!(e.message.contains("bracket notation"), "{e}");
        let e = parse("$.a[x]").unwrap_err();
        assert_eq!(e.position, 4);
        let e = parse("x").unwrap_err();
        assert_eq!(e.position, 0);
        assert!(e.to_string().contains("must start with '$'"));
        let e = parse("$.a.").unwrap_err();
        assert!(e.message.contains("must not end with"), "{e}");
        let e = parse("$.f()").unwrap_err();
        assert!(e.message.contains("not supported"), "{e}");
    }

    #[test]
    fn bracket_escapes() {
        let name = |s: &str| match p(s).segments.as_slice() {
            [Segment::Child(Selector::Name(n))] => n.clone(),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(name(r"$['it\'s']"), "it's");
        assert_eq!(name(r#"$["say \"hi\""]"#), r#"say "hi""#);
        assert_eq!(name(r"$['a\\b']"), r"a\b");
        assert_eq!(name(r"$['a\nb']"), r"a\nb");
        assert_eq!(name(r"$['a.b[c]']"), "a.b[c]");
        // AWS resolves this path (from a conformance case) to the key `Test\""Name"`.
        assert_eq!(name(r#"$['Test\""Name"']"#), r#"Test\""Name""#);
        let doc = json!({ "Test\\\"\"Name\"": "Value\"\\" });
        assert_eq!(q(r#"$['Test\""Name"']"#, &doc), vec![json!("Value\"\\")]);
    }

    #[test]
    fn reference_and_definite_classification() {
        for s in [
            "$",
            "$$",
            "$.a",
            "$.a[0].b",
            "$['a b'].c",
            "$$.Execution.Input",
            "$v.a[2]",
        ] {
            assert!(p(s).is_reference_path(), "{s}");
            assert!(p(s).is_definite(), "{s}");
        }
        for s in ["$[-1]", "$[(@.length-1)]"] {
            assert!(!p(s).is_reference_path(), "{s}");
            assert!(p(s).is_definite(), "{s}");
        }
        for s in [
            "$.*",
            "$[*]",
            "$..a",
            "$[0,1]",
            "$['a','b']",
            "$[1:]",
            "$[?(@.a)]",
            "$.a[?(@.b == 1)].c",
        ] {
            assert!(!p(s).is_reference_path(), "{s}");
            assert!(!p(s).is_definite(), "{s}");
        }
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            ("$", "$"),
            ("$$", "$$"),
            ("$.a.b", "$.a.b"),
            ("$['a'][\"b\"]", "$.a.b"),
            ("$['a b']", "$['a b']"),
            (r"$['it\'s']", r"$['it\'s']"),
            ("$.ä", "$.ä"),
            ("$.foo-bar", "$.foo-bar"),
            ("$.*", "$[*]"),
            ("$..*", "$..*"),
            ("$..name", "$..name"),
            ("$..[0]", "$..[0]"),
            ("$[ 0 , 1 ]", "$[0,1]"),
            ("$[ 'a' , 'b' ]", "$['a','b']"),
            ("$[1:]", "$[1:]"),
            ("$[:2]", "$[:2]"),
            ("$[::-1]", "$[::-1]"),
            ("$[?(@.price<10)]", "$[?(@.price < 10)]"),
            ("$[?(!@.isbn)]", "$[?(!@.isbn)]"),
            ("$[?(@.a && (@.b || @.c))]", "$[?(@.a && (@.b || @.c))]"),
            ("$[?((@.a && @.b) || @.c)]", "$[?(@.a && @.b || @.c)]"),
            ("$[?(!(@.a == \"x\"))]", "$[?(!(@.a == 'x'))]"),
            ("$[(@.length - 1)]", "$[(@.length-1)]"),
            ("$$.Execution.Input", "$$.Execution.Input"),
            ("$var.x", "$var.x"),
            ("$.a ", "$.a"),
        ];
        for (input, canonical) in cases {
            let path = p(input);
            assert_eq!(path.to_string(), canonical, "{input}");
            assert_eq!(p(canonical), path, "round trip of {input}");
        }
    }

    fn store() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "limit": 10
        })
    }

    #[test]
    fn query_basic_selectors() {
        let doc = store();
        assert_eq!(q("$.store.bicycle.color", &doc), vec![json!("red")]);
        assert_eq!(
            q("$['store']['bicycle']['color']", &doc),
            vec![json!("red")]
        );
        assert_eq!(q("$.store.book[0].title", &doc), vec![json!("Sayings")]);
        assert_eq!(q("$.store.book[-1].title", &doc), vec![json!("LOTR")]);
        assert_eq!(q("$.store.book[4]", &doc), Vec::<Value>::new());
        assert_eq!(q("$.store.book[-5]", &doc), Vec::<Value>::new());
        assert_eq!(
            q("$.store.book[(@.length-1)].title", &doc),
            vec![json!("LOTR")]
        );
        assert_eq!(q("$.store.book[(@.length)]", &doc), Vec::<Value>::new());
        assert_eq!(
            q("$.store.book[0,2].price", &doc),
            vec![json!(8.95), json!(8)]
        );
        assert_eq!(
            q("$.store.bicycle['price','color']", &doc),
            vec![json!(19.95), json!("red")]
        );
        assert_eq!(
            q("$.store.bicycle.*", &doc),
            vec![json!("red"), json!(19.95)]
        );
        assert_eq!(q("$.store.book[*].author", &doc).len(), 4);
        assert_eq!(q("$", &doc), vec![doc.clone()]);
        // Names only match objects; indexes only match arrays.
        assert!(q("$.store.book.title", &doc).is_empty());
        assert!(q("$.store[0]", &doc).is_empty());
        assert!(q("$.limit.x", &doc).is_empty());
    }

    #[test]
    fn query_slices() {
        let doc = json!([0, 1, 2, 3, 4, 5]);
        let ints = |s: &str| q(s, &doc);
        assert_eq!(ints("$[1:3]"), vec![json!(1), json!(2)]);
        assert_eq!(ints("$[:2]"), vec![json!(0), json!(1)]);
        assert_eq!(ints("$[4:]"), vec![json!(4), json!(5)]);
        assert_eq!(ints("$[-2:]"), vec![json!(4), json!(5)]);
        assert_eq!(ints("$[:-4]"), vec![json!(0), json!(1)]);
        assert_eq!(ints("$[::2]"), vec![json!(0), json!(2), json!(4)]);
        assert_eq!(ints("$[1:6:3]"), vec![json!(1), json!(4)]);
        assert_eq!(ints("$[::-2]"), vec![json!(5), json!(3), json!(1)]);
        assert_eq!(ints("$[3:0:-1]"), vec![json!(3), json!(2), json!(1)]);
        assert_eq!(ints("$[10:20]"), Vec::<Value>::new());
        assert_eq!(ints("$[-100:1]"), vec![json!(0)]);
        assert_eq!(ints("$[:]").len(), 6);
        assert!(q("$[0:1]", &json!({"a": 1})).is_empty());
    }

    #[test]
    fn query_descendants_in_document_order() {
        let doc = json!({"a": {"name": 1, "b": [{"name": 2}, {"c": {"name": 3}}]}, "name": 0});
        assert_eq!(
            q("$..name", &doc),
            vec![json!(0), json!(1), json!(2), json!(3)]
        );
        assert_eq!(q("$..[0]", &doc), vec![json!({"name": 2})]);
        assert_eq!(q("$..['name']", &doc).len(), 4);
        let all = q("$..*", &json!({"a": [1, 2], "b": 3}));
        assert_eq!(all, vec![json!([1, 2]), json!(3), json!(1), json!(2)]);
        assert!(q("$..*", &json!(5)).is_empty());
    }

    #[test]
    fn query_filters() {
        let doc = store();
        let titles = |s: &str| -> Vec<Value> {
            let mut path = p(s);
            path.segments
                .push(Segment::Child(Selector::Name("title".into())));
            path.query(&doc).into_iter().cloned().collect()
        };
        assert_eq!(
            titles("$.store.book[?(@.price < 10)]"),
            vec![json!("Sayings"), json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price <= 8)]"),
            vec![json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price == 8.0)]"),
            vec![json!("Moby Dick")]
        );
        assert_eq!(titles("$.store.book[?(@.price > 20)]"), vec![json!("LOTR")]);
        assert_eq!(
            titles("$.store.book[?(@.price >= 22.99)]"),
            vec![json!("LOTR")]
        );
        assert_eq!(
            titles("$.store.book[?(@.isbn)]"),
            vec![json!("Moby Dick"), json!("LOTR")]
        );
        assert_eq!(
            titles("$.store.book[?(!@.isbn)]"),
            vec![json!("Sayings"), json!("Sword")]
        );
        assert_eq!(
            titles("$.store.book[?(@.category == 'fiction' && @.price < 20)]"),
            vec![json!("Sword"), json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price < 9 || @.author == \"J. R. R. Tolkien\")]"),
            vec![json!("Sayings"), json!("Moby Dick"), json!("LOTR")]
        );
        assert_eq!(
            titles("$.store.book[?(!(@.category == 'fiction'))]"),
            vec![json!("Sayings")]
        );
        assert_eq!(
            titles("$.store.book[?(@.price < $.limit)]"),
            vec![json!("Sayings"), json!("Moby Dick")]
        );
        assert_eq!(
            titles("$.store.book[?(@.title > 'Moby')]"),
            vec![json!("Sayings"), json!("Sword"), json!("Moby Dick")]
        );
        // `!=` is the negation of `==`, so it also matches missing members.
        assert_eq!(titles("$.store.book[?(@.isbn != '0-553')]").len(), 3);
        // Mismatched types never order.
        assert!(titles("$.store.book[?(@.price < '10')]").is_empty());
        assert!(titles("$.store.book[?(@.author > 5)]").is_empty());
        // Filters on an object test the object itself.
        assert_eq!(
            q("$.store.bicycle[?(@.color == 'red')].price", &doc),
            vec![json!(19.95)]
        );
        assert_eq!(q("$..[?(@.price > 20)].title", &doc), vec![json!("LOTR")]);
    }

    #[test]
    fn descendant_filters_test_each_object_once() {
        let doc = json!({"k": 1, "items": [{"k": 1}, {"k": 2, "sub": {"k": 1}}, 1, [{"k": 1}]]});
        let found = q("$..[?(@.k == 1)]", &doc);
        assert_eq!(
            found,
            vec![
                doc.clone(),
                json!({"k": 1}),
                json!({"k": 1}),
                json!({"k": 1})
            ]
        );
        // Scalars are never filter candidates for a descendant filter (Jayway).
        assert!(q("$..[?(@ == 1)]", &doc).is_empty());
        // A child filter tests array elements, including scalars.
        assert_eq!(q("$.items[?(@ == 1)]", &doc), vec![json!(1)]);
    }

    #[test]
    fn filter_literals_and_current_node() {
        let doc = json!([1, 2.5, "a", true, null, {"x": [1, 2]}, {"x": null}, {"y": {"z": 1}}]);
        assert_eq!(q("$[?(@ > 1)]", &doc), vec![json!(2.5)]);
        assert_eq!(q("$[?(@ == 'a')]", &doc), vec![json!("a")]);
        assert_eq!(q("$[?(@ == true)]", &doc), vec![json!(true)]);
        assert_eq!(q("$[?(@ == null)]", &doc), vec![Value::Null]);
        assert_eq!(q("$[?(@.x)]", &doc).len(), 2);
        assert_eq!(q("$[?(@.x == null)]", &doc), vec![json!({"x": null})]);
        assert_eq!(q("$[?(@.x[1] == 2)]", &doc), vec![json!({"x": [1, 2]})]);
        assert_eq!(q("$[?(@['y'].z == 1)]", &doc), vec![json!({"y": {"z": 1}})]);
        assert!(q("$[?(@.x[*] == 1)]", &doc).is_empty());
        let big = json!([{"n": 9007199254740993_i64}, {"n": 9007199254740992_i64}]);
        assert_eq!(
            q("$[?(@.n > 9007199254740992)]", &big),
            vec![json!({"n": 9007199254740993_i64})]
        );
    }

    /// Jayway's older releases (which AWS runs) take an unquoted word on either side of a
    /// comparison as a string; numbers, `true`, `false` and `null` keep their types.
    #[test]
    fn unquoted_filter_words_are_strings() {
        let items = json!({"items": [
            {"status": "Failure", "id": 1},
            {"status": "Success", "id": 2},
            {"status": "2024-01-01", "id": 3},
            {"status": true, "id": 4},
            {"status": 7, "id": 5},
            {"status": null, "id": 6},
        ]});
        let ids = |path: &str| -> Vec<Value> {
            q(path, &items)
                .iter()
                .map(|item| item["id"].clone())
                .collect()
        };
        assert_eq!(ids("$.items[?(@.status==Failure)]"), vec![json!(1)]);
        assert_eq!(ids("$.items[?(@.status == Failure)]"), vec![json!(1)]);
        assert_eq!(ids("$.items[?(Failure == @.status)]"), vec![json!(1)]);
        assert_eq!(ids("$.items[?(@.status != Failure)]").len(), 5);
        assert_eq!(ids("$.items[?(@.status == 2024-01-01)]"), vec![json!(3)]);
        assert_eq!(ids("$.items[?(@.status > R)]"), vec![json!(2)]);
        assert_eq!(ids("$.items[?(@.status == true)]"), vec![json!(4)]);
        assert_eq!(ids("$.items[?(@.status == 7)]"), vec![json!(5)]);
        assert_eq!(ids("$.items[?(@.status == 7.0)]"), vec![json!(5)]);
        assert_eq!(ids("$.items[?(@.status == null)]"), vec![json!(6)]);
        assert_eq!(
            ids("$.items[?(@.status==Failure || @.status==Success)]"),
            vec![json!(1), json!(2)]
        );
        let translations = json!([
            {"TargetLanguageCode": "fr", "TranslatedText": "Bonjour"},
            {"TargetLanguageCode": "es", "TranslatedText": "Hola"},
        ]);
        assert_eq!(
            q(
                "$[?(@.TargetLanguageCode==es)].TranslatedText",
                &translations
            ),
            vec![json!("Hola")]
        );
        // The canonical form quotes the word.
        assert_eq!(
            p("$.items[?(@.status==Failure)]").to_string(),
            "$.items[?(@.status == 'Failure')]"
        );
        // Still rejected: a word alone, two words, and what is not a word.
        for s in [
            "$[?(Failure)]",
            "$[?(@.a == John Smith)]",
            "$[?(@.a == [x])]",
            "$[?(@.a == {x})]",
            "$[?(@.a == x'y')]",
            "$[?(@.a == /x/)]",
        ] {
            assert!(parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    /// Jayway reads the token after `]` directly, so a name needs no dot there.
    #[test]
    fn name_right_after_a_bracket() {
        let doc = json!({"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}]});
        let path = p("$.Reservations[0].Instances[0]InstanceId");
        assert_eq!(path, p("$.Reservations[0].Instances[0].InstanceId"));
        assert!(path.is_reference_path());
        assert_eq!(path.get(&doc), Some(&json!("i-1")));
        assert_eq!(p("$['a']b"), p("$.a.b"));
        assert_eq!(p("$.a[*]b"), p("$.a[*].b"));
        assert_eq!(p("$.a[0]*"), p("$.a[0].*"));
        assert_eq!(p("$..[0]b"), p("$..[0].b"));
        assert_eq!(p("$.a[?(@.b)]c"), p("$.a[?(@.b)].c"));
        assert_eq!(p("$.a[?(@.b[0]c == 1)]"), p("$.a[?(@.b[0].c == 1)]"));
        assert_eq!(p("$$.Execution.Input[0]x"), p("$$.Execution.Input[0].x"));
        for s in ["$.a[0] b", "$.a[0]]", "$.a[0]b()", "$.a[0]*b"] {
            assert!(parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn get_definite_paths() {
        let doc = store();
        assert_eq!(p("$.store.bicycle.color").get(&doc), Some(&json!("red")));
        assert_eq!(p("$.store.book[-1].price").get(&doc), Some(&json!(22.99)));
        assert_eq!(p("$.nope").get(&doc), None);
        assert_eq!(p("$").get(&doc), Some(&doc));
        assert_eq!(p("$.store.book[*]").get(&doc), None);
        let ctx = json!({"Execution": {"Input": {"a": 1}}});
        assert_eq!(p("$$.Execution.Input.a").get(&ctx), Some(&json!(1)));
    }

    #[test]
    fn set_result_path_semantics() {
        let mut doc = json!({"a": 1});
        p("$.b").set(&mut doc, json!(2)).unwrap();
        assert_eq!(doc, json!({"a": 1, "b": 2}));

        p("$.x.y.z").set(&mut doc, json!("deep")).unwrap();
        assert_eq!(doc, json!({"a": 1, "b": 2, "x": {"y": {"z": "deep"}}}));

        p("$.a").set(&mut doc, json!({"replaced": true})).unwrap();
        assert_eq!(doc["a"], json!({"replaced": true}));

        p("$").set(&mut doc, json!([1, 2])).unwrap();
        assert_eq!(doc, json!([1, 2]));

        p("$[1]").set(&mut doc, json!("two")).unwrap();
        assert_eq!(doc, json!([1, "two"]));

        let mut doc = json!({"list": [{"v": 1}], "s": "str", "n": 5, "z": null});
        p("$.list[0].w").set(&mut doc, json!(2)).unwrap();
        assert_eq!(doc["list"], json!([{"v": 1, "w": 2}]));
        p("$['odd key'].x").set(&mut doc, json!(3)).unwrap();
        assert_eq!(doc["odd key"], json!({"x": 3}));

        let err = p("$.s.x").set(&mut doc, json!(0)).unwrap_err();
        assert!(
            matches!(&err, SetError::NotAnObject { at, found: "a string", .. } if at == "$.s"),
            "{err}"
        );
        let err = p("$.n.x.y").set(&mut doc, json!(0)).unwrap_err();
        assert!(matches!(
            err,
            SetError::NotAnObject {
                found: "a number",
                ..
            }
        ));
        assert!(p("$.z.x").set(&mut doc, json!(0)).is_err());
        let err = p("$.list[3]").set(&mut doc, json!(0)).unwrap_err();
        assert!(
            matches!(
                err,
                SetError::IndexOutOfRange {
                    index: 3,
                    len: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(p("$.list[1].x").set(&mut doc, json!(0)).is_err());
        let err = p("$.s[0]").set(&mut doc, json!(0)).unwrap_err();
        assert!(matches!(err, SetError::NotAnArray { .. }));
        assert!(matches!(
            p("$.list[*]").set(&mut doc, json!(0)),
            Err(SetError::NotReferencePath { .. })
        ));
        assert!(p("$[-1]").set(&mut doc, json!(0)).is_err());
        let mut scalar = json!("text");
        assert!(p("$.a").set(&mut scalar, json!(1)).is_err());
        assert_eq!(scalar, json!("text"));
        err.to_string();
    }

    #[test]
    fn odd_inputs_never_panic() {
        let mut inputs: Vec<String> = [
            "",
            "$",
            "$$",
            "$$$",
            "$.",
            "$..",
            "$...",
            "$[",
            "$]",
            "$[[",
            "$]]",
            "$[']",
            "$[\"]",
            "$['\\",
            "$['\\']",
            "$[?",
            "$[?(",
            "$[?()]",
            "$[?(@",
            "$[?(@.",
            "$[?(@.a",
            "$[?(@.a ==",
            "$[?(@.a == '",
            "$[?(@.a == 1)",
            "$[?(@.a == 1) &&",
            "$[?(@.a == 1 ||)]",
            "$[(",
            "$[(@",
            "$[(@.length",
            "$[(@.length-",
            "$[(@.length-1",
            "$[-]",
            "$[--1]",
            "$[-:]",
            "$[::]",
            "$[:::]",
            "$[1:2:3:4]",
            "$[0,,1]",
            "$[,]",
            "$['a',]",
            "$['a' 'b']",
            "$[18446744073709551616]",
            "$[-9223372036854775808]",
            "$[9223372036854775807]",
            "$[?(@.a > 1e999999)]",
            "$[?(@.a > -1e-999999)]",
            "$[?(@.a > 123456789012345678901234567890)]",
            "$.\u{0}",
            "$.\u{feff}",
            "$.😀",
            "$['😀']",
            "$[\"\u{10ffff}\"]",
            "$.a\u{2028}b",
            "$\u{301}",
            "$é",
            "$ä.ö",
            "$.ä[0]",
            "$[?(@.ä == 'ö')]",
            "$..ä",
            "$[(@.length-9223372036854775807)]",
            "$[(@.length+9223372036854775807)]",
            "$[-9223372036854775807:9223372036854775807:-9223372036854775807]",
            "\\",
            "'",
            "\"",
            "(",
            ")",
            "States.Format(",
            "$[?(!!!!!!!!@.a)]",
            "$[?(@.a =! 1)]",
            "$[?(@.a !== 1)]",
            "$[?(@.a<=>1)]",
            "$[?(@..a)]",
            "$[?(@.*)]",
            "$[?(@[?(@.b)])]",
            "$[?(@.a == $[?(@.b)].c)]",
            "$.a[?(@.b == \"x\\\"\")]",
            "$.a\t",
            "$.a\n.b",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push(format!("$[?({}@.a{})]", "(".repeat(200), ")".repeat(200)));
        inputs.push(format!("$[?({}@.a)]", "!".repeat(500)));
        inputs.push(format!("$[?(@[?(@[?(@[?({})])])])]", "@.a".repeat(3)));
        inputs.push(format!("$[?{}]", "(@[?".repeat(300)));
        inputs.push(format!("${}", ".a".repeat(10_000)));
        inputs.push(format!("${}", "[0]".repeat(10_000)));
        inputs.push(format!("${}", "..*".repeat(50)));
        inputs.push("[".repeat(1000));
        inputs.push(format!("$['{}']", "\\".repeat(1001)));
        inputs.push(format!("$[{}]", "9".repeat(400)));

        let doc = json!({"a": [1, {"b": [2, {"c": "x"}]}, "s"], "ä": {"ö": 1}, "n": 5.5});
        for s in &inputs {
            if let Ok(path) = parse(s) {
                let _ = path.query(&doc);
                let _ = path.get(&doc);
                let mut copy = doc.clone();
                let _ = path.set(&mut copy, json!(1));
                let printed = path.to_string();
                assert_eq!(
                    parse(&printed).as_ref(),
                    Ok(&path),
                    "round trip of {s:?} via {printed:?}"
                );
            }
        }
        // Every prefix of a complex path (also inside multi-byte characters
        // via char boundaries) parses or errors cleanly.
        let complex = "$..book[?(@.price < 10 && !(@.tag == 'ä\\'b') || @['x y'] >= -1.5)][0,1]['a','b'][1:2:-1][(@.length-1)].😀";
        for (i, _) in complex.char_indices() {
            if let Ok(path) = parse(&complex[..i]) {
                let _ = path.query(&doc);
            }
        }
        assert!(parse(complex).is_ok());
    }
}
