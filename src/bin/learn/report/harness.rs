//! The test harness's side of `cargo test`: one `---- name stdout ----` section per failed
//! test, with the panic's location and message, and the crashes that leave no section.

use super::{FailedTest, Failure, Location, rustc::parse_location};

/// The `---- name stdout ----` sections, one per failed test.
pub fn failed_sections(output: &str) -> Vec<FailedTest> {
    let lines: Vec<&str> = output.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        else {
            continue;
        };
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with("---- ") || *l == "failures:")
            .map_or(lines.len(), |n| i + 1 + n);
        found.push(read_section(name, &lines[i + 1..end]));
    }
    found
}

/// One test's section: its first panic, or the harness's note about `should_panic`.
pub fn read_section(name: &str, body: &[&str]) -> FailedTest {
    let mut test = FailedTest {
        name: name.to_string(),
        failure: Failure::DidNotPanic,
        location: None,
    };
    // The test's own panic, when other threads (a worker, say) panicked in it too; its last,
    // when it caught some on purpose first: the last one is what ended the test.
    let own = format!("thread '{name}'");
    let start = body
        .iter()
        .rposition(|l| l.starts_with(&own) && panic_location(l).is_some())
        .or_else(|| body.iter().position(|l| panic_location(l).is_some()));
    if let Some(start) = start {
        test.location = panic_location(body[start]);
        let message: Vec<String> = body[start + 1..]
            .iter()
            .take_while(|l| {
                !l.is_empty() && !l.starts_with("note: ") && !l.starts_with("stack backtrace:")
            })
            .map(|l| l.to_string())
            .collect();
        let expected = body
            .iter()
            .find_map(|l| l.trim_start().strip_prefix("expected substring: "))
            .map(|s| unquote(s).to_string());
        let first = message.first().map(String::as_str).unwrap_or_default();
        test.failure = if let Some(title) = first.strip_prefix("not yet implemented: ") {
            Failure::Todo {
                title: title.to_string(),
            }
        } else if first == "not yet implemented" {
            Failure::Todo {
                title: String::new(),
            }
        } else if let Some(expected) = expected {
            Failure::WrongPanic { expected, message }
        } else {
            Failure::Panic { message }
        };
    } else if let Some(at) = body
        .iter()
        .find_map(|l| l.strip_prefix("note: test did not panic as expected at "))
    {
        test.location = parse_location(at);
    }
    test
}

/// Every panic printed as it happened (a run with `--nocapture`), named by its thread (the
/// test), first panic of each test only.
pub fn panics(output: &str) -> Vec<FailedTest> {
    let lines: Vec<&str> = output.lines().collect();
    let mut found: Vec<FailedTest> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if panic_location(line).is_none() {
            continue;
        }
        let Some(name) = line
            .strip_prefix("thread '")
            .and_then(|rest| rest.split_once('\''))
            .map(|(name, _)| name)
        else {
            continue;
        };
        if found.iter().all(|t| t.name != name) {
            found.push(read_section(name, &lines[i..]));
        }
    }
    found
}

/// The location of a `thread '…' panicked at <file>:<line>:<col>:` line.
fn panic_location(line: &str) -> Option<Location> {
    if !line.starts_with("thread '") {
        return None;
    }
    let (_, at) = line.split_once(" panicked at ")?;
    parse_location(at.strip_suffix(':').unwrap_or(at))
}

/// A crash that ended the test binary, which leaves no `---- … stdout ----` section.
pub fn crash(output: &str) -> Option<FailedTest> {
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("thread '") {
            let (name, tail) = rest.split_once('\'')?;
            if tail.ends_with("has overflowed its stack") {
                return Some(FailedTest {
                    name: name.to_string(),
                    failure: Failure::Crashed {
                        why: "it overflowed its stack: a function that calls itself without end?"
                            .into(),
                    },
                    location: None,
                });
            }
        }
        // libtest: "test heap::x has been running for over 60 seconds"
        if let Some(rest) = line.strip_prefix("test ")
            && let Some(name) = rest.strip_suffix(" has been running for over 60 seconds")
            && !output.contains("test result: ")
        {
            return Some(FailedTest {
                name: name.to_string(),
                failure: Failure::TooSlow,
                location: None,
            });
        }
    }
    None
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}
