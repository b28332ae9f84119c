//! What a YAML reader takes silently and a spec's author did not mean: a key twice in one
//! mapping (the last one wins when read into JSON; other tools keep the first), tabs, and
//! plain scalars that YAML 1.1 readers (PyYAML, so Schemathesis) read as booleans while
//! YAML 1.2 readers (ours, Redocly) read them as strings.
//!
//! The keys and scalars come from `yaml-rust2`'s parser events, each with its line, block
//! and flow style alike. A document that does not parse yields what was read up to the
//! error (`Spec::parse` reports the error itself).

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Every key that repeats an earlier key of the same mapping: (line, message), lines
/// counted from 1.
pub fn duplicate_keys(text: &str) -> Vec<(usize, String)> {
    scan(text).duplicates
}

/// Tabs and YAML 1.1 booleans: (line, message).
pub fn pitfalls(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains('\t'))
        .map(|(i, _)| {
            let what = "a tab: YAML indents with spaces, and readers differ on tabs elsewhere";
            (i + 1, what.to_owned())
        })
        .collect();
    out.extend(scan(text).booleans.into_iter().map(|(line, word)| {
        let what = format!(
            "`{word}` is a string to YAML 1.2 readers and a boolean to YAML 1.1 ones \
             (PyYAML, as Schemathesis uses): quote it, or write true/false"
        );
        (line, what)
    }));
    out.sort();
    out
}

/// Plain scalars that YAML 1.1 reads as booleans and YAML 1.2 as strings.
const YAML11_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

fn is_yaml11_bool(word: &str) -> bool {
    YAML11_BOOLEANS.contains(&word)
}

fn scan(text: &str) -> Scan {
    let mut scan = Scan::default();
    // An error ends the events; what was read up to it is kept.
    let _ = Parser::new_from_str(text).load(&mut scan, true);
    scan
}

/// A collection being read: a mapping (its keys so far with their lines, and whether the
/// next node is a key) or a sequence.
enum Open {
    Mapping {
        keys: Vec<(String, usize)>,
        key_next: bool,
    },
    Sequence,
}

#[derive(Default)]
struct Scan {
    open: Vec<Open>,
    duplicates: Vec<(usize, String)>,
    booleans: Vec<(usize, String)>,
}

impl Scan {
    /// A node ended: in a mapping, a key is followed by its value and a value by a key.
    fn node_done(&mut self) {
        if let Some(Open::Mapping { key_next, .. }) = self.open.last_mut() {
            *key_next = !*key_next;
        }
    }
}

impl MarkedEventReceiver for Scan {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(value, style, ..) => {
                if style == TScalarStyle::Plain && is_yaml11_bool(&value) {
                    self.booleans.push((line, value.clone()));
                }
                if let Some(Open::Mapping {
                    keys,
                    key_next: true,
                }) = self.open.last_mut()
                {
                    match keys.iter().find(|(seen, _)| *seen == value) {
                        Some((_, first)) => self.duplicates.push((
                            line,
                            format!("key `{value}` repeats the one on line {first}"),
                        )),
                        None => keys.push((value, line)),
                    }
                }
                self.node_done();
            }
            Event::Alias(_) => self.node_done(),
            Event::MappingStart(..) => self.open.push(Open::Mapping {
                keys: Vec::new(),
                key_next: true,
            }),
            Event::SequenceStart(..) => self.open.push(Open::Sequence),
            Event::MappingEnd | Event::SequenceEnd => {
                self.open.pop();
                self.node_done();
            }
            _ => {}
        }
    }
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
f: {x: 1, x: 2}
";
        assert_eq!(
            duplicate_keys(text),
            [
                (6, "key `c` repeats the one on line 3".to_owned()),
                (9, "key `c` repeats the one on line 8".to_owned()),
                (11, "key `a` repeats the one on line 1".to_owned()),
                (12, "key `x` repeats the one on line 12".to_owned()),
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
