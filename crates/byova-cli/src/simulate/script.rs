//! The call script: steps from `--say`/`--dtmf`/`--event`/`--no-input`/`--pause` in command-line
//! order, and from a `--script FILE.toml`.
//!
//! ```toml
//! # Each [[step]] holds exactly one of these keys; paths are relative to the script.
//! [[step]]
//! say = "hello.wav"          # an utterance (any WAV: converted to 8 kHz μ-law)
//! [[step]]
//! dtmf = "12#"               # START_OF_DTMF, then the digits
//! [[step]]
//! event = "order_status"     # a CUSTOM_EVENT, with optional parameters
//! data = { order = 42 }
//! [[step]]
//! no_input = true            # Webex's NO_INPUT event
//! [[step]]
//! pause_ms = 500             # wait
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use byova::media::JsonObject;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use serde::Deserialize;

use crate::exit::CliError;

/// One step of the call, between SESSION_START and SESSION_END.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// An utterance from a WAV file.
    Say(PathBuf),
    /// DTMF digits.
    Dtmf(String),
    /// A CUSTOM_EVENT.
    Event {
        /// Its name.
        name: String,
        /// Its parameters.
        data: JsonObject,
    },
    /// NO_INPUT.
    NoInput,
    /// A pause.
    Pause(Duration),
}

/// The step options, kept in command-line order (clap's derive cannot keep the order of
/// different options, so this part is written out).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FlagSteps(pub(crate) Vec<Step>);

const SAY: &str = "say";
const DTMF: &str = "dtmf";
const EVENT: &str = "event";
const NO_INPUT: &str = "no_input";
const PAUSE: &str = "pause";

impl Args for FlagSteps {
    fn augment_args(command: Command) -> Command {
        command
            .next_help_heading("Call script (in command-line order)")
            .arg(
                Arg::new(SAY)
                    .long("say")
                    .value_name("FILE.wav")
                    .action(ArgAction::Append)
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("Speak the WAV file as 20 ms frames in real time, until END_OF_INPUT"),
            )
            .arg(
                Arg::new(DTMF)
                    .long("dtmf")
                    .value_name("DIGITS")
                    .action(ArgAction::Append)
                    .value_parser(parse_digits)
                    .help("Press keys: START_OF_DTMF, then the digits (0-9, A-D, *, #)"),
            )
            .arg(
                Arg::new(EVENT)
                    .long("event")
                    .value_name("NAME[=JSON]")
                    .action(ArgAction::Append)
                    .value_parser(parse_event)
                    .help("Send a CUSTOM_EVENT, with a JSON object as its parameters"),
            )
            .arg(
                Arg::new(NO_INPUT)
                    .long("no-input")
                    // Every occurrence is kept with its position (a count flag keeps only one).
                    .action(ArgAction::Append)
                    .num_args(0)
                    .default_missing_value("true")
                    .value_parser(clap::value_parser!(bool))
                    .help("Send Webex's NO_INPUT event"),
            )
            .arg(
                Arg::new(PAUSE)
                    .long("pause")
                    .value_name("MS")
                    .action(ArgAction::Append)
                    .value_parser(clap::value_parser!(u64))
                    .help("Wait this many milliseconds"),
            )
            .next_help_heading(None::<&str>)
    }

    fn augment_args_for_update(command: Command) -> Command {
        Self::augment_args(command)
    }
}

impl FromArgMatches for FlagSteps {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut steps: Vec<(usize, Step)> = Vec::new();
        let mut collect = |id: &str, make: &mut dyn FnMut(usize) -> Step| {
            // Only what the command line gave, never a default.
            if matches.value_source(id) != Some(ValueSource::CommandLine) {
                return;
            }
            if let Some(indices) = matches.indices_of(id) {
                steps.extend(indices.enumerate().map(|(n, index)| (index, make(n))));
            }
        };
        let says: Vec<PathBuf> = values(matches, SAY);
        collect(SAY, &mut |n| Step::Say(says[n].clone()));
        let digits: Vec<String> = values(matches, DTMF);
        collect(DTMF, &mut |n| Step::Dtmf(digits[n].clone()));
        let events: Vec<(String, JsonObject)> = values(matches, EVENT);
        collect(EVENT, &mut |n| Step::Event {
            name: events[n].0.clone(),
            data: events[n].1.clone(),
        });
        let pauses: Vec<u64> = values(matches, PAUSE);
        collect(PAUSE, &mut |n| {
            Step::Pause(Duration::from_millis(pauses[n]))
        });
        collect(NO_INPUT, &mut |_| Step::NoInput);
        steps.sort_by_key(|(index, _)| *index);
        Ok(Self(steps.into_iter().map(|(_, step)| step).collect()))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

fn values<T: Clone + Send + Sync + 'static>(matches: &ArgMatches, id: &str) -> Vec<T> {
    matches
        .get_many::<T>(id)
        .map(|values| values.cloned().collect())
        .unwrap_or_default()
}

fn parse_digits(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("no digits".to_owned());
    }
    match value
        .chars()
        .find(|&key| byova::media::dtmf::char_to_digit(key).is_none())
    {
        Some(bad) => Err(format!("{bad:?} is not a DTMF key (0-9, A-D, *, #)")),
        None => Ok(value.to_owned()),
    }
}

fn parse_event(value: &str) -> Result<(String, JsonObject), String> {
    let (name, data) = match value.split_once('=') {
        Some((name, json)) => {
            let data: serde_json::Value = serde_json::from_str(json)
                .map_err(|error| format!("the parameters are not JSON: {error}"))?;
            let serde_json::Value::Object(data) = data else {
                return Err("the parameters must be a JSON object".to_owned());
            };
            (name, data)
        }
        None => (value, JsonObject::new()),
    };
    if name.is_empty() {
        return Err("the event needs a name".to_owned());
    }
    Ok((name.to_owned(), data))
}

