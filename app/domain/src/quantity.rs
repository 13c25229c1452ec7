//! Kubernetes resource quantities (`500m`, `2`, `128Mi`, `1G`, `1e3`) read
//! into plain numbers: CPU in millicores, memory in bytes. What the scheduler
//! compares and what evidence shows as "requested against allocatable".

/// CPU in millicores: `500m` → 500, `2` → 2000, `0.5` → 500.
pub fn cpu_millis(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if let Some(milli) = raw.strip_suffix('m') {
        return milli.parse::<u64>().ok();
    }
    let cores = decimal(raw)?;
    Some((cores * 1000.0).ceil() as u64)
}

/// Memory in bytes: binary (`Ki`, `Mi`, `Gi`, `Ti`), decimal (`k`, `M`, `G`,
/// `T`) and exponent (`1e9`) suffixes, or plain bytes.
pub fn bytes(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    const UNITS: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1024.0 * 1024.0),
        ("Gi", 1024.0 * 1024.0 * 1024.0),
        ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, factor) in UNITS {
        if let Some(number) = raw.strip_suffix(suffix) {
            return Some((decimal(number)? * factor).ceil() as u64);
        }
    }
    if let Some(milli) = raw.strip_suffix('m') {
        return Some((decimal(milli)? / 1000.0).ceil() as u64);
    }
    decimal(raw).map(|n| n.ceil() as u64)
}

/// A non-negative decimal, with an optional exponent (`1.5`, `2e3`).
fn decimal(raw: &str) -> Option<f64> {
    let ok = !raw.is_empty()
        && raw.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && raw.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    let value: f64 = raw.parse().ok().filter(|_| ok)?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// Millicores for people: `250m`, `2`, `1.5`.
pub fn cpu_text(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else if millis > 1000 {
        format!("{:.1}", millis as f64 / 1000.0)
    } else {
        format!("{millis}m")
    }
}

/// Bytes for people, in binary units: `512Mi`, `1.5Gi`.
pub fn bytes_text(bytes: u64) -> String {
    const GI: u64 = 1 << 30;
    const MI: u64 = 1 << 20;
    const KI: u64 = 1 << 10;
    let scaled = |unit: u64, suffix: &str| {
        if bytes.is_multiple_of(unit) {
            format!("{}{suffix}", bytes / unit)
        } else {
            format!("{:.1}{suffix}", bytes as f64 / unit as f64)
        }
    };
    if bytes >= GI {
        scaled(GI, "Gi")
    } else if bytes >= MI {
        scaled(MI, "Mi")
    } else if bytes >= KI {
        scaled(KI, "Ki")
    } else {
        format!("{bytes}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_reads_millicores_cores_and_fractions() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("0.25"), Some(250));
        assert_eq!(cpu_millis("64"), Some(64_000));
        assert_eq!(cpu_millis("lots"), None);
        assert_eq!(cpu_millis("-1"), None);
        assert_eq!(cpu_text(250), "250m");
        assert_eq!(cpu_text(8000), "8");
        assert_eq!(cpu_text(1500), "1.5");
    }

    #[test]
    fn memory_reads_binary_decimal_and_plain_units() {
        assert_eq!(bytes("128Mi"), Some(128 * 1024 * 1024));
        assert_eq!(bytes("32Gi"), Some(32 << 30));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("4096"), Some(4096));
        assert_eq!(bytes("Mi"), None);
        assert_eq!(bytes_text(512 << 20), "512Mi");
        assert_eq!(bytes_text(3 << 29), "1.5Gi");
    }
}
