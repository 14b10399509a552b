//! Decides whether a binding or subscription pattern selects a message: RabbitMQ topic and
//! headers bindings (RMQ-4, RMQ-5) and Redis `PSUBSCRIBE` globs (RPS-2).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A RabbitMQ topic binding key split into words once, when the binding is added (RMQ-4):
/// words split at '.', '*' = exactly one word, '#' = zero or more words.
///
/// An empty key or pattern has zero words, as in RabbitMQ's `split_topic_key`, so `#` matches
/// `""` and `*` does not; `"a."` has the two words `a` and `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPattern {
    words: Vec<TopicWord>,
    has_hash: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TopicWord {
    Hash,
    Star,
    Word(String),
}

impl TopicWord {
    fn accepts(&self, key_word: &str) -> bool {
        match self {
            TopicWord::Hash | TopicWord::Star => true,
            TopicWord::Word(w) => w == key_word,
        }
    }
}

impl TopicPattern {
    pub fn new(pattern: &str) -> TopicPattern {
        let words: Vec<TopicWord> = words(pattern)
            .map(|w| match w {
                "#" => TopicWord::Hash,
                "*" => TopicWord::Star,
                _ => TopicWord::Word(w.to_string()),
            })
            .collect();
        let has_hash = words.contains(&TopicWord::Hash);
        TopicPattern { words, has_hash }
    }

    pub fn matches(&self, routing_key: &str) -> bool {
        if !self.has_hash {
            // Without '#' every pattern word takes exactly one key word: no allocation needed.
            let mut key = words(routing_key);
            return self
                .words
                .iter()
                .all(|w| key.next().is_some_and(|k| w.accepts(k)))
                && key.next().is_none();
        }
        let key: Vec<&str> = words(routing_key).collect();
        // reached[j]: the pattern words read so far match the first j key words. One row at a time
        // keeps stacked '#'s at O(pattern words x key words) instead of exponential backtracking.
        let mut reached = vec![false; key.len() + 1];
        reached[0] = true;
        for word in &self.words {
            if *word == TopicWord::Hash {
                for j in 1..reached.len() {
                    reached[j] |= reached[j - 1];
                }
            } else {
                // Right to left so that reached[j - 1] still holds the previous row.
                for j in (1..reached.len()).rev() {
                    reached[j] = reached[j - 1] && word.accepts(key[j - 1]);
                }
                reached[0] = false;
            }
        }
        reached[key.len()]
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    // `"".split('.')` yields one empty word, but RabbitMQ treats the empty key as no words.
    s.split('.').filter(move |_| !s.is_empty())
}

/// x-match mode of a headers binding (RMQ-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeadersMatch {
    All,
    Any,
    AllWithX,
    AnyWithX,
}

/// Parse the x-match mode from binding arguments: missing => All; Err(String) naming the bad value otherwise.
pub fn headers_mode(binding_args: &BTreeMap<String, Value>) -> Result<HeadersMatch, String> {
    let Some(value) = binding_args.get("x-match") else {
        return Ok(HeadersMatch::All);
    };
    // Only a string is valid, as RabbitMQ's `validate_binding` accepts only a longstr.
    match value.as_str() {
        Some("all") => Ok(HeadersMatch::All),
        Some("any") => Ok(HeadersMatch::Any),
        Some("all-with-x") => Ok(HeadersMatch::AllWithX),
        Some("any-with-x") => Ok(HeadersMatch::AnyWithX),
        _ => Err(format!(
            "invalid x-match value {value}; expected \"all\", \"any\", \"all-with-x\" or \"any-with-x\""
        )),
    }
}

