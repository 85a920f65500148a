//! The synchronous worker (Apache prefork, gunicorn sync, uWSGI): wait for a connection as the
//! strategy says, serve it to the end, one at a time, count everything in its own scoreboard
//! slot, until asked to stop. Generic over the acceptor, so each strategy gets its own
//! monomorphised hot loop.
use super::WorkerCtx;
use crate::metrics::Slot;
use crate::server::http::{self, Next, RequestReader};
use crate::server::trace::TraceWriter;
use crate::strategy::Acceptor;
use crate::sys::clock::{burn_cpu, monotonic_ns};
use crate::sys::signal::stop_requested;
use std::io::{self, Write};
use std::net::TcpStream;

/// Serve connections from `acceptor` until a stop is requested, then those it already took.
pub(super) fn serve<A: Acceptor>(mut acceptor: A, ctx: &WorkerCtx<'_>) -> io::Result<()> {
    let slot = ctx.slot;
    let mut w = Served {
        ctx,
        req_buf: Vec::with_capacity(http::MAX_HEAD),
        resp_buf: Vec::with_capacity(256),
        trace: ctx.cfg.tracer.as_deref().map(|t| t.writer(ctx.index, slot)),
    };
    while !stop_requested() {
        if let Some(stream) = acceptor.next(slot)? {
            w.one(stream)?;
            acceptor.done();
        }
    }
    // Connections the acceptor already took from the kernel are in flight too: serve them.
    for stream in acceptor.drain(slot)? {
        w.one(stream)?;
        acceptor.done();
    }
    // Every path out of the loop (here, `?`, a panic) drops the writer, which writes its rows.
    match w.trace.as_mut() {
        Some(t) => t.flush(),
        None => Ok(()),
    }
}

/// What serving a connection needs besides the connection: reused buffers and the trace.
struct Served<'a> {
    ctx: &'a WorkerCtx<'a>,
    req_buf: Vec<u8>,
    resp_buf: Vec<u8>,
    trace: Option<TraceWriter<'a>>,
}

impl Served<'_> {
    /// Serve one accepted connection and count it.
    fn one(&mut self, stream: TcpStream) -> io::Result<()> {
        let slot = self.ctx.slot;
        let accepted_ns = monotonic_ns();
        let epoch = || self.ctx.epoch.load(std::sync::atomic::Ordering::Relaxed);
        Slot::bump(&slot.accepted, 1);
        slot.set_open(1, accepted_ns, epoch());
        let traced = self.trace.as_mut().map(|t| t.on_accept(slot));
        let mut connect_ns = None;
        match serve_connection(
            stream,
            accepted_ns,
            self.ctx,
            (&mut self.req_buf, &mut self.resp_buf),
            &mut connect_ns,
        ) {
            Ok(true) => {}
            Ok(false) => Slot::bump(&slot.bad_requests, 1),
            Err(_) => Slot::bump(&slot.conn_errors, 1),
        }
        let done_ns = monotonic_ns();
        slot.set_open(0, done_ns, epoch());
        Slot::bump(&slot.busy_ns, done_ns.saturating_sub(accepted_ns));
        if let (Some(t), Some(a)) = (self.trace.as_mut(), traced) {
            t.row(a, accepted_ns, connect_ns)?;
        }
        crate::fault::connection_done(Slot::read(&slot.accepted));
        Ok(())
    }
}

/// Serve every request on one connection; `Ok(false)` when it ended with a 400. The first
/// request's `X-Herd-Connect-Ns`, if any, is left in `connect_ns`.
fn serve_connection(
    mut stream: TcpStream,
    accepted_ns: u64,
    ctx: &WorkerCtx<'_>,
    (req_buf, resp_buf): (&mut Vec<u8>, &mut Vec<u8>),
    connect_ns: &mut Option<u64>,
) -> io::Result<bool> {
    let cfg = ctx.cfg;
    // A client that sends nothing, trickles its request, or never reads its responses (a
    // pipeline of requests whose answers fill the send buffer) holds this worker for at most
    // about --read-timeout: each read and each write is bounded, and a request must arrive
    // whole within the timeout of its first byte.
    stream.set_read_timeout(Some(cfg.listen.io_timeout))?;
    stream.set_write_timeout(Some(cfg.listen.io_timeout))?;
    let mut reader = RequestReader::new(req_buf).with_limit(cfg.listen.io_timeout);
    let mut served = 0u32;
    loop {
        let head = match reader.next(&mut stream)? {
            Next::Request(h) => h,
            Next::Closed => return Ok(true),
            Next::Bad => {
                stream.write_all(http::BAD_REQUEST)?;
                return Ok(false);
            }
        };
        if !cfg.work.is_zero() {
            burn_cpu(cfg.work);
        }
        if !cfg.sleep.is_zero() {
            std::thread::sleep(cfg.sleep);
        }
        if served == 0 {
            *connect_ns = head.connect_ns;
        }
        served += 1;
        let keep_alive = head.keep_alive && served < cfg.max_requests_per_conn && !stop_requested();
        http::ok_response(
            resp_buf,
            ctx.index,
            accepted_ns,
            keep_alive,
            head.head_request,
        );
        stream.write_all(resp_buf)?;
        Slot::bump(&ctx.slot.requests, 1);
        if !keep_alive {
            return Ok(true);
        }
    }
}
