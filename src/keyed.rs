//! [`KeyedMap`]: the map of failing tokens (or IPs) to their stats, keeping each key's hash.
//!
//! A large incident names hundreds of thousands of tokens and addresses, and every thread keeps
//! its own map of them, merged at the end. A plain hash map must hash every key again whenever it
//! grows and whenever another map is merged into it, and hashing a key means reading its text,
//! scattered over the heap: at half a million keys that was most of the merge. Here the hash is
//! stored beside the key, every map of the process uses the same (randomly seeded) hasher, and a
//! key's text is read only to confirm a match.

use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

/// The hasher every [`KeyedMap`] shares: foldhash, seeded once per process at random, so that log
/// text crafted to collide cannot slow the scan down.
fn hasher() -> &'static foldhash::fast::RandomState {
    static HASHER: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    HASHER.get_or_init(foldhash::fast::RandomState::default)
}

#[derive(Debug, Clone)]
struct Slot<V> {
    hash: u64,
    key: Arc<str>,
    value: Box<V>,
}

/// A hash map from text to boxed values, with shared `Arc<str>` keys.
#[derive(Debug, Clone)]
pub struct KeyedMap<V> {
    table: HashTable<Slot<V>>,
}

impl<V> Default for KeyedMap<V> {
    fn default() -> Self {
        Self {
            table: HashTable::new(),
        }
    }
}

impl<V: PartialEq> PartialEq for KeyedMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V: Eq> Eq for KeyedMap<V> {}

fn hash(key: &str) -> u64 {
    hasher().hash_one(key)
}

impl<V> KeyedMap<V> {
    /// Entries.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        let h = hash(key);
        self.table
            .find(h, |s| s.hash == h && &*s.key == key)
            .map(|s| &*s.value)
    }

    /// The shared key for `key` and its value, inserted as default when absent. The key is
    /// allocated only when it is new; the same allocation can then stand in other tallies.
    pub fn entry(&mut self, key: &str) -> (Arc<str>, &mut V)
    where
        V: Default,
    {
        let h = hash(key);
        match self
            .table
            .entry(h, |s| s.hash == h && &*s.key == key, |s| s.hash)
        {
            Entry::Occupied(o) => {
                let slot = o.into_mut();
                (Arc::clone(&slot.key), &mut *slot.value)
            }
            Entry::Vacant(v) => {
                let key: Arc<str> = Arc::from(key);
                let slot = v
                    .insert(Slot {
                        hash: h,
                        key: Arc::clone(&key),
                        value: Box::default(),
                    })
                    .into_mut();
                (key, &mut *slot.value)
            }
        }
    }

    /// Every key and value, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.table.iter().map(|s| (&s.key, &*s.value))
    }

    /// Every value, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.table.iter().map(|s| &*s.value)
    }

    /// Every value, mutably.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.table.iter_mut().map(|s| &mut *s.value)
    }

    /// Moves every entry of `other` into this map, combining values whose key is in both with
    /// `merge`. No key is hashed again, and a key's text is read only when the hashes match.
    pub fn merge(&mut self, other: KeyedMap<V>, merge: impl Fn(&mut V, V)) {
        self.table.reserve(other.len(), |s| s.hash);
        for slot in other.table {
            match self.table.entry(
                slot.hash,
                |s| s.hash == slot.hash && s.key == slot.key,
                |s| s.hash,
            ) {
                Entry::Occupied(o) => merge(&mut o.into_mut().value, *slot.value),
                Entry::Vacant(v) => {
                    v.insert(slot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_merge_and_compare_by_text() {
        let mut a: KeyedMap<u64> = KeyedMap::default();
        let mut b: KeyedMap<u64> = KeyedMap::default();
        for i in 0..1000u64 {
            *a.entry(&format!("k{i}")).1 += i;
            *b.entry(&format!("k{}", i + 500)).1 += 1;
        }
        let (key, _) = a.entry("k7");
        assert_eq!(&*key, "k7");
        // The same key comes back as the same allocation.
        assert!(Arc::ptr_eq(&key, &a.entry("k7").0));
        a.merge(b, |x, y| *x += y);
        assert_eq!(a.len(), 1500);
        assert_eq!(a.get("k7"), Some(&7));
        assert_eq!(a.get("k600"), Some(&601));
        assert_eq!(a.get("k1499"), Some(&1));
        assert_eq!(a.get("nope"), None);
        let mut c: KeyedMap<u64> = KeyedMap::default();
        for (k, v) in a.iter() {
            *c.entry(k).1 = *v;
        }
        assert_eq!(a, c);
        *c.entry("k1").1 += 1;
        assert_ne!(a, c);
    }
}
