//! The bpf(2) commands `reuseport-ebpf`'s selector needs (map create, lookup, update, program
//! load), the mmap of a BPF_F_MMAPABLE array, and the socket option that attaches a program to
//! a reuseport group. The programs themselves are assembled in Rust ([`super::bpf_insn`],
//! [`super::bpf_prog`]): no C toolchain, no libbpf, no ELF object.
//!
//! bpf(2) takes a `union bpf_attr` and its size; each command reads its own prefix of the union,
//! and a kernel that knows a longer union checks that the bytes it does not get are zero. So
//! each command here passes a `#[repr(C)]` struct with exactly the fields it uses, in the
//! kernel's order, zero-initialised (layouts from <linux/bpf.h>).
use super::bpf_error::BpfError;
use super::bpf_insn::Insn;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;

pub const MAP_TYPE_ARRAY: u32 = 2;
pub const MAP_TYPE_REUSEPORT_SOCKARRAY: u32 = 20;
pub const PROG_TYPE_SK_REUSEPORT: u32 = 21;
/// `expected_attach_type` BPF_SK_REUSEPORT_SELECT_OR_MIGRATE (Linux 5.14).
pub const ATTACH_SELECT_OR_MIGRATE: u32 = 40;
/// Map flag BPF_F_MMAPABLE (Linux 5.5, array maps only).
pub const F_MMAPABLE: u32 = 1 << 10;
/// SO_ATTACH_REUSEPORT_EBPF from <asm-generic/socket.h> (Linux 4.5; eBPF programs of type
/// SK_REUSEPORT from 4.19). libc defines it for Android only.
const SO_ATTACH_REUSEPORT_EBPF: libc::c_int = 52;

/// The prefix of `bpf_attr` that BPF_MAP_CREATE reads (up to `map_name`, Linux 4.15).
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

/// The prefix of `bpf_attr` that BPF_MAP_LOOKUP_ELEM / BPF_MAP_UPDATE_ELEM read.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// The prefix of `bpf_attr` that BPF_PROG_LOAD reads (up to `expected_attach_type`, 4.17).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// bpf(cmd, attr, sizeof attr). The caller guarantees that every pointer inside `attr` is
/// valid for the kernel's access (reads, or writes of the stated size) during the call.
fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised #[repr(C)] prefix of bpf_attr of the size passed;
    // the pointers it carries are valid per this function's contract.
    syscall!(syscall(
        libc::SYS_bpf,
        cmd,
        attr as *mut T,
        std::mem::size_of::<T>() as libc::c_uint,
    ))
}

/// Own a descriptor bpf(2) just returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just created this descriptor for us; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

/// A NUL-terminated object name of at most 15 bytes (the kernel allows [A-Za-z0-9_.]).
fn object_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(name.bytes().take(15)) {
        *o = b;
    }
    out
}

/// BPF_MAP_CREATE; `what` names the map in the error.
pub fn map_create(
    what: &str,
    map_type: u32,
    value_size: u32,
    max_entries: u32,
    flags: u32,
    name: &str,
) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type,
        key_size: 4,
        value_size,
        max_entries,
        map_flags: flags,
        map_name: object_name(name),
        ..Default::default()
    };
    sys_bpf(BPF_MAP_CREATE, &mut attr)
        .map(owned)
        .map_err(|e| BpfError::new(format!("BPF_MAP_CREATE {what}"), &e).into())
}

/// BPF_MAP_UPDATE_ELEM (flags BPF_ANY) of a map with u32 keys and u64 values.
pub fn map_update(map: BorrowedFd<'_>, key: u32, value: u64) -> io::Result<()> {
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: &key as *const u32 as u64,
        value: &value as *const u64 as u64,
        ..Default::default()
    };
    // `key` and `value` are live locals of the sizes the map was created with (4 and 8).
    sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr)
        .map(drop)
        .map_err(|e| BpfError::new(format!("BPF_MAP_UPDATE_ELEM [{key}] = {value}"), &e).into())
}

/// BPF_MAP_LOOKUP_ELEM of a map with u32 keys and u64 values (for a REUSEPORT_SOCKARRAY: the
/// socket's cookie).
pub fn map_lookup(map: BorrowedFd<'_>, key: u32) -> io::Result<u64> {
    let mut value = 0u64;
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: &key as *const u32 as u64,
        value: &mut value as *mut u64 as u64,
        ..Default::default()
    };
    // `value` is a live 8-byte local the kernel writes (value_size is 8 for our maps).
    sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut attr)
        .map_err(|e| io::Error::from(BpfError::new(format!("BPF_MAP_LOOKUP_ELEM [{key}]"), &e)))?;
    Ok(value)
}

