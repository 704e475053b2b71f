//! Searching rooms: `GET /rooms` with every filter (a host's own rooms among them), paging, its
//! cap, its order, and the parameters it refuses.

use reqwest::StatusCode;
use serde_json::{Value, json};

use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, assert_problem, room};

/// Query-string parameters.
type Query = &'static [(&'static str, &'static str)];

/// Registers `listings` in order under a new host; returns their ids in the same order.
async fn seed(app: &TestApp, listings: &[Value]) -> Vec<Uuid> {
    let host = app.new_user("host").await;
    let mut registered = Vec::new();
    for listing in listings {
        registered.push(register(app, &host, listing).await);
    }
    registered
}

/// Registers `listing` under `host`; returns its id.
async fn register(app: &TestApp, host: &TestUser, listing: &Value) -> Uuid {
    app.register_room(&host.token, listing).await.id
}

/// The ids among `all` at `positions`, in that order.
fn pick(all: &[Uuid], positions: &[usize]) -> Vec<Uuid> {
    positions.iter().map(|&position| all[position]).collect()
}

/// Four rooms whose words sit in different fields.
fn text_listings() -> Vec<Value> {
    vec![
        json!({ "name": "Hanok with a garden", "address": "12 Bukchon-ro", "city": "Seoul",
                "description": "Quiet courtyard", "price": 120_000 }),
        json!({ "name": "Seaside loft", "address": "1 Haeundae-ro", "city": "Busan",
                "description": "Ocean view, a garden terrace, far from Seoul", "price": 90_000 }),
        json!({ "name": "Été à Jeju", "address": "3 Jungmun-ro", "city": "Seogwipo",
                "price": 80_000 }),
        json!({ "name": "City studio", "address": "77 Garden-daero", "city": "seoul",
                "price": 60_000 }),
    ]
}

