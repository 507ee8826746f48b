#!/usr/bin/env python3
"""mdBook preprocessor for the chapters' exercises (declared in book.toml, runs after `links`).

Two changes to what the reader sees, none to the Markdown files:

1. The marker comments of exercise regions (`// exercise:`, `// contract:`, `// nudge:`,
   `// hint:`, `// end exercise`) are dropped from code blocks. They drive `cargo learn
   generate` (src/bin/learn/generate.rs); in the book, where a solution is shown by
   `{{#include}}`, they are noise, and the hints would be read before the code.
2. A doc comment's example (a ```` /// ``` ```` block, with the empty `///` line before it) is
   dropped from code blocks too. It is a doctest that teaches the item's use in the API
   documentation; in a listing that shows how the item is built, it is a second program.
3. A chapter's `## One solution…` section, which follows its exercise on the same page, is
   folded into a collapsed `<details>` block, so a reader does not see the answer before trying.
   The section runs to the next `## ` heading.

mdBook calls it twice: `supports <renderer>` (every renderer is fine), then with
`[context, book]` as JSON on stdin, expecting the book back on stdout. Both the 0.4 book
format (`sections`) and the 0.5 one (`items`) are handled.
"""

import json
import re
import sys

MARKERS = ("// exercise:", "// contract:", "// nudge:", "// hint:", "// end exercise")
FENCE = re.compile(r"^\s*(```|~~~)")
DOC_FENCE = re.compile(r"^\s*///\s?```")
SOLUTION = re.compile(r"^## (One solution.*)$")
SECTION = re.compile(r"^## ")


def strip_markers(lines):
    """Drops marker lines and doc-comment examples inside fenced code blocks."""
    out = []
    fence = None
    doc_example = False
    for line in lines:
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
            out.append(line)
            continue
        if fence is not None and DOC_FENCE.match(line):
            if not doc_example and out and out[-1].strip() == "///":
                out.pop()
            doc_example = not doc_example
            continue
        if doc_example:
            continue
        if fence is not None and line.lstrip().startswith(MARKERS):
            continue
        out.append(line)
    return out


def fold_solutions(lines):
    """Wraps each `## One solution…` section into a collapsed `<details>` block."""
    out = []
    open_section = False
    fence = None
    for line in lines:
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1) == fence:
                fence = None
        heading = fence is None and not match
        if heading and open_section and SECTION.match(line):
            out.extend(["", "</details>", ""])
            open_section = False
        solution = SOLUTION.match(line) if heading else None
        if solution:
            title = solution.group(1)
            out.extend(
                [
                    '<details class="solution">',
                    f"<summary><strong>{title}</strong> (open it once you have tried the "
                    "exercise)</summary>",
                    "",
                ]
            )
            open_section = True
            continue
        out.append(line)
    if open_section:
        out.extend(["", "</details>"])
    return out


def transform(content):
    lines = content.split("\n")
    return "\n".join(fold_solutions(strip_markers(lines)))


def walk(items):
    for item in items:
        chapter = item.get("Chapter") if isinstance(item, dict) else None
        if chapter is None:
            continue
        chapter["content"] = transform(chapter["content"])
        walk(chapter.get("sub_items", []))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        sys.exit(0)
    context, book = json.load(sys.stdin)
    walk(book.get("items", book.get("sections", [])))
    json.dump(book, sys.stdout)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sample = "\n".join(
            [
                "## Exercise",
                "Try it.",
                "## One solution: the lists",
                "",
                "```rust",
                "    fn f() {",
                "        // exercise: do it",
                "        // contract: it is done",
                "        // hint: do it",
                "        done();",
                "        /// Runs it.",
                "        ///",
                "        /// ```",
                "        /// assert!(run());",
                "        /// ```",
                "        fn run() {}",
                "        // end exercise",
                "    }",
                "## not a heading: inside a code block",
                "```",
                "",
                "## How Node does it",
            ]
        )
        got = transform(sample)
        assert "// exercise:" not in got and "// contract:" not in got, got
        assert "        done();" in got, got
        assert "assert!(run())" not in got and "/// Runs it.\n        fn run" in got, got
        assert '<details class="solution">' in got, got
        assert "<strong>One solution: the lists</strong>" in got, got
        assert got.index("</details>") < got.index("## How Node does it"), got
        assert got.index("</details>") > got.index("## not a heading"), got
        print("ok")
        sys.exit(0)
    main()
