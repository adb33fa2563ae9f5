//! Function-name patterns (budget files, per-function thresholds): `?`, `*` and `**`,
//! matched without backtracking blow-up.

/// Characters that separate the segments of a function name: `::` (Rust paths), `/`
/// (criterion ids) and `.` (Python qualified names).
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, ':' | '/' | '.')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character that is not a separator.
    One,
    /// `*`: any run of characters without a separator.
    Segment,
    /// `**`: any run of characters.
    Any,
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`; every character other than `?` and `*` stands for itself.
    pub(crate) fn new(pattern: &str) -> Self {
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '?' => Token::One,
                '*' if chars.peek() == Some(&'*') => {
                    while chars.peek() == Some(&'*') {
                        chars.next();
                    }
                    Token::Any
                }
                '*' => Token::Segment,
                c => Token::Char(c),
            });
        }
        Self { tokens }
    }

    /// Whether `name` matches the whole pattern. O(pattern × name) time, O(name) memory.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        // reach[j]: the tokens seen so far can match exactly name[..j].
        let mut reach = vec![false; name.len() + 1];
        reach[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; name.len() + 1];
            match *token {
                Token::Char(c) => {
                    for j in 0..name.len() {
                        next[j + 1] = reach[j] && name[j] == c;
                    }
                }
                Token::One => {
                    for j in 0..name.len() {
                        next[j + 1] = reach[j] && !is_separator(name[j]);
                    }
                }
                Token::Segment | Token::Any => {
                    let crosses = *token == Token::Any;
                    next[0] = reach[0];
                    for j in 0..name.len() {
                        let extend = next[j] && (crosses || !is_separator(name[j]));
                        next[j + 1] = reach[j + 1] || extend;
                    }
                }
            }
            reach = next;
        }
        reach[name.len()]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Glob, is_separator};

    /// The obvious recursive definition, exponential but plainly right.
    fn reference(p: &[char], s: &[char]) -> bool {
        match p {
            [] => s.is_empty(),
            ['*', '*', rest @ ..] => {
                let rest: Vec<char> = rest.iter().copied().skip_while(|&c| c == '*').collect();
                (0..=s.len()).any(|k| reference(&rest, &s[k..]))
            }
            ['*', rest @ ..] => (0..=s.len())
                .take_while(|&k| k == 0 || !is_separator(s[k - 1]))
                .any(|k| reference(rest, &s[k..])),
            ['?', rest @ ..] => {
                s.first().is_some_and(|&c| !is_separator(c)) && reference(rest, &s[1..])
            }
            [c, rest @ ..] => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    fn m(p: &str, s: &str) -> bool {
        Glob::new(p).matches(s)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("api::checkout", "api::checkout"));
        assert!(!m("api::checkout", "api::checkout2"));
        assert!(m("db::*", "db::query"));
        assert!(!m("db::*", "db::pool::get"), "* stays inside one segment");
        assert!(m("db::**", "db::pool::get"));
        assert!(m("**::get", "db::pool::get"));
        assert!(m("*::get", "pool::get"));
        assert!(m("db::q?ery", "db::query"));
        assert!(!m("db::q?ery", "db::q:ery"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("snapshot/*", "snapshot/merge"));
        assert!(m("app.views.*", "app.views.checkout"));
        assert!(m("µ*", "µs"));
        assert!(m("**::test_fib", "test_tiny.py::test_fib"));
        assert!(!m("*::test_fib", "test_tiny.py::test_fib"), "`.` separates segments too");
        assert!(m("**::test_sort[*]", "t.py::test_sort[10]"));
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference(p in "[ab:*?]{0,8}", s in "[ab:]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let sc: Vec<char> = s.chars().collect();
            prop_assert_eq!(Glob::new(&p).matches(&s), reference(&pc, &sc), "{} vs {}", p, s);
        }

        #[test]
        fn a_name_matches_itself_literally(s in "[a-z:/._]{0,12}") {
            prop_assert!(Glob::new(&s).matches(&s));
        }
    }
}
