//! Making log text safe to show: control characters and bidirectional overrides are escaped.
//!
//! Log text (user agents, paths, user names) is attacker-controlled. Printed raw, `ESC [` sequences
//! could move the cursor, recolour or hide lines, and bidi overrides could reorder what an
//! administrator reads. Everything such is written as a visible `\x1b` or `\u{202e}` escape.

/// Whether a character must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Escapes control characters and bidi controls; other text is unchanged.
pub fn escape(text: &str) -> String {
    if !text.chars().any(is_unsafe) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            if (c as u32) < 0x80 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes, then shortens to at most `width` characters, ending with `…` when cut.
pub fn escape_to_width(text: &str, width: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= width {
        return escaped;
    }
    let mut out: String = escaped.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Makes a CSV cell safe: escapes controls and defuses cells a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) by prefixing a `'`.
pub fn csv_cell(text: &str) -> String {
    let starts_formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let escaped = escape(text);
    if starts_formula {
        format!("'{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape("curl/8.4"), "curl/8.4");
        assert_eq!(
            escape("a\u{1b}[2Jb\u{7}\u{8}\r"),
            "a\\x1b[2Jb\\x07\\x08\\x0d"
        );
        assert_eq!(escape("x\u{202e}y\u{9b}"), "x\\u{202e}y\\u{9b}");
        assert_eq!(escape("ünïcode ✓"), "ünïcode ✓");
    }

    #[test]
    fn width_and_csv() {
        assert_eq!(escape_to_width("abcdef", 4), "abc…");
        assert_eq!(escape_to_width("abc", 4), "abc");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("\tx"), "'\\x09x");
        assert_eq!(csv_cell("PersonalAccessToken"), "PersonalAccessToken");
    }
}
