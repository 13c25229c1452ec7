//! Building blocks shared by pages.

pub mod csrf;
pub mod guard;
pub mod layout;
pub mod status;
