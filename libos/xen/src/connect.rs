//! What a Xen platform connects to on first use, the same on every architecture: a ring
//! page Xen names in HVM parameters (the console's, the store's) and the grant table.
//! The platform keeps one of each in a `static` and says how to map memory; everything
//! else (which parameters, the hypercalls, attaching the table) is here.

use crate::grant::GrantTable;
use crate::xenstore::{Store, StoreError};
use crate::{Hypercall, XenBus, abi};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

/// Whether this is the first call to try the lookup `tried` guards (and marks it tried).
/// A plain load first: the console asks on every write, and once the lookup is done no
/// call needs the read-modify-write.
fn first_try(tried: &AtomicBool) -> bool {
    !tried.load(Ordering::Relaxed) && !tried.swap(true, Ordering::Relaxed)
}

/// A ring page of type `T` and its event channel, looked up once.
pub struct LazyRing<T> {
    tried: AtomicBool,
    page: AtomicPtr<T>,
    port: AtomicU32,
}

impl<T> Default for LazyRing<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> LazyRing<T> {
    /// A ring not looked up yet.
    pub const fn new() -> Self {
        LazyRing {
            tried: AtomicBool::new(false),
            page: AtomicPtr::new(null_mut()),
            port: AtomicU32::new(0),
        }
    }

    /// The page (mapped by `map`) and event channel Xen names in HVM parameters
    /// `pfn_param` and `port_param`, looked up on the first call; `None` if the domain
    /// has no such ring or it cannot be mapped.
    pub fn get<H: Hypercall>(
        &self,
        pfn_param: u32,
        port_param: u32,
        map: impl FnOnce(u64) -> bool,
    ) -> Option<(*mut T, u32)> {
        if first_try(&self.tried)
            && let Some((page, port)) = crate::ring_page::<H>(pfn_param, port_param, map)
        {
            self.port.store(port, Ordering::Relaxed);
            self.page.store(page as *mut T, Ordering::Release);
        }
        let page = self.page.load(Ordering::Acquire);
        (!page.is_null()).then(|| (page, self.port.load(Ordering::Relaxed)))
    }
}

impl LazyRing<abi::XenstoreDomainInterface> {
    /// The xenstore connection over this ring (the store's HVM parameters).
    pub fn store<H: Hypercall>(&self, map: impl FnOnce(u64) -> bool) -> Option<Store> {
        let (page, port) = self.get::<H>(abi::HVM_PARAM_STORE_PFN, abi::HVM_PARAM_STORE_EVTCHN, map)?;
        // SAFETY: the store page Xen named, mapped by `map`; only the platform that owns
        // this ring drives it.
        Some(unsafe { Store::new(page, port) })
    }
}

/// This domain's grant table, its first frame placed once.
pub struct LazyGrantTable {
    tried: AtomicBool,
    table: GrantTable,
}

impl Default for LazyGrantTable {
    fn default() -> Self {
        Self::new()
    }
}

impl LazyGrantTable {
    /// A table not placed yet.
    pub const fn new() -> Self {
        LazyGrantTable {
            tried: AtomicBool::new(false),
            table: GrantTable::new(),
        }
    }

    /// The table, its first frame placed on the first call at the guest frame `frame`
    /// gives (a page address, mapped as memory); `None` if there is none or Xen refuses.
    ///
    /// # Safety
    /// The page `frame` returns must be the platform's to give away: nothing else uses
    /// it, as Xen replaces its contents with the table's frame.
    pub unsafe fn get<H: Hypercall>(&'static self, frame: impl FnOnce() -> Option<u64>) -> Option<&'static GrantTable> {
        if first_try(&self.tried)
            && let Some(page) = frame()
            // SAFETY: the caller's contract.
            && unsafe { crate::map_grant_frame::<H>(0, page >> 12) }.is_ok()
        {
            // SAFETY: Xen mapped the table's first frame at `page`; only the table writes it.
            unsafe { self.table.attach(page as *mut abi::GrantEntryV1) };
        }
        self.table.is_attached().then_some(&self.table)
    }
}

/// Reads xenstore node `path` of the platform `B` (relative paths are under this
/// domain's `/local/domain/<id>/`) into `out`; the value's length.
pub fn xenstore_read<B: XenBus>(path: &str, out: &mut [u8]) -> Result<usize, StoreError> {
    B::store().ok_or(StoreError::NoStore)?.read::<B::Hypercall>(path, out)
}
