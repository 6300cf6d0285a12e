use std::sync::Arc;

use amzsync_db::{
    Error, Lease, NewSyncTask, Scope, SyncTaskFilter, SyncTasks, TaskHistory, TaskOrder, TaskSortKey,
};
use amzsync_domain::{
    Clock, ErrorClass, ManualClock, StoreId, SyncKind, SyncTaskId, SyncWindow, TaskStatus, Trigger,
};
use amzsync_test_support::{TestDb, create_store, new_user, on_both_engines};
use chrono::{Duration, TimeZone, Utc};

on_both_engines!(
    a_second_active_task_of_a_kind_is_refused,
    concurrent_triggers_leave_exactly_one_task,
    history_is_filtered_paginated_and_scoped_to_the_tenant,
    history_filters_by_creation_day_and_sorts_in_the_database,
    a_task_is_claimed_once_and_reclaimed_after_its_lease_expires,
    only_failed_tasks_are_retried,
);

fn task(store: StoreId, kind: SyncKind, n: u128) -> NewSyncTask {
    NewSyncTask {
        id: SyncTaskId::new(1_700_000_000_000 + n as u64, n),
        store_id: store,
        kind,
        trigger: Trigger::Manual,
        window: None,
    }
}

async fn a_second_active_task_of_a_kind_is_refused(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let window = SyncWindow::new("2024-05-01".parse().unwrap(), "2024-05-07".parse().unwrap()).unwrap();
    let first = NewSyncTask {
        window: Some(window),
        ..task(store.id, SyncKind::Business, 1)
    };
    let created = t.sync_tasks().create(&first).await.unwrap();
    assert_eq!(created.status, TaskStatus::Pending);
    assert_eq!(created.window_start, Some(window.start()));
    assert_eq!(created.window_end, Some(window.end()));
    assert_eq!(
        (created.retry_count, created.attempt, created.records_synced),
        (0, 0, 0)
    );

    let err = t
        .sync_tasks()
        .create(&task(store.id, SyncKind::Business, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SyncAlreadyActive { task_id } if task_id == first.id),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "a sync of this kind is already running for this store (task {})",
            first.id
        )
    );

    // Another kind, or another store, is free.
    t.sync_tasks()
        .create(&task(store.id, SyncKind::Inventory, 3))
        .await
        .unwrap();
    let other = create_store(&t, ann.id, "AOTHER").await;
    t.sync_tasks()
        .create(&task(other.id, SyncKind::Business, 4))
        .await
        .unwrap();

    // Once the first finishes, the kind is free again.
    t.sync_tasks()
        .claim(first.id, "w1", Utc::now() + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    t.sync_tasks().succeed(first.id, 10, 0).await.unwrap();
    t.sync_tasks()
        .create(&task(store.id, SyncKind::Business, 5))
        .await
        .unwrap();

    let missing = t
        .sync_tasks()
        .create(&task(StoreId(9_999), SyncKind::Business, 6))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, Error::NotFound { what: "store" }),
        "{missing:?}"
    );
}