/// RMQ-5 headers exchange match. binding_args may contain "x-match". A binding arg whose value is Value::Null is a "void" arg: it only tests presence of the header. Keys starting with "x-" are skipped unless mode is AllWithX/AnyWithX ("x-match" itself is always skipped). Edge cases from the spec: only x-match=all matches everything; only x-match=any matches nothing. Values compare by JSON equality.
///
/// An invalid x-match routes as `all`, like RabbitMQ's `parse_x_match` for legacy bindings;
/// callers that create bindings should reject it with [`headers_mode`] first.
pub fn headers_match(
    binding_args: &BTreeMap<String, Value>,
    headers: &BTreeMap<String, Value>,
) -> bool {
    let mode = headers_mode(binding_args).unwrap_or(HeadersMatch::All);
    let with_x = matches!(mode, HeadersMatch::AllWithX | HeadersMatch::AnyWithX);
    let mut checks = binding_args
        .iter()
        .filter(|(key, _)| key.as_str() != "x-match" && (with_x || !key.starts_with("x-")))
        .map(|(key, want)| {
            headers
                .get(key)
                .is_some_and(|have| want.is_null() || want == have)
        });
    // `all` over no checks is true and `any` is false: the two edge cases in RMQ-5.
    match mode {
        HeadersMatch::All | HeadersMatch::AllWithX => checks.all(|ok| ok),
        HeadersMatch::Any | HeadersMatch::AnyWithX => checks.any(|ok| ok),
    }
}

/// A Redis `PSUBSCRIBE` glob (RPS-2), parsed once when the client subscribes: '*' any run of
/// chars (including empty), '?' exactly one char, '[...]' a class with ranges a-z and negation
/// '^', '\\' escapes the next char. Matches the whole channel name.
///
/// Malformed patterns behave as in Redis's `stringmatchlen`: an unclosed `[` is a class that runs
/// to the end of the pattern, `[]` matches nothing, `[^]` any one char, a reversed range `[z-a]`
/// equals `[a-z]`, and a trailing `\` is a literal backslash. Unlike Redis 7 (redis/redis#15643),
/// `*` also matches the empty channel name. Chars are Unicode scalars where Redis compares bytes;
/// the two agree on ASCII.
#[derive(Clone, Debug)]
pub struct Glob {
    /// The runs of one-char matchers between stars: one run means no star. The first run is
    /// pinned to the start of the name and, when there is a star, the last run to its end.
    /// Boxed slices, as a subscriber may hold a thousand patterns.
    runs: Box<[Run]>,
}

/// Stars split a pattern into runs; every matcher of a run takes exactly one char.
#[derive(Clone, Debug)]
enum Run {
    /// Plain chars only, searched with `str::find` in linear time.
    Literal(Box<str>),
    /// Holds a '?' or a class, so it is compared char by char.
    Chars(Box<[One]>),
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut runs = Vec::new();
        let mut run = Vec::new();
        for token in parse_glob(pattern) {
            match token {
                Token::Star => runs.push(Run::new(std::mem::take(&mut run))),
                Token::One(one) => run.push(one),
            }
        }
        runs.push(Run::new(run));
        Glob { runs: runs.into() }
    }

    /// Runs are fixed-length, so each middle run can take its leftmost place: that leaves the
    /// most room for the runs after it. Literal runs make this linear in the name; a run with a
    /// class or '?' costs O(run x name) at worst, never exponential.
    pub fn matches(&self, name: &str) -> bool {
        let (first, rest) = self
            .runs
            .split_first()
            .expect("a glob has at least one run");
        let Some(mut at) = first.match_at(name, 0) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return at == name.len();
        };
        let Some(end) = last.suffix_start(name).filter(|&end| end >= at) else {
            return false;
        };
        let name = &name[..end];
        for run in middle {
            match run.find(name, at) {
                Some(next) => at = next,
                None => return false,
            }
        }
        true
    }
}

impl Run {
    fn new(ones: Vec<One>) -> Run {
        match ones.iter().map(One::char).collect::<Option<String>>() {
            Some(text) => Run::Literal(text.into()),
            None => Run::Chars(ones.into()),
        }
    }

    /// Where this run ends when it starts at byte `at` of `name`.
    fn match_at(&self, name: &str, at: usize) -> Option<usize> {
        let rest = &name[at..];
        match self {
            Run::Literal(text) => rest.starts_with(&**text).then(|| at + text.len()),
            Run::Chars(ones) => {
                let mut chars = rest.chars();
                let mut end = at;
                for one in ones.iter() {
                    let c = chars.next().filter(|&c| one.accepts(c))?;
                    end += c.len_utf8();
                }
                Some(end)
            }
        }
    }

