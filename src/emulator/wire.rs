//! The clouds' wire conventions: decoded requests, errors, and response envelopes.
//!
//! Alibaba answers errors with a 4xx/5xx status and `{RequestId, HostId, Code, Message,
//! Recommend}`; Tencent always answers HTTP 200 and puts errors inside
//! `{"Response":{"Error":{Code,Message},"RequestId"}}`. Parameters arrive as strings on Alibaba
//! (lists as JSON-array strings or `Name.N` keys) and as JSON values on Tencent (or `Name.N` in
//! GET queries); [`Params`] hides that.

use serde_json::{Map, Value};

use super::api::Api;

/// One decoded, authenticated API call.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    /// Which API the call is for: a key-pair cloud or a vendor's STS.
    pub cloud: Api,
    /// Action name, e.g. `DeleteKeyPairs`.
    pub action: String,
    /// Region from `RegionId` / `X-TC-Region` (empty if none).
    pub region: String,
    /// Operation parameters (signature and common parameters removed).
    pub params: Params,
}

/// Operation parameters, folded so `Name.N` keys become arrays.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Map<String, Value>);

/// An API error as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status on Alibaba; recorded (but sent as 200) on Tencent.
    pub status: u16,
    /// The cloud's error code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// `MissingParameter` for `name`, as all three clouds word it.
    pub(crate) fn missing(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request \
                 is not supplied."
            ),
        )
    }

    /// `InvalidParameter`-style 400 with an arbitrary code.
    pub(crate) fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }
}

impl Params {
    /// Builds params from string pairs (Alibaba query/form, Tencent GET), folding `A.N` (and
    /// `A.N.B`) keys into arrays (of objects).
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut map = Map::new();
        for (k, v) in pairs {
            let value = Value::String(v.clone());
            // Folding recurses once per segment, and these pairs are decoded before the
            // signature is checked: a megabyte key of `A.1.A.1...` would overflow the stack
            // of whoever sent it. No API nests deeper than `Filters.N.Values.N`, so a deeper
            // key is kept verbatim as a parameter no operation reads.
            if k.split('.').count() > MAX_KEY_SEGMENTS {
                map.insert(k.clone(), value);
            } else {
                insert_path(&mut map, k, value);
            }
        }
        finalize(&mut map);
        Params(map)
    }

    /// A string parameter; numbers and bools are rendered, empty strings count as absent.
    pub(crate) fn str(&self, name: &str) -> Option<String> {
        match self.0.get(name)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// An integer parameter; `Err` if present but not an integer.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad_value(name)),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| bad_value(name)),
            Some(_) => Err(bad_value(name)),
        }
    }

    /// A boolean parameter (`true`/`false`, JSON or string).
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(bad_value(name)),
            },
            Some(_) => Err(bad_value(name)),
        }
    }

    /// A list of strings, in exactly the encoding the cloud accepts (`encoding`): a JSON array
    /// inside a string on Alibaba, a JSON array (body) or folded `A.N` keys (query) on Tencent.
    /// Anything else, or anything but non-empty strings, is `Err(invalid_code)`: a client that
    /// sends the wrong encoding fails here as it would against the cloud.
    pub(crate) fn list(
        &self,
        name: &str,
        invalid_code: &str,
        encoding: ListEncoding,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let bad = || {
            ApiError::invalid(
                invalid_code,
                format!("The specified parameter \"{name}\" is not valid."),
            )
        };
        let value = match self.0.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let items: Vec<Value> = match (encoding, value) {
            (ListEncoding::Array, Value::Array(a)) => a.clone(),
            (ListEncoding::JsonString, Value::String(s)) if s.trim().is_empty() => return Ok(None),
            (ListEncoding::JsonString, Value::String(s)) => {
                match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(a)) => a,
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) if !s.is_empty() => out.push(s),
                _ => return Err(bad()),
            }
        }
        Ok(Some(out))
    }

    /// A list of objects (Tencent `Filters`).
    pub(crate) fn objects(&self, name: &str) -> Vec<Map<String, Value>> {
        match self.0.get(name) {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_object().cloned()).collect(),
            _ => Vec::new(),
        }
    }
}

