//! The original's whole scenario, every context in its own process, through the gateway:
//! a host registers rooms; a guest searches them by words and by dates, books and pays; both
//! are told, and both see the stay on their page; the guest cancels, the payment is refunded by
//! event, both are told and their pages follow. Then a host deletes a room with a booking: the
//! booking is cancelled and refunded, its guest and the host are told. And the gateway
//! documents the same API as the all-in-one process.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use mybnb::topology::free_port;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Answer, Api, Deployment, eventually, once_each, stay, text};

#[tokio::test]
async fn seed_scenario_across_processes() {
    let Some(deployment) = Deployment::start(&[]).await else {
        return;
    };
    let api = deployment.api();

    // A host signs up and registers two rooms.
    let host = api.new_user("host").await;
    let me = api.me(&host.token).await;
    assert_eq!(
        (&me["id"], &me["username"]),
        (&json!(host.id), &json!(host.username))
    );
    let hanok = json!({ "name": "Hanok with a garden", "address": "12 Bukchon-ro 11-gil",
                        "city": "Seoul", "price": 120_000, "capacity": 4,
                        "description": "Quiet courtyard near Gyeongbokgung" });
    let hanok_id = api.register_room(&host.token, &hanok).await;
    let loft = json!({ "name": "Loft by the river", "address": "3 Haeundae-ro",
                       "city": "Busan", "price": 90_000, "capacity": 2 });
    let loft_id = api.register_room(&host.token, &loft).await;
    let room = api.room(&hanok_id).await;
    assert_eq!(room.status, StatusCode::OK, "{}", room.body);
    assert_eq!(room.body["name"], hanok["name"]);

    // A guest searches, by words and filters, and by dates.
    let guest = api.new_user("guest").await;
    let found = api
        .search_ids(&[
            ("q", "garden"),
            ("city", "seoul"),
            ("guests", "3"),
            ("maxPrice", "150000"),
        ])
        .await;
    assert_eq!(
        found,
        [hanok_id.as_str()],
        "the hanok, by words and filters"
    );
    assert_eq!(api.search_ids(&[("q", "river")]).await, [loft_id.as_str()]);
    let mut both = vec![hanok_id.clone(), loft_id.clone()];
    both.sort();
    assert_eq!(
        api.free_rooms(30, 3).await,
        both,
        "both rooms are free then"
    );

    // The guest books three nights and pays, once whatever the repeats.
    let mut trip = stay(&hanok_id, 30, 3);
    trip["guests"] = json!(2);
    let booked = api.book(&guest.token, &trip, Some("trip-1")).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let booking = booked.body;
    let id = text(&booking, "id");
    assert_eq!(booking["status"], "CONFIRMED", "{booking}");
    assert_eq!(
        (booking["nights"].as_i64(), booking["totalPrice"].as_i64()),
        (Some(3), Some(360_000))
    );
    assert_eq!(booking["roomName"], hanok["name"]);
    let again = api.book(&guest.token, &trip, Some("trip-1")).await;
    assert_eq!(
        (again.status, &again.body),
        (StatusCode::CREATED, &booking),
        "the same key, the same booking"
    );
    assert_eq!(
        api.booking(&host.token, &id).await,
        booking,
        "the host sees the booking"
    );
    let payment = api.payment(&host.token, &id).await;
    assert_eq!(
        (
            &payment["status"],
            payment["amount"].as_i64(),
            &payment["id"]
        ),
        (&json!("APPROVED"), Some(360_000), &booking["paymentId"]),
        "{payment}"
    );
    let own = api.book(&host.token, &stay(&hanok_id, 31, 1), None).await;
    assert!(
        own.is_problem(StatusCode::FORBIDDEN),
        "a host does not book their own room: {own:?}"
    );
    let rival = api.new_user("rival").await;
    let overlapping = api.book(&rival.token, &stay(&hanok_id, 32, 2), None).await;
    assert!(
        overlapping.is_problem(StatusCode::CONFLICT),
        "the nights are taken: {overlapping:?}"
    );
    eventually("search sees the booked nights", async || {
        let free = api.free_rooms(31, 2).await;
        if free == [loft_id.as_str()] {
            Ok(())
        } else {
            Err(format!("{free:?}"))
        }
    })
    .await;

    // Both are told, and both see the stay on their page.
    let mut guest_told = once_each([("PAYMENT_APPROVED", id.as_str())]);
    let mut host_told = once_each([("BOOKING_CONFIRMED", id.as_str())]);
    api.await_notifications(&guest, &guest_told).await;
    api.await_notifications(&host, &host_told).await;
    let row = |booking_status: &str, payment_status: &str| {
        json!([{
            "bookingId": id, "roomId": hanok_id, "roomName": hanok["name"],
            "checkIn": booking["checkIn"], "checkOut": booking["checkOut"],
            "totalPrice": 360_000, "bookingStatus": booking_status, "paymentStatus": payment_status,
        }])
    };
    api.await_my_page(&guest, "asGuest", &row("CONFIRMED", "APPROVED"))
        .await;
    api.await_my_page(&host, "asHost", &row("CONFIRMED", "APPROVED"))
        .await;
    assert_eq!(api.my_page(&guest.token).await["asHost"], json!([]));

    // The guest cancels: the nights are free again, the payment refunded, both told.
    let cancelled = api.cancel(&guest.token, &id).await;
    assert_eq!(
        (cancelled.status, &cancelled.body["status"]),
        (StatusCode::OK, &json!("CANCELLED")),
        "{}",
        cancelled.body
    );
    let refunded = api.await_payment(&guest.token, &id, "CANCELLED").await;
    assert_eq!(
        (&refunded["id"], &refunded["amount"]),
        (&payment["id"], &payment["amount"]),
        "the same payment, refunded"
    );
    guest_told.insert(("PAYMENT_CANCELLED".to_owned(), id.clone()), 1);
    host_told.insert(("BOOKING_CANCELLED".to_owned(), id.clone()), 1);
    api.await_notifications(&guest, &guest_told).await;
    api.await_notifications(&host, &host_told).await;
    api.await_my_page(&guest, "asGuest", &row("CANCELLED", "CANCELLED"))
        .await;
    api.await_my_page(&host, "asHost", &row("CANCELLED", "CANCELLED"))
        .await;
    eventually("search sees the nights free again", async || {
        let free = api.free_rooms(30, 3).await;
        if free == both {
            Ok(())
        } else {
            Err(format!("{free:?}"))
        }
    })
    .await;

    // A host deletes a room with an upcoming booking: cancelled, refunded, everyone told.
    let traveller = api.new_user("traveller").await;
    let doomed = api.book_ok(&traveller.token, &stay(&loft_id, 40, 2)).await;
    let doomed_id = text(&doomed, "id");
    let refused = api.delete_room(&traveller.token, &loft_id).await;
    assert!(
        refused.is_problem(StatusCode::FORBIDDEN),
        "only its host deletes a room: {refused:?}"
    );
    let deleted = api.delete_room(&host.token, &loft_id).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert!(api.room(&loft_id).await.is_problem(StatusCode::NOT_FOUND));
    assert_eq!(
        api.search_ids(&[("q", "river")]).await,
        Vec::<String>::new()
    );
    eventually("the deleted room's booking is cancelled", async || {
        let booking = api.booking(&traveller.token, &doomed_id).await;
        if booking["status"] == "CANCELLED" {
            Ok(())
        } else {
            Err(booking.to_string())
        }
    })
    .await;
    api.await_payment(&traveller.token, &doomed_id, "CANCELLED")
        .await;
    let traveller_told = once_each([
        ("PAYMENT_APPROVED", doomed_id.as_str()),
        ("PAYMENT_CANCELLED", doomed_id.as_str()),
    ]);
    api.await_notifications(&traveller, &traveller_told).await;
    host_told.insert(("BOOKING_CONFIRMED".to_owned(), doomed_id.clone()), 1);
    host_told.insert(("BOOKING_CANCELLED".to_owned(), doomed_id.clone()), 1);
    api.await_notifications(&host, &host_told).await;
    api.await_notifications(&guest, &guest_told).await;
    let traveller_page = api.my_page(&traveller.token).await;
    assert_eq!(
        traveller_page["asGuest"][0]["bookingStatus"], "CANCELLED",
        "{traveller_page}"
    );
    assert_eq!(
        api.notifications(&rival.token).await,
        BTreeMap::new(),
        "the rival booked nothing"
    );

    // The gateway documents the API the all-in-one process serves.
    let distributed = paths(&api).await;
    let all_in_one = all_in_one_paths(&deployment_dir()).await;
    assert_eq!(
        distributed, all_in_one,
        "the gateway's /openapi.json and the all-in-one process's"
    );

    deployment.stop().await;
}