    /// Where this run must start to match the end of `name`, if it does.
    fn suffix_start(&self, name: &str) -> Option<usize> {
        let start = match self {
            Run::Literal(text) => name.len().checked_sub(text.len())?,
            Run::Chars(ones) => name.char_indices().rev().nth(ones.len() - 1)?.0,
        };
        // A literal's start may fall inside a char of `name`: no match, and slicing would panic.
        (name.is_char_boundary(start) && self.match_at(name, start) == Some(name.len()))
            .then_some(start)
    }

    /// The end of this run's leftmost occurrence in `name` at or after byte `from`.
    fn find(&self, name: &str, from: usize) -> Option<usize> {
        match self {
            Run::Literal(text) => name[from..].find(&**text).map(|i| from + i + text.len()),
            Run::Chars(ones) => {
                let mut at = from;
                loop {
                    // Jump to the next char the first matcher accepts; a plain char is a memchr.
                    let rest = &name[at..];
                    let i = match ones[0] {
                        One::Char(c) => rest.find(c)?,
                        ref first => rest.find(|c| first.accepts(c))?,
                    };
                    if let Some(end) = self.match_at(name, at + i) {
                        return Some(end);
                    }
                    at += i + rest[i..].chars().next()?.len_utf8();
                }
            }
        }
    }
}

enum Token {
    Star,
    One(One),
}

/// A matcher of exactly one char.
#[derive(Clone, Debug)]
enum One {
    Char(char),
    /// `?`.
    Any,
    /// Boxed, so that a matcher takes 16 bytes, not 24: most are plain chars.
    Class(Box<Class>),
}

impl One {
    fn char(&self) -> Option<char> {
        match self {
            One::Char(c) => Some(*c),
            _ => None,
        }
    }

    fn accepts(&self, c: char) -> bool {
        match self {
            One::Char(x) => *x == c,
            One::Any => true,
            One::Class(class) => class.contains(c),
        }
    }
}

#[derive(Clone, Debug)]
struct Class {
    negate: bool,
    ranges: Box<[(char, char)]>,
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.negate != self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }
}

fn parse_glob(pattern: &str) -> Vec<Token> {
    let p: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        let (token, used) = match (c, p.get(i + 1)) {
            ('*', _) => (Token::Star, 1),
            ('?', _) => (Token::One(One::Any), 1),
            ('\\', Some(&escaped)) => (Token::One(One::Char(escaped)), 2),
            ('[', _) => {
                let (class, used) = parse_class(&p[i + 1..]);
                (Token::One(One::Class(Box::new(class))), 1 + used)
            }
            _ => (Token::One(One::Char(c)), 1),
        };
        tokens.push(token);
        i += used;
    }
    tokens
}

