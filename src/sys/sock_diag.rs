//! The kernel's listening TCP sockets on one port, through `NETLINK_SOCK_DIAG` (inet_diag), the
//! interface `ss -lnt` uses. For a listener the kernel reports in `idiag_rqueue` the connections
//! waiting in its accept queue (`sk_ack_backlog`) and in `idiag_wqueue` its backlog
//! (`sk_max_ack_backlog`): `ss`'s Recv-Q and Send-Q.
//!
//! The messages are built and parsed by the rust-netlink crates (`netlink-packet-sock-diag`,
//! `netlink-sys`): maintained, used by `rtnetlink` and its users, and they keep the structure
//! layouts and the socket's unsafe code out of herd.
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr};
use std::io;
use std::net::IpAddr;

/// One listening socket as the kernel sees it at the moment of the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    /// The socket's inode: `socket:[INODE]` in /proc/PID/fd of every process holding it.
    pub inode: u32,
    pub addr: IpAddr,
    pub port: u16,
    /// Connections waiting in the accept queue (Recv-Q).
    pub queued: u32,
    /// The backlog the queue is capped at (Send-Q).
    pub backlog: u32,
}

/// A netlink socket for repeated dumps (one per sampler).
pub struct SockDiag {
    socket: Socket,
    buf: Vec<u8>,
}

impl SockDiag {
    pub fn open() -> io::Result<SockDiag> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(SockDiag {
            socket,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Every listening TCP socket, IPv4 and IPv6, on `port`.
    pub fn listeners(&mut self, port: u16) -> io::Result<Vec<Listener>> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            self.dump(family, port, &mut out)?;
        }
        Ok(out)
    }

    fn dump(&mut self, family: u8, port: u16, out: &mut Vec<Listener>) -> io::Result<()> {
        let mut socket_id = if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        };
        // The kernel skips listeners on other ports itself (inet_diag_dump_icsk compares
        // idiag_sport); the check below holds either way.
        socket_id.source_port = port;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        let mut msg = NetlinkMessage::new(
            header,
            SockDiagMessage::InetRequest(InetRequest {
                family,
                protocol: IPPROTO_TCP,
                extensions: ExtensionFlags::empty(),
                states: StateFlags::LISTEN,
                socket_id,
            })
            .into(),
        );
        msg.finalize();
        let mut req = vec![0; msg.buffer_len()];
        msg.serialize(&mut req);
        self.socket.send(&req, 0)?;
        loop {
            self.buf.clear();
            let n = self.socket.recv(&mut self.buf, 0)?;
            if n > self.buf.len() {
                return Err(io::Error::other("sock_diag: a reply was truncated"));
            }
            let mut off = 0;
            while off < n {
                let m = NetlinkMessage::<SockDiagMessage>::deserialize(&self.buf[off..n])
                    .map_err(|e| io::Error::other(format!("sock_diag reply: {e}")))?;
                let len = m.header.length as usize;
                match m.payload {
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return Err(match e.code {
                            Some(c) => io::Error::from_raw_os_error(-c.get()),
                            None => io::Error::other("sock_diag: unexpected ACK"),
                        })
                    }
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                        let h = &r.header;
                        if h.socket_id.source_port == port {
                            out.push(Listener {
                                inode: h.inode,
                                addr: h.socket_id.source_address,
                                port,
                                queued: h.recv_queue,
                                backlog: h.send_queue,
                            });
                        }
                    }
                    _ => {}
                }
                if len == 0 {
                    break;
                }
                off += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn sees_a_listener_and_its_queue() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut d = SockDiag::open().unwrap();
        let before = d.listeners(port).unwrap();
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!(before[0].queued, 0);
        assert!(before[0].backlog > 0);
        // Three connections the listener never accepts wait in its queue.
        let held: Vec<_> = (0..3)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        let after = d.listeners(port).unwrap();
        assert_eq!(after[0].queued, 3, "{after:?}");
        assert_eq!(after[0].inode, before[0].inode);
        drop(held);
        drop(l);
        assert!(d.listeners(port).unwrap().is_empty());
    }
}
