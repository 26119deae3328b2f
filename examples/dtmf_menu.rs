//! A touch-tone (DTMF) menu: keys only, a PIN entered as sensitive input, and per-step DTMF
//! settings — what a classic IVR does, as a BYOVA virtual agent.
//!
//! Each reply tells Webex what to collect next: [`InputMode::Dtmf`] (no speech), and a
//! [`DtmfConfig`] — one key for the menu, four digits ended by `#` for the PIN, which is marked
//! [`input_sensitive`](Reply::input_sensitive) so Webex keeps it out of recordings and logs.
//!
//! | key | what happens |
//! | --- | --- |
//! | `1` | enter a four-digit PIN, then hear the balance (three wrong PINs: transfer) |
//! | `2` | the opening hours |
//! | `0` | transfer to an agent |
//! | `#` | goodbye |
//!
//! Try it:
//!
//! ```text
//! cargo run --example dtmf_menu                 # listens on 127.0.0.1:50051
//! cargo run --example dtmf_menu -- 0.0.0.0:50051
//! ```
//!
//! Authentication is off (local development); see `byods_and_media` for JWS.

use std::net::SocketAddr;
use std::time::Duration;

use byova::media::{
    AgentConfig, AgentResult, Context, Dtmf, DtmfConfig, Event, InputConfig, InputMode,
    MediaServer, Reply, SessionStart, VirtualAgent,
};

const MENU: &str = "For your balance press 1. For our opening hours press 2. \
                    To speak to an agent press 0. To hang up press pound.";
/// Wrong PINs before the caller is handed to a human.
const PIN_ATTEMPTS: u32 = 3;

/// Where the caller is in the menu.
#[derive(Debug, Default)]
enum Step {
    /// The main menu.
    #[default]
    Menu,
    /// Entering the PIN, after `failed` wrong attempts.
    Pin { failed: u32 },
}

/// The agent.
struct Ivr;

/// The main menu (after `before`, if any): one key, nothing else.
fn menu(before: Option<&str>) -> Reply {
    let reply = match before {
        Some(text) => Reply::say(text).prompt(MENU),
        None => Reply::say(MENU),
    };
    reply
        .input_mode(InputMode::Dtmf)
        .input_config(InputConfig::new(
            Some(DtmfConfig::new(1, Duration::from_secs(3), Some('#'))),
            None,
        ))
}

/// Asks for the PIN: four digits ended by `#`, sensitive.
fn ask_pin(text: &str) -> Reply {
    Reply::say(text)
        .input_mode(InputMode::Dtmf)
        .input_config(InputConfig::new(
            Some(DtmfConfig::new(4, Duration::from_secs(5), Some('#'))),
            None,
        ))
        .input_sensitive(true)
}

impl VirtualAgent for Ivr {
    type State = Step;

    async fn on_session_start(&self, _: &mut Context<'_, Step>, _: SessionStart) -> AgentResult {
        Ok(menu(Some("Welcome to Example Bank.")))
    }

    async fn on_dtmf(&self, ctx: &mut Context<'_, Step>, dtmf: Dtmf) -> AgentResult {
        let step = ctx.state();
        let reply = match step {
            Step::Menu => match dtmf.digits.as_str() {
                "1" => {
                    *step = Step::Pin { failed: 0 };
                    ask_pin("Please enter your four-digit PIN, then press pound.")
                }
                "2" => menu(Some("We are open Monday to Friday, 9 AM to 5 PM.")),
                "0" => Reply::say("Connecting you to an agent.").transfer_to_agent(),
                "#" => Reply::say("Thank you for calling. Goodbye!").end_session(),
                _ => menu(Some("Sorry, that is not an option.")),
            },
            Step::Pin { failed } => {
                // Never log the digits: they are the caller's PIN.
                let pin = dtmf.digits.trim_end_matches('#');
                if pin.len() == 4 && pin.bytes().all(|b| b.is_ascii_digit()) {
                    *step = Step::Menu;
                    menu(Some("Thank you. Your balance is 42 dollars and 17 cents."))
                } else if *failed + 1 >= PIN_ATTEMPTS {
                    Reply::say("Let me get someone to help you.").transfer_to_agent()
                } else {
                    *failed += 1;
                    ask_pin("That is not a valid PIN. Please enter four digits, then press pound.")
                }
            }
        };
        Ok(reply)
    }

    async fn on_event(&self, ctx: &mut Context<'_, Step>, event: Event) -> AgentResult {
        Ok(match (event, ctx.state_ref()) {
            (Event::NoInput, Step::Menu) => menu(Some("Are you still there?")),
            (Event::NoInput, Step::Pin { .. }) => {
                ask_pin("Please enter your four-digit PIN, then press pound.")
            }
            // START_OF_DTMF (the digits follow) and flow events: nothing to say.
            _ => Reply::none(),
        })
    }
}

