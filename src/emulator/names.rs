//! Key pair name rules, as data each cloud's [`Profile`](super::profile::Profile) fills in.
//!
//! The provider has its own copy of these rules (`crate::cloud::rules`); the emulator does not
//! borrow it, so that a mistake in one shows up as a disagreement with the other (see
//! `agreement_tests`).

/// What a key pair name must look like on one cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRule {
    /// Shortest allowed name, in characters.
    pub min_len: usize,
    /// Longest allowed name, in characters.
    pub max_len: usize,
    /// The first character must be a letter (Alibaba).
    pub first_letter: bool,
    /// Chinese characters count as letters, first or anywhere (ECS's Chinese CreateKeyPair
    /// document; ENS's documents, in every language, say an English letter).
    pub chinese: bool,
    /// Punctuation allowed besides ASCII letters and digits.
    pub punctuation: &'static str,
    /// Prefixes a name may not start with, compared as the documents spell them.
    pub refused_prefixes: &'static [&'static str],
    /// An empty name breaks a rule of its own (Tencent has an error code for it) rather than
    /// the length rule (Alibaba).
    pub empty_is_own_violation: bool,
}

/// Which name rule a name broke, for the cloud's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameViolation {
    /// Empty name.
    Empty,
    /// Too short or too long.
    Length,
    /// A character (or prefix) that is not allowed.
    Characters,
}

impl NameRule {
    /// Checks `name`; on failure returns which rule it broke.
    pub(crate) fn check(&self, name: &str) -> Result<(), NameViolation> {
        if name.is_empty() && self.empty_is_own_violation {
            return Err(NameViolation::Empty);
        }
        let len = name.chars().count();
        if !(self.min_len..=self.max_len).contains(&len) {
            return Err(NameViolation::Length);
        }
        if self.refused_prefix(name).is_some() {
            return Err(NameViolation::Characters);
        }
        let letter = |c: char| c.is_ascii_alphabetic() || (self.chinese && is_chinese(c));
        let mut chars = name.chars();
        if self.first_letter && !chars.next().is_some_and(letter) {
            return Err(NameViolation::Characters);
        }
        if chars.all(|c| letter(c) || c.is_ascii_digit() || self.punctuation.contains(c)) {
            Ok(())
        } else {
            Err(NameViolation::Characters)
        }
    }

    /// The refused prefix `name` starts with, if any.
    pub(crate) fn refused_prefix(&self, name: &str) -> Option<&'static str> {
        self.refused_prefixes
            .iter()
            .copied()
            .find(|p| name.starts_with(p))
    }
}

/// A CJK ideograph (the unified block, extension A and the compatibility block).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

#[cfg(test)]
mod tests {
    use super::super::profile::{CVM, ECS, ENS};
    use super::*;

    #[test]
    fn alibaba_names() {
        let r = ENS.name_rule;
        assert_eq!(r.check("ab"), Ok(()));
        assert_eq!(r.check("a:b_c-d9"), Ok(()));
        assert_eq!(r.check("a"), Err(NameViolation::Length));
        assert_eq!(r.check(&"a".repeat(129)), Err(NameViolation::Length));
        assert_eq!(r.check(&"a".repeat(128)), Ok(()));
        assert_eq!(r.check("9ab"), Err(NameViolation::Characters));
        assert_eq!(r.check("a b"), Err(NameViolation::Characters));
        assert_eq!(r.check("https://x"), Err(NameViolation::Characters));
    }

    #[test]
    fn chinese_names_on_ecs_only() {
        let ecs = ECS.name_rule;
        assert_eq!(ecs.check("密钥对ab"), Ok(()));
        assert_eq!(ecs.check("ab密钥"), Ok(()));
        assert_eq!(ecs.check("密"), Err(NameViolation::Length));
        assert_eq!(ecs.check("9密钥"), Err(NameViolation::Characters));
        assert_eq!(ecs.check("密钥😀"), Err(NameViolation::Characters));
        let ens = ENS.name_rule;
        assert_eq!(ens.check("密钥对ab"), Err(NameViolation::Characters));
    }

    #[test]
    fn tencent_names() {
        let r = CVM.name_rule;
        assert_eq!(r.check("key_1"), Ok(()));
        assert_eq!(r.check(""), Err(NameViolation::Empty));
        assert_eq!(r.check(&"a".repeat(26)), Err(NameViolation::Length));
        assert_eq!(r.check("a-b"), Err(NameViolation::Characters));
    }

    #[test]
    fn empty_alibaba_names_break_the_length_rule() {
        assert_eq!(ECS.name_rule.check(""), Err(NameViolation::Length));
    }

    #[test]
    fn refused_prefixes_are_compared_as_written() {
        let r = ECS.name_rule;
        assert_eq!(r.refused_prefix("http://x"), Some("http://"));
        assert_eq!(r.refused_prefix("https://x"), Some("https://"));
        assert_eq!(r.refused_prefix("HTTP://x"), None);
        // Refused all the same: `/` is no name character.
        assert_eq!(r.check("HTTP://x"), Err(NameViolation::Characters));
        assert_eq!(CVM.name_rule.refused_prefix("http://x"), None);
    }
}