fn bad_value(name: &str) -> ApiError {
    ApiError::invalid(
        "InvalidParameter",
        format!("The specified parameter \"{name}\" is not valid."),
    )
}

/// How a cloud encodes a list parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEncoding {
    /// Alibaba: a JSON array in one string parameter (`KeyPairNames=["a","b"]`).
    JsonString,
    /// Tencent: a JSON array in the POST body, or `KeyIds.0`, `KeyIds.1` in a query.
    Array,
}

/// Most `.`-separated segments a parameter name may have and still be folded.
const MAX_KEY_SEGMENTS: usize = 16;

// Folds `A.1.B.2=v` into {"A":[{"B":[v]}]}. Indices only order the elements (Alibaba counts
// from 1, Tencent from 0), so they are kept sorted by their numeric value.
fn insert_path(map: &mut Map<String, Value>, key: &str, value: Value) {
    let Some((head, rest)) = key.split_once('.') else {
        map.insert(key.to_string(), value);
        return;
    };
    let (index, tail) = match rest.split_once('.') {
        Some((i, t)) => (i, Some(t)),
        None => (rest, None),
    };
    let Ok(index) = index.parse::<u64>() else {
        map.insert(key.to_string(), value);
        return;
    };
    let slot = map
        .entry(head.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    // While folding, arrays are kept as objects keyed by zero-padded index, then converted.
    let Value::Object(by_index) = slot else {
        return;
    };
    let idx_key = format!("{index:020}");
    match tail {
        None => {
            by_index.insert(idx_key, value);
        }
        Some(tail) => {
            let entry = by_index
                .entry(idx_key)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert_path(inner, tail, value);
            }
        }
    }
}

// Converts the zero-padded index objects produced by insert_path into arrays, recursively.
fn finalize(map: &mut Map<String, Value>) {
    for v in map.values_mut() {
        finalize_value(v);
    }
}

fn finalize_value(v: &mut Value) {
    match v {
        Value::Object(o)
            if !o.is_empty()
                && o.keys()
                    .all(|k| k.len() == 20 && k.bytes().all(|b| b.is_ascii_digit())) =>
        {
            let mut items: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            let mut arr: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
            for item in &mut arr {
                finalize_value(item);
            }
            *v = Value::Array(arr);
        }
        Value::Array(arr) => {
            for item in arr.iter_mut() {
                finalize_value(item);
            }
        }
        Value::Object(o) => {
            for item in o.values_mut() {
                finalize_value(item);
            }
        }
        _ => {}
    }
}

/// A rendered HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// HTTP status on the wire.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

/// Renders a success body: Alibaba adds `RequestId` at the top level, Tencent wraps
/// everything in `Response`.
pub(crate) fn render_ok(cloud: Api, mut body: Map<String, Value>, request_id: &str) -> Rendered {
    body.insert("RequestId".into(), Value::String(request_id.to_string()));
    let body = if cloud.is_alibaba() {
        Value::Object(body)
    } else {
        serde_json::json!({ "Response": Value::Object(body) })
    };
    Rendered { status: 200, body }
}

