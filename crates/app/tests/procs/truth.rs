//! What a successful task must have stored: the simulator's ground truth for
//! each marketplace and day of its window, as our rows, compared with the
//! rows in the database field by field.

use amzsync_db::SyncTask;
use amzsync_domain::{SyncKind, SyncWindow, TaskStatus};
use amzsync_sync::checkpoint::{Checkpoint, UnitState};
use amzsync_test_support::truth;
use chrono::NaiveDate;

use crate::harness::Deployment;

/// Rows compared and (marketplace, day) units that differed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub rows: usize,
    pub mismatches: usize,
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, other: Checked) {
        self.rows += other.rows;
        self.mismatches += other.mismatches;
    }
}

/// Compares every (marketplace, day) of a successful task with the truth;
/// differences are printed, so a failing run says where.
pub async fn check(dep: &Deployment, task: &SyncTask) -> Checked {
    assert_eq!(
        task.status,
        TaskStatus::Success,
        "only successful tasks have data to check"
    );
    let seller = &dep.seller_of(task).seller_id;
    let store = task.store_id;
    let window = SyncWindow::new(
        task.window_start.expect("a task has a window"),
        task.window_end.expect("a task has a window"),
    )
    .expect("an ordered window");
    // An inventory snapshot is dated by the day Amazon made its report,
    // which a task running late puts after its window: the checkpoint says.
    let units: Vec<(String, NaiveDate)> = match task.sync_type {
        SyncKind::Inventory => {
            let checkpoint: Checkpoint =
                serde_json::from_value(task.checkpoint.clone()).expect("a task's checkpoint reads back");
            checkpoint
                .units
                .iter()
                .filter(|u| u.state == UnitState::Done)
                .map(|u| (u.marketplace_id.clone(), u.date))
                .collect()
        }
        _ => dep
            .seller_of(task)
            .store
            .marketplaces
            .iter()
            .flat_map(|m| window.iter_days().map(move |day| (m.clone(), day)))
            .collect(),
    };
    let mut checked = Checked::default();
    for (marketplace, day) in &units {
        let (marketplace, day) = (marketplace, *day);
        {
            let (rows, difference) = match task.sync_type {
                SyncKind::Inventory => compare(
                    &truth::expected_inventory(&dep.sim, seller, store, marketplace, day),
                    &truth::stored_inventory(&dep.db, store, marketplace, day).await,
                ),
                SyncKind::Business => compare(
                    &truth::expected_business(&dep.sim, seller, store, marketplace, day),
                    &truth::stored_business(&dep.db, store, marketplace, day).await,
                ),
                SyncKind::Advertising => panic!("these stores have no Ads authorization"),
            };
            checked.rows += rows;
            if let Some(difference) = difference {
                checked.mismatches += 1;
                eprintln!(
                    "MISMATCH {} {seller} {marketplace} {day}: {difference}",
                    task.sync_type
                );
            }
        }
    }
    checked
}

/// Rows stored, and what differs from the expected rows if anything does
/// (the truth must not be empty: a day without data proves nothing).
fn compare<T: PartialEq + std::fmt::Debug>(expected: &[T], stored: &[T]) -> (usize, Option<String>) {
    assert!(!expected.is_empty(), "the simulator sells something every day");
    if expected == stored {
        return (stored.len(), None);
    }
    let first = expected.iter().zip(stored).find(|(e, s)| e != s);
    let difference = format!(
        "expected {} rows, stored {}; first difference: {first:?}",
        expected.len(),
        stored.len()
    );
    (stored.len(), Some(difference))
}