/// Verifier log size for a failed load: 1 MiB holds the log of any program herd makes.
const LOG_SIZE: usize = 1 << 20;

/// BPF_PROG_LOAD. A failed load is repeated with the verifier log on (log_level 1) and the log
/// is returned in the error: not on the first try, since a log buffer that fills up fails an
/// otherwise good load with ENOSPC on kernels before 6.4.
/// `what` describes the program in the error.
pub fn prog_load(
    prog_type: u32,
    expected_attach_type: u32,
    insns: &[Insn],
    what: &str,
    name: &str,
) -> io::Result<OwnedFd> {
    // The license string only matters for GPL-only helpers; the selector calls none.
    const LICENSE: &CStr = c"Dual MIT/GPL";
    let load = |log: Option<&mut Vec<u8>>| {
        let mut attr = ProgLoadAttr {
            prog_type,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: LICENSE.as_ptr() as u64,
            prog_name: object_name(name),
            expected_attach_type,
            ..Default::default()
        };
        if let Some(buf) = log {
            attr.log_level = 1;
            attr.log_size = buf.len() as u32;
            attr.log_buf = buf.as_mut_ptr() as u64;
        }
        // `insns` and LICENSE are read during the call; the log buffer, if any, is writable
        // for `log_size` bytes.
        sys_bpf(BPF_PROG_LOAD, &mut attr).map(owned)
    };
    load(None).map_err(|first| {
        let mut buf = vec![0u8; LOG_SIZE];
        let _ = load(Some(&mut buf)); // fails the same way; a success is closed at once
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let mut err = BpfError::new(
            format!("BPF_PROG_LOAD {what} ({} insns)", insns.len()),
            &first,
        );
        err.log = Some(String::from_utf8_lossy(&buf[..end]).into_owned());
        err.into()
    })
}

/// SO_ATTACH_REUSEPORT_EBPF: make `prog` the selector of `sock`'s SO_REUSEPORT group.
pub fn attach_reuseport(sock: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> io::Result<()> {
    let fd: libc::c_int = prog.as_raw_fd();
    // SAFETY: `fd` is a live c_int and we pass its exact size.
    syscall!(setsockopt(
        sock.as_raw_fd(),
        libc::SOL_SOCKET,
        SO_ATTACH_REUSEPORT_EBPF,
        (&fd as *const libc::c_int).cast(),
        std::mem::size_of::<libc::c_int>() as libc::socklen_t,
    ))
    .map(drop)
    .map_err(|e| BpfError::new("setsockopt SO_ATTACH_REUSEPORT_EBPF", &e).into())
}

/// A shared, writable mapping of a BPF_F_MMAPABLE array map's values. The mapping (and the
/// map, which it keeps alive) is inherited by children forked after it is made, at the same
/// address: workers and the BPF program then share the same memory.
pub struct MapMemory {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the memory is only ever accessed through atomics (`u32_at`); sharing or moving the
// handle across threads is no different from sharing `&AtomicU32`.
unsafe impl Send for MapMemory {}
// SAFETY: as above.
unsafe impl Sync for MapMemory {}

impl MapMemory {
    /// mmap `len` bytes of `map`'s values (MAP_SHARED, read-write).
    pub fn new(map: BorrowedFd<'_>, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping of a map fd; no existing memory is touched. The kernel
        // checks `len` against the map's size and returns page-aligned memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                map.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            return Err(BpfError::new("mmap of a BPF_F_MMAPABLE map", &e).into());
        }
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap: null"))?;
        Ok(MapMemory { ptr, len })
    }

    /// The u32 at byte `offset`, if it lies in the mapping and is 4-aligned.
    pub fn u32_at(&self, offset: usize) -> Option<&AtomicU32> {
        if offset % 4 != 0 || offset.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: in bounds and aligned (the mapping is page-aligned); the memory lives as long
        // as `self`, and everyone (workers, the BPF program's loads) accesses it atomically.
        Some(unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast()) })
    }
}

impl Drop for MapMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; no reference from `u32_at` outlives self.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
