//! Names to addresses: [`resolve`] asks the DNS server (DHCP's, or the one configured) for
//! a name's IPv4 address, with smoltcp's DNS client (retransmissions, a time limit).

use crate::{Result, with_stack};
use core::net::Ipv4Addr;
use core::task::Poll;
use smoltcp::socket::dns::QueryHandle;

/// A query in flight, cancelled if its asker goes away first.
struct Query {
    handle: QueryHandle,
    answered: bool,
}

impl Drop for Query {
    fn drop(&mut self) {
        if !self.answered {
            let _ = with_stack(|stack| stack.cancel_query(self.handle));
        }
    }
}

/// The IPv4 address of `name` (an `A` record), once the interface has an address.
/// `Err(NameNotFound)` when the server has none or does not answer in time;
/// `Err(Unreachable)` when there is no DNS server.
#[inline(never)] // A component boundary: see unik-catalog's analysis.
pub async fn resolve(name: &str) -> Result<Ipv4Addr> {
    crate::address().await?;
    let mut query = Query {
        handle: with_stack(|stack| stack.start_query(name))??,
        answered: false,
    };
    core::future::poll_fn(
        |context| match with_stack(|stack| stack.query_result(query.handle, context.waker())) {
            Ok(None) => Poll::Pending,
            Ok(Some(answer)) => {
                query.answered = true;
                Poll::Ready(answer)
            }
            Err(error) => Poll::Ready(Err(error)),
        },
    )
    .await
}
