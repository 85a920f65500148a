//! Socket options that socket2 does not offer.
use std::io;
use std::os::fd::AsRawFd;

/// IP_BIND_ADDRESS_NO_PORT (Linux 4.2): a `bind()` to `addr:0` before `connect()` defers the
/// choice of source port to `connect()`, which can then reuse a port for other destinations.
/// Lets a client rotate source addresses without exhausting ports at bind time.
pub fn set_bind_address_no_port(sock: &impl AsRawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int and we pass its exact size.
    syscall!(setsockopt(
        sock.as_raw_fd(),
        libc::IPPROTO_IP,
        libc::IP_BIND_ADDRESS_NO_PORT,
        (&one as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
    ))?;
    Ok(())
}

/// The soft RLIMIT_NOFILE of this process.
pub fn fd_limit() -> io::Result<u64> {
    let (soft, _hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_err(io::Error::from)?;
    Ok(soft)
}

/// One accept4(2) call on `listener`. Unlike `TcpListener::accept`, which retries on EINTR, a
/// signal ends the call with `ErrorKind::Interrupted`, so a worker blocked here can see its
/// stop flag. The new socket is blocking (accept4 does not inherit O_NONBLOCK) and close-on-exec.
pub fn accept(listener: &std::net::TcpListener) -> io::Result<std::net::TcpStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: null address pointers are allowed (the peer address is not wanted).
    let fd = syscall!(accept4(
        listener.as_raw_fd(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        libc::SOCK_CLOEXEC
    ))?;
    // SAFETY: accept4 just returned this descriptor; nothing else owns it.
    Ok(unsafe { std::net::TcpStream::from_raw_fd(fd) })
}

/// As [`accept`], with the new socket non-blocking (SOCK_NONBLOCK, no extra system call): for
/// an event loop, which must never block on one connection.
pub fn accept_nonblocking(listener: &std::net::TcpListener) -> io::Result<std::net::TcpStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: null address pointers are allowed (the peer address is not wanted).
    let fd = syscall!(accept4(
        listener.as_raw_fd(),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK
    ))?;
    // SAFETY: accept4 just returned this descriptor; nothing else owns it.
    Ok(unsafe { std::net::TcpStream::from_raw_fd(fd) })
}

/// SO_ATTACH_REUSEPORT_CBPF from <asm-generic/socket.h> (Linux 4.5); the libc crate defines it
/// for Android only.
const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;

fn bpf(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Attach to `sock`'s SO_REUSEPORT group a classic BPF program that returns, for each new
/// connection, the index (in the group's order) of the socket to queue it on: the number of the
/// CPU that is processing the incoming packet, modulo `sockets`. An index outside the group
/// makes the kernel fall back to its hash.
pub fn attach_reuseport_cpu_cbpf(sock: &impl AsRawFd, sockets: u32) -> io::Result<()> {
    if sockets == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a reuseport group needs at least one socket",
        ));
    }
    let mut prog = [
        // A = the current CPU (an ancillary load: SKF_AD_OFF + SKF_AD_CPU).
        bpf(
            libc::BPF_LD | libc::BPF_W | libc::BPF_ABS,
            (libc::SKF_AD_OFF + libc::SKF_AD_CPU) as u32,
        ),
        // A = A % sockets
        bpf(libc::BPF_ALU | libc::BPF_MOD | libc::BPF_K, sockets),
        // return A
        bpf(libc::BPF_RET | libc::BPF_A, 0),
    ];
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `prog`, both alive for the call; the kernel copies the program.
    syscall!(setsockopt(
        sock.as_raw_fd(),
        libc::SOL_SOCKET,
        SO_ATTACH_REUSEPORT_CBPF,
        (&fprog as *const libc::sock_fprog).cast(),
        std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
    ))?;
    Ok(())
}

/// Connections waiting in a listening TCP socket's accept queue (TCP_INFO's `tcpi_unacked`,
/// which is `sk_ack_backlog` for a listener).
pub fn accept_queue_len(sock: &impl AsRawFd) -> io::Result<u32> {
    // SAFETY: tcp_info is plain integers; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes and `len` is a live socklen_t.
    syscall!(getsockopt(
        sock.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_INFO,
        (&mut info as *mut libc::tcp_info).cast(),
        &mut len,
    ))?;
    Ok(info.tcpi_unacked)
}

/// Set the soft RLIMIT_NOFILE of this process to `soft` (capped at the hard limit): a worker's
/// `--worker-nofile`, to provoke EMFILE.
pub fn set_fd_limit(soft: u64) -> io::Result<()> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    setrlimit(Resource::RLIMIT_NOFILE, soft.min(hard), hard).map_err(io::Error::from)
}

/// TCP_DEFER_ACCEPT on a listening socket: the kernel completes a connection into the accept
/// queue only when its first data arrives, or after about `wait` (rounded to whole seconds;
/// Apache's `AcceptFilter http data`, nginx's `listen ... deferred`).
pub fn set_defer_accept(sock: &impl AsRawFd, wait: std::time::Duration) -> io::Result<()> {
    let secs: libc::c_int = wait.as_secs().clamp(1, i32::MAX as u64) as libc::c_int;
    // SAFETY: a valid socket descriptor and a pointer to an int of the size passed.
    syscall!(setsockopt(
        sock.as_raw_fd(),
        libc::IPPROTO_TCP,
        libc::TCP_DEFER_ACCEPT,
        &secs as *const libc::c_int as *const libc::c_void,
        std::mem::size_of::<libc::c_int>() as libc::socklen_t
    ))?;
    Ok(())
}
