//! The kernel's listen-queue failure counters, from the `TcpExt` lines of /proc/net/netstat.
//!
//! They count for the whole network namespace, not one socket: a phase's difference includes
//! whatever else in the namespace overflowed a listener meanwhile. `ListenDrops` counts every
//! connection a listener dropped (overflows included: the kernel increments it alongside
//! `ListenOverflows`, and also on other failures such as a failed child socket), while
//! `ListenOverflows` counts only SYNs or final ACKs refused because the accept queue was full.
use std::fs;
use std::io;

const PATH: &str = "/proc/net/netstat";

/// The four counters, cumulative since boot (or, from [`ListenCounters::since`], over a phase).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenCounters {
    /// A SYN or a handshake's final ACK found the accept queue full (`ListenOverflows`).
    pub overflows: u64,
    /// Every connection request a listener dropped, for any reason (`ListenDrops`).
    pub drops: u64,
    /// A SYN dropped because the SYN queue was full and cookies were off (`TCPReqQFullDrop`).
    pub reqq_full_drop: u64,
    /// A SYN answered with a cookie because the SYN queue was full (`TCPReqQFullDoCookies`).
    pub reqq_full_do_cookies: u64,
}

impl ListenCounters {
    pub fn read() -> io::Result<ListenCounters> {
        let text = fs::read_to_string(PATH)?;
        parse(&text).ok_or_else(|| io::Error::other(format!("{PATH}: no TcpExt listen counters")))
    }

    /// What happened between `before` and `self`.
    pub fn since(&self, before: &ListenCounters) -> ListenCounters {
        ListenCounters {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
            reqq_full_drop: self.reqq_full_drop.saturating_sub(before.reqq_full_drop),
            reqq_full_do_cookies: self
                .reqq_full_do_cookies
                .saturating_sub(before.reqq_full_do_cookies),
        }
    }
}

/// The counters from the text of /proc/net/netstat: a `TcpExt:` line of names followed by a
/// `TcpExt:` line of values. `ListenOverflows` and `ListenDrops` must be there; the two SYN-queue
/// counters (newer kernels) read as 0 when absent.
fn parse(text: &str) -> Option<ListenCounters> {
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let names: Vec<&str> = lines.next()?.split_whitespace().skip(1).collect();
    let values: Vec<&str> = lines.next()?.split_whitespace().skip(1).collect();
    let get = |name: &str| -> Option<u64> {
        let i = names.iter().position(|n| *n == name)?;
        values.get(i)?.parse().ok()
    };
    Some(ListenCounters {
        overflows: get("ListenOverflows")?,
        drops: get("ListenDrops")?,
        reqq_full_drop: get("TCPReqQFullDrop").unwrap_or(0),
        reqq_full_do_cookies: get("TCPReqQFullDoCookies").unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_values() {
        let t = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop\n\
                 TcpExt: 1 7 9 2 3\nIpExt: InNoRoutes\nIpExt: 0\n";
        let c = parse(t).unwrap();
        assert_eq!(
            c,
            ListenCounters {
                overflows: 7,
                drops: 9,
                reqq_full_drop: 3,
                reqq_full_do_cookies: 2
            }
        );
        let later = ListenCounters { overflows: 10, ..c };
        assert_eq!(later.since(&c).overflows, 3);
        assert!(parse("TcpExt: ListenDrops\nTcpExt: 1\n").is_none());
        assert!(ListenCounters::read().is_ok());
    }
}
