//! Percent-encoding and canonical query strings as the clouds' signers define them.
//!
//! Both Alibaba schemes use strict RFC 3986 encoding: only `A-Za-z0-9-_.~` stay literal, a space
//! becomes `%20` (never `+`) and `*` becomes `%2A`. Generic URL encoders differ on exactly those
//! characters, which is the classic source of "signature does not match", hence our own encoder.

/// Percent-encodes `s` (as UTF-8) leaving only RFC 3986 unreserved characters literal.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Builds the canonical query: every pair encoded with [`percent_encode`], sorted by encoded key
/// (then value, so repeated keys are deterministic), joined as `k=v` with `&`. Empty values keep
/// their `=`: both Alibaba schemes sign them as `k=`.
pub fn canonical_query<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut encoded: Vec<(String, String)> = params
        .into_iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Decodes an `application/x-www-form-urlencoded` string (a query or a form body) into pairs,
/// in order. `+` decodes to a space, as HTML forms and Python's `urlencode` produce it.
pub fn decode_query(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Encodes pairs as a query string with [`percent_encode`], in the given order.
pub fn encode_query<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    params
        .into_iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_stay_literal() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn special_characters() {
        assert_eq!(percent_encode(" "), "%20");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(percent_encode("[\"a\"]"), "%5B%22a%22%5D");
        assert_eq!(percent_encode("未"), "%E6%9C%AA");
    }

    #[test]
    fn canonical_query_sorts_and_keeps_empty_values() {
        let q = canonical_query([("b", "2"), ("a", "x y"), ("c", "")]);
        assert_eq!(q, "a=x%20y&b=2&c=");
        assert_eq!(canonical_query(std::iter::empty()), "");
    }

    #[test]
    fn decode_roundtrip() {
        let pairs = [
            ("KeyPairNames", "[\"a b\",\"c*\"]"),
            ("RegionId", "cn-hangzhou"),
        ];
        let raw = encode_query(pairs);
        let back = decode_query(&raw);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], ("KeyPairNames".into(), "[\"a b\",\"c*\"]".into()));
        assert_eq!(decode_query("a=x+y"), vec![("a".into(), "x y".into())]);
    }

    proptest::proptest! {
        #[test]
        fn encode_decode_any(s in ".*") {
            let raw = encode_query([("k", s.as_str())]);
            let back = decode_query(&raw);
            proptest::prop_assert_eq!(back, vec![("k".to_string(), s.clone())]);
        }
    }
}