/// A `--script` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default)]
    step: Vec<StepSpec>,
}

/// One `[[step]]`: exactly one of its keys (`data` only with `event`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    say: Option<PathBuf>,
    dtmf: Option<String>,
    event: Option<String>,
    data: Option<JsonObject>,
    no_input: Option<bool>,
    pause_ms: Option<u64>,
}

/// Reads the steps of a `--script` file.
pub(crate) fn read_script(path: &Path) -> Result<Vec<Step>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        CliError::usage(format!(
            "cannot read the script {}: {error}",
            path.display()
        ))
    })?;
    parse_script(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|error| CliError::usage(format!("script {}: {error}", path.display())))
}

/// Parses a script; `say` paths are taken relative to `base`.
fn parse_script(text: &str, base: &Path) -> Result<Vec<Step>, String> {
    let file: ScriptFile = toml::from_str(text).map_err(|error| error.to_string())?;
    file.step
        .into_iter()
        .enumerate()
        .map(|(index, spec)| {
            spec_to_step(spec, base).map_err(|error| format!("step {}: {error}", index + 1))
        })
        .collect()
}

fn spec_to_step(spec: StepSpec, base: &Path) -> Result<Step, String> {
    let StepSpec {
        say,
        dtmf,
        event,
        data,
        no_input,
        pause_ms,
    } = spec;
    if data.is_some() && event.is_none() {
        return Err("`data` goes with `event`".to_owned());
    }
    let mut steps = Vec::new();
    if let Some(path) = say {
        steps.push(Step::Say(base.join(path)));
    }
    if let Some(digits) = dtmf {
        steps.push(Step::Dtmf(parse_digits(&digits)?));
    }
    if let Some(name) = event {
        if name.is_empty() {
            return Err("the event needs a name".to_owned());
        }
        steps.push(Step::Event {
            name,
            data: data.unwrap_or_default(),
        });
    }
    match no_input {
        Some(true) => steps.push(Step::NoInput),
        Some(false) => return Err("`no_input` can only be true".to_owned()),
        None => {}
    }
    if let Some(ms) = pause_ms {
        steps.push(Step::Pause(Duration::from_millis(ms)));
    }
    match <[Step; 1]>::try_from(steps) {
        Ok([step]) => Ok(step),
        Err(steps) if steps.is_empty() => {
            Err("needs one of `say`, `dtmf`, `event`, `no_input`, `pause_ms`".to_owned())
        }
        Err(_) => {
            Err("has more than one of `say`, `dtmf`, `event`, `no_input`, `pause_ms`".to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        steps: FlagSteps,
    }

    fn steps(args: &[&str]) -> Vec<Step> {
        Harness::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .unwrap()
            .steps
            .0
    }

    #[test]
    fn flags_keep_their_order() {
        assert_eq!(
            steps(&[
                "--dtmf",
                "1#",
                "--say",
                "a.wav",
                "--no-input",
                "--pause",
                "250",
                "--event",
                r#"menu={"level":2}"#,
                "--say",
                "b.wav",
                "--no-input",
            ]),
            [
                Step::Dtmf("1#".into()),
                Step::Say("a.wav".into()),
                Step::NoInput,
                Step::Pause(Duration::from_millis(250)),
                Step::Event {
                    name: "menu".into(),
                    data: json!({"level": 2}).as_object().unwrap().clone(),
                },
                Step::Say("b.wav".into()),
                Step::NoInput,
            ]
        );
        assert_eq!(steps(&[]), []);
    }

    #[test]
    fn bad_flag_values_are_usage_errors() {
        for args in [
            &["--dtmf", "12x"][..],
            &["--dtmf", ""],
            &["--event", "=1"],
            &["--event", "n=[1]"],
            &["--event", "n={bad"],
            &["--pause", "soon"],
        ] {
            let error = Harness::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
                .unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}: {error}");
        }
    }

    #[test]
    fn a_script_file_reads_in_order() {
        let text = r#"
            [[step]]
            say = "hello.wav"
            [[step]]
            dtmf = "0"
            [[step]]
            event = "status"
            data = { order = 42 }
            [[step]]
            no_input = true
            [[step]]
            pause_ms = 100
        "#;
        assert_eq!(
            parse_script(text, Path::new("/scripts")).unwrap(),
            [
                Step::Say("/scripts/hello.wav".into()),
                Step::Dtmf("0".into()),
                Step::Event {
                    name: "status".into(),
                    data: json!({"order": 42}).as_object().unwrap().clone(),
                },
                Step::NoInput,
                Step::Pause(Duration::from_millis(100)),
            ]
        );
    }

    #[test]
    fn a_bad_script_says_which_step() {
        for (text, wanted) in [
            (
                "[[step]]\nsay = \"a.wav\"\ndtmf = \"1\"",
                "step 1: has more than one",
            ),
            ("[[step]]\npause_ms = 1\n[[step]]\n", "step 2: needs one of"),
            ("[[step]]\ndata = { a = 1 }", "`data` goes with `event`"),
            ("[[step]]\ndtmf = \"9z\"", "step 1: 'z' is not a DTMF key"),
            ("[[step]]\nsing = \"a\"", "unknown field"),
            ("[[step]]\nno_input = false", "can only be true"),
        ] {
            let error = parse_script(text, Path::new(".")).unwrap_err();
            assert!(error.contains(wanted), "{text}: {error}");
        }
    }
}
