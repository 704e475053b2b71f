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
use mybnb_client::{Booking, MyPage, Room, Stay};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Api, Deployment, eventually, once_each, stay};

#[tokio::test]
async fn seed_scenario_across_processes() {
    let Some(deployment) = Deployment::start(&[]).await else {
        return;
    };
    let api = deployment.api();

    // A host signs up and registers two rooms.
    let host = api.new_user("host").await;
    let me = api.me(&host.token).await;
    assert_eq!((me.id, &me.username), (host.id, &host.username));
    let hanok = json!({ "name": "Hanok with a garden", "address": "12 Bukchon-ro 11-gil",
                        "city": "Seoul", "price": 120_000, "capacity": 4,
                        "description": "Quiet courtyard near Gyeongbokgung" });
    let hanok_id = api.register_room(&host.token, &hanok).await;
    let loft = json!({ "name": "Loft by the river", "address": "3 Haeundae-ro",
                       "city": "Busan", "price": 90_000, "capacity": 2 });
    let loft_id = api.register_room(&host.token, &loft).await;
    let room: Room = api.client.room(hanok_id).await.expect("the hanok");
    assert_eq!(room.name, "Hanok with a garden");

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
    assert_eq!(found, [hanok_id], "the hanok, by words and filters");
    assert_eq!(api.search_ids(&[("q", "river")]).await, [loft_id]);
    let mut both = vec![hanok_id, loft_id];
    both.sort();
    assert_eq!(
        api.free_rooms(30, 3).await,
        both,
        "both rooms are free then"
    );

    // The guest books three nights and pays, once whatever the repeats.
    let mut trip = stay(hanok_id, 30, 3);
    trip["guests"] = json!(2);
    let booked = api.book(&guest.token, &trip, Some("trip-1")).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);
    let booking: Booking = serde_json::from_value(booked.body).expect("a booking");
    let id = booking.id;
    assert_eq!(booking.status, "CONFIRMED", "{booking:?}");
    assert_eq!((booking.nights, booking.total_price), (3, 360_000));
    assert_eq!(booking.room_name, "Hanok with a garden");
    let again = api.book(&guest.token, &trip, Some("trip-1")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let again: Booking = serde_json::from_value(again.body).expect("a booking");
    assert_eq!(again, booking, "the same key, the same booking");
    assert_eq!(
        api.booking(&host.token, id).await,
        booking,
        "the host sees the booking"
    );
    let payment = api.payment(&host.token, id).await;
    assert_eq!(
        (payment.status.as_str(), payment.amount, Some(payment.id)),
        ("APPROVED", 360_000, booking.payment_id),
        "{payment:?}"
    );
    let own = api.book(&host.token, &stay(hanok_id, 31, 1), None).await;
    assert!(
        own.is_problem(StatusCode::FORBIDDEN),
        "a host does not book their own room: {own:?}"
    );
    let rival = api.new_user("rival").await;
    let overlapping = api.book(&rival.token, &stay(hanok_id, 32, 2), None).await;
    assert!(
        overlapping.is_problem(StatusCode::CONFLICT),
        "the nights are taken: {overlapping:?}"
    );
    eventually("search sees the booked nights", async || {
        let free = api.free_rooms(31, 2).await;
        if free == [loft_id] {
            Ok(())
        } else {
            Err(format!("{free:?}"))
        }
    })
    .await;

    // Both are told, and both see the stay on their page.
    let mut guest_told = once_each([("PAYMENT_APPROVED", id)]);
    let mut host_told = once_each([("BOOKING_CONFIRMED", id)]);
    api.await_notifications(&guest, &guest_told).await;
    api.await_notifications(&host, &host_told).await;
    let row = |booking_status: &str, payment_status: &str| {
        [Stay {
            booking_id: id,
            room_id: hanok_id,
            room_name: booking.room_name.clone(),
            check_in: booking.check_in,
            check_out: booking.check_out,
            total_price: 360_000,
            booking_status: booking_status.into(),
            payment_status: payment_status.into(),
        }]
    };
    let as_guest: fn(&MyPage) -> &[Stay] = |page| &page.as_guest;
    let as_host: fn(&MyPage) -> &[Stay] = |page| &page.as_host;
    api.await_my_page(&guest, as_guest, &row("CONFIRMED", "APPROVED"))
        .await;
    api.await_my_page(&host, as_host, &row("CONFIRMED", "APPROVED"))
        .await;
    assert!(api.my_page(&guest.token).await.as_host.is_empty());

    // The guest cancels: the nights are free again, the payment refunded, both told.
    let cancelled = api.cancel(&guest.token, id).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    let cancelled: Booking = serde_json::from_value(cancelled.body).expect("a booking");
    assert_eq!(cancelled.status, "CANCELLED", "{cancelled:?}");
    let refunded = api.await_payment(&guest.token, id, "CANCELLED").await;
    assert_eq!(
        (refunded.id, refunded.amount),
        (payment.id, payment.amount),
        "the same payment, refunded"
    );
    guest_told.insert(("PAYMENT_CANCELLED".to_owned(), id), 1);
    host_told.insert(("BOOKING_CANCELLED".to_owned(), id), 1);
    api.await_notifications(&guest, &guest_told).await;
    api.await_notifications(&host, &host_told).await;
    api.await_my_page(&guest, as_guest, &row("CANCELLED", "CANCELLED"))
        .await;
    api.await_my_page(&host, as_host, &row("CANCELLED", "CANCELLED"))
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
    let doomed = api.book_ok(&traveller.token, &stay(loft_id, 40, 2)).await;
    let doomed_id = doomed.id;
    let refused = api.delete_room(&traveller.token, loft_id).await;
    assert!(
        refused.is_problem(StatusCode::FORBIDDEN),
        "only its host deletes a room: {refused:?}"
    );
    let deleted = api.delete_room(&host.token, loft_id).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert!(api.room(loft_id).await.is_problem(StatusCode::NOT_FOUND));
    assert_eq!(api.search_ids(&[("q", "river")]).await, Vec::<Uuid>::new());
    eventually("the deleted room's booking is cancelled", async || {
        let booking = api.booking(&traveller.token, doomed_id).await;
        if booking.status == "CANCELLED" {
            Ok(())
        } else {
            Err(format!("{booking:?}"))
        }
    })
    .await;
    api.await_payment(&traveller.token, doomed_id, "CANCELLED")
        .await;
    let traveller_told = once_each([
        ("PAYMENT_APPROVED", doomed_id),
        ("PAYMENT_CANCELLED", doomed_id),
    ]);
    api.await_notifications(&traveller, &traveller_told).await;
    host_told.insert(("BOOKING_CONFIRMED".to_owned(), doomed_id), 1);
    host_told.insert(("BOOKING_CANCELLED".to_owned(), doomed_id), 1);
    api.await_notifications(&host, &host_told).await;
    api.await_notifications(&guest, &guest_told).await;
    let traveller_page = api.my_page(&traveller.token).await;
    let statuses: Vec<&str> = traveller_page
        .as_guest
        .iter()
        .map(|stay| &*stay.booking_status)
        .collect();
    assert_eq!(statuses, ["CANCELLED"], "{traveller_page:?}");
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
    let request = api.request(Method::GET, "/openapi.json", None);
    let document: Value = api
        .client
        .json(request)
        .await
        .expect("the OpenAPI document");
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
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    eventually("the all-in-one process is ready", async || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the all-in-one process exited ({status}): {}", read(&log));
        }
        api.client
            .readiness()
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    })
    .await;
    let paths = paths(&api).await;
    child.kill().await.expect("the all-in-one process stops");
    paths
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}
