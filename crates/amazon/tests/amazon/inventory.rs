//! The FBA Inventory API: every page of summaries, equal to the MYI ground
//! truth, and a walk whose `nextToken` expires starting over cleanly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use amzsync_amazon::sp::inventory::{InventorySummary, MAX_RESTARTS};
use amzsync_amazon::throttle::{self, InProcessRateLimiter, LimitKey, RateLimiter, WaitTooLong};
use amzsync_amazon::{Clock, Error, SellingPartner};
use amzsync_amazon_sim::{Config as SimConfig, Operation, Seller};
use futures::future::BoxFuture;

use crate::harness::{TestWorld, US};

const BIG_SELLER: &str = "A2BIGSELLER";

/// A seller with three pages of summaries (50, 50, 20).
fn big_seller(t: &TestWorld) -> SellingPartner {
    let credentials = t
        .sim
        .add_seller(Seller::new(BIG_SELLER).marketplace(US, 120))
        .expect("a known marketplace");
    SellingPartner::new(BIG_SELLER, credentials.refresh_token)
}

fn assert_matches_truth(t: &TestWorld, summaries: &[InventorySummary]) {
    let mut truth = t
        .sim
        .truth()
        .inventory(BIG_SELLER, US)
        .expect("the seller sells in the US");
    truth.sort_by(|a, b| a.sku.cmp(&b.sku));
    assert_eq!(summaries.len(), truth.len());
    for (summary, expected) in summaries.iter().zip(&truth) {
        assert_eq!(summary.seller_sku.as_deref(), Some(expected.sku.as_str()));
        assert_eq!(summary.fn_sku.as_deref(), Some(expected.fnsku.as_str()));
        assert_eq!(summary.asin.as_deref(), Some(expected.asin.as_str()));
        assert_eq!(
            summary.total_quantity,
            Some(i64::from(expected.afn_total_quantity))
        );
        let details = summary
            .inventory_details
            .as_ref()
            .expect("details were asked for");
        let reserved = details
            .reserved_quantity
            .as_ref()
            .and_then(|r| r.total_reserved_quantity);
        let unfulfillable = details
            .unfulfillable_quantity
            .as_ref()
            .and_then(|u| u.total_unfulfillable_quantity);
        let researching = details
            .researching_quantity
            .as_ref()
            .and_then(|r| r.total_researching_quantity);
        let quantities = [
            (details.fulfillable_quantity, expected.afn_fulfillable_quantity),
            (
                details.inbound_working_quantity,
                expected.afn_inbound_working_quantity,
            ),
            (
                details.inbound_shipped_quantity,
                expected.afn_inbound_shipped_quantity,
            ),
            (
                details.inbound_receiving_quantity,
                expected.afn_inbound_receiving_quantity,
            ),
            (reserved, expected.afn_reserved_quantity),
            (unfulfillable, expected.afn_unsellable_quantity),
            (researching, expected.afn_researching_quantity),
        ];
        for (got, want) in quantities {
            assert_eq!(got, Some(i64::from(want)), "sku {}", expected.sku);
        }
    }
}

/// Amazon's limits, except that the reservations `stalled` picks first let 31
/// simulated seconds pass: as long as a slow consumer or a throttled moment
/// would, long enough for a 30-second `nextToken` to expire.
#[derive(Debug)]
struct Stalling {
    clock: Arc<dyn Clock>,
    inner: InProcessRateLimiter,
    calls: AtomicU32,
    stalled: fn(u32) -> bool,
}

impl RateLimiter for Stalling {
    fn reserve<'a>(
        &'a self,
        key: &'a LimitKey,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Duration, WaitTooLong>> {
        Box::pin(async move {
            if key.operation == throttle::Operation::GetInventorySummaries {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if (self.stalled)(n) {
                    self.clock.sleep(Duration::from_secs(31)).await;
                }
            }
            self.inner.reserve(key, max_wait).await
        })
    }

    fn observe_rate<'a>(&'a self, key: &'a LimitKey, rate: f64) -> BoxFuture<'a, ()> {
        self.inner.observe_rate(key, rate)
    }
}

async fn stalling_world(stalled: fn(u32) -> bool) -> TestWorld {
    TestWorld::with(
        SimConfig::default(),
        |config| config,
        move |builder, clock: Arc<dyn Clock>| {
            builder.rate_limiter(Arc::new(Stalling {
                inner: InProcessRateLimiter::new(Arc::clone(&clock)),
                clock,
                calls: AtomicU32::new(0),
                stalled,
            }))
        },
    )
    .await
}

#[tokio::test]
async fn fba_inventory_summaries_walk_every_page_and_equal_the_myi_ground_truth() {
    let t = TestWorld::start().await;
    let seller = big_seller(&t);

    let summaries = t
        .client
        .inventory(&seller)
        .list_inventory_summaries(US)
        .await
        .expect("every page is read");

    assert_matches_truth(&t, &summaries);
    let pages = t.sim.stats(BIG_SELLER, Operation::GetInventorySummaries);
    assert_eq!((pages.calls, pages.violations), (3, 0));
}

#[tokio::test]
async fn an_expired_next_token_mid_walk_restarts_and_returns_every_sku_exactly_once() {
    // The third page waits past the lifetime of the second page's token.
    let t = stalling_world(|n| n == 3).await;
    let seller = big_seller(&t);

    let summaries = t
        .client
        .inventory(&seller)
        .list_inventory_summaries(US)
        .await
        .expect("the restarted walk completes");

    assert_matches_truth(&t, &summaries);
    let mut skus: Vec<_> = summaries.iter().filter_map(|s| s.seller_sku.clone()).collect();
    skus.dedup();
    assert_eq!(skus.len(), 120, "each SKU once");
    // Two pages and the refused third, then the three pages again.
    let pages = t.sim.stats(BIG_SELLER, Operation::GetInventorySummaries);
    assert_eq!((pages.calls, pages.violations), (6, 0));
}

#[tokio::test]
async fn a_next_token_that_keeps_expiring_is_an_error_and_never_a_partial_list() {
    // Every page after the first of a walk waits past its token's lifetime.
    let t = stalling_world(|n| n % 2 == 0).await;
    let seller = big_seller(&t);

    let result = t.client.inventory(&seller).list_inventory_summaries(US).await;

    assert!(
        matches!(result, Err(Error::PageTokenExpired { restarts }) if restarts == MAX_RESTARTS),
        "{result:?}"
    );
    assert!(result.is_err_and(|e| e.is_retryable()));
    let pages = t.sim.stats(BIG_SELLER, Operation::GetInventorySummaries);
    assert_eq!(pages.calls, u64::from(2 * (MAX_RESTARTS + 1)));
}
