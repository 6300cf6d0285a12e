//! Metrics land in a Prometheus recorder with the documented names and
//! labels (a local recorder per test, so tests do not see each other's).

use std::sync::Arc;
use std::time::Duration;

use amzsync_amazon::SystemClock;
use amzsync_amazon::observe::{CallObserver as _, CallOutcome};
use amzsync_amazon::throttle::{InProcessRateLimiter, LimitKey, Operation, RateLimiter, UsagePlan};
use amzsync_domain::SyncKind;
use amzsync_jobs::Stats;
use amzsync_sync::telemetry;
use metrics_exporter_prometheus::PrometheusBuilder;

fn rendered(record: impl FnOnce()) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, record);
    handle.render()
}

fn assert_line(text: &str, line: &str) {
    assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
}

#[test]
fn tasks_durations_and_rows_are_counted_by_kind_and_status() {
    let text = rendered(|| {
        telemetry::task_finished(
            SyncKind::Inventory,
            "success",
            Duration::from_millis(2_500),
            1_200,
        );
        telemetry::task_finished(SyncKind::Inventory, "success", Duration::from_secs(1), 800);
        telemetry::task_finished(SyncKind::Business, "failed", Duration::from_secs(3), 0);
    });
    assert_line(
        &text,
        r#"amzsync_sync_tasks_total{kind="inventory",status="success"} 2"#,
    );
    assert_line(
        &text,
        r#"amzsync_sync_tasks_total{kind="business",status="failed"} 1"#,
    );
    assert_line(&text, r#"amzsync_sync_rows_total{kind="inventory"} 2000"#);
    assert_line(
        &text,
        r#"amzsync_sync_task_duration_seconds_sum{kind="inventory",status="success"} 3.5"#,
    );
    assert_line(
        &text,
        r#"amzsync_sync_task_duration_seconds_count{kind="business",status="failed"} 1"#,
    );
}

#[test]
fn queue_depth_and_the_oldest_pending_age_are_gauges() {
    let text = rendered(|| {
        telemetry::queue_sampled(
            "sync",
            &Stats {
                pending: 3,
                scheduled: 2,
                running: 1,
                oldest_pending_age: Some(Duration::from_secs(90)),
            },
        );
    });
    assert_line(&text, r#"amzsync_queue_jobs{queue="sync",state="pending"} 3"#);
    assert_line(&text, r#"amzsync_queue_jobs{queue="sync",state="scheduled"} 2"#);
    assert_line(&text, r#"amzsync_queue_jobs{queue="sync",state="running"} 1"#);
    assert_line(&text, r#"amzsync_queue_oldest_pending_seconds{queue="sync"} 90"#);
}

#[test]
fn amazon_calls_permits_and_throttles_are_counted_by_operation() {
    let limiter = telemetry::Metered(Arc::new(
        InProcessRateLimiter::new(Arc::new(SystemClock))
            .with_plan(Operation::GetReport, UsagePlan { rate: 0.01, burst: 1 }),
    ));
    let key = LimitKey {
        seller_id: "A3METERED".into(),
        operation: Operation::GetReport,
    };
    let text = rendered(|| {
        let first = futures::executor::block_on(limiter.reserve(&key, Duration::ZERO));
        let second = futures::executor::block_on(limiter.reserve(&key, Duration::ZERO));
        assert!(first.is_ok() && second.is_err());
        futures::executor::block_on(limiter.observe_throttled(&key, Duration::from_secs(5)));
        let calls = telemetry::CallMetrics;
        calls.observe("getReport", CallOutcome::Ok);
        calls.observe("getReport", CallOutcome::Throttled);
    });
    assert_line(
        &text,
        r#"amzsync_amazon_permits_total{operation="getReport",result="granted"} 1"#,
    );
    assert_line(
        &text,
        r#"amzsync_amazon_permits_total{operation="getReport",result="refused"} 1"#,
    );
    assert_line(
        &text,
        r#"amzsync_amazon_throttles_total{operation="getReport"} 2"#,
    );
    assert_line(
        &text,
        r#"amzsync_amazon_calls_total{operation="getReport",outcome="ok"} 1"#,
    );
    assert_line(
        &text,
        r#"amzsync_amazon_calls_total{operation="getReport",outcome="throttled"} 1"#,
    );
}
