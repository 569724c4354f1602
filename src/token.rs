//! Token references: `meta.auth_fail_token_id` values such as `PersonalAccessToken/12`.

/// Splits a token id at its LAST `/` into `(class, id)`. A value without `/` is all class, with an
/// empty id. Unknown classes are kept as they are.
pub fn split_token_id(text: &str) -> (&str, &str) {
    match text.rfind('/') {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    }
}

/// Orders ids: numeric ids (all digits) first, by value (`2` < `10`), then the others as text.
/// A total order, so that sorting is stable whatever order the ids arrive in.
pub fn cmp_ids(a: &str, b: &str) -> std::cmp::Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_at_last_slash() {
        assert_eq!(
            split_token_id("PersonalAccessToken/12"),
            ("PersonalAccessToken", "12")
        );
        assert_eq!(
            split_token_id("OauthAccessToken/7"),
            ("OauthAccessToken", "7")
        );
        assert_eq!(split_token_id("Ns/Class/9"), ("Ns/Class", "9"));
        assert_eq!(split_token_id("garbage"), ("garbage", ""));
        assert_eq!(split_token_id("Trailing/"), ("Trailing", ""));
    }

    #[test]
    fn numeric_order() {
        assert!(cmp_ids("2", "10").is_lt());
        assert!(cmp_ids("010", "9").is_gt());
        assert!(cmp_ids("a", "b").is_lt());
        // A total order: 9 < 10 < 1a, and 9 < 1a.
        assert!(
            cmp_ids("9", "10").is_lt() && cmp_ids("10", "1a").is_lt() && cmp_ids("9", "1a").is_lt()
        );
    }

    proptest! {
        #[test]
        fn split_round_trips(class in "[A-Za-z/]{0,12}", id in "[0-9a-z]{0,8}") {
            let text = format!("{class}/{id}");
            let (c, i) = split_token_id(&text);
            prop_assert_eq!(format!("{c}/{i}"), text.clone());
            prop_assert_eq!(i, id.as_str());
        }
    }
}
