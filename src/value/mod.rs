//! Values as Terraform sees them: typed by cty types, with explicit null and unknown, and their
//! two wire encodings (msgpack for everything Terraform sends, JSON for stored state).
//!
//! Decoding is always guided by a [`Type`] derived from our schema, so a value that does not fit
//! the schema is an error with the [`AttributePath`] where it went wrong, never a panic.

pub(crate) mod json;
pub mod msgpack;
mod path;
mod types;

use std::collections::BTreeMap;

pub use path::{AttributePath, PathStep};
pub use types::Type;

/// A value as Terraform sends it (the protocol's DynamicValue): msgpack, or JSON, which the
/// protocol allows although Terraform always sends msgpack. Decoding needs the schema's type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub msgpack: Vec<u8>,
    pub json: Vec<u8>,
}

impl Encoded {
    /// Empty is null.
    pub fn decode(&self, ty: &Type) -> Result<Value, ValueError> {
        if !self.msgpack.is_empty() {
            msgpack::decode(&self.msgpack, ty)
        } else if !self.json.is_empty() {
            json::decode(&self.json, ty)
        } else {
            Ok(Value::Null)
        }
    }

    /// Encodes in msgpack, as Terraform expects answers.
    pub fn encode(v: &Value, ty: &Type) -> Result<Encoded, ValueError> {
        Ok(Encoded {
            msgpack: msgpack::encode(v, ty)?,
            json: Vec::new(),
        })
    }
}

/// A cty number: kept as an integer when it is one, so counts and limits stay exact.
#[derive(Debug, Clone)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A number exact in neither i64 nor f64, kept as its decimal text.
    Decimal(String),
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Int(a), Number::Float(b)) | (Number::Float(b), Number::Int(a)) => {
                (*a as f64) == *b && b.fract() == 0.0
            }
            (Number::Decimal(a), Number::Decimal(b)) => a == b,
            _ => false,
        }
    }
}

impl Number {
    /// A finite float as a number; NaN and infinities are not numbers we can store or send.
    pub(crate) fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number::Float(f))
    }

    /// Reads a number written as decimal text (cty sends numbers too large for msgpack's ints
    /// and floats this way; JSON state may hold them as strings). Only the JSON number grammar
    /// counts: Rust's float parser would also take `NaN`, `inf`, `+1` or `1.`.
    pub(crate) fn from_decimal_text(s: &str) -> Option<Number> {
        if !is_json_number(s) {
            return None;
        }
        if let Ok(n) = s.parse::<i64>() {
            return Some(Number::Int(n));
        }
        Some(match s.parse::<f64>() {
            Ok(f) if f.is_finite() && format!("{f}") == s => Number::Float(f),
            _ => Number::Decimal(s.to_string()),
        })
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, without a regex on a hot path.
fn is_json_number(s: &str) -> bool {
    fn digits(b: &[u8]) -> usize {
        b.iter().take_while(|c| c.is_ascii_digit()).count()
    }
    let mut b = s.as_bytes();
    if let [b'-', rest @ ..] = b {
        b = rest;
    }
    let int = digits(b);
    if int == 0 || (int > 1 && b[0] == b'0') {
        return false;
    }
    b = &b[int..];
    if let [b'.', rest @ ..] = b {
        let frac = digits(rest);
        if frac == 0 {
            return false;
        }
        b = &rest[frac..];
    }
    if let [b'e' | b'E', rest @ ..] = b {
        let rest = match rest {
            [b'+' | b'-', r @ ..] => r,
            r => r,
        };
        let exp = digits(rest);
        if exp == 0 {
            return false;
        }
        b = &rest[exp..];
    }
    b.is_empty()
}

/// What Terraform already knows about an unknown value (msgpack extension 12).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refinements {
    pub not_null: bool,
    pub string_prefix: Option<String>,
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Unknown(Refinements),
    String(String),
    Number(Number),
    Bool(bool),
    List(Vec<Value>),
    /// Elements in the order received; equality ignores order.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Dynamic(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Unknown(a), Unknown(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.contains(x))
                    && b.iter().all(|x| a.contains(x))
            }
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Dynamic(ta, a), Dynamic(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Value {
    pub(crate) fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn int(n: i64) -> Value {
        Value::Number(Number::Int(n))
    }
    pub(crate) fn object<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub(crate) fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }
    /// No unknown anywhere inside.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_fully_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_fully_known),
            Value::Dynamic(_, v) => v.is_fully_known(),
            _ => true,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }
    pub(crate) fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }
    /// Sets an attribute of an object (no effect on other values).
    pub(crate) fn set_attr(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The value as an integer, when it is a number with no fractional part in i64 range.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(Number::Int(n)) => Some(*n),
            Value::Number(Number::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                Some(*f as i64)
            }
            _ => None,
        }
    }
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: AttributePath,
        expected: String,
        found: String,
    },
    #[error("at {path}: unexpected attribute {name:?}")]
    UnexpectedAttribute { path: AttributePath, name: String },
    #[error("at {path}: unknown values cannot be stored in JSON")]
    UnknownInJson { path: AttributePath },
    #[error("at {path}: malformed input: {reason}")]
    Malformed { path: AttributePath, reason: String },
    #[error("at {path}: value nested deeper than {limit} levels")]
    TooDeep { path: AttributePath, limit: usize },
    #[error("at {path}: invalid type {found}")]
    BadType { path: AttributePath, found: String },
    #[error("at {path}: {remaining} trailing bytes after the value")]
    Trailing {
        path: AttributePath,
        remaining: usize,
    },
}

