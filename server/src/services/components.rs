//! Component use cases beyond the live board: uptime per day from the history.

use super::{ServiceError, ServiceResult, Services};
use domain::component::ComponentKey;
use domain::uptime::DayBreakdown;

/// How far back uptime goes, in days.
pub const UPTIME_DAYS: usize = 90;

impl Services {
    /// The component `kind/name`'s last `days` UTC days (default 90), oldest first.
    pub async fn uptime(
        &self,
        kind: &str,
        name: &str,
        days: Option<usize>,
    ) -> ServiceResult<(ComponentKey, Vec<DayBreakdown>)> {
        let key = ComponentKey::parse(&format!("{kind}/{name}")).ok_or_else(|| {
            ServiceError::NotFound("No such component: use platform/NAME, node/NAME or service/ID.".into())
        })?;
        let days = days.unwrap_or(UPTIME_DAYS);
        if !(1..=UPTIME_DAYS).contains(&days) {
            return Err(ServiceError::invalid("days", format!("days must be between 1 and {UPTIME_DAYS}.")));
        }
        match self.history.daily(&key, days, self.clock.now_millis()).await {
            Ok(breakdown) => Ok((key, breakdown)),
            Err(error) => Err(ServiceError::unavailable("The history cannot be read right now.", &error)),
        }
    }
}
