//! `herd strategies`: one line per strategy, with this kernel's support and, where it differs,
//! the thread form.
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
    }
    Ok(())
}