async fn concurrent_triggers_leave_exactly_one_task(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let db = Arc::new(t.db.clone());
    let attempts: Vec<_> = (0..24u128)
        .map(|n| {
            let db = Arc::clone(&db);
            tokio::spawn(async move {
                db.sync_tasks()
                    .create(&task(store.id, SyncKind::Advertising, n))
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for a in attempts {
        match a.await.unwrap() {
            Ok(task) => won.push(task.id),
            Err(Error::SyncAlreadyActive { .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one trigger wins");
    let page = t
        .sync_tasks()
        .list(Scope::All, &SyncTaskFilter::default(), 1, 100)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, won[0]);
}

async fn history_is_filtered_paginated_and_scoped_to_the_tenant(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let bob = new_user(&db, "bob").await;
    let a = create_store(&db, ann.id, "ASELLER").await;
    let b = create_store(&db, bob.id, "BSELLER").await;
    let mut ann_tasks = Vec::new();
    for n in 0..7u128 {
        clock.advance(Duration::minutes(1));
        let new = task(a.id, SyncKind::Inventory, n);
        db.sync_tasks().create(&new).await.unwrap();
        db.sync_tasks()
            .claim(new.id, "w", clock.now_plus(5))
            .await
            .unwrap();
        if n % 2 == 0 {
            db.sync_tasks().succeed(new.id, 5, 1).await.unwrap();
        } else {
            db.sync_tasks()
                .fail(new.id, ErrorClass::Transient, "timeout")
                .await
                .unwrap();
        }
        ann_tasks.push(new.id);
    }
    clock.advance(Duration::minutes(1));
    db.sync_tasks()
        .create(&task(a.id, SyncKind::Business, 100))
        .await
        .unwrap();
    db.sync_tasks()
        .create(&task(b.id, SyncKind::Inventory, 200))
        .await
        .unwrap();

    let all = SyncTaskFilter::default();
    let anns = db
        .sync_tasks()
        .list(Scope::Owner(ann.id), &all, 1, 3)
        .await
        .unwrap();
    assert_eq!(
        (anns.total, anns.page, anns.page_size, anns.items.len()),
        (8, 1, 3, 3)
    );
    assert_eq!(anns.items[0].sync_type, SyncKind::Business, "newest first");
    assert_eq!(anns.items[1].id, ann_tasks[6]);
    let last = db
        .sync_tasks()
        .list(Scope::Owner(ann.id), &all, 3, 3)
        .await
        .unwrap();
    assert_eq!(
        last.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ann_tasks[1], ann_tasks[0]]
    );
    let beyond = db
        .sync_tasks()
        .list(Scope::Owner(ann.id), &all, 4, 3)
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 8);

    let failed = SyncTaskFilter {
        status: Some(TaskStatus::Failed),
        ..Default::default()
    };
    let f = db
        .sync_tasks()
        .list(Scope::Owner(ann.id), &failed, 1, 50)
        .await
        .unwrap();
    assert_eq!(f.total, 3);
    assert!(f.items.iter().all(|t| t.status == TaskStatus::Failed
        && t.error_class == Some(ErrorClass::Transient)
        && t.error_message.as_deref() == Some("timeout")));
    let succeeded = db
        .sync_tasks()
        .list(
            Scope::All,
            &SyncTaskFilter {
                status: Some(TaskStatus::Success),
                ..Default::default()
            },
            1,
            50,
        )
        .await
        .unwrap();
    assert!(
        succeeded
            .items
            .iter()
            .all(|t| t.records_synced == 5 && t.records_failed == 1)
    );
    assert!(succeeded.items.iter().all(|t| t.duration(clock.now()).is_some()));

    let by_kind = SyncTaskFilter {
        kind: Some(SyncKind::Business),
        ..Default::default()
    };
    assert_eq!(
        db.sync_tasks()
            .list(Scope::Owner(ann.id), &by_kind, 1, 50)
            .await
            .unwrap()
            .total,
        1
    );
    let bobs_store = SyncTaskFilter {
        store_id: Some(b.id),
        ..Default::default()
    };
    assert_eq!(
        db.sync_tasks()
            .list(Scope::Owner(ann.id), &bobs_store, 1, 50)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        db.sync_tasks()
            .list(Scope::Owner(bob.id), &all, 1, 50)
            .await
            .unwrap()
            .total,
        1
    );
    assert!(matches!(
        db.sync_tasks().get(Scope::Owner(bob.id), ann_tasks[0]).await,
        Err(Error::NotFound { what: "sync task" })
    ));
    assert!(matches!(
        db.sync_tasks().retry(Scope::Owner(bob.id), ann_tasks[1]).await,
        Err(Error::NotFound { .. })
    ));
}

trait Later {
    fn now_plus(&self, minutes: i64) -> chrono::DateTime<Utc>;
}
impl Later for ManualClock {
    fn now_plus(&self, minutes: i64) -> chrono::DateTime<Utc> {
        self.now() + Duration::minutes(minutes)
    }
}

async fn a_task_is_claimed_once_and_reclaimed_after_its_lease_expires(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let new = task(store.id, SyncKind::Inventory, 1);
    db.sync_tasks().create(&new).await.unwrap();

    let claimed = db
        .sync_tasks()
        .claim(new.id, "worker-a", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.status, TaskStatus::Running);
    assert_eq!(claimed.attempt, 1);
    assert_eq!(claimed.lease_owner.as_deref(), Some("worker-a"));
    assert!(
        db.sync_tasks()
            .claim(new.id, "worker-b", clock.now_plus(5))
            .await
            .unwrap()
            .is_none(),
        "leased"
    );

    let checkpoint = serde_json::json!({"reports": {"2024-04-30": "50001"}});
    db.sync_tasks()
        .record_progress(new.id, None, 1, 3, Some("report requested"), &checkpoint)
        .await
        .unwrap();

    // worker-a dies; after its lease, worker-b takes over and sees the checkpoint.
    clock.advance(Duration::minutes(6));
    let again = db
        .sync_tasks()
        .claim(new.id, "worker-b", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt, 2);
    assert_eq!(again.lease_owner.as_deref(), Some("worker-b"));
    assert_eq!(again.checkpoint, checkpoint);
    assert_eq!((again.progress_done, again.progress_total), (1, 3));
    assert_eq!(
        again.start_time, claimed.start_time,
        "the task started when it was first claimed"
    );

    db.sync_tasks().succeed(new.id, 42, 2).await.unwrap();
    let done = db.sync_tasks().get(Scope::All, new.id).await.unwrap();
    assert_eq!(
        (done.status, done.records_synced, done.records_failed),
        (TaskStatus::Success, 42, 2)
    );
    assert_eq!(done.lease_owner, None);
    assert!(done.end_time.is_some());
    assert!(
        db.sync_tasks()
            .claim(new.id, "worker-c", clock.now_plus(5))
            .await
            .unwrap()
            .is_none(),
        "finished"
    );
    assert!(matches!(
        db.sync_tasks().succeed(new.id, 1, 0).await,
        Err(Error::NotFound { .. })
    ));
}

async fn only_failed_tasks_are_retried(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let first = task(store.id, SyncKind::Business, 1);
    t.sync_tasks().create(&first).await.unwrap();
    let pending = t
        .sync_tasks()
        .retry(Scope::Owner(ann.id), first.id)
        .await
        .unwrap_err();
    assert!(matches!(pending, Error::InvalidState { .. }), "{pending:?}");

    t.sync_tasks()
        .claim(first.id, "w", Utc::now() + Duration::minutes(5))
        .await
        .unwrap();
    t.sync_tasks()
        .fail(first.id, ErrorClass::Throttled, "429 QuotaExceeded")
        .await
        .unwrap();
    // While another task of the kind is active, the retry is refused.
    let second = task(store.id, SyncKind::Business, 2);
    t.sync_tasks().create(&second).await.unwrap();
    let busy = t
        .sync_tasks()
        .retry(Scope::Owner(ann.id), first.id)
        .await
        .unwrap_err();
    assert!(
        matches!(busy, Error::SyncAlreadyActive { task_id } if task_id == second.id),
        "{busy:?}"
    );

    t.sync_tasks()
        .claim(second.id, "w", Utc::now() + Duration::minutes(5))
        .await
        .unwrap();
    t.sync_tasks().succeed(second.id, 0, 0).await.unwrap();
    let retried = t
        .sync_tasks()
        .retry(Scope::Owner(ann.id), first.id)
        .await
        .unwrap();
    assert_eq!(retried.status, TaskStatus::Pending);
    assert_eq!(retried.trigger, Trigger::Retry);
    assert_eq!(retried.retry_count, 1);
    assert_eq!(retried.error_class, None);
    assert_eq!(retried.error_message, None);
}

on_both_engines!(the_latest_task_and_the_last_success_are_found);

async fn the_latest_task_and_the_last_success_are_found(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let bob = new_user(&db, "bob").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    assert_eq!(
        db.sync_tasks()
            .latest(Scope::All, store.id, SyncKind::Business, None)
            .await
            .unwrap(),
        None
    );

    // Created first, finished last: it is the last success.
    let slow = task(store.id, SyncKind::Business, 1);
    db.sync_tasks().create(&slow).await.unwrap();
    db.sync_tasks()
        .claim(slow.id, "w", clock.now_plus(60))
        .await
        .unwrap();
    clock.advance(Duration::minutes(1));
    db.sync_tasks().succeed(slow.id, 1, 0).await.unwrap();
    clock.advance(Duration::minutes(1));
    let failed = task(store.id, SyncKind::Business, 2);
    db.sync_tasks().create(&failed).await.unwrap();
    db.sync_tasks()
        .claim(failed.id, "w", clock.now_plus(60))
        .await
        .unwrap();
    db.sync_tasks()
        .fail(failed.id, ErrorClass::Transient, "timeout")
        .await
        .unwrap();

    let latest = db
        .sync_tasks()
        .latest(Scope::Owner(ann.id), store.id, SyncKind::Business, None)
        .await
        .unwrap();
    assert_eq!(latest.map(|t| t.id), Some(failed.id));
    let success = db
        .sync_tasks()
        .latest(
            Scope::Owner(ann.id),
            store.id,
            SyncKind::Business,
            Some(TaskStatus::Success),
        )
        .await
        .unwrap();
    assert_eq!(success.map(|t| t.id), Some(slow.id));
    let other_kind = db
        .sync_tasks()
        .latest(Scope::All, store.id, SyncKind::Inventory, None)
        .await
        .unwrap();
    assert_eq!(other_kind, None);
    let foreign = db
        .sync_tasks()
        .latest(Scope::Owner(bob.id), store.id, SyncKind::Business, None)
        .await
        .unwrap();
    assert_eq!(foreign, None, "another tenant sees nothing");
}

on_both_engines!(a_task_created_in_a_transaction_lives_or_dies_with_it);

async fn a_task_created_in_a_transaction_lives_or_dies_with_it(t: TestDb) {
    let ann = new_user(&t, "ann").await;
    let store = create_store(&t, ann.id, "ASELLER").await;
    let first = task(store.id, SyncKind::Inventory, 1);

    let mut tx = t.begin().await.unwrap();
    let created = SyncTasks::create_in(&mut tx, &first).await.unwrap();
    assert_eq!(created.status, TaskStatus::Pending);
    // A second one in the same transaction is refused and the transaction stays usable.
    let again = SyncTasks::create_in(&mut tx, &task(store.id, SyncKind::Inventory, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(again, Error::SyncAlreadyActive { task_id } if task_id == first.id),
        "{again:?}"
    );
    let other = SyncTasks::create_in(&mut tx, &task(store.id, SyncKind::Business, 3))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(matches!(
        t.sync_tasks().get(Scope::All, first.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        t.sync_tasks().get(Scope::All, other.id).await,
        Err(Error::NotFound { .. })
    ));

    let mut tx = t.begin().await.unwrap();
    SyncTasks::create_in(&mut tx, &first).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        t.sync_tasks().get(Scope::All, first.id).await.unwrap().status,
        TaskStatus::Pending
    );
}

on_both_engines!(a_running_task_snoozes_retries_and_succeeds_with_its_last_batch);

async fn a_running_task_snoozes_retries_and_succeeds_with_its_last_batch(t: TestDb) {
    use amzsync_db::SyncTasks;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let new = task(store.id, SyncKind::Business, 1);
    db.sync_tasks().create(&new).await.unwrap();
    db.sync_tasks()
        .claim(new.id, "w1", clock.now_plus(1))
        .await
        .unwrap()
        .unwrap();

    // Snooze: released until later; nobody claims it before then.
    let until = clock.now_plus(2);
    db.sync_tasks().release(new.id, "w1", until).await.unwrap();
    assert!(matches!(
        db.sync_tasks().release(new.id, "w2", until).await,
        Err(Error::NotFound { .. })
    ));
    let snoozed = db.sync_tasks().get(Scope::All, new.id).await.unwrap();
    assert_eq!(
        (snoozed.status, snoozed.lease_owner.as_deref()),
        (TaskStatus::Running, None)
    );
    assert_eq!(snoozed.next_attempt_at, Some(until));
    assert!(
        db.sync_tasks()
            .claim(new.id, "w2", clock.now_plus(5))
            .await
            .unwrap()
            .is_none()
    );
    clock.advance(Duration::minutes(2));
    let again = db
        .sync_tasks()
        .claim(new.id, "w2", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt, 2);

    // A transient failure: back to pending, counted, error kept, trigger unchanged.
    let retry_at = clock.now_plus(5);
    db.sync_tasks()
        .schedule_retry(new.id, ErrorClass::Transient, "503 from Amazon", retry_at)
        .await
        .unwrap();
    let waiting = db.sync_tasks().get(Scope::All, new.id).await.unwrap();
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert_eq!((waiting.retry_count, waiting.trigger), (1, Trigger::Manual));
    assert_eq!(waiting.error_class, Some(ErrorClass::Transient));
    assert_eq!(waiting.error_message.as_deref(), Some("503 from Amazon"));
    assert_eq!(waiting.next_attempt_at, Some(retry_at));
    let err = db
        .sync_tasks()
        .create(&task(store.id, SyncKind::Business, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SyncAlreadyActive { .. }),
        "still holds the slot"
    );

    // The last batch and the success commit together, or not at all.
    clock.advance(Duration::minutes(5));
    db.sync_tasks()
        .claim(new.id, "w3", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    SyncTasks::succeed_in(
        &mut tx,
        new.id,
        12,
        1,
        Some("no data from Amazon for ATVPDKIKX0DER 2024-04-30"),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        db.sync_tasks().get(Scope::All, new.id).await.unwrap().status,
        TaskStatus::Running
    );
    let mut tx = db.begin().await.unwrap();
    SyncTasks::succeed_in(
        &mut tx,
        new.id,
        12,
        1,
        Some("no data from Amazon for ATVPDKIKX0DER 2024-04-30"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let done = db.sync_tasks().get(Scope::All, new.id).await.unwrap();
    assert_eq!(
        (done.status, done.records_synced, done.records_failed),
        (TaskStatus::Success, 12, 1)
    );
    assert_eq!((done.error_class, done.error_message), (None, None));
    assert_eq!(
        done.progress_message.as_deref(),
        Some("no data from Amazon for ATVPDKIKX0DER 2024-04-30")
    );
    assert_eq!(done.retry_count, 1);
}

on_both_engines!(what_successful_tasks_fetched_is_read_over_overlapping_windows);

async fn what_successful_tasks_fetched_is_read_over_overlapping_windows(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 10, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let window = |a: &str, b: &str| Some(SyncWindow::new(day(a), day(b)).unwrap());
    let tasks = db.sync_tasks();
    // (n, kind, window, succeeds)
    let plan = [
        (1, SyncKind::Business, window("2024-05-01", "2024-05-07"), true),
        (2, SyncKind::Business, window("2024-05-08", "2024-05-09"), false),
        (3, SyncKind::Business, window("2024-04-01", "2024-04-07"), true),
        (4, SyncKind::Advertising, window("2024-05-01", "2024-05-09"), true),
        (5, SyncKind::Business, window("2024-05-05", "2024-05-09"), true),
    ];
    for (n, kind, window, succeeds) in plan {
        let new = NewSyncTask {
            window,
            ..task(store.id, kind, n)
        };
        tasks.create(&new).await.unwrap();
        tasks.claim(new.id, "w", clock.now_plus(60)).await.unwrap();
        let checkpoint = serde_json::json!({"version": 1, "units": [], "n": n});
        tasks
            .record_progress(new.id, None, 0, 0, None, &checkpoint)
            .await
            .unwrap();
        if succeeds {
            tasks.succeed(new.id, 0, 0).await.unwrap();
        } else {
            tasks
                .fail(new.id, ErrorClass::Transient, "timeout")
                .await
                .unwrap();
        }
        clock.advance(Duration::hours(1));
    }

    let fetched = tasks
        .fetched(store.id, SyncKind::Business, day("2024-05-07"), day("2024-05-20"))
        .await
        .unwrap();

    // Successful business tasks touching 05-07..05-20, oldest first.
    let found: Vec<(u64, i64)> = fetched
        .iter()
        .map(|f| (f.checkpoint["n"].as_u64().unwrap(), f.created_at.timestamp()))
        .collect();
    let created = |hours: i64| {
        (Utc.with_ymd_and_hms(2024, 5, 10, 0, 0, 0).unwrap() + Duration::hours(hours)).timestamp()
    };
    assert_eq!(found, [(1, created(0)), (5, created(4))]);
    assert_eq!(fetched[0].task_id, task(store.id, SyncKind::Business, 1).id);
}

on_both_engines!(
    a_pending_task_is_not_claimed_before_its_next_attempt,
    stranded_tasks_are_pending_past_due_or_running_past_their_lease,
);

async fn a_pending_task_is_not_claimed_before_its_next_attempt(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let new = task(store.id, SyncKind::Business, 1);
    db.sync_tasks().create(&new).await.unwrap();
    db.sync_tasks()
        .claim(new.id, "w1", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    let retry_at = clock.now_plus(5);
    db.sync_tasks()
        .schedule_retry(new.id, ErrorClass::Transient, "503 from Amazon", retry_at)
        .await
        .unwrap();

    // A delivery before the retry delay is over (a duplicate, the reconciler)
    // must not start the next attempt early.
    clock.advance(Duration::minutes(4));
    assert!(
        db.sync_tasks()
            .claim(new.id, "early", clock.now_plus(5))
            .await
            .unwrap()
            .is_none(),
        "claimed during its retry delay"
    );
    let waiting = db.sync_tasks().get(Scope::All, new.id).await.unwrap();
    assert_eq!(
        (waiting.status, waiting.attempt, waiting.next_attempt_at),
        (TaskStatus::Pending, 1, Some(retry_at))
    );

    clock.advance(Duration::minutes(1));
    let claimed = db
        .sync_tasks()
        .claim(new.id, "on-time", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (claimed.status, claimed.attempt, claimed.next_attempt_at),
        (TaskStatus::Running, 2, None)
    );
    assert_eq!(claimed.lease_owner.as_deref(), Some("on-time"));
}

async fn stranded_tasks_are_pending_past_due_or_running_past_their_lease(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let tasks = db.sync_tasks();
    let grace = Duration::minutes(10);
    let stranded = |now: chrono::DateTime<Utc>| {
        let db = db.clone();
        async move {
            let found = db.sync_tasks().stranded(now - grace, 100).await.unwrap();
            found.into_iter().map(|t| t.id).collect::<Vec<_>>()
        }
    };

    // Pending since 00:00, never claimed.
    let fresh = task(store.id, SyncKind::Inventory, 1);
    tasks.create(&fresh).await.unwrap();
    // Running, its lease until 00:05.
    let leased = task(store.id, SyncKind::Business, 2);
    tasks.create(&leased).await.unwrap();
    tasks
        .claim(leased.id, "w", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    // Pending, retrying at 00:30.
    let backoff = task(store.id, SyncKind::Advertising, 3);
    tasks.create(&backoff).await.unwrap();
    tasks
        .claim(backoff.id, "w", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    tasks
        .schedule_retry(backoff.id, ErrorClass::Transient, "timeout", clock.now_plus(30))
        .await
        .unwrap();
    // Finished tasks are never stranded.
    let other = create_store(&db, ann.id, "ASELLERTWO").await;
    let done = task(other.id, SyncKind::Inventory, 4);
    tasks.create(&done).await.unwrap();
    tasks
        .claim(done.id, "w", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    tasks.succeed(done.id, 1, 0).await.unwrap();

    assert_eq!(
        stranded(clock.now()).await,
        Vec::<SyncTaskId>::new(),
        "all within grace"
    );
    clock.advance(Duration::minutes(10));
    assert_eq!(stranded(clock.now()).await, vec![fresh.id], "due 10 minutes ago");
    clock.advance(Duration::minutes(5));
    assert_eq!(
        stranded(clock.now()).await,
        vec![fresh.id, leased.id],
        "the lease expired 10 minutes ago"
    );
    clock.advance(Duration::minutes(24));
    assert_eq!(
        stranded(clock.now()).await,
        vec![fresh.id, leased.id],
        "the retry is due in 1 minute and its grace has not passed"
    );
    clock.advance(Duration::minutes(10));
    assert_eq!(stranded(clock.now()).await, vec![fresh.id, leased.id, backoff.id]);
    assert_eq!(tasks.stranded(clock.now(), 2).await.unwrap().len(), 2, "limited");
}

on_both_engines!(progress_renews_a_lease_and_a_delivery_that_lost_its_task_writes_nothing);

async fn progress_renews_a_lease_and_a_delivery_that_lost_its_task_writes_nothing(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let store = create_store(&db, ann.id, "ASELLER").await;
    let tasks = db.sync_tasks();
    let new = task(store.id, SyncKind::Business, 1);
    tasks.create(&new).await.unwrap();
    tasks
        .claim(new.id, "w1", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();
    let lease = |owner, minutes| Lease {
        owner,
        until: clock.now_plus(minutes),
    };

    // Progress at 00:04 renews w1's lease to 00:09: at 00:06 nobody else
    // may claim the task.
    clock.advance(Duration::minutes(4));
    let first = serde_json::json!({"units": 1});
    tasks
        .record_progress(new.id, Some(lease("w1", 5)), 1, 3, None, &first)
        .await
        .unwrap();
    clock.advance(Duration::minutes(2));
    assert!(
        tasks
            .claim(new.id, "w2", clock.now_plus(5))
            .await
            .unwrap()
            .is_none()
    );

    // w1 stalls past its lease; w2 takes the task over.
    clock.advance(Duration::minutes(4));
    tasks
        .claim(new.id, "w2", clock.now_plus(5))
        .await
        .unwrap()
        .unwrap();

    // w1's late writes are refused, alone or with rows in a transaction,
    // and change nothing.
    let stale = serde_json::json!({"units": 0});
    let refused = tasks
        .record_progress(new.id, Some(lease("w1", 5)), 0, 3, Some("stale"), &stale)
        .await;
    assert!(
        matches!(refused, Err(Error::LeaseLost { task_id }) if task_id == new.id),
        "{refused:?}"
    );
    let mut tx = db.begin().await.unwrap();
    let refused =
        SyncTasks::record_progress_in(&mut tx, new.id, Some(lease("w1", 5)), 3, 3, None, &stale).await;
    assert!(matches!(refused, Err(Error::LeaseLost { .. })), "{refused:?}");
    drop(tx);
    let now = tasks.get(Scope::All, new.id).await.unwrap();
    assert_eq!(
        (now.lease_owner.as_deref(), now.progress_done, now.checkpoint),
        (Some("w2"), 1, first)
    );

    // w2's own progress goes through.
    tasks
        .record_progress(
            new.id,
            Some(lease("w2", 5)),
            2,
            3,
            None,
            &serde_json::json!({"units": 2}),
        )
        .await
        .unwrap();
    assert_eq!(tasks.get(Scope::All, new.id).await.unwrap().progress_done, 2);
}

async fn history_filters_by_creation_day_and_sorts_in_the_database(t: TestDb) {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2024, 5, 1, 23, 50, 0).unwrap());
    let db = t.db.clone().with_clock(Arc::new(clock.clone()));
    let ann = new_user(&db, "ann").await;
    let a = create_store(&db, ann.id, "ASELLER").await;
    let z = create_store(&db, ann.id, "ZSELLER").await;
    let tasks = db.sync_tasks();
    // t1: 05-01 23:50, ran 10 min, 10 records.
    let t1 = task(a.id, SyncKind::Inventory, 1);
    tasks.create(&t1).await.unwrap();
    tasks.claim(t1.id, "w", clock.now_plus(60)).await.unwrap();
    clock.advance(Duration::minutes(10));
    tasks.succeed(t1.id, 10, 0).await.unwrap();
    // t2: 05-02 00:00 sharp (the first instant of the day), ran 30 min, failed.
    let t2 = task(z.id, SyncKind::Business, 2);
    tasks.create(&t2).await.unwrap();
    tasks.claim(t2.id, "w", clock.now_plus(60)).await.unwrap();
    clock.advance(Duration::minutes(30));
    tasks.fail(t2.id, ErrorClass::Transient, "timeout").await.unwrap();
    // t3: 05-02 00:30, never started: no duration.
    let t3 = task(a.id, SyncKind::Business, 3);
    tasks.create(&t3).await.unwrap();
    // t4: 05-03 00:00, ran 1 min, 3 records.
    clock.advance(Duration::minutes(23 * 60 + 30));
    let t4 = task(z.id, SyncKind::Inventory, 4);
    tasks.create(&t4).await.unwrap();
    tasks.claim(t4.id, "w", clock.now_plus(60)).await.unwrap();
    clock.advance(Duration::minutes(1));
    tasks.succeed(t4.id, 3, 0).await.unwrap();
    // t5: 05-03 00:01, still running an hour later.
    let t5 = task(a.id, SyncKind::Advertising, 5);
    tasks.create(&t5).await.unwrap();
    tasks.claim(t5.id, "w", clock.now_plus(120)).await.unwrap();
    clock.advance(Duration::minutes(60));

    let day = |s: &str| Some(s.parse().unwrap());
    let ids = |query: TaskHistory, page: u32, size: u32| {
        let db = db.clone();
        async move {
            let found = db
                .sync_tasks()
                .history(Scope::Owner(ann.id), &query, page, size)
                .await
                .unwrap();
            (found.total, found.items.iter().map(|t| t.id).collect::<Vec<_>>())
        }
    };
    let sorted = |key: TaskSortKey, ascending: bool| TaskHistory {
        order: TaskOrder { key, ascending },
        ..TaskHistory::default()
    };

    let may_2 = TaskHistory {
        created_from: day("2024-05-02"),
        created_to: day("2024-05-02"),
        ..TaskHistory::default()
    };
    assert_eq!(ids(may_2, 1, 50).await, (2, vec![t3.id, t2.id]));
    let until_may_1 = TaskHistory {
        created_to: day("2024-05-01"),
        ..TaskHistory::default()
    };
    assert_eq!(ids(until_may_1, 1, 50).await, (1, vec![t1.id]));
    let from_may_3 = TaskHistory {
        created_from: day("2024-05-03"),
        ..TaskHistory::default()
    };
    assert_eq!(ids(from_may_3, 1, 50).await, (2, vec![t5.id, t4.id]));

    let all = 5;
    assert_eq!(
        ids(sorted(TaskSortKey::Duration, false), 1, 50).await,
        (all, vec![t5.id, t2.id, t1.id, t4.id, t3.id]),
        "longest first (the running one counts to now), never started last"
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Duration, true), 1, 50).await,
        (all, vec![t3.id, t4.id, t1.id, t2.id, t5.id])
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Duration, false), 2, 2).await,
        (all, vec![t1.id, t4.id]),
        "pages of the sorted list"
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Records, false), 1, 50).await,
        (all, vec![t1.id, t4.id, t5.id, t3.id, t2.id]),
        "ties newest first"
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Store, true), 1, 50).await,
        (all, vec![t5.id, t3.id, t1.id, t4.id, t2.id])
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Status, true), 1, 50).await,
        (all, vec![t2.id, t3.id, t5.id, t4.id, t1.id])
    );
    assert_eq!(
        ids(sorted(TaskSortKey::Kind, true), 1, 50).await,
        (all, vec![t5.id, t3.id, t2.id, t4.id, t1.id])
    );
    let store_a_since_may_2 = TaskHistory {
        filter: SyncTaskFilter {
            store_id: Some(a.id),
            ..Default::default()
        },
        created_from: day("2024-05-02"),
        order: TaskOrder {
            key: TaskSortKey::Created,
            ascending: true,
        },
        ..TaskHistory::default()
    };
    assert_eq!(ids(store_a_since_may_2, 1, 50).await, (2, vec![t3.id, t5.id]));
    assert!(
        "fastest".parse::<TaskSortKey>().unwrap_err().contains("duration"),
        "a bad key lists the good ones"
    );
}