/// Parses the text after `[`, returning the class and how many chars it used (through `]`).
/// Branch order follows Redis: escape, then `]`, then a range, which may swallow a `]`.
fn parse_class(p: &[char]) -> (Class, usize) {
    let negate = p.first() == Some(&'^');
    let mut i = usize::from(negate);
    let mut ranges = Vec::new();
    while let Some(rest) = p.get(i..) {
        match rest {
            [] => break,
            [']', ..] => {
                i += 1;
                break;
            }
            ['\\', c, ..] => {
                ranges.push((*c, *c));
                i += 2;
            }
            [a, '-', b, ..] => {
                ranges.push((*a.min(b), *a.max(b)));
                i += 3;
            }
            [c, ..] => {
                ranges.push((*c, *c));
                i += 1;
            }
        }
    }
    let ranges = ranges.into();
    (Class { negate, ranges }, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn topic_matches(pattern: &str, routing_key: &str) -> bool {
        TopicPattern::new(pattern).matches(routing_key)
    }

    fn glob_matches(pattern: &str, channel: &str) -> bool {
        Glob::new(pattern).matches(channel)
    }

    /// The matcher before globs were compiled: greedy backtracking to the latest '*' over the
    /// tokens, O(tokens x chars). Kept as the reference for the run-based [`Glob`].
    fn reference_glob_matches(pattern: &str, channel: &str) -> bool {
        let tokens = parse_glob(pattern);
        let text: Vec<char> = channel.chars().collect();
        let one = |t: &Token, c: char| match t {
            Token::One(one) => one.accepts(c),
            Token::Star => false,
        };
        let (mut t, mut s) = (0, 0);
        let mut resume: Option<(usize, usize)> = None;
        while s < text.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    resume = Some((t + 1, s));
                    t += 1;
                }
                Some(token) if one(token, text[s]) => {
                    t += 1;
                    s += 1;
                }
                _ => match resume {
                    Some((rt, rs)) => {
                        resume = Some((rt, rs + 1));
                        t = rt;
                        s = rs + 1;
                    }
                    None => return false,
                },
            }
        }
        tokens[t..].iter().all(|token| matches!(token, Token::Star))
    }

    fn table(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Tiny deterministic LCG, so the randomized tests need no extra crates and never flake.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize % n
        }

        fn pick<'a>(&mut self, items: &[&'a str], max_len: usize) -> Vec<&'a str> {
            let len = self.below(max_len + 1);
            (0..len).map(|_| items[self.below(items.len())]).collect()
        }
    }

    // ---- RMQ-4 topic ----

    #[test]
    fn rmq_04_star_matches_exactly_one_word() {
        assert!(topic_matches(
            "regions.na.cities.*",
            "regions.na.cities.toronto"
        ));
        assert!(!topic_matches("regions.na.cities.*", "regions.na.cities"));
        assert!(!topic_matches(
            "regions.na.cities.*",
            "regions.na.cities.toronto.east"
        ));
    }

    #[test]
    fn rmq_04_hash_matches_zero_words() {
        assert!(topic_matches("audit.events.#", "audit.events"));
        assert!(topic_matches("a.#.b", "a.b"));
    }

    #[test]
    fn rmq_04_hash_matches_many_words() {
        assert!(topic_matches("audit.events.#", "audit.events.users.signup"));
        assert!(!topic_matches("audit.events.#", "audit.users"));
        assert!(topic_matches("a.#.b", "a.x.y.b"));
        assert!(!topic_matches("a.#.b", "a.x.y.c"));
    }

    #[test]
    fn rmq_04_hash_alone_is_fanout() {
        for key in ["", "a", "a.b.c", ".", "*", "#", "a..b"] {
            assert!(topic_matches("#", key), "{key:?}");
        }
    }

    #[test]
    fn rmq_04_words_compare_exactly() {
        assert!(topic_matches("a.b", "a.b"));
        assert!(!topic_matches("a.b", "a.B"));
        assert!(!topic_matches("a.b", "a.bc"));
        assert!(
            !topic_matches("a*.b", "ax.b"),
            "'*' is a wildcard only as a whole word"
        );
    }

    #[test]
    fn rmq_04_empty_key_is_zero_words() {
        assert!(topic_matches("", ""));
        assert!(!topic_matches("*", ""));
        assert!(!topic_matches("", "a"));
        assert!(topic_matches("*.*", "."), "'.' is two empty words");
        assert!(topic_matches("a.*", "a."));
        assert!(!topic_matches("a", "a."));
    }

    #[test]
    fn rmq_04_many_hashes_stay_polynomial() {
        let pattern = format!("{}x", "#.".repeat(40));
        let key = vec!["w"; 2_000].join(".");
        assert!(!topic_matches(&pattern, &key));
        assert!(topic_matches(&pattern, &format!("{key}.x")));
    }

    /// Exponential backtracking straight from RMQ-4's wording, as a reference.
    fn naive_topic(p: &[&str], k: &[&str]) -> bool {
        match p.split_first() {
            None => k.is_empty(),
            Some((&"#", rest)) => (0..=k.len()).any(|n| naive_topic(rest, &k[n..])),
            Some((w, rest)) => k
                .split_first()
                .is_some_and(|(kw, k_rest)| (*w == "*" || w == kw) && naive_topic(rest, k_rest)),
        }
    }

    #[test]
    fn rmq_04_agrees_with_naive_backtracking() {
        let mut rng = Lcg(4);
        for _ in 0..20_000 {
            let p = rng.pick(&["a", "b", "", "*", "#"], 6).join(".");
            let k = rng.pick(&["a", "b", "", "*", "#"], 6).join(".");
            let (pw, kw): (Vec<_>, Vec<_>) = (words(&p).collect(), words(&k).collect());
            assert_eq!(
                topic_matches(&p, &k),
                naive_topic(&pw, &kw),
                "{p:?} vs {k:?}"
            );
        }
    }

    // ---- RMQ-5 headers ----

    #[test]
    fn rmq_05_all_needs_every_header_equal() {
        let b = table(&[
            ("x-match", json!("all")),
            ("a", json!(1)),
            ("b", json!("x")),
        ]);
        assert!(headers_match(
            &b,
            &table(&[("a", json!(1)), ("b", json!("x")), ("c", json!(0))])
        ));
        assert!(!headers_match(&b, &table(&[("a", json!(1))])));
        assert!(!headers_match(
            &b,
            &table(&[("a", json!(1)), ("b", json!("y"))])
        ));
        assert!(!headers_match(&b, &table(&[])));
    }

    #[test]
    fn rmq_05_any_needs_one_header() {
        let b = table(&[
            ("x-match", json!("any")),
            ("a", json!(1)),
            ("b", json!("x")),
        ]);
        assert!(headers_match(&b, &table(&[("b", json!("x"))])));
        assert!(headers_match(
            &b,
            &table(&[("a", json!(1)), ("b", json!("y"))])
        ));
        assert!(!headers_match(
            &b,
            &table(&[("a", json!(2)), ("c", json!("x"))])
        ));
        assert!(!headers_match(&b, &table(&[])));
    }

    #[test]
    fn rmq_05_missing_x_match_means_all() {
        let b = table(&[("a", json!(1)), ("b", json!(2))]);
        assert_eq!(headers_mode(&b), Ok(HeadersMatch::All));
        assert!(headers_match(
            &b,
            &table(&[("a", json!(1)), ("b", json!(2))])
        ));
        assert!(!headers_match(&b, &table(&[("a", json!(1))])));
    }

    #[test]
    fn rmq_05_x_keys_skipped_unless_with_x() {
        let h = table(&[("a", json!(1))]);
        let all = table(&[
            ("x-match", json!("all")),
            ("a", json!(1)),
            ("x-k", json!(7)),
        ]);
        assert!(headers_match(&all, &h), "x-k is ignored under all");
        let all_x = table(&[
            ("x-match", json!("all-with-x")),
            ("a", json!(1)),
            ("x-k", json!(7)),
        ]);
        assert!(!headers_match(&all_x, &h));
        assert!(headers_match(
            &all_x,
            &table(&[("a", json!(1)), ("x-k", json!(7))])
        ));

        let any = table(&[("x-match", json!("any")), ("x-k", json!(7))]);
        assert!(!headers_match(&any, &table(&[("x-k", json!(7))])));
        let any_x = table(&[("x-match", json!("any-with-x")), ("x-k", json!(7))]);
        assert!(headers_match(&any_x, &table(&[("x-k", json!(7))])));
        assert!(
            headers_match(&table(&[("x-match", json!("all-with-x"))]), &h),
            "x-match itself is never a test"
        );
    }

    #[test]
    fn rmq_05_void_arg_tests_presence() {
        let b = table(&[("x-match", json!("all")), ("a", Value::Null)]);
        assert!(headers_match(&b, &table(&[("a", json!("anything"))])));
        assert!(headers_match(&b, &table(&[("a", Value::Null)])));
        assert!(!headers_match(&b, &table(&[("b", json!(1))])));
        let any = table(&[
            ("x-match", json!("any")),
            ("a", Value::Null),
            ("b", json!(2)),
        ]);
        assert!(headers_match(&any, &table(&[("a", json!(0))])));
    }

    #[test]
    fn rmq_05_only_x_match_all_matches_everything() {
        let b = table(&[("x-match", json!("all"))]);
        assert!(headers_match(&b, &table(&[])));
        assert!(headers_match(&b, &table(&[("a", json!(1))])));
        assert!(
            headers_match(&table(&[]), &table(&[])),
            "missing x-match is all"
        );
    }

    #[test]
    fn rmq_05_only_x_match_any_matches_nothing() {
        let b = table(&[("x-match", json!("any"))]);
        assert!(!headers_match(&b, &table(&[])));
        assert!(!headers_match(
            &b,
            &table(&[("a", json!(1)), ("x-match", json!("any"))])
        ));
    }

    #[test]
    fn rmq_05_values_compare_by_json_equality() {
        let b = table(&[("a", json!({"k": [1, "x"]}))]);
        assert!(headers_match(&b, &table(&[("a", json!({"k": [1, "x"]}))])));
        assert!(!headers_match(&b, &table(&[("a", json!({"k": [1]}))])));
        let one = table(&[("a", json!(1))]);
        assert!(!headers_match(&one, &table(&[("a", json!("1"))])));
        assert!(!headers_match(&one, &table(&[("a", json!(1.0))])));
    }

    #[test]
    fn rmq_05_headers_mode_parses_and_rejects() {
        for (text, mode) in [
            ("all", HeadersMatch::All),
            ("any", HeadersMatch::Any),
            ("all-with-x", HeadersMatch::AllWithX),
            ("any-with-x", HeadersMatch::AnyWithX),
        ] {
            assert_eq!(headers_mode(&table(&[("x-match", json!(text))])), Ok(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(text));
        }
        let bad = headers_mode(&table(&[("x-match", json!("ALL"))])).unwrap_err();
        assert!(bad.contains("\"ALL\""), "{bad}");
        let bad = headers_mode(&table(&[("x-match", json!(1))])).unwrap_err();
        assert!(bad.contains("value 1;"), "{bad}");
    }

    #[test]
    fn rmq_05_invalid_x_match_routes_as_all() {
        let b = table(&[
            ("x-match", json!("bogus")),
            ("a", json!(1)),
            ("b", json!(2)),
        ]);
        assert!(headers_match(
            &b,
            &table(&[("a", json!(1)), ("b", json!(2))])
        ));
        assert!(!headers_match(&b, &table(&[("a", json!(1))])));
    }

    // ---- RPS-2 glob ----

    #[test]
    fn rps_02_glob_star_and_literal() {
        assert!(glob_matches("news.*", "news.art"));
        assert!(glob_matches("news.*", "news."));
        assert!(!glob_matches("news.*", "news"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "a"));
        assert!(glob_matches("f*o*o", "foo"));
        assert!(glob_matches("f**", "f"));
        assert!(!glob_matches("foo", "Foo"));
        assert!(!glob_matches("foo", "fooo"));
    }

    #[test]
    fn rps_02_glob_question_and_class() {
        assert!(glob_matches("h?llo", "hello"));
        assert!(!glob_matches("h?llo", "hllo"));
        assert!(
            glob_matches("h?llo", "hällo"),
            "'?' is one char, not one byte"
        );
        assert!(glob_matches("h[ae]llo", "hallo"));
        assert!(!glob_matches("h[ae]llo", "hillo"));
        assert!(glob_matches("h[^e]llo", "hallo"));
        assert!(!glob_matches("h[^e]llo", "hello"));
        assert!(glob_matches("h[a-b]llo", "hbllo"));
        assert!(!glob_matches("h[a-b]llo", "hcllo"));
        assert!(glob_matches("[z-a]", "m"), "Redis swaps a reversed range");
        assert!(glob_matches("[\\]]", "]"));
        assert!(glob_matches("[a\\-z]", "-"));
        assert!(!glob_matches("[a\\-z]", "m"));
    }

    #[test]
    fn rps_02_glob_backslash_escapes() {
        assert!(glob_matches("a\\*", "a*"));
        assert!(!glob_matches("a\\*", "ab"));
        assert!(glob_matches("\\?", "?"));
        assert!(!glob_matches("\\?", "x"));
        assert!(
            glob_matches("a\\", "a\\"),
            "a trailing backslash is literal"
        );
    }

    #[test]
    fn rps_02_malformed_class_follows_redis() {
        assert!(
            glob_matches("[abc", "b"),
            "an unclosed class runs to the end"
        );
        assert!(!glob_matches("[abc", "[abc"));
        assert!(!glob_matches("[", "["));
        assert!(!glob_matches("[]", "]"), "[] is an empty class");
        assert!(glob_matches("[^]", "x"));
        assert!(glob_matches("[^", "x"));
        assert!(
            glob_matches("[a-]", "^"),
            "the range a-] swallows the bracket"
        );
        assert!(glob_matches("x[\\", "x\\"));
    }

    #[test]
    fn rps_02_many_stars_stay_polynomial() {
        let pattern = format!("{}b", "*a".repeat(40));
        let channel = "a".repeat(5_000);
        assert!(!glob_matches(&pattern, &channel));
        assert!(glob_matches(&pattern, &format!("{channel}b")));
    }

    #[test]
    fn rps_02_agrees_with_redis_stringmatchlen() {
        /// Direct port of Redis 7 `stringmatchlen_impl` with nocase = 0, minus its
        /// skip-longer-matches shortcut, which does not change the answer.
        fn redis(p: &[char], s: &[char]) -> bool {
            let (mut pi, mut si) = (0, 0);
            while pi < p.len() && si < s.len() {
                match p[pi] {
                    '*' => {
                        while pi + 1 < p.len() && p[pi + 1] == '*' {
                            pi += 1;
                        }
                        if pi + 1 == p.len() {
                            return true;
                        }
                        return (si..s.len()).any(|i| redis(&p[pi + 1..], &s[i..]));
                    }
                    '?' => si += 1,
                    '[' => {
                        pi += 1;
                        let not = p.get(pi) == Some(&'^');
                        pi += usize::from(not);
                        let mut hit = false;
                        loop {
                            if p.get(pi) == Some(&'\\') && pi + 2 <= p.len() {
                                pi += 1;
                                hit |= p[pi] == s[si];
                            } else if p.get(pi) == Some(&']') {
                                break;
                            } else if pi == p.len() {
                                pi -= 1;
                                break;
                            } else if pi + 3 <= p.len() && p[pi + 1] == '-' {
                                let (lo, hi) = (p[pi].min(p[pi + 2]), p[pi].max(p[pi + 2]));
                                pi += 2;
                                hit |= lo <= s[si] && s[si] <= hi;
                            } else {
                                hit |= p[pi] == s[si];
                            }
                            pi += 1;
                        }
                        if hit == not {
                            return false;
                        }
                        si += 1;
                    }
                    c => {
                        if c == '\\' && pi + 2 <= p.len() {
                            pi += 1;
                        }
                        if p[pi] != s[si] {
                            return false;
                        }
                        si += 1;
                    }
                }
                pi += 1;
                if si == s.len() {
                    while p.get(pi) == Some(&'*') {
                        pi += 1;
                    }
                    break;
                }
            }
            pi == p.len() && si == s.len()
        }
        let atoms = ["a", "b", "-", "*", "?", "[", "]", "^", "\\", "é"];
        let mut rng = Lcg(2);
        for _ in 0..200_000 {
            let p = rng.pick(&atoms, 8).concat();
            let s = rng.pick(&atoms, 6).concat();
            // Redis 7 never matches an empty channel (redis/redis#15643); that is deliberate here.
            if s.is_empty() {
                continue;
            }
            let (pc, sc): (Vec<char>, Vec<char>) = (p.chars().collect(), s.chars().collect());
            assert_eq!(glob_matches(&p, &s), redis(&pc, &sc), "{p:?} vs {s:?}");
        }
    }

    #[test]
    fn rps_02_compiled_glob_agrees_with_reference() {
        let atoms = [
            "a", "b", "ab", "-", "*", "?", "[", "]", "^", "\\", "é", "[a-b]", "[^a]",
        ];
        let mut rng = Lcg(11);
        for _ in 0..20_000 {
            let p = rng.pick(&atoms, 10).concat();
            let glob = Glob::new(&p);
            // One compiled glob serves many names, as it does for a subscriber.
            for _ in 0..10 {
                let s = rng.pick(&atoms, 12).concat();
                assert_eq!(
                    glob.matches(&s),
                    reference_glob_matches(&p, &s),
                    "{p:?} vs {s:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x91_0b),
            failure_persistence: None,
            ..Default::default()
        })]

        #[test]
        fn rps_02_compiled_glob_agrees_with_reference_prop(
            p in "[ab*?\\\\\\[\\]^é-]{0,10}",
            names in proptest::collection::vec("[ab*?\\\\\\[\\]^é-]{0,14}", 1..8),
        ) {
            let glob = Glob::new(&p);
            for s in &names {
                proptest::prop_assert_eq!(glob.matches(s), reference_glob_matches(&p, s), "{:?} vs {:?}", p, s);
            }
        }
    }

    #[test]
    fn rps_02_long_runs_stay_linear() {
        // F6: a star then a long literal run, against a long name. The last run is pinned to the
        // end of the name, and a middle run is found with `str::find`.
        let pattern = format!("*{}b", "a".repeat(10_000));
        let channel = "a".repeat(20_000);
        let glob = Glob::new(&pattern);
        assert!(!glob.matches(&channel));
        assert!(glob.matches(&format!("{channel}b")));
        let middle = Glob::new(&format!("*{}b*", "a".repeat(10_000)));
        assert!(!middle.matches(&channel));
        assert!(middle.matches(&format!("{channel}bc")));
    }

    #[test]
    fn rps_02_runs_pin_start_and_end() {
        assert!(
            !glob_matches("a*a", "a"),
            "the first and last runs may not overlap"
        );
        assert!(glob_matches("a*a", "aa"));
        assert!(glob_matches("é*[é]", "éé"));
        assert!(!glob_matches("é*[é]", "é"));
        assert!(!glob_matches("*é", "e"));
        assert!(glob_matches("*?é", "xé"));
        assert!(!glob_matches("*?é", "é"));
        assert!(glob_matches("a*b?c*d", "aXbYcZd"));
        assert!(!glob_matches("a*b?c*d", "aXbcZd"));
    }

    #[test]
    fn rmq_04_compiled_pattern_agrees_with_reference() {
        let mut rng = Lcg(5);
        for _ in 0..5_000 {
            let p = rng.pick(&["a", "b", "", "*", "#"], 6).join(".");
            let pattern = TopicPattern::new(&p);
            for _ in 0..10 {
                let k = rng.pick(&["a", "b", "", "*", "#"], 6).join(".");
                let (pw, kw): (Vec<_>, Vec<_>) = (words(&p).collect(), words(&k).collect());
                assert_eq!(pattern.matches(&k), naive_topic(&pw, &kw), "{p:?} vs {k:?}");
            }
        }
    }

    // ---- robustness ----

    #[test]
    fn random_input_never_panics() {
        let atoms = [
            "a",
            ".",
            "*",
            "#",
            "?",
            "[",
            "]",
            "^",
            "-",
            "\\",
            "x-",
            "é",
            "",
            "\u{10FFFF}",
        ];
        let mut rng = Lcg(7);
        for _ in 0..50_000 {
            let p = rng.pick(&atoms, 12).concat();
            let s = rng.pick(&atoms, 12).concat();
            topic_matches(&p, &s);
            glob_matches(&p, &s);
            let args = table(&[
                (
                    "x-match",
                    json!(rng.pick(&["all", "any", "-with-x", "?"], 2).concat()),
                ),
                (
                    p.as_str(),
                    if rng.below(2) == 0 {
                        Value::Null
                    } else {
                        json!(s)
                    },
                ),
            ]);
            let _ = headers_mode(&args);
            headers_match(&args, &table(&[(s.as_str(), json!(p))]));
        }
    }
}
