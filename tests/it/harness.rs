//! The harness's own promises: a test that panics leaves no database
//! behind.

use crate::helpers::{Backend, TestDb, admin_connection, postgres_admin_url};

/// Whether the server still has a database called `name`.
async fn postgres_has_database(admin: &str, name: &str) -> bool {
    let mut conn = admin_connection(admin).await;
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await
        .unwrap();
    found.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_that_panics_drops_its_postgres_database() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await.unwrap();
    let name = db.postgres_name().unwrap().to_owned();
    assert!(postgres_has_database(&admin, &name).await, "{name} made");

    // A test body that holds its database and fails, as a test does: the
    // panic unwinds the task, which drops what it holds.
    let failing = tokio::spawn(async move {
        let _db = db;
        panic!("the test fails");
    });
    let err = failing.await.unwrap_err();
    let message = err.into_panic();
    assert_eq!(message.downcast_ref::<&str>(), Some(&"the test fails"));

    assert!(
        !postgres_has_database(&admin, &name).await,
        "{name} is left behind"
    );
}
