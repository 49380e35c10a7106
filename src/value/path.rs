//! Attribute paths: where in a value something happened, so Terraform can point at HCL.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    ElementKeyString(String),
    ElementKeyInt(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    pub(crate) fn root() -> Self {
        AttributePath(Vec::new())
    }
    #[cfg(test)]
    pub(crate) fn attribute(name: impl Into<String>) -> Self {
        AttributePath(vec![PathStep::Attribute(name.into())])
    }
    /// This path extended by one step.
    pub(crate) fn child(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        AttributePath(steps)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(n) if i == 0 => write!(f, "{n}")?,
                PathStep::Attribute(n) => write!(f, ".{n}")?,
                PathStep::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                PathStep::ElementKeyInt(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_hcl() {
        let p = AttributePath::attribute("tags").child(PathStep::ElementKeyString("a".into()));
        assert_eq!(p.to_string(), "tags[\"a\"]");
        let q = AttributePath::attribute("instance_ids").child(PathStep::ElementKeyInt(3));
        assert_eq!(q.to_string(), "instance_ids[3]");
        assert_eq!(AttributePath::root().to_string(), "(root)");
    }
}
