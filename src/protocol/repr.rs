//! `argsrepr` / `kwargsrepr`: Python's `repr()` of the arguments, truncated as Celery truncates it
//! (1024 characters). Workers only log it, but Flower and django-celery-results show it.
//!
//! Works on the JSON text directly (a token-by-token rewrite), so the hot path never parses the
//! arguments into a tree.

pub const REPR_MAX_CHARS: usize = 1024;

/// Rewrites JSON text into the Python literal it stands for: `true`→`True`, `null`→`None`,
/// `"x"`→`'x'`, with Python's `", "` / `": "` spacing. Stops after `max_chars` characters and ends
/// with `...` as `reprlib`-style truncation does.
pub fn python_repr_of_json(json: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(json.len().min(max_chars) + 8);
    let mut chars = json.chars().peekable();
    let mut count = 0usize;
    macro_rules! emit {
        ($s:expr) => {{
            for c in $s.chars() {
                if count >= max_chars {
                    out.push_str("...");
                    return out;
                }
                out.push(c);
                count += 1;
            }
        }};
    }
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some('r') => text.push('\r'),
                            Some('b') => text.push('\u{8}'),
                            Some('f') => text.push('\u{c}'),
                            Some('u') => {
                                let hex: String = chars.by_ref().take(4).collect();
                                let unit = u16::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                                text.push_str(&decode_utf16_unit(unit, &mut chars));
                            }
                            Some(other) => text.push(other),
                            None => break,
                        },
                        other => text.push(other),
                    }
                }
                emit!(python_str_literal(&text));
            }
            ',' => emit!(", "),
            ':' => emit!(": "),
            c if c.is_whitespace() => {}
            't' | 'f' | 'n' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !next.is_ascii_alphabetic() {
                        break;
                    }
                    word.push(next);
                    chars.next();
                }
                emit!(match word.as_str() {
                    "true" => "True",
                    "false" => "False",
                    "null" => "None",
                    other => other,
                });
            }
            other => emit!(other.to_string()),
        }
    }
    out
}

fn decode_utf16_unit(unit: u16, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    if (0xd800..0xdc00).contains(&unit) {
        // A high surrogate: JSON spells astral characters as a `\uXXXX\uXXXX` pair.
        let mut lookahead = chars.clone();
        if lookahead.next() == Some('\\') && lookahead.next() == Some('u') {
            let hex: String = lookahead.by_ref().take(4).collect();
            if let Ok(low) = u16::from_str_radix(&hex, 16) {
                if (0xdc00..0xe000).contains(&low) {
                    *chars = lookahead;
                    return String::from_utf16_lossy(&[unit, low]);
                }
            }
        }
    }
    String::from_utf16_lossy(&[unit])
}

/// Python picks single quotes unless the text contains a single quote and no double quote.
fn python_str_literal(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_repr_of_the_same_values() {
        assert_eq!(python_repr_of_json("[2,3]", REPR_MAX_CHARS), "[2, 3]");
        assert_eq!(python_repr_of_json("[]", REPR_MAX_CHARS), "[]");
        assert_eq!(
            python_repr_of_json(r#"{"n":{"deep":[1,2.5,null,true]}}"#, REPR_MAX_CHARS),
            "{'n': {'deep': [1, 2.5, None, True]}}"
        );
        assert_eq!(python_repr_of_json(r#"["h\u00e9llo ✓ \ud83d\ude80"]"#, REPR_MAX_CHARS), "['héllo ✓ 🚀']");
        assert_eq!(python_repr_of_json(r#"["it's"]"#, REPR_MAX_CHARS), r#"["it's"]"#);
        assert_eq!(python_repr_of_json(r#"["a\"b'c\n"]"#, REPR_MAX_CHARS), r#"['a"b\'c\n']"#);
        assert_eq!(python_repr_of_json("[false, -1e-05]", REPR_MAX_CHARS), "[False, -1e-05]");
    }

    #[test]
    fn truncates_long_reprs() {
        let long = format!("[\"{}\"]", "x".repeat(5000));
        let repr = python_repr_of_json(&long, REPR_MAX_CHARS);
        assert_eq!(repr.chars().count(), REPR_MAX_CHARS + 3);
        assert!(repr.ends_with("..."));
    }
}
