//! `cargo learn viz` as a learner meets it: the plain-text replay (stdout not a terminal), the
//! trace it prints with `--json`, its errors, and the interactive replay driven through tmux
//! (keys in, the screen captured), including a resize, Ctrl-C and the terminal left as found.

use std::path::Path;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use eventloop::trace::format;

const LEARN: &str = env!("CARGO_BIN_EXE_learn");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn viz(args: &[&str]) -> Output {
    Command::new(LEARN)
        .arg("viz")
        .args(args)
        .current_dir(REPO)
        .output()
        .expect("the learn binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The index of the first line containing `needle`, with the text in the message.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn plain_text_replays_a_puzzle_one_event_a_line() {
    let out = viz(&["c04-immediate-vs-timeout-in-timer"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plain = text(&out.stdout);
    assert!(
        plain.starts_with("c04-immediate-vs-timeout-in-timer: "),
        "the first line names the program: {plain}"
    );
    assert!(plain.contains("on a manual clock"), "{plain}");
    // The story of the puzzle, in order: the outer timer runs in the timers phase and queues
    // both; the check phase comes before the next timers phase.
    let outer = line_of(&plain, "call setTimeout");
    let check = plain
        .lines()
        .skip(outer)
        .position(|l| l.contains("enter the check phase"));
    let immediate = line_of(&plain, "prints: immediate");
    let timeout = line_of(&plain, "prints: timeout");
    assert!(check.is_some() && immediate < timeout, "{plain}");
    // Every line: a time, a phase column, then the event, indented by the stack's depth.
    let event_lines: Vec<&str> = plain
        .lines()
        .skip(1)
        .take_while(|l| *l != "printed:")
        .collect();
    assert!(event_lines.len() > 20, "{plain}");
    for line in &event_lines {
        assert!(
            line.trim_start()
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .is_ok(),
            "{line}"
        );
        assert!(line.contains(" ms  "), "{line}");
    }
    let printed = &plain[plain.find("printed:\n").expect("a summary of the output")..];
    assert_eq!(printed, "printed:\n  immediate\n  timeout\n");
    // A callback's own lines sit one level deeper than its call.
    let call = event_lines
        .iter()
        .find(|l| l.contains("call setImmediate"))
        .unwrap();
    let print = event_lines
        .iter()
        .find(|l| l.contains("prints: immediate"))
        .unwrap();
    // After the time (" ms  ") comes the phase column, 8 wide and a space, then the indent.
    let indent = |l: &str| {
        let rest = &l[l.find(" ms  ").unwrap() + 5 + 9..];
        rest.len() - rest.trim_start().len()
    };
    assert_eq!(indent(print), indent(call) + 2, "{call}\n{print}");
}

#[test]
fn chapter_12s_plain_replay_is_what_the_visualizer_prints_today() {
    let out = viz(&["c04-immediate-vs-timeout-in-timer", "--plain"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let book = Path::new(REPO).join("chapters/traces/c04-immediate-vs-timeout-in-timer.txt");
    let committed = std::fs::read_to_string(&book).expect("the chapter's replay is committed");
    // The chapter includes excerpts by name: the anchors are the script's, not the replay's.
    let is_anchor = |l: &str| l.starts_with("ANCHOR: ") || l.starts_with("ANCHOR_END: ");
    let anchors: Vec<&str> = committed.lines().filter(|l| is_anchor(l)).collect();
    assert!(
        anchors.len() >= 8,
        "{} lost its anchors: {anchors:?}",
        book.display()
    );
    let replay: String = committed
        .lines()
        .filter(|l| !is_anchor(l))
        .flat_map(|l| [l, "\n"])
        .collect();
    assert!(
        text(&out.stdout) == replay,
        "{} is not what `cargo learn viz c04-immediate-vs-timeout-in-timer --plain` prints now: \
         run scripts/record-traces.sh, and read chapter 12's walk-through against its excerpts",
        book.display()
    );
    // The chapter's first look at the format is the head of the recorded trace.
    let head = std::fs::read_to_string(
        Path::new(REPO).join("chapters/traces/c04-immediate-vs-timeout-in-timer-head.txt"),
    )
    .expect("the chapter's sample of the format is committed");
    let jsonl = std::fs::read_to_string(
        Path::new(REPO).join("chapters/traces/c04-immediate-vs-timeout-in-timer.jsonl"),
    )
    .unwrap();
    let first: String = jsonl.lines().take(6).flat_map(|l| [l, "\n"]).collect();
    assert!(
        head == first,
        "the head of chapter 12's trace changed: run scripts/record-traces.sh"
    );
}

#[test]
fn json_prints_the_trace_itself_and_a_file_replays_like_the_puzzle() {
    let out = viz(&["p04", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let recorded = format::read(&out.stdout[..]).expect("--json prints a valid trace");
    assert_eq!(
        recorded.header.program.as_deref(),
        Some("p04-microtasks-between-timers"),
        "a prefix finds the puzzle, and the header names it"
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("viz-p04.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let from_file = viz(&[file.to_str().unwrap()]);
    let from_port = viz(&["p04-microtasks-between-timers"]);
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    assert_eq!(text(&from_file.stdout), text(&from_port.stdout));
}

/// Run only by [`a_binary_trace_replays_as_its_json_lines_do`], with `EVENTLOOP_TRACE` set.
#[test]
#[ignore = "a child process of another test"]
fn child_traced_by_the_environment() {
    use eventloop::clock::ManualClock;
    use eventloop::event_loop::EventLoop;
    let mut lp = EventLoop::with_clock(ManualClock::new());
    lp.run_main(|lp| {
        let _ = lp.set_timeout(
            |lp| {
                lp.log("timeout");
                let _ = lp.set_immediate(|lp| lp.log("immediate"));
            },
            0,
        );
        lp.next_tick(|lp| lp.log("tick"));
        lp.queue_microtask(|lp| lp.log("microtask"));
        lp.log("main");
    })
    .unwrap();
}

#[test]
fn a_binary_trace_replays_as_its_json_lines_do() {
    // The same program traced twice through EVENTLOOP_TRACE: as a binary file and as JSON
    // lines. Replayed, they are the same story; printed with --json, the binary one is the
    // JSON lines file.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("viz-binary");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut plain = Vec::new();
    for file in ["run.trace", "run.jsonl"] {
        let path = dir.join(file);
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_traced_by_the_environment", "--ignored"])
            .env("EVENTLOOP_TRACE", &path)
            .output()
            .unwrap();
        assert!(child.status.success(), "{}", text(&child.stdout));
        let out = viz(&[path.to_str().unwrap(), "--plain"]);
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        plain.push(text(&out.stdout));
    }
    assert!(
        plain[0].contains("prints: main") && plain[0].contains("prints: immediate"),
        "{}",
        plain[0]
    );
    assert_eq!(plain[0], plain[1], "the two encodings replay alike");
    let binary = dir.join("run.trace");
    assert!(
        std::fs::read(&binary).unwrap().len() * 4
            < std::fs::read(dir.join("run.jsonl")).unwrap().len(),
        "the binary trace is the smaller by far"
    );
    let json = viz(&[binary.to_str().unwrap(), "--json"]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(
        text(&json.stdout),
        std::fs::read_to_string(dir.join("run.jsonl")).unwrap(),
        "--json turns a binary trace into the JSON lines the loop would have written"
    );
    // A binary trace cut off says so.
    let bytes = std::fs::read(&binary).unwrap();
    let cut = dir.join("cut.trace");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let out = viz(&[cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the trace is cut off"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_input_says_what_is_wrong() {
    let unknown = viz(&["no-such-puzzle"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = text(&unknown.stderr);
    assert!(
        err.contains("`no-such-puzzle` is not a puzzle, an example or a trace file"),
        "{err}"
    );
    assert!(
        err.contains("p04-microtasks-between-timers"),
        "it lists the puzzles: {err}"
    );

    let ambiguous = viz(&["p0"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        text(&ambiguous.stderr).contains("`p0` names"),
        "{}",
        text(&ambiguous.stderr)
    );

    let none = viz(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("usage: cargo learn viz"));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let broken = dir.join("viz-broken.jsonl");
    std::fs::write(
        &broken,
        "{\"format\":\"eventloop-trace\",\"version\":1,\"crate\":\"0.1.0\",\"clock\":\"manual\",\
         \"unit\":\"ms\"}\n{\"t\":0,\"ev\":\"start\",\"name\":\"main\"}\n{\"t\":0,\"ev\":\"teleport\"}\n",
    )
    .unwrap();
    let out = viz(&[broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("trace line 3: `teleport` is not an event"),
        "{err}"
    );

    let newer = dir.join("viz-newer.jsonl");
    std::fs::write(
        &newer,
        "{\"format\":\"eventloop-trace\",\"version\":9,\"crate\":\"9.0.0\",\"clock\":\"manual\",\
         \"unit\":\"ms\"}\n",
    )
    .unwrap();
    let err = text(&viz(&[newer.to_str().unwrap()]).stderr);
    assert!(
        err.contains("format version 9, newer than version 2"),
        "{err}"
    );
}

// ---- the interactive replay, under tmux -------------------------------------------------------

/// A tmux server of our own (its own socket), killed when the test ends however it ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached `width` × `height` session, or `None` (with the reason
    /// printed) when tmux is not installed.
    fn start(name: &str, width: u16, height: u16, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            eprintln!(
                "tmux is not installed: skipping the interactive test (Debian: apt-get install \
                 tmux; .ci/run installs it when running as root)"
            );
            return None;
        }
        let tmux = Tmux {
            socket: format!("eventloop-viz-{name}-{}", std::process::id()),
        };
        let size = (width.to_string(), height.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "viz",
            "-x",
            &size.0,
            "-y",
            &size.1,
            "-c",
            REPO,
        ]);
        // A shell around the program stays on after it, to say how it ended and to show the
        // terminal as the program left it (tmux reports no cursor for a dead pane).
        let shell = format!("{command}; echo EXITED $?; sleep 60");
        tmux.run(&["respawn-pane", "-k", "-t", "viz", &shell]);
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "viz", key]);
        }
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "viz"])
    }

    fn pane(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", "viz", format])
            .trim()
            .to_string()
    }

    /// Waits (10 s at most) until the screen satisfies `ready`; the last screen otherwise.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "waited 10 s for {what}; the screen shows:\n{screen}"
            );
            sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the program has ended; its exit status, as the shell around it printed it.
    fn wait_exit(&self) -> String {
        let screen = self.wait_for("the visualizer to quit", |s| s.contains("EXITED "));
        let at = screen.find("EXITED ").unwrap() + 7;
        screen[at..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    }
    /// The terminal is as the program found it: the alternate screen left, the cursor shown.
    fn assert_terminal_restored(&self) {
        assert_eq!(
            self.pane("#{alternate_on}"),
            "0",
            "the alternate screen was left"
        );
        assert_eq!(
            self.pane("#{cursor_flag}"),
            "1",
            "the cursor is shown again"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The title line says "event n/n": the replay is at its end.
fn at_end(screen: &str) -> bool {
    let Some(title) = screen.lines().next() else {
        return false;
    };
    let Some(at) = title.find("event ") else {
        return false;
    };
    let count = title[at + 6..].split_whitespace().next().unwrap_or("");
    count.split_once('/').is_some_and(|(a, b)| a == b)
}

fn command(puzzle: &str) -> String {
    format!("{LEARN} viz {puzzle}")
}

#[test]
fn interactive_keys_step_jump_and_quit_leaving_the_terminal_as_found() {
    let Some(tmux) = Tmux::start(
        "keys",
        100,
        30,
        &command("c04-immediate-vs-timeout-in-timer"),
    ) else {
        return;
    };
    let panels = [
        "call stack",
        "queues",
        "output",
        "thread pool",
        "poll",
        "refs",
    ];
    tmux.wait_for("the first screen, every panel drawn", |s| {
        s.contains("event 0/") && panels.iter().all(|p| s.contains(p))
    });
    assert_eq!(
        tmux.pane("#{alternate_on}"),
        "1",
        "the replay draws on the alternate screen"
    );
    tmux.keys(&["Right", "Right"]);
    tmux.wait_for("two steps, and the event line", |s| {
        s.contains("event 2/") && s.contains("▸ ")
    });
    tmux.keys(&["Left"]);
    tmux.wait_for("one step back", |s| s.contains("event 1/"));
    // `p` lands on a phase: its name is in the event line.
    tmux.keys(&["p"]);
    let phase = tmux.wait_for("the next phase", |s| s.contains("▸ enter the"));
    assert!(phase.contains("timers"), "{phase}");
    // `G`: the end, with everything printed in Node's order.
    tmux.keys(&["G"]);
    // At the end, with everything printed in Node's order (the keys line is drawn last).
    tmux.wait_for("the end, immediate printed before timeout", |s| {
        at_end(s)
            && s.contains("q quit")
            && s.find("immediate")
                .is_some_and(|at| s[at..].contains("timeout"))
    });
    // `i` lands on the start of an iteration, which begins with the pending phase.
    tmux.keys(&["g", "i"]);
    tmux.wait_for("the next iteration", |s| {
        s.contains("▸ enter the pending phase")
    });
    // Space at the end plays again from the start; + and - change the speed while it plays.
    tmux.keys(&["G", "Space"]);
    tmux.wait_for("playback", |s| s.contains("playing 5/s"));
    tmux.keys(&["+"]);
    tmux.wait_for("a faster playback", |s| s.contains("playing 10/s"));
    tmux.keys(&["-", "-"]);
    tmux.wait_for("a slower playback", |s| s.contains("playing 2/s"));
    tmux.keys(&["Space"]);
    tmux.wait_for("pause", |s| s.contains("paused"));
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), "0", "q quits cleanly");
    tmux.assert_terminal_restored();
    assert!(
        !tmux.screen().contains("call stack"),
        "the screen the learner had is back:\n{}",
        tmux.screen()
    );
}

#[test]
fn interactive_redraws_at_a_new_size_and_ctrl_c_restores_the_terminal() {
    let Some(tmux) = Tmux::start("resize", 120, 32, &command("p04-microtasks-between-timers"))
    else {
        return;
    };
    tmux.wait_for("the first screen", |s| s.contains("event 0/"));
    tmux.keys(&["G"]);
    tmux.wait_for("the end", at_end);
    tmux.run(&["resize-window", "-t", "viz", "-x", "70", "-y", "24"]);
    let small = tmux.wait_for("a redraw at 70 columns", |s| {
        at_end(s) && s.lines().all(|l| l.chars().count() <= 70) && s.contains("┐")
    });
    assert!(
        small.contains("promise 2"),
        "the output panel survives:\n{small}"
    );
    tmux.run(&["resize-window", "-t", "viz", "-x", "40", "-y", "12"]);
    tmux.wait_for("the too-small note", |s| s.contains("needs"));
    tmux.run(&["resize-window", "-t", "viz", "-x", "100", "-y", "30"]);
    tmux.wait_for("a redraw at 100 columns", |s| s.contains("call stack"));
    tmux.keys(&["C-c"]);
    assert_eq!(tmux.wait_exit(), "0", "Ctrl-C quits");
    tmux.assert_terminal_restored();
}

#[test]
fn a_panic_in_the_replay_restores_the_terminal_before_its_message() {
    let Some(tmux) = Tmux::start(
        "panic",
        100,
        30,
        &format!(
            "LEARN_VIZ_PANIC_AT_FIRST_KEY=1 {}",
            command("c04-immediate-vs-timeout-in-timer")
        ),
    ) else {
        return;
    };
    tmux.wait_for("the first screen", |s| s.contains("event 0/"));
    tmux.keys(&["Right"]);
    assert_eq!(tmux.wait_exit(), "101", "the panic ends the program");
    tmux.assert_terminal_restored();
    // The hook restores the terminal before the message is printed: printed on the alternate
    // screen, in raw mode, it would vanish when the unwinding left that screen.
    let screen = tmux.screen();
    assert!(
        screen.contains("a panic in the middle of the replay"),
        "the panic's message is on the learner's screen:\n{screen}"
    );
}
