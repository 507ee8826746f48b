//! Many wrong solutions in one build.
//!
//! A wrong solution (or a mutant) changes one exercise file, and each change costs a rebuild
//! of the library and of the test binary: 110 kept wrong solutions were 110 rebuilds, most of
//! `cargo learn check`'s time. Every region is the tail of its function, so one file can hold
//! all of an exercise's wrong solutions at once, each region choosing its code when it runs:
//!
//! ```text
//! match { static LEARN_VARIANT: OnceLock<usize> = …; /* $LEARN_VARIANT, read once */ } {
//!     3 => {
//!         // learn-variant: 3
//!         …wrong solution 3's code for this region…
//!         // learn-variant-end
//!     }
//!     _ => {
//!         …the reference code…
//!     }
//! }
//! ```
//!
//! One build, then one test run per wrong solution with `LEARN_VARIANT` set to its number
//! (cargo does not rebuild for a variable the code reads at run time). A region a wrong
//! solution does not name runs the reference, as in its own file.
//!
//! A variant that does not compile breaks the build for all: the compiler's errors name lines
//! of the file, the markers say whose arm each line is in, and those variants leave the batch
//! (they are unviable) until the rest builds. An error outside every arm cannot be pinned on
//! one variant: then the batch gives up and the caller builds each one alone.

use std::collections::BTreeSet;

use crate::catalog::Exercise;
use crate::generate;
use crate::wrong::WrongSolution;

/// The environment variable that picks the variant at run time.
pub const VARIABLE: &str = "LEARN_VARIANT";

const ARM_START: &str = "// learn-variant: ";
const ARM_END: &str = "// learn-variant-end";

/// The exercise file holding every variant of `variants` (each with its index in the slice
/// as its number).
///
/// # Errors
/// When the source's markers are broken, or a variant names a function with no region (see
/// [`WrongSolution::apply`], which the caller runs first).
pub fn combined(
    exercise: &Exercise,
    source: &str,
    variants: &[(usize, &WrongSolution)],
) -> Result<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    generate::solve(exercise, source, &|region| {
        let arms: Vec<(usize, &str)> = variants
            .iter()
            .filter_map(|(number, variant)| {
                variant
                    .bodies
                    .iter()
                    .find(|(function, _)| *function == region.function)
                    .map(|(_, code)| (*number, code.as_str()))
            })
            .collect();
        if arms.is_empty() {
            return None;
        }
        let reference: String = crate::mutants::region_code(&lines, region)
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        let mut out = String::new();
        out.push_str("match {\n");
        out.push_str(&format!(
            "    static LEARN_VARIANT: std::sync::OnceLock<usize> = std::sync::OnceLock::new();\n    \
             *LEARN_VARIANT.get_or_init(|| {{\n        \
             std::env::var(\"{VARIABLE}\").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX)\n    \
             }})\n"
        ));
        out.push_str("} {\n");
        for (number, code) in arms {
            out.push_str(&format!("    {number} => {{\n        {ARM_START}{number}\n"));
            out.push_str(&indent(code, 8));
            out.push_str(&format!("        {ARM_END}\n    }}\n"));
        }
        out.push_str("    _ => {\n");
        out.push_str(&indent(&reference, 8));
        out.push_str("    }\n}\n");
        Some(out)
    })
    .map_err(|e| e.to_string())
}

