//! "Did you mean" suggestions for unknown scope names.

/// Up to three known names close to `unknown`, best first: those within a
/// small edit distance, and those whose last segment is `unknown` (so
/// `playlists` suggests `read:playlists` and `write:playlists`).
pub(crate) fn similar<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (unknown.chars().count() / 3).max(1);
    let mut found: Vec<(usize, usize, &str)> = known
        .into_iter()
        .enumerate()
        .filter_map(|(order, name)| {
            let distance = edit_distance(unknown, name);
            let suffix = name
                .rsplit_once(':')
                .is_some_and(|(_, last)| last == unknown);
            (distance <= limit || suffix).then_some((distance, order, name))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().take(3).map(|(_, _, name)| name).collect()
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"` (with `conjunction` = `or`).
pub(crate) fn quoted_list(names: &[&str], conjunction: &str) -> String {
    marked_list(names, "\"", conjunction)
}

/// `names` each between two `mark`s, joined as [`quoted_list`] joins them
/// (`mark` = `` ` `` for keywords).
pub(crate) fn marked_list(names: &[&str], mark: &str, conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{mark}{n}{mark}")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of adjacent characters each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d: Vec<usize> = vec![0; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("write:playlist", "write:playlists"), 1);
        assert_eq!(edit_distance("wirte", "write"), 1);
        assert_eq!(edit_distance("", "read"), 4);
        assert_eq!(edit_distance("read", "read"), 0);
    }

    #[test]
    fn suggestions() {
        let known = ["read", "read:playlists", "write", "write:playlists"];
        assert_eq!(similar("write:playlist", known), ["write:playlists"]);
        assert_eq!(
            similar("playlists", known),
            ["read:playlists", "write:playlists"]
        );
        assert!(similar("zzzzzz", known).is_empty());
    }

    #[test]
    fn lists() {
        assert_eq!(quoted_list(&["a"], "or"), "\"a\"");
        assert_eq!(quoted_list(&["a", "b"], "or"), "\"a\" or \"b\"");
        assert_eq!(
            quoted_list(&["a", "b", "c"], "and"),
            "\"a\", \"b\" and \"c\""
        );
    }
}
