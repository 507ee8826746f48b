//! The `learn` binary as a learner meets it: plain-text output, exit codes, messages for bad
//! input. Each test works in its own copy of the course (catalog, reference modules, freshly
//! generated exercises), so nothing here touches the repository's own exercises or progress,
//! and nothing runs `cargo test` (the parser of its output has unit tests in the binary).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const LEARN: &str = env!("CARGO_BIN_EXE_learn");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A fresh copy of the course in the target directory, with exercises generated from `src/`.
fn course(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("learn-console-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::create_dir_all(dir.join("exercises")).unwrap();
    fs::copy(Path::new(REPO).join("Cargo.toml"), dir.join("Cargo.toml")).unwrap();
    fs::copy(
        Path::new(REPO).join("exercises/exercises.toml"),
        dir.join("exercises/exercises.toml"),
    )
    .unwrap();
    copy_sources(&Path::new(REPO).join("src"), &dir.join("src"));
    let generated = learn(&dir, &["generate"]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    dir
}

/// Copies every `.rs` file under `from` (exercises may live in sub-modules) to `to`.
fn copy_sources(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_sources(&path, &target);
        } else if path.extension().is_some_and(|e| e == "rs") {
            fs::copy(&path, target).unwrap();
        }
    }
}

/// Runs `learn args…` in `dir` with plain output and no terminal.
fn learn(dir: &Path, args: &[&str]) -> Output {
    Command::new(LEARN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// 64-bit FNV-1a, the hash the progress file records.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn the_list_shows_every_exercise_not_started_and_what_to_do() {
    let dir = course("list");
    let out = learn(&dir, &[]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains('\x1b'),
        "plain text has no colour codes:\n{stdout}"
    );
    for name in ["stack", "heap", "queue"] {
        let row = stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{stdout}"));
        assert!(row.contains("not started"), "{row}");
    }
    assert!(stdout.contains("Next: `cargo learn stack`"), "{stdout}");
    assert!(stdout.contains("\"rust-analyzer.cargo.features\": [\"learn-stack\"]"));
    assert_eq!(text(&learn(&dir, &["list"]).stdout), stdout);
}

#[test]
fn the_list_reads_the_progress_file() {
    let dir = course("progress");
    let queue = fs::read(dir.join("exercises/queue.rs")).unwrap();
    let progress = format!(
        "[queue]\nresult = \"passed\"\nhash = \"{:016x}\"\n[heap]\nresult = \"failed\"\nhash = \"{:016x}\"\n",
        fnv1a(&queue),
        fnv1a(&fs::read(dir.join("exercises/heap.rs")).unwrap()),
    );
    fs::write(dir.join(".learn-progress.toml"), progress).unwrap();
    let stdout = text(&learn(&dir, &[]).stdout);
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap()
            .to_string()
    };
    assert!(row("queue").contains("solved"), "{stdout}");
    assert!(row("heap").contains("failing"), "{stdout}");
    let exercises = fs::read_to_string(dir.join("exercises/exercises.toml"))
        .unwrap()
        .matches("[[exercise]]")
        .count();
    assert!(
        stdout.contains(&format!("1 of {exercises} solved")),
        "{stdout}"
    );

    // Editing a solved exercise makes it "changed".
    fs::write(
        dir.join("exercises/queue.rs"),
        [&queue[..], b"// more\n"].concat(),
    )
    .unwrap();
    let stdout = text(&learn(&dir, &[]).stdout);
    let row = stdout.lines().find(|l| l.contains(" queue ")).unwrap();
    assert!(row.contains("changed"), "{stdout}");
}

#[test]
fn a_damaged_progress_file_is_a_warning_and_a_fresh_start() {
    let dir = course("damaged");
    fs::write(dir.join(".learn-progress.toml"), "[queue\nresult = ").unwrap();
    let out = learn(&dir, &["list"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("damaged"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("not started"));
    let again = learn(&dir, &["list"]);
    assert!(text(&again.stderr).is_empty(), "the warning shows once");
}

#[test]
fn an_unknown_exercise_exits_2_naming_the_valid_ones() {
    let dir = course("unknown");
    let out = learn(&dir, &["nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown exercise `nonsense`; the exercises are: stack, heap, queue"),
        "{stderr}"
    );
    let out = learn(&dir, &["reset"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs an exercise"));
}

#[test]
fn outside_the_repository_it_says_where_to_run() {
    // Not under the target directory: that is inside the repository.
    let dir = std::env::temp_dir().join(format!("learn-console-elsewhere-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let out = learn(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("must run inside the book's repository"),
        "{stderr}"
    );
    assert!(stderr.contains(REPO), "{stderr}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hint_shows_the_catalog_hint_and_the_todos_with_line_numbers() {
    let dir = course("hint");
    let out = learn(&dir, &["hint", "queue"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Hint 1 of 2 for `queue`"), "{stdout}");
    // The first hint is a nudge; the method waits for a second request.
    assert!(stdout.contains("cargo learn hint queue` again"), "{stdout}");
    assert!(!stdout.contains("How:"), "{stdout}");
    let again = text(&learn(&dir, &["hint", "queue"]).stdout);
    assert!(again.contains("Hint 2 of 2 for `queue`"), "{again}");
    assert!(again.contains("How:"), "the method: {again}");
    assert!(again.contains("VecDeque::pop_front"), "{again}");
    let progress = fs::read_to_string(dir.join(".learn-progress.toml")).unwrap();
    assert!(progress.contains("[queue]\nhint = 2\n"), "{progress}");
    assert!(
        stdout.contains("Still to do in exercises/queue.rs:"),
        "{stdout}"
    );
    let todo = stdout.lines().find(|l| l.contains("todo!(")).unwrap();
    assert!(
        todo.trim_start()
            .split(" | ")
            .next()
            .unwrap()
            .parse::<usize>()
            .is_ok()
    );
}

#[test]
fn reset_asks_first_and_keeps_a_copy() {
    let dir = course("reset");
    let file = dir.join("exercises/queue.rs");
    let pristine = fs::read_to_string(&file).unwrap();
    fs::write(&file, "// my work\n").unwrap();

    // No terminal to ask: refuse, and leave the work alone.
    let out = learn(&dir, &["reset", "queue"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(&file).unwrap(), "// my work\n");

    let out = learn(&dir, &["reset", "queue", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(&file).unwrap(), pristine);
    let first = dir.join(".learn-backups/queue.1.rs.bak");
    assert_eq!(fs::read_to_string(&first).unwrap(), "// my work\n");

    // A second reset keeps its own copy: the first one's is never overwritten.
    fs::write(&file, "// my second try\n").unwrap();
    let out = learn(&dir, &["reset", "queue", "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("queue.2.rs.bak"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(fs::read_to_string(&first).unwrap(), "// my work\n");
    let second = dir.join(".learn-backups/queue.2.rs.bak");
    assert_eq!(fs::read_to_string(second).unwrap(), "// my second try\n");
}

#[test]
fn a_deleted_exercise_says_how_to_restore_it() {
    let dir = course("deleted");
    fs::remove_file(dir.join("exercises/heap.rs")).unwrap();
    let out = learn(&dir, &["heap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("`cargo learn reset heap`"));
    let stdout = text(&learn(&dir, &[]).stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(" heap ") && l.contains("missing"))
    );
    let out = learn(&dir, &["reset", "heap"]);
    assert!(out.status.success());
    assert!(dir.join("exercises/heap.rs").is_file());
}

#[test]
fn help_works_anywhere() {
    let out = learn(Path::new("/"), &["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("watch [exercise]"));
}
