//! Name patterns: `*` matches any run of characters (`::` included), `?` one character.

/// Whether `name` matches `pattern`, where `*` stands for any run of characters and `?` for
/// exactly one; every other character matches itself.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen, and the name position it was tried at: on a mismatch, let it eat one
    // more character (the classic linear-space backtracking; O(len(p) · len(n)) at worst).
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;
    use proptest::prelude::*;

    /// The definition, by recursion: exponential, but clearly right.
    fn reference(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => reference(&p[1..], n) || (!n.is_empty() && reference(p, &n[1..])),
            (Some('?'), Some(_)) => reference(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => reference(&p[1..], &n[1..]),
            _ => false,
        }
    }

    #[test]
    fn examples() {
        assert!(matches("db::*", "db::query"));
        assert!(matches("*::parse", "app::json::parse"));
        assert!(matches("f?o", "foo"));
        assert!(!matches("db::*", "api::db::query"));
        assert!(matches("*", ""));
        assert!(!matches("?", ""));
        assert!(matches("exact", "exact"));
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(p in "[ab*?]{0,8}", n in "[ab]{0,10}") {
            let (pc, nc): (Vec<char>, Vec<char>) = (p.chars().collect(), n.chars().collect());
            prop_assert_eq!(matches(&p, &n), reference(&pc, &nc));
        }
    }
}