/// A directory for the all-in-one process, removed after the test.
fn deployment_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mybnb-all-in-one-")
        .tempdir()
        .expect("a temporary directory")
}

/// Each documented path and its operations, as `/openapi.json` at `api` has them.
async fn paths(api: &Api) -> BTreeMap<String, Value> {
    let document = api
        .expect(api.client.get(api.url("/openapi.json")), StatusCode::OK)
        .await;
    let paths = document["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("an OpenAPI document with paths: {document}"));
    assert!(!paths.is_empty(), "some paths are documented");
    paths
        .iter()
        .map(|(path, operations)| (path.clone(), operations.clone()))
        .collect()
}

/// What [`paths`] finds at an all-in-one `mybnb serve` on SQLite in `directory`.
async fn all_in_one_paths(directory: &tempfile::TempDir) -> BTreeMap<String, Value> {
    let port = free_port().expect("a free port");
    let log = directory.path().join("mybnb.log");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_mybnb"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MYBNB_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .arg("serve")
        .env("MYBNB_LISTEN", format!("127.0.0.1:{port}"))
        .env("MYBNB_DATA_DIR", directory.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("a log file"))
        .kill_on_drop(true)
        .spawn()
        .expect("mybnb starts");
    let api = Api::new(format!("http://127.0.0.1:{port}"));
    eventually("the all-in-one process is ready", async || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the all-in-one process exited ({status}): {}", read(&log));
        }
        let ready = api.client.get(api.url("/health/ready"));
        match Api::try_send(ready).await {
            Ok(Answer {
                status: StatusCode::OK,
                ..
            }) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let paths = paths(&api).await;
    child.kill().await.expect("the all-in-one process stops");
    paths
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}
