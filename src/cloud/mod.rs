//! (being built)

pub mod sign;