impl ValueError {
    pub(crate) fn path(&self) -> &AttributePath {
        match self {
            ValueError::TypeMismatch { path, .. }
            | ValueError::UnexpectedAttribute { path, .. }
            | ValueError::UnknownInJson { path }
            | ValueError::Malformed { path, .. }
            | ValueError::TooDeep { path, .. }
            | ValueError::BadType { path, .. }
            | ValueError::Trailing { path, .. } => path,
        }
    }
}

/// Nesting deeper than this is hostile input: our schemas are at most three levels deep.
pub(crate) const MAX_DEPTH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::string("x"), Value::string("y")]);
        let b = Value::Set(vec![Value::string("y"), Value::string("x")]);
        assert_eq!(a, b);
        assert_ne!(
            Value::List(vec![Value::string("x"), Value::string("y")]),
            Value::List(vec![Value::string("y"), Value::string("x")])
        );
    }

    #[test]
    fn decimal_text_is_json_number_grammar() {
        for ok in [
            "0",
            "-0",
            "7",
            "-12",
            "1.5",
            "1e3",
            "1E-3",
            "2.5e+10",
            "123456789012345678901234567890",
        ] {
            assert!(Number::from_decimal_text(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "-",
            "abc",
            "NaN",
            "inf",
            "-infinity",
            "+1",
            "1.",
            ".5",
            "01",
            "1e",
            "1e+",
            "0x10",
            " 1",
            "1 ",
        ] {
            assert_eq!(Number::from_decimal_text(bad), None, "{bad}");
        }
        assert_eq!(Number::from_decimal_text("42"), Some(Number::Int(42)));
        assert_eq!(Number::from_decimal_text("0.25"), Some(Number::Float(0.25)));
        assert_eq!(
            Number::from_decimal_text("1e400"),
            Some(Number::Decimal("1e400".into()))
        );
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::NEG_INFINITY), None);
    }

    #[test]
    fn accessors() {
        let mut o = Value::object([("n", Value::int(3)), ("u", Value::unknown())]);
        assert_eq!(o.attr("n").and_then(Value::as_i64), Some(3));
        assert!(!o.is_fully_known());
        o.set_attr("u", Value::Bool(true));
        assert!(o.is_fully_known());
        assert_eq!(Value::Number(Number::Float(2.0)).as_i64(), Some(2));
        assert_eq!(Value::Number(Number::Float(2.5)).as_i64(), None);
    }
}
