//! Reading the clouds' JSON answers, which disagree on types: ECS 2014-05-26 sends numbers and
//! booleans as strings, ENS and CVM as JSON numbers/booleans, and lists sometimes arrive wrapped
//! (`{"KeyPair": [...]}`) and sometimes bare.

use serde_json::Value;

/// A field as a string, whether the cloud sent a string, a number or a boolean.
pub fn string(v: &Value, field: &str) -> Option<String> {
    match v.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
pub(crate) fn non_empty(v: &Value, field: &str) -> Option<String> {
    string(v, field).filter(|s| !s.is_empty())
}

/// An integer field, sent as a number or a numeric string.
pub fn int(v: &Value, field: &str) -> Option<i64> {
    match v.get(field)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean field, sent as a boolean or `"true"`/`"false"`.
pub(crate) fn boolean(v: &Value, field: &str) -> Option<bool> {
    match v.get(field)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The items of a list field, accepting `{"Field": {"Inner": [...]}}` and `{"Field": [...]}`.
pub(crate) fn items<'a>(v: &'a Value, field: &str, inner: &str) -> &'a [Value] {
    match v.get(field) {
        Some(Value::Array(a)) => a,
        Some(obj @ Value::Object(_)) => match obj.get(inner) {
            Some(Value::Array(a)) => a,
            _ => &[],
        },
        _ => &[],
    }
}

/// A list of strings (absent -> empty).
pub(crate) fn strings(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_reads() {
        let v =
            json!({"a": "3", "b": 4, "c": "true", "d": false, "e": "", "l": {"X": [1]}, "m": [2]});
        assert_eq!(int(&v, "a"), Some(3));
        assert_eq!(int(&v, "b"), Some(4));
        assert_eq!(string(&v, "b").as_deref(), Some("4"));
        assert_eq!(boolean(&v, "c"), Some(true));
        assert_eq!(boolean(&v, "d"), Some(false));
        assert_eq!(non_empty(&v, "e"), None);
        assert_eq!(items(&v, "l", "X").len(), 1);
        assert_eq!(items(&v, "m", "X").len(), 1);
        assert!(items(&v, "zz", "X").is_empty());
    }
}
