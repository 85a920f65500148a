//! Anonymous shared memory, mapped before fork so that every worker sees the same pages.
use std::io;
use std::marker::PhantomData;
use std::ptr::NonNull;

pub use bytemuck::Zeroable;

/// `len` values of `T` in one `MAP_SHARED | MAP_ANONYMOUS` mapping, zero-filled.
///
/// `T` must be valid when all its bytes are zero (`Zeroable`), and, since every process that
/// inherits the mapping holds a `&T` to the same memory, it must only be mutated through
/// interior, process-safe mutability (atomics, or a process-shared lock) and hold no pointers:
/// the types herd maps are structs of atomics (derived `Zeroable`) and the process-shared lock
/// storage of this module's siblings.
pub struct SharedArray<T: Zeroable + Sync> {
    ptr: NonNull<T>,
    len: usize,
    _marker: PhantomData<T>,
}

// SAFETY: the mapping is shared memory whose contents are `T: Sync`; moving the handle to another
// thread is no different from sharing `&T`.
unsafe impl<T: Zeroable + Sync> Send for SharedArray<T> {}
// SAFETY: as above; all access is through `&T` and `T: Sync`.
unsafe impl<T: Zeroable + Sync> Sync for SharedArray<T> {}

impl<T: Zeroable + Sync> SharedArray<T> {
    /// Map `len` zeroed values of `T`.
    pub fn new(len: usize) -> io::Result<Self> {
        let bytes = std::mem::size_of::<T>()
            .checked_mul(len.max(1))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "mapping too large"))?;
        // SAFETY: a fresh anonymous mapping; no existing memory is touched. The kernel returns
        // page-aligned, zero-filled memory, which satisfies T's alignment (at most a page here)
        // and, by `Zeroable`, is a valid T.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        assert!(std::mem::align_of::<T>() <= 4096);
        let ptr = NonNull::new(ptr.cast::<T>()).expect("mmap returned null");
        Ok(SharedArray {
            ptr,
            len,
            _marker: PhantomData,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_slice(&self) -> &[T] {
        // SAFETY: the mapping holds `len` initialised values of T for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.as_slice().get(i)
    }
}

impl<T: Zeroable + Sync> std::ops::Index<usize> for SharedArray<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.as_slice()[i]
    }
}

impl<T: Zeroable + Sync> Drop for SharedArray<T> {
    fn drop(&mut self) {
        let bytes = std::mem::size_of::<T>() * self.len.max(1);
        // SAFETY: unmapping exactly the region mapped in `new`; no reference into it outlives
        // `self` (they all borrow from it).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), bytes) };
    }
}
