//! Reading only the named fields of a JSON line, borrowing its strings.

use super::Found;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A tree of keys: the conditions whose field ends here, and keys below.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    ends: Vec<usize>,
    children: Vec<(String, Node)>,
}

impl Node {
    /// Adds every grouping of the segments into keys: `a.b.c` is found as
    /// `a`→`b`→`c`, `a.b`→`c`, `a`→`b.c` and the flat key `a.b.c`.
    pub(super) fn insert_every_split(&mut self, segments: &[String], condition: usize) {
        if segments.is_empty() {
            self.ends.push(condition);
            return;
        }
        for take in 1..=segments.len() {
            let key = segments[..take].join(".");
            let at = match self.children.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    self.children.push((key, Node::default()));
                    self.children.len() - 1
                }
            };
            self.children[at].1.insert_every_split(&segments[take..], condition);
        }
    }

    fn child(&self, key: &str) -> Option<&Node> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, node)| node)
    }
}

/// Reads one JSON value, recording it for the conditions that end at `node`
/// and descending into objects only along keys the tree names.
pub(super) struct Seek<'n, 'f, 'de> {
    pub(super) node: &'n Node,
    pub(super) found: &'f mut [Found<'de>],
    /// The line itself must be an object.
    pub(super) require_object: bool,
}

impl<'de> Seek<'_, '_, 'de> {
    fn set(&mut self, value: Found<'de>) {
        for condition in &self.node.ends {
            if let Some(slot) = self.found.get_mut(*condition) {
                *slot = value.clone();
            }
        }
    }

    fn scalar<E: serde::de::Error>(mut self, value: Found<'de>) -> Result<(), E> {
        if self.require_object {
            return Err(E::custom("not a JSON object"));
        }
        self.set(value);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Seek<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Found::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Found::Number(v as f64))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Found::Number(v as f64))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Found::Number(v))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar(Found::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Found::Text(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Found::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        if self.require_object {
            return Err(serde::de::Error::custom("not a JSON object"));
        }
        self.set(Found::Nested);
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.set(Found::Nested);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.node.child(&key) {
                Some(node) => map.next_value_seed(Seek { node, found: &mut *self.found, require_object: false })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the line unless it holds escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}
