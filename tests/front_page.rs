//! The README's "use it as a runtime" program is the crate's first documentation example,
//! which `cargo test --doc` runs: the two must not drift apart.

use std::fs;

/// The body of the first fenced block that opens with `fence` in `text`, each line passed
/// through `strip`.
fn first_block<'a>(
    text: &'a str,
    fence: &str,
    strip: impl Fn(&'a str) -> Option<&'a str>,
) -> String {
    let mut lines = text.lines().filter_map(strip);
    lines
        .by_ref()
        .find(|l| l.trim_end() == fence)
        .unwrap_or_else(|| panic!("no block opening with {fence:?}"));
    lines
        .take_while(|l| l.trim_end() != "```")
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_readme_program_is_the_front_page_doc_test() {
    let readme = fs::read_to_string("README.md").expect("README.md");
    let lib = fs::read_to_string("src/lib.rs").expect("src/lib.rs");
    let in_readme = first_block(&readme, "```rust", Some);
    let on_front_page = first_block(&lib, "```", |l| {
        l.strip_prefix("//!")
            .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
    });
    assert!(
        in_readme.contains("fn main()") && in_readme.lines().count() <= 25,
        "the README's program is a whole, short program:\n{in_readme}"
    );
    assert_eq!(
        in_readme, on_front_page,
        "README.md's runtime program and src/lib.rs's first example differ"
    );
}
