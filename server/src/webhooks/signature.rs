//! Signing deliveries, as GitHub and Stripe do: each webhook has its own
//! secret, and every delivery carries
//! `X-Wheelhouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
//! A receiver recomputes the HMAC over the timestamp, a dot and the raw body
//! with the secret, compares in constant time, and refuses timestamps more
//! than a few minutes old (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-wheelhouse-signature";
pub const DELIVERY_HEADER: &str = "x-wheelhouse-delivery";

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={digest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let signed = sign("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert!(signed.starts_with("t=1700000000,v1="));
        assert_eq!(signed.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(signed, sign("whsec_test", 1_700_000_000, r#"{"a":1}"#), "deterministic");
        assert_ne!(signed, sign("whsec_test", 1_700_000_001, r#"{"a":1}"#));
        assert_ne!(signed, sign("whsec_test", 1_700_000_000, r#"{"a":2}"#));
        assert_ne!(signed, sign("whsec_other", 1_700_000_000, r#"{"a":1}"#));
    }
}
