//! Building blocks shared by pages.

pub mod guard;
pub mod layout;
pub mod status;
