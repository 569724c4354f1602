//! Counting distinct text values compactly: [`Tally`] and the string [`Interner`].
//!
//! A failing token or IP keeps tallies of its user agents, routes, users and so on. Most tokens
//! have one or two distinct values per tally, and a log can hold hundreds of thousands of tokens,
//! so a tally starts as a short vector (linear search, one small allocation) and becomes a hash
//! map only past [`SMALL_MAX`] values. Values are `Arc<str>` shared through an interner, so the
//! same user agent seen by 100 000 tokens is stored once per thread.

use foldhash::{HashMap, HashSet};
use std::sync::Arc;

/// Distinct values kept in a vector before a tally switches to a hash map.
pub const SMALL_MAX: usize = 8;

/// Shares equal strings: each distinct value is allocated once.
#[derive(Debug, Clone, Default)]
pub struct Interner(HashSet<Arc<str>>);

impl Interner {
    /// The shared copy of `value`.
    pub fn get(&mut self, value: &str) -> Arc<str> {
        if let Some(v) = self.0.get(value) {
            return Arc::clone(v);
        }
        let v: Arc<str> = Arc::from(value);
        self.0.insert(Arc::clone(&v));
        v
    }
}

impl PartialEq for Interner {
    /// An interner is a cache: any two are interchangeable.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Interner {}

#[derive(Debug, Clone)]
enum Repr {
    /// The usual case for a token seen once or a few times: one value, no allocation.
    One(Arc<str>, u64),
    /// No value yet (empty, no allocation), or two to [`SMALL_MAX`] values.
    Small(Vec<(Arc<str>, u64)>),
    // Boxed: most tallies stay small, and a token holds eight of them.
    Large(Box<HashMap<Arc<str>, u64>>),
}

/// Counts of distinct text values (user agents, routes, …).
#[derive(Debug, Clone)]
pub struct Tally(Repr);

impl Default for Tally {
    fn default() -> Self {
        Tally(Repr::Small(Vec::new()))
    }
}

impl PartialEq for Tally {
    fn eq(&self, other: &Self) -> bool {
        self.sorted() == other.sorted()
    }
}

impl Eq for Tally {}

impl Tally {
    /// Counts one more `value` (allocating it if new to this tally).
    pub fn add(&mut self, value: &str) {
        self.add_n(value, 1, |v| Arc::from(v));
    }

    /// Counts one more of an interned value.
    pub fn add_shared(&mut self, value: &Arc<str>) {
        self.add_n(value, 1, |_| Arc::clone(value));
    }

    fn add_n(&mut self, value: &str, n: u64, make: impl FnOnce(&str) -> Arc<str>) {
        match &mut self.0 {
            Repr::Small(v) if v.is_empty() => self.0 = Repr::One(make(value), n),
            Repr::One(k, count) if &**k == value => *count += n,
            Repr::One(k, count) => {
                let first = (Arc::clone(k), *count);
                self.0 = Repr::Small(vec![first, (make(value), n)]);
            }
            Repr::Small(v) => {
                if let Some(e) = v.iter_mut().find(|e| &*e.0 == value) {
                    e.1 += n;
                } else if v.len() < SMALL_MAX {
                    v.push((make(value), n));
                } else {
                    let mut map: HashMap<Arc<str>, u64> = v.drain(..).collect();
                    map.insert(make(value), n);
                    self.0 = Repr::Large(Box::new(map));
                }
            }
            Repr::Large(m) => match m.get_mut(value) {
                Some(c) => *c += n,
                None => {
                    m.insert(make(value), n);
                }
            },
        }
    }

    /// Adds another tally to this one.
    pub fn merge(&mut self, o: Tally) {
        if self.is_empty() {
            *self = o;
            return;
        }
        match o.0 {
            Repr::One(k, n) => self.add_n(&Arc::clone(&k), n, |_| k),
            Repr::Small(v) => v
                .into_iter()
                .for_each(|(k, n)| self.add_n(&Arc::clone(&k), n, |_| k)),
            Repr::Large(m) => m
                .into_iter()
                .for_each(|(k, n)| self.add_n(&Arc::clone(&k), n, |_| k)),
        }
    }

    /// Distinct values.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::One(..) => 1,
            Repr::Small(v) => v.len(),
            Repr::Large(m) => m.len(),
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every `(value, count)`, in no particular order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&str, u64)> + '_> {
        match &self.0 {
            Repr::One(k, n) => Box::new(std::iter::once((&**k, *n))),
            Repr::Small(v) => Box::new(v.iter().map(|(k, n)| (&**k, *n))),
            Repr::Large(m) => Box::new(m.iter().map(|(k, n)| (&**k, *n))),
        }
    }

    /// `(value, count)` sorted by count descending, then value.
    pub fn sorted(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }

    /// The count of one value.
    pub fn get(&self, value: &str) -> u64 {
        self.iter().find(|(k, _)| *k == value).map_or(0, |(_, n)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_count_the_same() {
        let mut t = Tally::default();
        let mut reference: std::collections::HashMap<String, u64> = Default::default();
        for i in 0..100u64 {
            let v = format!("v{}", i % 13);
            t.add(&v);
            *reference.entry(v).or_default() += 1;
        }
        assert_eq!(t.len(), 13);
        for (k, n) in &reference {
            assert_eq!(t.get(k), *n);
        }
        let mut a = Tally::default();
        let mut b = Tally::default();
        for i in 0..100u64 {
            let v = format!("v{}", i % 13);
            if i % 2 == 0 { a.add(&v) } else { b.add(&v) }
        }
        a.merge(b);
        assert_eq!(a, t);
        assert_eq!(t.sorted()[0].1, 8);
    }

    #[test]
    fn interner_shares() {
        let mut i = Interner::default();
        let a = i.get("curl/8.4.0");
        let b = i.get("curl/8.4.0");
        assert!(Arc::ptr_eq(&a, &b));
    }
}
