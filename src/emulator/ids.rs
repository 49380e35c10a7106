//! Cloud-side id shapes: a fixed prefix and a fixed number of lower-case letters and digits.
//!
//! One shape serves both directions, generating the ids the emulator hands out and checking
//! the ids a client sends, so what the emulator accepts is exactly what it would have issued.

/// `prefix` followed by `len` lower-case ASCII letters or digits, e.g. CVM's `skey-mv9yzyjj`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdShape {
    /// The fixed start, e.g. `skey-`.
    pub prefix: &'static str,
    /// How many characters follow it.
    pub len: usize,
}

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl IdShape {
    /// Whether `id` has this shape.
    pub(crate) fn matches(&self, id: &str) -> bool {
        id.strip_prefix(self.prefix).is_some_and(|rest| {
            rest.len() == self.len && rest.bytes().all(|b| ALPHABET.contains(&b))
        })
    }

    /// A fresh random id of this shape.
    pub(crate) fn random(&self) -> String {
        use rand::Rng;
        let mut rng = rand::rng();
        let body: String = (0..self.len)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("{}{body}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: IdShape = IdShape {
        prefix: "skey-",
        len: 8,
    };

    #[test]
    fn random_ids_have_the_shape() {
        for _ in 0..100 {
            assert!(SHAPE.matches(&SHAPE.random()));
        }
    }

    #[test]
    fn other_shapes_do_not_match() {
        for id in [
            "skey-1122",
            "skey-MV9YZYJJ",
            "skey-mv9yzyjj0",
            "key-mv9yzyjj",
            "",
        ] {
            assert!(!SHAPE.matches(id), "{id}");
        }
    }
}
