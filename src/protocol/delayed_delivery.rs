//! RabbitMQ native delayed delivery (celery ≥ 5.5 with quorum queues, spec §4.6): a message due
//! later goes to the `celery_delayed_27` exchange with its delay written into the routing key;
//! 28 levels of TTL queues hold it for 2^level seconds per set bit, then dead-letter it to
//! `celery_delayed_delivery`, which is bound to the application exchange with `#.<routing key>`.

use std::time::{Duration, SystemTime};

/// The exchange a delayed message is published to.
pub const DELAYED_EXCHANGE: &str = "celery_delayed_27";
const LEVELS: u32 = 28;
/// The longest delay the levels can hold: 2^28 − 1 seconds.
pub const MAX_DELAY_SECS: u64 = (1 << LEVELS) - 1;

/// The routing key of a message delayed by `delay` (whole seconds, at most [`MAX_DELAY_SECS`]):
/// 28 binary digits, most significant first, separated by dots, then `.` and the routing key.
pub fn delayed_routing_key(delay: Duration, routing_key: &str) -> String {
    let seconds = delay.as_secs().min(MAX_DELAY_SECS);
    let bits: Vec<String> = (0..LEVELS).rev().map(|bit| ((seconds >> bit) & 1).to_string()).collect();
    format!("{}.{routing_key}", bits.join("."))
}

/// How long until `eta`, if it is at least a second away (shorter delays are not worth a detour).
pub fn delay_until(eta: SystemTime, now: SystemTime) -> Option<Duration> {
    eta.duration_since(now).ok().filter(|delay| delay.as_secs() >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_delay_as_celery_does() {
        // Captured from Celery 5.7: countdown 70 s to routing key `qq`.
        assert_eq!(
            delayed_routing_key(Duration::from_secs(70), "qq"),
            "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.1.1.0.qq"
        );
        assert!(delayed_routing_key(Duration::from_secs(u64::MAX), "q").starts_with("1.1.1"));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(delay_until(now + Duration::from_millis(2500), now), Some(Duration::from_millis(2500)));
        assert_eq!(delay_until(now + Duration::from_millis(500), now), None);
        assert_eq!(delay_until(now - Duration::from_secs(5), now), None);
    }
}
