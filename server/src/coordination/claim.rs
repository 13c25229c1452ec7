//! The rule for holding a lease, as plain values so that it is tested without
//! a cluster: who may write the lease next, and with which epoch.

/// What a lease says, read from the cluster (times in milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// `None` or empty: released.
    pub holder: Option<String>,
    pub renewed_at: i64,
    pub duration_ms: i64,
    /// How many times the lease changed hands: the holder's epoch.
    pub transitions: i64,
}

impl Held {
    /// Whether the holder's claim still stands at `now`.
    pub fn live(&self, now: i64) -> bool {
        self.holder.as_deref().is_some_and(|h| !h.is_empty()) && now < self.renewed_at + self.duration_ms
    }

    fn held_by(&self, me: &str) -> bool {
        self.holder.as_deref() == Some(me)
    }
}

/// What to write to hold the lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The epoch this holder runs under (the lease's transition count after the write).
    pub epoch: i64,
    /// Whether this write takes the lease (as opposed to renewing it).
    pub acquired: bool,
}

/// The leader lease: renew it when `me` holds it, take it when it is free or
/// its holder let it expire, else leave it (`None`).
pub fn claim_leader(current: Option<&Held>, me: &str, now: i64) -> Option<Claim> {
    match current {
        None => Some(Claim { epoch: 1, acquired: true }),
        Some(held) if held.held_by(me) && held.live(now) => {
            Some(Claim { epoch: held.transitions, acquired: false })
        }
        Some(held) if held.live(now) => None,
        Some(held) => Some(Claim { epoch: held.transitions + 1, acquired: true }),
    }
}

/// A replica's own lease: always its to write (a replica's id names one
/// running process). The first write of a process starts a new epoch, so
/// that work recorded under an earlier process of the same id is known to
/// be dead; later writes renew it.
pub fn claim_own(current: Option<&Held>, first: bool) -> Claim {
    match current {
        None => Claim { epoch: 1, acquired: true },
        Some(held) if first => Claim { epoch: held.transitions + 1, acquired: true },
        Some(held) => Claim { epoch: held.transitions, acquired: false },
    }
}

/// Whether work a replica recorded under `epoch` can no longer be going on:
/// its lease is gone, expired, or taken by a later process (a higher epoch).
pub fn owner_gone(lease: Option<&Held>, epoch: Option<i64>, now: i64) -> bool {
    match (lease, epoch) {
        (Some(held), Some(epoch)) => !held.live(now) || held.transitions > epoch,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(holder: &str, renewed_at: i64, transitions: i64) -> Held {
        Held { holder: Some(holder.into()), renewed_at, duration_ms: 15_000, transitions }
    }

    #[test]
    fn a_free_lease_is_taken_and_a_live_one_is_left_to_its_holder() {
        assert_eq!(claim_leader(None, "a", 0), Some(Claim { epoch: 1, acquired: true }));
        let by_b = held("b", 1_000, 4);
        assert_eq!(claim_leader(Some(&by_b), "a", 10_000), None, "b renewed 9 s ago");
        assert_eq!(
            claim_leader(Some(&by_b), "a", 16_000),
            Some(Claim { epoch: 5, acquired: true }),
            "expired: a takes it under the next epoch"
        );
        assert_eq!(claim_leader(Some(&by_b), "b", 10_000), Some(Claim { epoch: 4, acquired: false }));
    }

    #[test]
    fn a_holder_that_let_its_lease_expire_must_take_it_again_under_a_new_epoch() {
        let mine = held("a", 1_000, 4);
        assert_eq!(claim_leader(Some(&mine), "a", 16_000), Some(Claim { epoch: 5, acquired: true }));
    }

    #[test]
    fn a_released_lease_is_free_at_once() {
        let released =
            Held { holder: Some(String::new()), renewed_at: 9_000, duration_ms: 15_000, transitions: 3 };
        assert!(!released.live(9_001));
        assert_eq!(claim_leader(Some(&released), "a", 9_001), Some(Claim { epoch: 4, acquired: true }));
    }

    #[test]
    fn a_restarted_process_starts_a_new_epoch_of_its_own_lease() {
        let before = held("pod-1", 1_000, 2);
        assert_eq!(claim_own(Some(&before), true), Claim { epoch: 3, acquired: true });
        assert_eq!(claim_own(Some(&before), false), Claim { epoch: 2, acquired: false });
        assert_eq!(claim_own(None, false), Claim { epoch: 1, acquired: true });
    }

    #[test]
    fn work_is_recovered_only_once_its_owner_is_gone() {
        let lease = held("pod-1", 1_000, 2);
        assert!(!owner_gone(Some(&lease), Some(2), 10_000), "live, same process");
        assert!(owner_gone(Some(&lease), Some(2), 16_000), "expired");
        assert!(owner_gone(Some(&lease), Some(1), 10_000), "an earlier process of the same replica");
        assert!(owner_gone(None, Some(2), 10_000), "no lease");
        assert!(owner_gone(Some(&lease), None, 10_000), "recorded before replicas were tracked");
    }
}