/// The variants whose arms hold the lines the compiler's `output` complains about in
/// `file` (the exercise file's path as cargo prints it, e.g. `exercises/heap.rs`), or `None`
/// when an error lies outside every arm.
pub fn blamed(text: &str, file: &str, output: &str) -> Option<BTreeSet<usize>> {
    let lines: Vec<&str> = text.lines().collect();
    // For each line of the file (1-based), the variant whose arm it is in.
    let mut owner = vec![None; lines.len() + 2];
    let mut current = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if let Some(number) = t.strip_prefix(ARM_START) {
            current = number.trim().parse::<usize>().ok();
        } else if t == ARM_END {
            current = None;
        }
        owner[i + 1] = current;
    }
    let mut blamed = BTreeSet::new();
    let mut errors = 0;
    let mut in_error = false;
    for line in output.lines() {
        let t = line.trim_start();
        if t.starts_with("error") {
            // `error[E0308]: …` or `error: …`; `error: could not compile` ends a build.
            in_error =
                !t.starts_with("error: could not compile") && !t.starts_with("error: aborting");
            if in_error {
                errors += 1;
            }
        } else if t.starts_with("warning") {
            in_error = false;
        }
        if !in_error {
            continue;
        }
        if let Some(place) = t.strip_prefix("--> ") {
            // rustc names the file by the module's `path` attribute, from the module that
            // declares it (`src/timers/../../exercises/timers.rs:250:9`). An error in
            // another file (a test, the library) is nobody's.
            let (path, rest) = place.split_once(".rs:")?;
            if !format!("{path}.rs").ends_with(file) {
                return None;
            }
            let number: usize = rest.split(':').next()?.parse().ok()?;
            blamed.insert(owner.get(number).copied().flatten()?);
            in_error = false;
        }
    }
    (errors > 0 && !blamed.is_empty()).then_some(blamed)
}

fn indent(code: &str, by: usize) -> String {
    code.lines()
        .map(|l| {
            if l.trim().is_empty() {
                "\n".to_string()
            } else {
                format!("{}{l}\n", " ".repeat(by))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrong::tests::{SOURCE, exercise};
    use std::path::Path;

    fn wrong(text: &str) -> WrongSolution {
        crate::wrong::parse(Path::new("w.rs"), text).unwrap()
    }

    #[test]
    fn each_region_picks_its_variant_at_run_time_and_the_reference_otherwise() {
        let lifo = wrong("// mistake: m\n// region: pop\nself.0.pop()\n");
        let front = wrong("// mistake: m\n// region: push\nself.0.insert(0, x);\n");
        let text = combined(&exercise(), SOURCE, &[(0, &lifo), (7, &front)]).unwrap();
        assert!(text.contains("std::env::var(\"LEARN_VARIANT\")"), "{text}");
        // pop: variant 0's code in its arm, the reference for every other number.
        assert!(
            text.contains(
                "            0 => {\n                // learn-variant: 0\n                \
                 self.0.pop()\n                // learn-variant-end\n            }\n            \
                 _ => {\n                if self.0.is_empty() {\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "            7 => {\n                // learn-variant: 7\n                \
                 self.0.insert(0, x);\n"
            ),
            "{text}"
        );
        assert_eq!(text.matches("// learn-variant: ").count(), 2, "{text}");
        assert!(!text.contains("// contract:"), "{text}");
        assert!(!text.contains("todo!(\""), "{text}");

        // A compile error inside variant 7's arm blames variant 7; one elsewhere, nobody.
        let line = text
            .lines()
            .position(|l| l.contains("self.0.insert(0, x);"))
            .unwrap()
            + 1;
        let output = format!(
            "error[E0308]: mismatched types\n  --> exercises/q.rs:{line}:13\n   |\n\
             warning: unused\n  --> exercises/q.rs:1:1\n\
             error: could not compile `q` (lib) due to 1 previous error\n"
        );
        assert_eq!(
            blamed(&text, "exercises/q.rs", &output),
            Some(BTreeSet::from([7]))
        );
        let through_a_module = output.replace("exercises/q.rs", "src/a/../../exercises/q.rs");
        assert_eq!(
            blamed(&text, "exercises/q.rs", &through_a_module),
            Some(BTreeSet::from([7]))
        );
        let outside = "error[E0425]: cannot find value\n  --> exercises/q.rs:2:1\n";
        assert_eq!(blamed(&text, "exercises/q.rs", outside), None);
        let other_file = "error[E0425]: cannot find value\n  --> src/lib.rs:2:1\n";
        assert_eq!(blamed(&text, "exercises/q.rs", other_file), None);
    }
}