/// The server: the agent, on `addr`, without authentication.
fn server(addr: SocketAddr) -> Result<MediaServer, byova::media::Error> {
    MediaServer::builder()
        .addr(addr)
        .disable_authentication()
        .agent(AgentConfig::new("ivr", Ivr).name("Example Bank IVR"))
        .build()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50051".to_owned())
        .parse()?;
    server(addr)?.serve().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use byova::media::RunningServer;
    use byova::media::client::{Caller, EventType, TurnResult};
    use byova::media::proto::{DtmfDigits, DtmfInputConfig, VoiceVaInputMode, VoiceVaResponse};

    use super::*;

    /// The FINAL of a one-message reply.
    fn reply(turn: &TurnResult) -> &VoiceVaResponse {
        assert!(turn.is_ok(), "{:?}", turn.status);
        assert_eq!(turn.responses.len(), 1, "{:?}", turn.responses);
        &turn.responses[0].response
    }

    fn texts(response: &VoiceVaResponse) -> Vec<&str> {
        response.prompts.iter().map(|p| p.text.as_str()).collect()
    }

    fn dtmf_config(response: &VoiceVaResponse) -> DtmfInputConfig {
        assert_eq!(response.input_mode, VoiceVaInputMode::InputEventDtmf as i32);
        let config = response.input_handling_config.expect("input config");
        assert_eq!(config.speech_timers, None);
        config.dtmf_config.expect("DTMF config")
    }

    const ONE_KEY: DtmfInputConfig = DtmfInputConfig {
        inter_digit_timeout_msec: 3000,
        termchar: DtmfDigits::DtmfDigitPound as i32,
        dtmf_input_length: 1,
    };
    const PIN: DtmfInputConfig = DtmfInputConfig {
        inter_digit_timeout_msec: 5000,
        termchar: DtmfDigits::DtmfDigitPound as i32,
        dtmf_input_length: 4,
    };

    /// The server on a free loopback port, and a caller connected to it.
    async fn start() -> (RunningServer, Caller) {
        let running = server("127.0.0.1:0".parse().unwrap())
            .unwrap()
            .bind()
            .await
            .unwrap();
        let caller = Caller::connect(format!("http://{}", running.local_addr()))
            .await
            .unwrap();
        (running, caller)
    }

    #[tokio::test]
    async fn the_menu_the_pin_and_the_goodbye() {
        let (running, caller) = start().await;
        let call = caller.call("call-1");

        let welcome = call.session_start("", Default::default()).await;
        let welcome = reply(&welcome);
        assert_eq!(texts(welcome), ["Welcome to Example Bank.", MENU]);
        assert_eq!(dtmf_config(welcome), ONE_KEY);
        assert!(!welcome.input_sensitive);

        let turn = call.dtmf("1").await;
        let ask = reply(&turn);
        assert_eq!(
            texts(ask),
            ["Please enter your four-digit PIN, then press pound."]
        );
        assert_eq!(dtmf_config(ask), PIN);
        assert!(ask.input_sensitive);

        let turn = call.dtmf("12").await;
        let again = reply(&turn);
        assert_eq!(
            texts(again),
            ["That is not a valid PIN. Please enter four digits, then press pound."]
        );
        assert_eq!(dtmf_config(again), PIN);
        assert!(again.input_sensitive);

        let turn = call.dtmf("2468").await;
        let balance = reply(&turn);
        assert_eq!(
            texts(balance),
            ["Thank you. Your balance is 42 dollars and 17 cents.", MENU]
        );
        assert_eq!(dtmf_config(balance), ONE_KEY);
        assert!(!balance.input_sensitive);

        let turn = call.dtmf("2").await;
        assert_eq!(
            texts(reply(&turn)),
            ["We are open Monday to Friday, 9 AM to 5 PM.", MENU]
        );
        let turn = call.dtmf("7").await;
        assert_eq!(texts(reply(&turn)), ["Sorry, that is not an option.", MENU]);
        // START_OF_DTMF: nothing at all.
        let turn = call.start_of_dtmf().await;
        assert!(turn.is_ok() && turn.responses.is_empty(), "{turn:?}");

        let turn = call.dtmf("#").await;
        let bye = reply(&turn);
        assert_eq!(texts(bye), ["Thank you for calling. Goodbye!"]);
        assert_eq!(turn.responses[0].events(), [EventType::SessionEnd]);
        running.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn three_wrong_pins_transfer_to_an_agent() {
        let (running, caller) = start().await;
        let call = caller.call("call-2");
        call.session_start("", Default::default()).await;
        call.dtmf("1").await;
        for _ in 0..2 {
            let turn = call.dtmf("9").await;
            assert!(reply(&turn).input_sensitive);
        }
        let turn = call.dtmf("").await;
        assert_eq!(texts(reply(&turn)), ["Let me get someone to help you."]);
        assert_eq!(turn.responses[0].events(), [EventType::TransferToAgent]);
        running.shutdown().await.unwrap();
    }
}
