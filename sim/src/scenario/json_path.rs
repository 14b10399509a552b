//! The JSON path (`queues[2].max_length`) of the place where serde_json stopped, found by
//! scanning the text up to the error's line and column. Reading through plain serde_json and
//! locating afterwards keeps one copy of each type's parsing code in the wasm; a
//! path-tracking deserializer wrapper doubled it.
//!
//! serde_json reports an error about a value just after the value, and an error about a
//! container (a missing field, anything inside an internally tagged object) at its closing
//! bracket. In `{"a":-1}` those are the same byte, so the failed text is read a second time with
//! a space before every closing bracket ([`spaced`]), which tells them apart.

/// One open container while scanning.
enum Frame {
    /// An object, and the key whose value is being read, if any.
    Object(Option<String>),
    /// An array, and the index of the element being read.
    Array(usize),
}

/// `text` with a space before each `}` and `]` outside strings.
pub fn spaced(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let close = string_end(bytes, i);
                out.push_str(&text[i..close]);
                i = close;
                continue;
            }
            b'}' | b']' => out.push(' '),
            _ => {}
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    out
}

/// The path at serde_json's `line` and `column` (both one-based, as its errors give them) in a
/// [`spaced`] text. An error at a closing bracket is about that container, not about the value
/// read last in it. With `variant`, an error just after a key is about an enum's variant
/// (`{"crash_consumr": {}}`), which names the value holding it, not a field of it.
pub fn path_at(text: &str, line: usize, column: usize, variant: bool) -> String {
    let end = offset_of(text, line, column);
    let bytes = text.as_bytes();
    let container = matches!(bytes.get(end), Some(b'}' | b']'));
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    // In an object, whether the next string is a key; whether the last token read was one.
    let (mut expect_key, mut after_key) = (false, false);
    while i < end {
        if !bytes[i].is_ascii_whitespace() {
            after_key = false;
        }
        match bytes[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expect_key = true;
            }
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object(key)) => {
                    *key = None;
                    expect_key = true;
                }
                Some(Frame::Array(n)) => *n += 1,
                None => {}
            },
            b'"' => {
                let close = string_end(bytes, i);
                if expect_key {
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        let raw = &text[i..close.min(text.len())];
                        *key = Some(unescape(raw));
                    }
                    (expect_key, after_key) = (false, true);
                }
                i = close;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if variant && after_key {
        if let Some(Frame::Object(key)) = stack.last_mut() {
            *key = None;
        }
    }
    if container {
        match stack.last_mut() {
            Some(Frame::Object(key)) => *key = None,
            // The array itself: its path, with no element.
            Some(Frame::Array(_)) => {
                let path = path_of(&stack[..stack.len() - 1]);
                return path;
            }
            None => {}
        }
    }
    path_of(&stack)
}

fn path_of(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => break,
            Frame::Array(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

/// The byte offset of `line` and `column`: the byte serde_json would have read next.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = if line <= 1 {
        0
    } else {
        (text.match_indices('\n').nth(line - 2)).map_or(text.len(), |(i, _)| i + 1)
    };
    (start + column.saturating_sub(1)).min(text.len())
}

/// The index just after the string that opens at `open`, or the end of the text.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A key as written, without its quotes and escapes.
fn unescape(quoted: &str) -> String {
    serde_json::from_str(quoted).unwrap_or_else(|_| quoted.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::path_at;

    use super::spaced;

    /// The path just after `marker` in the spaced `text`.
    fn at(text: &str, marker: &str) -> String {
        let text = spaced(text);
        let i = text.find(marker).expect("the marker") + marker.len();
        let line = text[..i].matches('\n').count() + 1;
        let column = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
        path_at(&text, line, column, false)
    }

    #[test]
    fn a_value_is_named_by_its_keys_and_indices() {
        let text = r#"{"queues": [{"name": "a"}, {"name": "b", "max_length": -1}]}"#;
        assert_eq!(at(text, "-1"), "queues[1].max_length");
        assert_eq!(at(text, r#""a""#), "queues[0].name");
    }

    #[test]
    fn an_error_at_a_closing_bracket_names_its_container() {
        let text = r#"{"producers": [{"name": "p"}], "x": [1, 2]}"#;
        assert_eq!(at(text, r#""p" "#), "producers[0]");
        assert_eq!(at(text, "2 "), "x");
        assert_eq!(at(text, "] "), "");
    }

    #[test]
    fn escaped_quotes_and_brackets_inside_strings_do_not_count() {
        let text = r#"{"a\"]": {"b": "x,}]", "c": 5}}"#;
        assert_eq!(at(text, "5"), "a\"].c");
        assert_eq!(spaced(r#"{"k":"}é]"}"#), r#"{"k":"}é]" }"#);
    }

    #[test]
    fn an_unknown_variant_written_as_a_key_names_the_value_holding_it() {
        let text = r#"{"log": [{"command": {"crash_consumr": {}}}], "type": "x"}"#;
        let i = text.find("consumr\"").unwrap() + "consumr\"".len();
        assert_eq!(path_at(text, 1, i + 1, true), "log[0].command");
        assert_eq!(
            path_at(text, 1, i + 1, false),
            "log[0].command.crash_consumr"
        );
        // A variant written as a string value is named by its field.
        assert_eq!(path_at(text, 1, text.len() - 1, true), "type");
    }
}
