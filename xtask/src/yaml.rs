//! What a YAML reader takes silently and a spec's author did not mean: a key twice in one
//! mapping (the last one wins when read into JSON; other tools keep the first), tabs, and
//! plain scalars that YAML 1.1 readers (PyYAML, so Schemathesis) read as booleans while
//! YAML 1.2 readers (ours, Redocly) read them as strings.
//!
//! The scan reads block-style YAML line by line, as the specs are written: keys of block
//! mappings (sequence items included), block scalars skipped. Flow mappings (`{a: 1}`) are
//! left to the parser, which refuses a key twice in them too (without a line of its own).

/// Every key that repeats an earlier key of the same mapping: (line, message), lines
/// counted from 1.
pub fn duplicate_keys(text: &str) -> Vec<(usize, String)> {
    // Open mappings, innermost last: (indent of their keys, keys seen with their lines).
    let mut open: Vec<(usize, Vec<(String, usize)>)> = Vec::new();
    let mut out = Vec::new();
    let mut block_scalar: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if let Some(at) = block_scalar {
            if indent > at {
                continue;
            }
            block_scalar = None;
        }
        // A sequence item opens a mapping whose keys stand after the dash.
        let (indent, content) = match content.strip_prefix("- ") {
            Some(rest) => {
                let rest_trimmed = rest.trim_start_matches(' ');
                let at = indent + 2 + (rest.len() - rest_trimmed.len());
                open.retain(|(k, _)| *k < at);
                (at, rest_trimmed)
            }
            None => (indent, content),
        };
        let Some((key, value)) = key_of(content) else {
            continue;
        };
        open.retain(|(k, _)| *k <= indent);
        match open.last_mut() {
            Some((k, keys)) if *k == indent => {
                if let Some((_, first)) = keys.iter().find(|(seen, _)| *seen == key) {
                    out.push((n, format!("key `{key}` repeats the one on line {first}")));
                } else {
                    keys.push((key.clone(), n));
                }
            }
            _ => open.push((indent, vec![(key.clone(), n)])),
        }
        let value = value.split(" #").next().unwrap_or("").trim();
        if value.starts_with('|') || value.starts_with('>') {
            block_scalar = Some(indent);
        }
    }
    out
}

/// Tabs and YAML 1.1 booleans: (line, message).
pub fn pitfalls(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.contains('\t') {
            out.push((
                n,
                "a tab: YAML indents with spaces, and readers differ on tabs elsewhere".to_owned(),
            ));
        }
        let content = line.trim_start_matches([' ', '-']);
        if content.starts_with('#') {
            continue;
        }
        let Some((key, value)) = key_of(content) else {
            continue;
        };
        let value = value.split(" #").next().unwrap_or("").trim();
        for word in [key.as_str(), value] {
            if is_yaml11_bool(word) {
                out.push((
                    n,
                    format!(
                        "`{word}` is a string to YAML 1.2 readers and a boolean to YAML 1.1 \
                         ones (PyYAML, as Schemathesis uses): quote it, or write true/false"
                    ),
                ));
            }
        }
    }
    out
}

/// A plain scalar that YAML 1.1 reads as a boolean and YAML 1.2 as a string.
fn is_yaml11_bool(word: &str) -> bool {
    matches!(
        word,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// The key of a block mapping line and what follows its colon, if the line is one: a plain
/// or quoted key followed by `:` and a space or the end of the line.
fn key_of(content: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(quote @ ('"' | '\'')) = content.chars().next() {
        let end = content[1..].find(quote)? + 1;
        (&content[1..end], &content[end + 1..])
    } else {
        if content.starts_with(['{', '[', '&', '*', '!', '|', '>', '%', '@', '`']) {
            return None;
        }
        let colon = content
            .match_indices(':')
            .map(|(at, _)| at)
            .find(|&at| content[at + 1..].is_empty() || content[at + 1..].starts_with(' '))?;
        if content[..colon].contains(" #") {
            return None;
        }
        (content[..colon].trim_end(), &content[colon..])
    };
    let rest = rest.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key.to_owned(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_twice_in_one_mapping_are_found_with_their_lines() {
        let text = "\
a: 1
b:
  c: 1
  d: |
    c: not a key
  c: 2
e:
  - c: 1
    c: 2
  - c: 3
'a': 3
";
        assert_eq!(
            duplicate_keys(text),
            [
                (6, "key `c` repeats the one on line 3".to_owned()),
                (9, "key `c` repeats the one on line 8".to_owned()),
                (11, "key `a` repeats the one on line 1".to_owned()),
            ]
        );
        assert!(duplicate_keys("a: 1\nb:\n  a: 1\nc: [a, a]\n").is_empty());
    }

    #[test]
    fn tabs_and_yaml_1_1_booleans_are_named() {
        let found = pitfalls("a: yes\nb: 'no'\non: 1\nc:\t1\nd: yesterday # on\n");
        let lines: Vec<usize> = found.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [1, 3, 4], "{found:?}");
        assert!(found[0].1.contains("`yes`"), "{found:?}");
    }
}