/// Renders an error in the cloud's envelope.
pub(crate) fn render_error(cloud: Api, err: &ApiError, request_id: &str) -> Rendered {
    if cloud.is_alibaba() {
        Rendered {
            status: err.status,
            body: serde_json::json!({
                "RequestId": request_id,
                "HostId": format!("{}.aliyuncs.com", cloud.product()),
                "Code": err.code,
                "Message": err.message,
                "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}", err.code),
            }),
        }
    } else {
        Rendered {
            status: 200,
            body: serde_json::json!({
                "Response": {
                    "Error": { "Code": err.code, "Message": err.message },
                    "RequestId": request_id,
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::api::Vendor;
    use crate::emulator::profile::Cloud;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn folds_indexed_keys() {
        let p = Params::from_pairs(&pairs(&[
            ("KeyIds.1", "b"),
            ("KeyIds.0", "a"),
            ("KeyIds.10", "c"),
            ("Filters.0.Name", "key-name"),
            ("Filters.0.Values.0", "x"),
            ("Limit", "5"),
        ]));
        assert_eq!(
            p.list("KeyIds", "Bad", ListEncoding::Array).unwrap(),
            Some(vec!["a".into(), "b".into(), "c".into()])
        );
        assert!(
            p.list("KeyIds", "Bad", ListEncoding::JsonString).is_err(),
            "Alibaba takes no A.N lists"
        );
        let f = p.objects("Filters");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0]["Name"], "key-name");
        assert_eq!(f[0]["Values"], serde_json::json!(["x"]));
        assert_eq!(p.int("Limit").unwrap(), Some(5));
    }

    #[test]
    fn deeply_indexed_keys_are_not_folded() {
        // Found while writing the emulator fuzz target: folding recursed once per segment, so
        // one unauthenticated request with an 800 kB key overflowed the server's stack.
        let deep = "A.1.".repeat(200_000) + "B";
        let p = Params::from_pairs(&pairs(&[(deep.as_str(), "v"), ("C.1.D.2", "w")]));
        assert_eq!(p.0.get(&deep), Some(&Value::String("v".into())));
        assert!(!p.0.contains_key("A"));
        assert_eq!(p.0["C"], serde_json::json!([{ "D": ["w"] }]));
        // At the limit, keys still fold.
        let limit = "A.1.".repeat((MAX_KEY_SEGMENTS - 1) / 2) + "B";
        let p = Params::from_pairs(&pairs(&[(limit.as_str(), "v")]));
        assert!(p.0.contains_key("A"));
    }

    #[test]
    fn alibaba_lists() {
        let p = Params::from_pairs(&pairs(&[
            ("A", r#"["x","y"]"#),
            ("B", "x, y"),
            ("C", "[1]"),
            ("D", "[\"x\""),
            ("E", "[\"\"]"),
        ]));
        let alibaba = |name| p.list(name, "Bad", ListEncoding::JsonString);
        assert_eq!(alibaba("A").unwrap(), Some(vec!["x".into(), "y".into()]));
        assert_eq!(alibaba("B").unwrap_err().code, "Bad", "no comma lists");
        assert_eq!(alibaba("C").unwrap_err().code, "Bad");
        assert_eq!(alibaba("D").unwrap_err().code, "Bad");
        assert_eq!(alibaba("E").unwrap_err().code, "Bad");
        assert_eq!(alibaba("Z").unwrap(), None);
        assert_eq!(
            p.list("A", "Bad", ListEncoding::Array).unwrap_err().code,
            "Bad",
            "Tencent takes no JSON strings"
        );
    }

    #[test]
    fn scalars() {
        let p =
            Params(serde_json::from_str(r#"{"a":true,"b":"false","c":"x","d":7,"e":""}"#).unwrap());
        assert_eq!(p.bool("a").unwrap(), Some(true));
        assert_eq!(p.bool("b").unwrap(), Some(false));
        assert!(p.bool("c").is_err());
        assert_eq!(p.str("d").as_deref(), Some("7"));
        assert_eq!(p.str("e"), None);
        assert!(p.int("c").is_err());
    }

    #[test]
    fn envelopes() {
        let e = ApiError::new(403, "X", "m");
        let a = render_error(Cloud::Ecs.into(), &e, "r");
        assert_eq!(a.status, 403);
        assert_eq!(a.body["Code"], "X");
        assert_eq!(a.body["HostId"], "ecs.aliyuncs.com");
        let sts = render_error(Api::Sts(Vendor::Alibaba), &e, "r");
        assert_eq!(sts.body["HostId"], "sts.aliyuncs.com");
        let t = render_error(Cloud::Cvm.into(), &e, "r");
        assert_eq!(t.status, 200);
        assert_eq!(t.body["Response"]["Error"]["Code"], "X");
        let ts = render_error(Api::Sts(Vendor::Tencent), &e, "r");
        assert_eq!(ts.body["Response"]["Error"]["Code"], "X");
        let ok = render_ok(Cloud::Cvm.into(), Map::new(), "r");
        assert_eq!(ok.body["Response"]["RequestId"], "r");
    }
}
