//! Notification, seen through the public API: what guests and hosts are told of their bookings
//! and payments (`GET /notifications`, newest first, in pages), pushed live
//! (`GET /notifications/stream`, server-sent events), and mailed over SMTP — retried when the
//! mail server fails, and never waited for.

use std::time::Duration;

use mybnb::settings::MailSettings;
use mybnb_client::{Booking, NotificationPage};
use mybnb_testkit::eventually::eventually;
use mybnb_testkit::smtp::SmtpSink;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use uuid::Uuid;

use crate::helpers::{assert_problem, spawn_app_with};
use crate::notification_client::{
    MailGate, Notification, Tally, await_contact, mail_queue, mail_text, once_each,
};

/// `kind` about `booking_id`, once, and nothing else.
fn only(kind: &str, booking_id: Uuid) -> Tally {
    once_each([(kind, booking_id)])
}

/// A page's `(page, size, total)`.
fn numbers(page: &NotificationPage) -> (u32, u32, u64) {
    (page.page, page.size, page.total)
}

/// `from <checkIn> to <checkOut>`, as notifications say a booking's dates.
fn dates(booking: &Booking) -> String {
    format!("from {} to {}", booking.check_in, booking.check_out)
}

/// The booking's payment id, as text.
fn payment_of(booking: &Booking) -> String {
    booking
        .payment_id
        .expect("a confirmed booking has a payment")
        .to_string()
}

fn assert_mentions(notice: &Notification, parts: &[&str]) {
    for part in parts {
        assert!(
            notice.message.contains(part),
            "the {} notification mentions {part:?}: {:?}",
            notice.kind,
            notice.message
        );
    }
}

