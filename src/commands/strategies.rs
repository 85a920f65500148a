//! `herd strategies`: one line per strategy, with this kernel's support, and under it, where it
//! differs, the thread form and, always, the event-loop form (`--worker-model event`) or why
//! there is none; for `reuseport-ebpf`, whether each option this kernel may lack works here.
use crate::strategy::StrategyKind;
use crate::Error;

pub fn run() -> Result<(), Error> {
    crate::sys::signal::default_sigpipe().map_err(|e| Error::io("SIGPIPE", e))?;
    for k in StrategyKind::ALL {
        let support = match k.supported() {
            Ok(()) => "supported".to_string(),
            Err(why) => format!("UNSUPPORTED: {why}"),
        };
        println!("{:<23} {:<12} {}", k.name(), support, k.summary());
        if let Some(form) = k.thread_form() {
            println!("{:<23} {:<12} --mode thread: {form}", "", "");
        }
        let event = match k.event_form() {
            Ok(how) => format!("--worker-model event: {how}"),
            Err(why) => format!("--worker-model event: REFUSED: {why}"),
        };
        println!("{:<23} {:<12} {event}", "", "");
        for (option, support) in k.option_support() {
            let support = match support {
                Ok(()) => "supported".to_string(),
                Err(why) => format!("UNSUPPORTED: {why}"),
            };
            println!("{:<23} {:<12} {option}: {support}", "", "");
        }
    }
    Ok(())
}
