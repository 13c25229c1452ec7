//! Accounts: creating users, checking passwords, the first-start setup token,
//! and the sign-in throttle.

mod password;
mod store;
pub mod throttle;

pub use password::{generate_secret, hash_password, verify_password};
pub use store::{AccountError, Accounts, SetupToken, User};
