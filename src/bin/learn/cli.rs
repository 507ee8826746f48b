//! The command line: `cargo learn [command] [exercise] [--verbose] [--yes]`.

use std::fmt;

/// What the learner asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The chapter list (also what no arguments do).
    List,
    /// Which exercise is next.
    Next,
    /// Usage.
    Help,
    /// Run one exercise's tests.
    Run(String),
    /// Re-run on every save; `None`: the next unsolved exercise.
    Watch(Option<String>),
    /// Show hints; `None`: the next unsolved exercise.
    Hint(Option<String>),
    /// Restore an exercise file.
    Reset(String),
    /// Maintainer: rewrite `exercises/` from `src/`.
    Generate,
    /// Maintainer: prove the exercises sound; `Some`: only that exercise's tests.
    Check(Option<String>),
    /// Maintainer: test every mutant of the exercise regions; `Some`: only that exercise's.
    Mutants(Option<String>),
    /// Maintainer: write a kept wrong solution into the exercise file, to see what a learner
    /// who made that mistake sees (`cargo learn mistake <exercise> <mistake>`).
    Mistake(String, String),
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// The command.
    pub command: Command,
    /// `--verbose`: print cargo's own output too.
    pub verbose: bool,
    /// `--yes`: do not ask before overwriting.
    pub yes: bool,
}

/// A command line that makes no sense; shown to the learner, exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// Not a command and not an exercise.
    UnknownExercise {
        /// What was typed.
        name: String,
        /// The valid exercises.
        names: Vec<String>,
    },
    /// `--something` we do not know.
    UnknownOption(String),
    /// A command that needs an exercise got none.
    MissingExercise {
        /// The command.
        command: &'static str,
        /// The valid exercises.
        names: Vec<String>,
    },
    /// One argument too many.
    Unexpected(String),
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::UnknownExercise { name, names } => write!(
                f,
                "unknown exercise `{name}`; the exercises are: {}\n(`cargo learn help` lists \
                 the commands.)",
                names.join(", ")
            ),
            ArgError::UnknownOption(option) => write!(
                f,
                "unknown option `{option}`; the options are --verbose and --yes (see `cargo \
                 learn help`)"
            ),
            ArgError::MissingExercise { command, names } => write!(
                f,
                "`cargo learn {command}` needs an exercise, for example `cargo learn {command} \
                 {}`; the exercises are: {}",
                names.first().map_or("<exercise>", String::as_str),
                names.join(", ")
            ),
            ArgError::Unexpected(arg) => {
                write!(f, "unexpected argument `{arg}` (see `cargo learn help`)")
            }
        }
    }
}

/// Parses the arguments after the program name; `names` are the valid exercises.
pub fn parse(args: &[String], names: &[&str]) -> Result<Args, ArgError> {
    let mut verbose = false;
    let mut yes = false;
    let mut words = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--verbose" | "-v" => verbose = true,
            "--yes" | "-y" => yes = true,
            "--help" | "-h" => words.insert(0, "help"),
            option if option.starts_with('-') => {
                return Err(ArgError::UnknownOption(option.to_string()));
            }
            word => words.push(word),
        }
    }
    let owned = || names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let exercise = |word: Option<&&str>| -> Result<Option<String>, ArgError> {
        match word {
            None => Ok(None),
            Some(name) if names.contains(name) => Ok(Some(name.to_string())),
            Some(name) => Err(ArgError::UnknownExercise {
                name: name.to_string(),
                names: owned(),
            }),
        }
    };
    let (command, used) = match words.first().copied() {
        None | Some("list") => (Command::List, 1),
        Some("help") => (Command::Help, words.len()),
        Some("next") => (Command::Next, 1),
        Some("generate") => (Command::Generate, 1),
        Some("check") => (Command::Check(exercise(words.get(1))?), 2),
        Some("mutants") => (Command::Mutants(exercise(words.get(1))?), 2),
        Some("mistake") => match (exercise(words.get(1))?, words.get(2)) {
            (Some(name), Some(mistake)) => (Command::Mistake(name, mistake.to_string()), 3),
            _ => {
                return Err(ArgError::MissingExercise {
                    command: "mistake",
                    names: owned(),
                });
            }
        },
        Some("watch") => (Command::Watch(exercise(words.get(1))?), 2),
        Some("hint") => (Command::Hint(exercise(words.get(1))?), 2),
        Some("reset") => match exercise(words.get(1))? {
            Some(name) => (Command::Reset(name), 2),
            None => {
                return Err(ArgError::MissingExercise {
                    command: "reset",
                    names: owned(),
                });
            }
        },
        Some("run") => match exercise(words.get(1))? {
            Some(name) => (Command::Run(name), 2),
            None => {
                return Err(ArgError::MissingExercise {
                    command: "run",
                    names: owned(),
                });
            }
        },
        Some(name) => (Command::Run(exercise(Some(&name))?.unwrap_or_default()), 1),
    };
    if let Some(extra) = words.get(used) {
        return Err(ArgError::Unexpected(extra.to_string()));
    }
    Ok(Args {
        command,
        verbose,
        yes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 3] = ["stack", "heap", "queue"];

    fn parse(line: &str) -> Result<Args, ArgError> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        super::parse(&args, &NAMES)
    }

    fn command(line: &str) -> Command {
        parse(line).unwrap().command
    }

    #[test]
    fn commands_and_exercises() {
        assert_eq!(command(""), Command::List);
        assert_eq!(command("list"), Command::List);
        assert_eq!(command("heap"), Command::Run("heap".into()));
        assert_eq!(command("run heap"), Command::Run("heap".into()));
        assert_eq!(command("watch"), Command::Watch(None));
        assert_eq!(command("watch queue"), Command::Watch(Some("queue".into())));
        assert_eq!(command("hint"), Command::Hint(None));
        assert_eq!(command("reset stack --yes"), Command::Reset("stack".into()));
        assert_eq!(command("--help"), Command::Help);
        assert_eq!(command("heap --help"), Command::Help);
        assert!(parse("heap --verbose").unwrap().verbose);
        assert!(parse("reset heap -y").unwrap().yes);
    }

    #[test]
    fn bad_input_says_what_is_valid() {
        let err = parse("nonsense").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown exercise `nonsense`; the exercises are: stack, heap, queue")
        );
        assert!(matches!(
            parse("watch heep"),
            Err(ArgError::UnknownExercise { .. })
        ));
        assert!(matches!(
            parse("reset"),
            Err(ArgError::MissingExercise { .. })
        ));
        assert_eq!(
            parse("heap queue"),
            Err(ArgError::Unexpected("queue".into()))
        );
        assert_eq!(
            parse("--force"),
            Err(ArgError::UnknownOption("--force".into()))
        );
    }
}
