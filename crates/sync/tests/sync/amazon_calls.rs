//! Every HTTP call a sync makes to Amazon is counted by operation and
//! outcome, throttling included (FR-10), in the recorder of the process.

use amzsync_amazon_sim::Operation;
use amzsync_domain::SyncKind;
use amzsync_test_support::TestDb;
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::harness::{World, assert_success};

fn count(text: &str, metric: &str, labels: &str) -> u64 {
    let prefix = format!("{metric}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.parse().expect("a counter value"))
}

/// One thread: the local recorder is the test thread's, and every call to
/// Amazon is awaited on it.
#[tokio::test]
async fn a_sync_counts_its_amazon_calls_by_operation_and_outcome() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let world = World::new(TestDb::sqlite().await).await;
    world.sim.set_report_polls(0);
    world.sim.throttle(Operation::CreateReport, 1);
    world.sim.fail_next(Operation::GetReport);

    let task = world.trigger(SyncKind::Inventory, None).await;
    let (task, _) = world.drive(task.id).await;
    assert_success(&task);

    let text = handle.render();
    let calls = |operation: &str, outcome: &str| {
        count(
            &text,
            "amzsync_amazon_calls_total",
            &format!("operation=\"{operation}\",outcome=\"{outcome}\""),
        )
    };
    // Two marketplaces: two reports, each looked up, created, polled, its
    // document fetched and downloaded; the 429 and the 500 were retried
    // inside the call, so they are extra calls.
    assert_eq!(calls("getReports", "ok"), 2, "{text}");
    assert_eq!(calls("createReport", "throttled"), 1, "{text}");
    assert_eq!(calls("createReport", "ok"), 2, "{text}");
    assert_eq!(calls("getReport", "transient"), 1, "{text}");
    assert_eq!(calls("getReport", "ok"), 2, "{text}");
    assert_eq!(calls("getReportDocument", "ok"), 2, "{text}");
    assert_eq!(calls("downloadDocument", "ok"), 2, "{text}");
    assert_eq!(
        count(
            &text,
            "amzsync_amazon_throttles_total",
            "operation=\"createReport\""
        ),
        1,
        "{text}"
    );
}
