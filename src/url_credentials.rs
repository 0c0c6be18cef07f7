//! The credentials in broker and backend URLs, shared by both transports: read them
//! percent-decoded, and hide them wherever a URL reaches a message or a log line.

/// `redis://user:secret@host/0` → `redis://user:***@host/0`. Used for every URL that reaches a
/// message or a log line.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_string() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else { return url.to_string() };
    let userinfo = &authority[..at];
    let redacted = match userinfo.find(':') {
        Some(colon) => format!("{}:***", &userinfo[..colon]),
        None if userinfo.is_empty() => String::new(),
        None => "***".to_string(),
    };
    format!("{}{}@{}", &url[..scheme_end + 3], redacted, &rest[at..].trim_start_matches('@'))
}

/// A percent-encoded URL part (user, password, vhost) as text: `p%40ss` → `p@ss`. A `+` stays a
/// `+`, as in a URL's user info and path (it means a space only in form data).
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(redact_url("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact_url("amqp://guest:guest@h//"), "amqp://guest:***@h//");
        assert_eq!(redact_url("redis://token@h"), "redis://***@h");
        assert_eq!(redact_url("redis://h:6379/0"), "redis://h:6379/0");
        assert_eq!(redact_url("redis://u:p@ss@h/1"), "redis://u:***@h/1");
    }

    #[test]
    fn credentials_are_percent_decoded_and_plus_stays() {
        assert_eq!(percent_decode("p%40ss%2Fw"), "p@ss/w");
        assert_eq!(percent_decode("a+b"), "a+b");
    }
}
