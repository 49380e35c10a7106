//! The schema model: one Rust description per resource, from which both the wire schema sent to
//! Terraform and the value type used to decode its msgpack are derived.
//!
//! Keeping a single source of truth matters because Terraform checks every value it receives
//! against the schema it was given: an attribute that is decoded with one type and advertised
//! with another is a crash waiting for the first real configuration.

use std::collections::BTreeMap;

use crate::value::Type;

/// A resource, data source, list resource or provider schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

/// A block of attributes, and the nested blocks it may hold. Resources model nested data as
/// attributes of collection and object types; the provider block has one nested block,
/// `assume_role`, because that is the syntax users of the official providers write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

/// A nested block that appears at most once (`NestingMode::SINGLE`): its value is an object of
/// its attributes, null when the block is absent.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedBlock {
    pub name: &'static str,
    pub block: Block,
}

/// Whether the user must, may or may not set an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Required,
    Optional,
    /// Optional, and the provider fills it in when the user does not.
    OptionalComputed,
    Computed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub presence: Presence,
    pub sensitive: bool,
    /// Changing it forces a replacement; the planner reports it in `requires_replace`.
    pub force_new: bool,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, presence: Presence) -> Self {
        Attribute {
            name,
            ty,
            description: "",
            presence,
            sensitive: false,
            force_new: false,
        }
    }
    pub(crate) fn required(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Required)
    }
    pub(crate) fn optional(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Optional)
    }
    pub(crate) fn optional_computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::OptionalComputed)
    }
    pub(crate) fn computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Presence::Computed)
    }
    pub(crate) fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }
    pub(crate) fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub(crate) fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub(crate) fn is_required(&self) -> bool {
        self.presence == Presence::Required
    }
    pub(crate) fn is_optional(&self) -> bool {
        matches!(
            self.presence,
            Presence::Optional | Presence::OptionalComputed
        )
    }
    pub(crate) fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
}

impl Block {
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Self {
        Block {
            description: description.to_string(),
            attributes,
            blocks: Vec::new(),
        }
    }

    /// The same block holding `name` as a single nested block.
    pub(crate) fn with_block(mut self, name: &'static str, block: Block) -> Self {
        self.blocks.push(NestedBlock { name, block });
        self
    }

    /// The cty object type of a value of this block.
    pub(crate) fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_string(), a.ty.clone()))
                .chain(
                    self.blocks
                        .iter()
                        .map(|b| (b.name.to_string(), b.block.value_type())),
                )
                .collect::<BTreeMap<_, _>>(),
        )
    }
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

/// The identity of a managed resource (Terraform >= 1.12): the attributes that find the remote
/// object, used by import blocks and by `terraform query` results.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdentityAttribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub required_for_import: bool,
}

impl IdentitySchema {
    pub(crate) fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_string(), a.ty.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_type_lists_every_attribute() {
        let block = Block::new(
            "k",
            vec![
                Attribute::required("name", Type::String),
                Attribute::optional("ids", Type::Set(Box::new(Type::String))),
            ],
        );
        let Type::Object(fields) = block.value_type() else {
            panic!("object expected")
        };
        assert_eq!(fields.len(), 2);
        assert_eq!(fields["ids"], Type::Set(Box::new(Type::String)));
    }

    #[test]
    fn a_nested_block_is_an_object_field() {
        let block = Block::new("p", vec![Attribute::optional("a", Type::String)]).with_block(
            "inner",
            Block::new("i", vec![Attribute::required("b", Type::Number)]),
        );
        let Type::Object(fields) = block.value_type() else {
            panic!("object expected")
        };
        assert_eq!(
            fields["inner"],
            Type::Object(BTreeMap::from([("b".to_string(), Type::Number)]))
        );
    }

    #[test]
    fn presence_flags() {
        let a = Attribute::optional_computed("x", Type::Bool);
        assert!(a.is_optional() && a.is_computed() && !a.is_required());
        let c = Attribute::computed("y", Type::String).sensitive();
        assert!(c.is_computed() && !c.is_optional() && c.sensitive);
    }
}