api_tests! {
    async fn every_word_of_q_must_appear_in_some_field(app) {
        let rooms = seed(&app, &text_listings()).await;
        let cases: [(&str, &[usize]); 8] = [
            ("garden", &[0, 1, 3]),
            ("garden seoul", &[0, 1, 3]),
            ("courtyard hanok", &[0]),
            ("GARDEN busan", &[1]),
            ("garden jeju", &[]),
            ("  hanok \t  garden  ", &[0]),
            ("bukchon-ro", &[0]),
            ("", &[0, 1, 2, 3]),
        ];
        for (q, expected) in cases {
            let page = app.search(&[("q", q)]).await;
            assert_eq!(page.ids(), pick(&rooms, expected), "q={q:?}");
            assert_eq!(page.total, expected.len() as u64, "q={q:?}");
        }
    }

    /// Case is ignored beyond ASCII: "ÉTÉ" finds "Été".
    async fn q_ignores_case_in_every_script(app) {
        let rooms = seed(&app, &text_listings()).await;
        for q in ["ÉTÉ", "été", "été JEJU", "à"] {
            assert_eq!(app.search(&[("q", q)]).await.ids(), pick(&rooms, &[2]), "q={q:?}");
        }
        assert_eq!(app.search(&[("q", "ete")]).await.ids(), Vec::<Uuid>::new(), "accents count");
    }

    /// The city matches whole and ignoring case; a city named only in a description does not.
    async fn city_matches_exactly_ignoring_case(app) {
        let rooms = seed(&app, &text_listings()).await;
        let cases: [(&str, &[usize]); 5] = [
            ("Seoul", &[0, 3]),
            ("SEOUL", &[0, 3]),
            ("busan", &[1]),
            ("Seo", &[]),
            ("Seoul Station", &[]),
        ];
        for (city, expected) in cases {
            assert_eq!(app.search(&[("city", city)]).await.ids(), pick(&rooms, expected), "city={city:?}");
        }
        let both = app.search(&[("city", "seoul"), ("q", "garden")]).await;
        assert_eq!(both.ids(), pick(&rooms, &[0, 3]));
    }

    async fn price_bounds_are_inclusive(app) {
        let rooms = seed(&app, &[room("Budget", 50_000), room("Middle", 100_000), room("Luxury", 150_000)]).await;
        let cases: [(Query, &[usize]); 6] = [
            (&[("minPrice", "100000")], &[1, 2]),
            (&[("maxPrice", "100000")], &[0, 1]),
            (&[("minPrice", "100000"), ("maxPrice", "100000")], &[1]),
            (&[("minPrice", "50001"), ("maxPrice", "149999")], &[1]),
            (&[("minPrice", "0")], &[0, 1, 2]),
            (&[("minPrice", "150001")], &[]),
        ];
        for (query, expected) in cases {
            assert_eq!(app.search(query).await.ids(), pick(&rooms, expected), "{query:?}");
        }
    }

    async fn guests_must_fit_the_capacity(app) {
        let listings: Vec<Value> = [1, 2, 4]
            .into_iter()
            .map(|capacity| {
                let mut listing = room(&format!("Sleeps {capacity}"), 40_000);
                listing["capacity"] = json!(capacity);
                listing
            })
            .collect();
        let rooms = seed(&app, &listings).await;
        let cases: [(&str, &[usize]); 4] = [("1", &[0, 1, 2]), ("2", &[1, 2]), ("4", &[2]), ("5", &[])];
        for (guests, expected) in cases {
            assert_eq!(app.search(&[("guests", guests)]).await.ids(), pick(&rooms, expected), "guests={guests}");
        }
    }

    async fn filters_combine(app) {
        let mut big_garden = room("Garden villa", 200_000);
        big_garden["city"] = json!("Seoul");
        big_garden["capacity"] = json!(6);
        let mut small_garden = room("Garden room", 70_000);
        small_garden["city"] = json!("Seoul");
        let mut far_garden = room("Garden cabin", 70_000);
        far_garden["city"] = json!("Gangneung");
        far_garden["capacity"] = json!(6);
        let rooms = seed(&app, &[big_garden, small_garden, far_garden]).await;
        let query = [("q", "garden"), ("city", "seoul"), ("guests", "3"), ("maxPrice", "250000")];
        assert_eq!(app.search(&query).await.ids(), pick(&rooms, &[0]));
        let cheaper = [("q", "garden"), ("city", "seoul"), ("guests", "3"), ("maxPrice", "199999")];
        assert_eq!(app.search(&cheaper).await.total, 0);
    }

    /// `%`, `_` and `\` in q are plain characters, not patterns.
    async fn pattern_characters_in_q_match_literally(app) {
        let rooms = seed(&app, &[
            room("100% cotton sheets", 10_000),
            room("100 cotton sheets", 10_000),
            room("snake_case house", 10_000),
            room("snakeXcase house", 10_000),
            room(r"C:\temp house", 10_000),
        ]).await;
        let cases: [(&str, &[usize]); 6] = [
            ("100%", &[0]),
            ("%", &[0]),
            ("snake_case", &[2]),
            ("_", &[2]),
            (r"\", &[4]),
            (r"c:\temp", &[4]),
        ];
        for (q, expected) in cases {
            assert_eq!(app.search(&[("q", q)]).await.ids(), pick(&rooms, expected), "q={q:?}");
        }
    }

    /// Pages of a stable, oldest-first order: together they hold every room once.
    async fn pages_split_the_results_in_registration_order(app) {
        let listings: Vec<Value> = (1..=5).map(|n| room(&format!("Room {n}"), 10_000 * n)).collect();
        let rooms = seed(&app, &listings).await;

        let everything = app.search(&[]).await;
        assert_eq!(everything.ids(), rooms, "oldest first");
        assert_eq!((everything.page, everything.size), (1, 20), "the defaults");

        let expected: [&[usize]; 4] = [&[0, 1], &[2, 3], &[4], &[]];
        for (number, positions) in expected.into_iter().enumerate() {
            let number = (number + 1).to_string();
            let page = app.search(&[("size", "2"), ("page", &number)]).await;
            assert_eq!(page.ids(), pick(&rooms, positions), "page {number}");
            assert_eq!(page.total, 5, "page {number}");
            assert_eq!(page.page, number.parse::<u32>().expect("a number"));
            assert_eq!(page.size, 2);
        }
        assert_eq!(app.search(&[]).await.ids(), rooms, "the order does not change");
    }

    /// Sizes above 100 are lowered to 100, and the page holds 100 rooms.
    async fn page_sizes_are_capped_at_100(app) {
        let listings: Vec<Value> = (1..=101).map(|n| room(&format!("Room {n}"), 1_000 + n)).collect();
        let rooms = seed(&app, &listings).await;
        let page = app.search(&[("size", "1000")]).await;
        assert_eq!(page.size, 100);
        assert_eq!(page.total, 101);
        assert_eq!(page.ids(), rooms[..100].to_vec());
        let second = app.search(&[("size", "1000"), ("page", "2")]).await;
        assert_eq!(second.ids(), rooms[100..].to_vec());
    }

    /// `host` lists one host's rooms, as the host's dashboard does: oldest first, paged, and
    /// narrowed further by every other parameter.
    async fn host_lists_only_that_hosts_rooms(app) {
        let (alice, bob) = (app.new_user("alice").await, app.new_user("bob").await);
        let mut garden_hanok = room("Garden hanok", 120_000);
        garden_hanok["city"] = json!("Seoul");
        garden_hanok["capacity"] = json!(4);
        let mut garden_cabin = room("Garden cabin", 70_000);
        garden_cabin["city"] = json!("Seoul");
        let listings = [
            (&alice, garden_hanok),
            (&bob, room("Garden loft", 90_000)),
            (&alice, room("City studio", 60_000)),
            (&bob, room("Harbour view", 80_000)),
            (&alice, garden_cabin),
        ];
        let mut rooms = Vec::new();
        for (host, listing) in &listings {
            rooms.push(register(&app, host, listing).await);
        }
        let (alice_id, bob_id) = (alice.id.to_string(), bob.id.to_string());
        let (alice_id, bob_id) = (alice_id.as_str(), bob_id.as_str());

        let alices = app.search(&[("host", alice_id)]).await;
        assert_eq!(alices.ids(), pick(&rooms, &[0, 2, 4]), "oldest first");
        assert_eq!(alices.total, 3);
        assert!(alices.items.iter().all(|room| room.host == alice.id), "{alices:?}");
        assert_eq!(app.search(&[("host", bob_id)]).await.ids(), pick(&rooms, &[1, 3]));
        let shouted = alice_id.to_uppercase();
        let shouting = app.search(&[("host", shouted.as_str())]).await;
        assert_eq!(shouting.ids(), pick(&rooms, &[0, 2, 4]), "case is ignored");

        let cases: [(Query, &[usize]); 6] = [
            (&[("q", "garden")], &[0, 4]),
            (&[("q", "GARDEN cabin")], &[4]),
            (&[("q", "loft")], &[]),
            (&[("city", "seoul"), ("maxPrice", "100000")], &[4]),
            (&[("guests", "3"), ("minPrice", "100000")], &[0]),
            (&[("checkIn", "2026-12-24"), ("checkOut", "2026-12-27"), ("q", "garden"), ("city", "SEOUL"),
               ("minPrice", "1"), ("maxPrice", "200000"), ("guests", "1")], &[0, 4]),
        ];
        for (others, expected) in cases {
            let mut query = vec![("host", alice_id)];
            query.extend_from_slice(others);
            let page = app.search(&query).await;
            assert_eq!(page.ids(), pick(&rooms, expected), "{query:?}");
            assert_eq!(page.total, expected.len() as u64, "{query:?}");
        }
        let bobs_gardens = app.search(&[("q", "garden"), ("host", bob_id)]).await;
        assert_eq!(bobs_gardens.ids(), pick(&rooms, &[1]));

        let expected: [&[usize]; 3] = [&[0, 2], &[4], &[]];
        for (number, positions) in expected.into_iter().enumerate() {
            let number = (number + 1).to_string();
            let page = app.search(&[("host", alice_id), ("size", "2"), ("page", &number)]).await;
            assert_eq!(page.ids(), pick(&rooms, positions), "page {number}");
            assert_eq!(page.total, 3, "page {number}");
        }

        let roomless = app.new_user("roomless").await;
        for host in [roomless.id.to_string().as_str(), "67e55044-10b1-426f-9247-bb680e5fe0c8"] {
            let page = app.search(&[("host", host)]).await;
            assert_eq!((page.ids(), page.total), (Vec::<Uuid>::new(), 0), "host={host}");
        }
    }

    async fn a_deleted_room_leaves_its_hosts_list(app) {
        let host = app.new_user("host").await;
        let mut rooms = Vec::new();
        for listing in [room("Stays", 50_000), room("Goes", 60_000), room("Stays too", 70_000)] {
            rooms.push(register(&app, &host, &listing).await);
        }
        let host_id = host.id.to_string();
        let query = [("host", host_id.as_str())];
        assert_eq!(app.search(&query).await.ids(), rooms);

        let response = app.delete_room(rooms[1], &host.token).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let page = app.search(&query).await;
        assert_eq!(page.ids(), pick(&rooms, &[0, 2]));
        assert_eq!(page.total, 2);
        let goes = app.search(&[("host", host_id.as_str()), ("q", "goes")]).await;
        assert_eq!(goes.total, 0);
    }

    /// A `host` that is not a UUID is refused, not read as "no host".
    async fn a_malformed_host_is_refused(app) {
        seed(&app, &[room("Somewhere", 10_000)]).await;
        let malformed = [
            "",
            "alice",
            "12345",
            "67e55044-10b1-426f-9247-bb680e5fe0c",
            "67e55044-10b1-426f-9247-bb680e5fe0c8x",
            "67e55044_10b1_426f_9247_bb680e5fe0c8",
        ];
        for host in malformed {
            for query in [vec![("host", host)], vec![("q", "somewhere"), ("host", host), ("page", "1")]] {
                let response = app.search_raw(&query).await;
                let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
                assert_eq!(problem.message(), "`host` must be a user id, a UUID", "{query:?}: {problem}");
            }
        }
    }

    async fn invalid_parameters_are_refused(app) {
        let queries: [Query; 12] = [
            &[("size", "0")],
            &[("page", "0")],
            &[("minPrice", "200"), ("maxPrice", "100")],
            &[("minPrice", "-1")],
            &[("maxPrice", "-5")],
            &[("page", "-1")],
            &[("guests", "-1")],
            &[("guests", "abc")],
            &[("page", "x")],
            &[("size", "ten")],
            &[("minPrice", "1.5")],
            &[("minPrice", "99999999999999999999")],
        ];
        for query in queries {
            let response = app.search_raw(query).await;
            let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert!(problem.detail.is_some(), "{query:?}: {problem}");
        }
    }
}