api_tests! {
    /// A booking tells its guest PAYMENT_APPROVED — the amount, the booking, the payment — and
    /// its host BOOKING_CONFIRMED — the room, the dates, the nights, the total. Each history
    /// item has the documented shape; nobody else is told anything.
    async fn a_booking_tells_its_guest_and_its_host(app) {
        let listing = app.listing(70_000).await;
        let guest = app.new_user("guest").await;
        let stranger = app.new_user("stranger").await;
        let booking = app.book(&guest.token, &listing.stay(12, 2)).await;
        let id = booking.id;

        let told = app.await_notifications(&guest, &only("PAYMENT_APPROVED", id)).await;
        assert_mentions(&told[0], &["140,000 won", &id.to_string(), &payment_of(&booking)]);
        let told = app.await_notifications(&listing.host, &only("BOOKING_CONFIRMED", id)).await;
        let room = format!("\"{}\"", listing.name);
        assert_mentions(&told[0], &[&room, &dates(&booking), "2 nights", "140,000 won", &id.to_string()]);

        // Each item has the documented shape: it reads as a notification.
        let page = app.notification_page(&listing.host.token, 1, 20).await;
        assert_eq!(numbers(&page), (1, 20, 1), "{page:?}");
        let item = &page.items[0];
        assert_eq!((item.kind.as_str(), item.booking_id), ("BOOKING_CONFIRMED", id), "{item:?}");

        let nothing = app.notification_page(&stranger.token, 1, 20).await;
        assert_eq!(nothing, NotificationPage { items: vec![], page: 1, size: 20, total: 0 });
    }

    /// Cancelling tells the host BOOKING_CANCELLED and, once the payment is refunded, the guest
    /// PAYMENT_CANCELLED; each history then lists the newer notification first.
    async fn a_cancellation_tells_the_host_and_its_refund_tells_the_guest(app) {
        let listing = app.listing(45_000).await;
        let guest = app.new_user("guest").await;
        let booking = app.book(&guest.token, &listing.stay(20, 3)).await;
        let id = booking.id;
        app.await_notifications(&guest, &only("PAYMENT_APPROVED", id)).await;
        app.await_notifications(&listing.host, &only("BOOKING_CONFIRMED", id)).await;

        assert_eq!(app.cancel_raw(&guest.token, id).await.status(), StatusCode::OK);
        let both = once_each([("PAYMENT_APPROVED", id), ("PAYMENT_CANCELLED", id)]);
        let guest_told = app.await_notifications(&guest, &both).await;
        let kinds: Vec<&str> = guest_told.iter().map(|notice| notice.kind.as_str()).collect();
        assert_eq!(kinds, ["PAYMENT_CANCELLED", "PAYMENT_APPROVED"], "newest first");
        let payment = payment_of(&booking);
        assert_mentions(&guest_told[0], &["135,000 won", "was refunded", &id.to_string(), &payment]);

        let both = once_each([("BOOKING_CONFIRMED", id), ("BOOKING_CANCELLED", id)]);
        let host_told = app.await_notifications(&listing.host, &both).await;
        let kinds: Vec<&str> = host_told.iter().map(|notice| notice.kind.as_str()).collect();
        assert_eq!(kinds, ["BOOKING_CANCELLED", "BOOKING_CONFIRMED"], "newest first");
        assert_mentions(&host_told[0], &["was cancelled", &dates(&booking), &id.to_string()]);
    }

    /// The history and the stream are a user's own: without a valid token, 401.
    async fn notifications_need_a_token(app) {
        for token in [None, Some("not-a-token")] {
            let history = app.notifications_raw(token, &[]).await;
            assert_problem(history, StatusCode::UNAUTHORIZED).await;
            let stream = app.send(app.request(Method::GET, "/notifications/stream", token)).await;
            assert_problem(stream, StatusCode::UNAUTHORIZED).await;
        }
    }

    async fn bad_page_parameters_are_422_problems(app) {
        let user = app.new_user("reader").await;
        let bad = [("page", "0"), ("size", "0"), ("page", "-1"), ("page", "first"), ("size", "many")];
        for parameter in bad {
            let response = app.notifications_raw(Some(&user.token), &[parameter]).await;
            assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    }

    /// A history of three: pages of two hold the newest two, then the oldest; past the end a
    /// page is empty; sizes above 100 are lowered to 100.
    async fn the_history_comes_in_pages_newest_first(app) {
        let listing = app.listing(30_000).await;
        let guest = app.new_user("guest").await;
        let mut booked = Vec::new();
        for from in [3, 5, 7] {
            booked.push(app.book(&guest.token, &listing.stay(from, 1)).await.id);
        }
        let expected = once_each(booked.iter().map(|id| ("PAYMENT_APPROVED", *id)));
        let whole = app.await_notifications(&guest, &expected).await;
        let ids: Vec<_> = whole.iter().map(|notice| notice.id).collect();
        let mut newest_first = ids.clone();
        newest_first.sort_by(|a, b| b.cmp(a));
        assert_eq!(ids, newest_first, "newest (greatest UUIDv7) first: {whole:#?}");
        let in_order = whole.windows(2).all(|pair| pair[0].created_at >= pair[1].created_at);
        assert!(in_order, "newest createdAt first: {whole:#?}");

        let first = app.notification_page(&guest.token, 1, 2).await;
        let second = app.notification_page(&guest.token, 2, 2).await;
        let beyond = app.notification_page(&guest.token, 3, 2).await;
        for (page, number, count) in [(&first, 1, 2), (&second, 2, 1), (&beyond, 3, 0)] {
            assert_eq!(numbers(page), (number, 2, 3), "{page:?}");
            assert_eq!(page.items.len(), count, "{page:?}");
        }
        let paged: Vec<Notification> = first.items.into_iter().chain(second.items).collect();
        assert_eq!(paged, whole, "the pages together are the history");

        let capped = app.notification_page(&guest.token, 1, 1000).await;
        assert_eq!(numbers(&capped), (1, 100, 3), "{capped:?}");
        assert_eq!(capped.items, whole);
    }

    /// An open stream receives its user's new notifications as they are made — the event named
    /// after the type, its id and data those of the history's item — and nobody else's.
    async fn the_stream_pushes_the_callers_new_notifications_live(app) {
        let listing = app.listing(60_000).await;
        let guest = app.new_user("guest").await;
        let mut guest_stream = app.open_stream(&guest.token, None).await;
        let mut host_stream = app.open_stream(&listing.host.token, None).await;

        // Someone else's booking of someone else's room first: had it reached these streams,
        // it would come through them before the guest's own.
        let elsewhere = app.listing(61_000).await;
        let other = app.new_user("other").await;
        let theirs = app.book(&other.token, &elsewhere.stay(4, 1)).await.id;
        app.await_notifications(&other, &only("PAYMENT_APPROVED", theirs)).await;
        app.await_notifications(&elsewhere.host, &only("BOOKING_CONFIRMED", theirs)).await;

        let id = app.book(&guest.token, &listing.stay(4, 1)).await.id;
        for (stream, user, kind) in [
            (&mut guest_stream, &guest, "PAYMENT_APPROVED"),
            (&mut host_stream, &listing.host, "BOOKING_CONFIRMED"),
        ] {
            let event = stream.next().await;
            assert_eq!(event.name, kind, "{event:?}");
            let pushed = event.notice();
            assert_eq!(pushed.booking_id, id, "the user's own notification comes first: {event:?}");
            assert_eq!(event.id, pushed.id.to_string());
            let history = app.notification_page(&user.token, 1, 20).await;
            assert_eq!(pushed, history.items[0], "the pushed item is the history's");
        }
    }

    /// A client that reconnects with the id of the last event it got (`Last-Event-ID`) is sent
    /// what it missed, in the order they were recorded, then the new ones — none twice.
    async fn a_reconnecting_stream_is_sent_what_it_missed(app) {
        let listing = app.listing(35_000).await;
        let guest = app.new_user("guest").await;
        let mut stream = app.open_stream(&guest.token, None).await;
        let first = app.book(&guest.token, &listing.stay(2, 1)).await.id;
        let seen = stream.next().await;
        assert_eq!(seen.name, "PAYMENT_APPROVED", "{seen:?}");
        assert_eq!(seen.notice().booking_id, first);
        drop(stream);

        let missed = [
            app.book(&guest.token, &listing.stay(4, 1)).await.id,
            app.book(&guest.token, &listing.stay(6, 1)).await.id,
        ];
        let all = [first, missed[0], missed[1]];
        app.await_notifications(&guest, &once_each(all.map(|id| ("PAYMENT_APPROVED", id)))).await;

        let mut stream = app.open_stream(&guest.token, Some(&seen.id)).await;
        let replayed = [stream.next().await.notice(), stream.next().await.notice()];
        assert!(replayed[0].id < replayed[1].id, "oldest first: {replayed:?}");
        // The two bookings' payments are different aggregates, so their notifications may be
        // recorded in either order; both are sent, once.
        let mut replayed = replayed.map(|notice| notice.booking_id);
        replayed.sort();
        let mut missed = missed;
        missed.sort();
        assert_eq!(replayed, missed, "the missed ones");
        let later = app.book(&guest.token, &listing.stay(8, 1)).await.id;
        let next = stream.next().await.notice();
        assert_eq!(next.booking_id, later, "then the new one, nothing twice");
    }

    /// With an SMTP server configured, a guest who gave an address is mailed their
    /// notification. While the server turns the mailer away, the history has the notification
    /// already; once the server answers — refusing twice more with a temporary error — the
    /// mail is retried until it arrives, once. The host, who gave no address, is not mailed.
    async fn a_guest_is_mailed_and_a_failing_mail_server_is_retried(backend: Backend) {
        let sink = SmtpSink::start().await.expect("an SMTP sink");
        let gate = MailGate::closed_before(&sink).await;
        let mail = MailSettings {
            smtp_url: SecretString::from(gate.url()),
            from: "mybnb <no-reply@mybnb.example>".to_owned(),
        };
        let Some(app) = spawn_app_with(backend, |settings| settings.notification.mail = Some(mail)).await else {
            return;
        };
        let listing = app.listing(80_000).await;
        let (guest, address) = app.new_user_with_email("mailed").await;
        await_contact(&app.storage(), &guest).await;
        let booking = app.book(&guest.token, &listing.stay(9, 1)).await;
        let id = booking.id;

        let told = app.await_notifications(&guest, &only("PAYMENT_APPROVED", id)).await;
        app.await_notifications(&listing.host, &only("BOOKING_CONFIRMED", id)).await;
        // A mail is queued with its notification, in one transaction: the host's would be there.
        let queued = mail_queue(&app.storage()).await;
        assert_eq!(queued.len(), 1, "one mail, the guest's: {queued:?}");
        eventually("the mailer is turned away", async || match gate.turned_away() {
            0 => Err("not tried yet".to_owned()),
            _ => Ok(()),
        })
        .await;
        assert!(sink.messages().is_empty(), "nothing got through the closed gate");

        sink.fail_next(2);
        gate.open();
        // Backing off from 1 s and doubling, four or five attempts take well over the usual wait.
        let messages = tokio::time::timeout(Duration::from_secs(90), sink.wait_for(1))
            .await
            .expect("the mail arrives once the server takes it");
        assert_eq!(sink.refused(), 2, "both temporary refusals were retried");
        let [message] = messages.as_slice() else { panic!("one mail: {messages:#?}") };
        assert_eq!(message.recipients, std::slice::from_ref(&address));
        assert_eq!(message.from, "no-reply@mybnb.example");
        assert_eq!(message.header("Subject").as_deref(), Some("mybnb: your payment was approved"));
        let to = message.header("To").unwrap_or_default();
        assert!(to.contains(&address), "To: {to}");
        let body = mail_text(message);
        assert!(body.contains(&told[0].message), "the mail carries the notification: {body}");

        // Once the mail is marked sent it is never sent again: one mail, after three attempts
        // or more (turned away at the gate, refused twice, taken).
        let attempts = eventually("the mail is marked sent", async || {
            match mail_queue(&app.storage()).await.as_slice() {
                [(status, attempts)] if status == "SENT" => Ok(*attempts),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
        assert!(attempts >= 3, "{attempts} attempts");
        assert_eq!(sink.messages().len(), 1, "mailed once");
    }
}
