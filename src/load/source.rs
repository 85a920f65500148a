//! Source-address rotation. A client that opens tens of thousands of short connections to one
//! server address runs out of (source port, destination) pairs: every closed connection leaves
//! its 4-tuple in TIME_WAIT for 60 s on one side. Binding each connection to the next of
//! 127.0.0.2 to 127.0.0.254 (with IP_BIND_ADDRESS_NO_PORT, so the port is chosen at connect)
//! multiplies the pairs by 253. Only for loopback targets: those addresses are local there.
use std::net::{IpAddr, Ipv4Addr};

pub const FIRST: u8 = 2;
pub const LAST: u8 = 254;

pub struct SourceAddrs {
    enabled: bool,
    next: usize,
    step: usize,
}

impl SourceAddrs {
    /// Thread `thread` of `threads` walks every `threads`-th address, so threads do not
    /// collide.
    pub fn new(enabled: bool, thread: usize, threads: usize) -> Self {
        SourceAddrs {
            enabled,
            next: thread,
            step: threads.max(1),
        }
    }
}

impl Iterator for SourceAddrs {
    type Item = IpAddr;

    /// The next source address; `None` for ever when rotation is off.
    fn next(&mut self) -> Option<IpAddr> {
        if !self.enabled {
            return None;
        }
        let span = (LAST - FIRST + 1) as usize;
        let host = FIRST as usize + self.next % span;
        self.next = self.next.wrapping_add(self.step);
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, host as u8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_over_the_whole_range_without_collisions() {
        let mut a = SourceAddrs::new(true, 0, 2);
        let mut b = SourceAddrs::new(true, 1, 2);
        let xs: Vec<_> = (0..253).map(|_| a.next().unwrap()).collect();
        let ys: Vec<_> = (0..3).map(|_| b.next().unwrap()).collect();
        assert_eq!(xs[0], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(ys[0], IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
        let mut seen: Vec<_> = xs.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 253);
        assert!(SourceAddrs::new(false, 0, 1).next().is_none());
    }
}
