//! E-mail: queued with the notification, delivered to an SMTP sink by the mailer, retried when
//! the server fails, never for users without an address.

use mybnb_notification::mail::{MailSettings, Mailer};
use mybnb_testkit::smtp::{Message, SmtpSink};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::support::{Backend, TestDatabase, Trip, on_both_backends, registered, within};

on_both_backends!(
    a_mail_reaches_the_recipient_with_its_subject,
    a_failing_server_is_retried_while_the_history_already_tells,
    a_redelivered_event_is_mailed_once,
    users_without_an_address_get_no_mail,
);

/// A mailer on `storage`'s queue, sending to `sink`, until the returned token is cancelled.
async fn start_mailer(storage: &TestDatabase, sink: &SmtpSink) -> CancellationToken {
    let mailer = Mailer::new(
        storage.database.clone(),
        MailSettings {
            smtp_url: SecretString::from(sink.url()),
            from: "mybnb <no-reply@mybnb.example>".into(),
        },
    )
    .expect("a mailer");
    let stop = CancellationToken::new();
    tokio::spawn(mailer.run(stop.clone()));
    stop
}

async fn sink() -> SmtpSink {
    SmtpSink::start().await.expect("an SMTP sink")
}

/// The body with quoted-printable soft line breaks undone, so that ids read whole.
fn body_text(message: &Message) -> String {
    message.body().replace("=\r\n", "")
}

async fn all_sent(storage: &TestDatabase) -> bool {
    let queue = storage.mail_queue().await;
    !queue.is_empty() && queue.iter().all(|(status, _)| status == "SENT")
}

async fn a_mail_reaches_the_recipient_with_its_subject(backend: Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let sink = sink().await;
    let stop = start_mailer(&storage, &sink).await;
    let notifications = storage.service(true);
    let trip = Trip::new();
    notifications
        .handle(registered(trip.host, "Kim", Some("kim@example.com")))
        .await
        .expect("handled");
    notifications
        .handle(trip.confirmed())
        .await
        .expect("handled");

    let messages = within("the mail", sink.wait_for(1)).await;
    let mail = &messages[0];
    assert_eq!(mail.recipients, ["kim@example.com"]);
    assert_eq!(mail.from, "no-reply@mybnb.example");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("mybnb: your room is booked")
    );
    let to = mail.header("To").expect("a To header");
    assert!(to.contains("Kim") && to.contains("kim@example.com"), "{to}");
    let body = body_text(mail);
    assert!(body.contains("Hello Kim"), "{body}");
    assert!(body.contains(&trip.booking_id.to_string()), "{body}");
    storage
        .wait_until("the mail marked sent", || all_sent(&storage))
        .await;
    stop.cancel();
}

async fn a_failing_server_is_retried_while_the_history_already_tells(backend: Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let sink = sink().await;
    sink.fail_next(2);
    let stop = start_mailer(&storage, &sink).await;
    let notifications = storage.service(true);
    let trip = Trip::new();
    notifications
        .handle(registered(trip.guest, "Lee", Some("lee@example.com")))
        .await
        .expect("handled");
    notifications
        .handle(trip.approved())
        .await
        .expect("handled");
    // The history does not wait for the mail.
    let page = notifications
        .history(trip.guest, None, None)
        .await
        .expect("the history");
    assert_eq!(page.total, 1);

    let messages = within("the mail, after two failures", sink.wait_for(1)).await;
    assert_eq!(messages[0].recipients, ["lee@example.com"]);
    assert_eq!(sink.refused(), 2);
    storage
        .wait_until("the mail marked sent", || all_sent(&storage))
        .await;
    assert_eq!(storage.mail_queue().await, [("SENT".to_owned(), 3)]);
    stop.cancel();
}

async fn a_redelivered_event_is_mailed_once(backend: Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let sink = sink().await;
    let stop = start_mailer(&storage, &sink).await;
    let notifications = storage.service(true);
    let trip = Trip::new();
    notifications
        .handle(registered(trip.guest, "Lee", Some("lee@example.com")))
        .await
        .expect("handled");
    let refunded = trip.refunded();
    for _ in 0..3 {
        notifications
            .handle(refunded.clone())
            .await
            .expect("handled");
    }
    storage
        .wait_until("the mail marked sent", || all_sent(&storage))
        .await;
    // The queue held one mail, and it was sent: there is nothing left to send.
    assert_eq!(storage.mail_queue().await.len(), 1);
    assert_eq!(sink.messages().len(), 1);
    stop.cancel();
}

async fn users_without_an_address_get_no_mail(backend: Backend) {
    let Some(storage) = TestDatabase::create(backend).await else {
        return;
    };
    let notifications = storage.service(true);
    let trip = Trip::new();
    notifications
        .handle(registered(trip.guest, "Lee", None))
        .await
        .expect("handled");
    notifications
        .handle(trip.approved())
        .await
        .expect("handled");
    assert_eq!(
        notifications
            .history(trip.guest, None, None)
            .await
            .expect("the history")
            .total,
        1,
        "notified all the same"
    );
    assert!(storage.mail_queue().await.is_empty());

    // Without an SMTP server, nobody is mailed, address or not.
    let unmailed = storage.service(false);
    let host = Trip::new();
    unmailed
        .handle(registered(host.host, "Kim", Some("kim@example.com")))
        .await
        .expect("handled");
    unmailed.handle(host.confirmed()).await.expect("handled");
    assert!(storage.mail_queue().await.is_empty());
}

#[tokio::test]
async fn unusable_settings_are_refused_without_showing_the_password() {
    let storage = TestDatabase::create(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let settings = |url: &str, from: &str| MailSettings {
        smtp_url: SecretString::from(url.to_owned()),
        from: from.to_owned(),
    };
    let Err(error) = Mailer::new(
        storage.database.clone(),
        settings(
            "ftp://mailer:hunter2@mail.example:25",
            "no-reply@mybnb.example",
        ),
    ) else {
        panic!("an ftp URL is no SMTP server");
    };
    let message = format!("{error:#}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("redacted"), "{message}");
    assert!(
        Mailer::new(
            storage.database.clone(),
            settings("smtp://127.0.0.1:2525", "not an address"),
        )
        .is_err()
    );
    assert!(
        !format!(
            "{:?}",
            settings("smtp://mailer:hunter2@mail.example", "a@b.example")
        )
        .contains("hunter2")
    );
}
