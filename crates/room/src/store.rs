//! The room repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;
use chrono::NaiveDate;

use mybnb_events::CorrelationId;
use mybnb_events::room::{RoomDeleted, RoomRegistered};
use mybnb_platform::db::{Database, Stop, Written, instant_from_db, instant_to_db};
use mybnb_platform::inbox::Handling;
use sqlx::Arguments;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use crate::domain::{
    BookedStay, Host, Listing, ListingDraft, NightRange, Room, RoomId, SearchCriteria,
    SearchResults,
};

const ROOM_COLUMNS: &str = "id, host_id, host_name, name, address, city, description, price, \
                            capacity, created_at";

/// Where rooms are kept. Every method that changes a room also records the event it caused, in
/// the same transaction, so the event is published if and only if the change is committed.
/// Errors are failures of the store itself; business outcomes are in the return values.
#[derive(Clone)]
pub struct SqlRoomRepository {
    database: Database,
}

impl SqlRoomRepository {
    pub fn new(database: Database) -> Self {
        SqlRoomRepository { database }
    }

    pub async fn insert(
        &self,
        room: &Room,
        event: &RoomRegistered,
        correlation: &CorrelationId,
    ) -> anyhow::Result<()> {
        let listing = &room.listing;
        self.database
            .write_caused_by(correlation, async |unit| {
                let insert = sqlx::query(
                    "INSERT INTO rooms (id, host_id, host_name, name, address, city, city_key, \
                     description, price, capacity, search_text, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(room.id.0.to_string())
                .bind(room.host.id.to_string())
                .bind(&room.host.name)
                .bind(listing.name())
                .bind(listing.address())
                .bind(listing.city())
                .bind(listing.city_key())
                .bind(listing.description())
                .bind(listing.price().won())
                .bind(i64::from(listing.capacity().guests()))
                .bind(listing.search_text())
                .bind(instant_to_db(room.registered_at));
                unit.execute("inserting a room", insert).await?;
                unit.record(event).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    /// The room, unless it does not exist or was deleted.
    pub async fn find(&self, id: RoomId) -> anyhow::Result<Option<Room>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1 AND deleted_at IS NULL");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0.to_string())
            .fetch_optional(self.database.pool())
            .await
            .context("reading a room")?;
        row.as_ref().map(room_from_row).transpose()
    }

    /// Marks the room deleted; [`Written::LostRace`] when it was already gone.
    pub async fn delete(
        &self,
        id: RoomId,
        event: &RoomDeleted,
        correlation: &CorrelationId,
    ) -> anyhow::Result<Written<()>> {
        self.database
            .write_caused_by(correlation, async |unit| {
                let delete = sqlx::query(
                    "UPDATE rooms SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                )
                .bind(instant_to_db(mybnb_platform::db::now()))
                .bind(id.0.to_string());
                unit.guarded("deleting a room", delete).await?;
                unit.record(event).await?;
                Ok::<_, Stop>(())
            })
            .await
    }

    /// Records a booked stay or its cancellation (a cancellation is never undone), with
    /// `handling` in the inbox; nothing changes when the event was handled before.
    pub async fn record_stay(&self, stay: &BookedStay, handling: &Handling) -> anyhow::Result<()> {
        self.database
            .write(async |unit| {
                unit.first_time(handling).await?;
                let upsert = sqlx::query(
                    "INSERT INTO booked_stays (booking_id, room_id, check_in, check_out, \
                     cancelled) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (booking_id) \
                     DO UPDATE SET cancelled = CASE WHEN excluded.cancelled = 1 \
                     THEN 1 ELSE booked_stays.cancelled END",
                )
                .bind(stay.booking_id.to_string())
                .bind(stay.room_id.to_string())
                .bind(stay.check_in.to_string())
                .bind(stay.check_out.to_string())
                .bind(i64::from(stay.cancelled));
                unit.execute("recording a booked stay", upsert).await?;
                Ok::<_, Stop>(())
            })
            .await?;
        Ok(())
    }

    /// Rooms matching the criteria; with free nights, only rooms no uncancelled booked stay
    /// overlaps.
    pub async fn search(&self, criteria: &SearchCriteria) -> anyhow::Result<SearchResults> {
        let filter = SearchFilter::from(criteria);
        let count_sql = format!("SELECT COUNT(*) FROM rooms WHERE {}", filter.condition);
        let total: i64 = sqlx::query_scalar_with(AssertSqlSafe(count_sql), filter.arguments(&[])?)
            .fetch_one(self.database.pool())
            .await
            .context("counting rooms")?;
        let next = filter.arguments.len() + 1;
        let page_sql = format!(
            "SELECT {ROOM_COLUMNS} FROM rooms WHERE {} ORDER BY id LIMIT ${next} OFFSET ${}",
            filter.condition,
            next + 1
        );
        let limit = i64::from(criteria.page.size());
        let offset = i64::try_from(criteria.page.offset()).unwrap_or(i64::MAX);
        let rows = sqlx::query_with(AssertSqlSafe(page_sql), filter.arguments(&[limit, offset])?)
            .fetch_all(self.database.pool())
            .await
            .context("searching rooms")?;
        Ok(SearchResults {
            rooms: rows
                .iter()
                .map(room_from_row)
                .collect::<anyhow::Result<_>>()?,
            total: u64::try_from(total).unwrap_or_default(),
            page: criteria.page,
        })
    }

    /// The nights of `nights` that an uncancelled booked stay of the room covers, ascending,
    /// each once.
    pub async fn taken_nights(
        &self,
        room: RoomId,
        nights: NightRange,
    ) -> anyhow::Result<Vec<NaiveDate>> {
        // Dates are `YYYY-MM-DD` text, so comparing them as text compares them as dates.
        let rows = sqlx::query(
            "SELECT check_in, check_out FROM booked_stays WHERE room_id = $1 AND cancelled = 0 \
             AND check_in < $2 AND check_out > $3",
        )
        .bind(room.0.to_string())
        .bind(nights.to().to_string())
        .bind(nights.from().to_string())
        .fetch_all(self.database.pool())
        .await
        .context("reading a room's booked stays")?;
        let stays = rows
            .iter()
            .map(stay_dates_from_row)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(nights.taken_by(stays))
    }
}

/// A search's `WHERE` clause, built from the criteria that are present, with its arguments in
/// placeholder order. Only placeholders are interpolated; every value is bound.
struct SearchFilter {
    condition: String,
    arguments: Vec<SearchArgument>,
}

enum SearchArgument {
    Text(String),
    Integer(i64),
}

impl From<&SearchCriteria> for SearchFilter {
    fn from(criteria: &SearchCriteria) -> Self {
        let mut clauses = vec!["deleted_at IS NULL".to_owned()];
        let mut arguments = Vec::new();
        // Each `?` of a clause becomes the placeholder of the next argument.
        let mut add = |clause: &str, values: Vec<SearchArgument>| {
            let mut clause = clause.to_owned();
            for value in values {
                arguments.push(value);
                clause = clause.replacen('?', &format!("${}", arguments.len()), 1);
            }
            clauses.push(clause);
        };
        for word in &criteria.words {
            add(
                r"search_text LIKE ? ESCAPE '\'",
                vec![SearchArgument::Text(format!("%{}%", escape_like(word)))],
            );
        }
        if let Some(city_key) = &criteria.city_key {
            add("city_key = ?", vec![SearchArgument::Text(city_key.clone())]);
        }
        if let Some(min) = criteria.min_price {
            add("price >= ?", vec![SearchArgument::Integer(min)]);
        }
        if let Some(max) = criteria.max_price {
            add("price <= ?", vec![SearchArgument::Integer(max)]);
        }
        if let Some(guests) = criteria.guests {
            add(
                "capacity >= ?",
                vec![SearchArgument::Integer(i64::from(guests))],
            );
        }
        if let Some(host) = criteria.host {
            // Host ids are stored as `Uuid::to_string` writes them: hyphenated, lowercase.
            add("host_id = ?", vec![SearchArgument::Text(host.to_string())]);
        }
        if let Some(nights) = criteria.free_nights {
            add(
                "NOT EXISTS (SELECT 1 FROM booked_stays WHERE booked_stays.room_id = rooms.id \
                 AND booked_stays.cancelled = 0 AND booked_stays.check_in < ? \
                 AND booked_stays.check_out > ?)",
                vec![
                    SearchArgument::Text(nights.to().to_string()),
                    SearchArgument::Text(nights.from().to_string()),
                ],
            );
        }
        SearchFilter {
            condition: clauses.join(" AND "),
            arguments,
        }
    }
}

impl SearchFilter {
    /// The filter's arguments, followed by `extra` (the page's limit and offset).
    fn arguments(&self, extra: &[i64]) -> anyhow::Result<AnyArguments> {
        let mut arguments = AnyArguments::default();
        for argument in &self.arguments {
            match argument {
                SearchArgument::Text(text) => arguments.add(text.clone()),
                SearchArgument::Integer(number) => arguments.add(*number),
            }
            .map_err(|error| anyhow::anyhow!(error))?;
        }
        for number in extra {
            arguments
                .add(*number)
                .map_err(|error| anyhow::anyhow!(error))?;
        }
        Ok(arguments)
    }
}

/// Makes `%`, `_` and `\` in a search word match themselves.
fn escape_like(word: &str) -> String {
    word.replace('\\', r"\\")
        .replace('%', r"\%")
        .replace('_', r"\_")
}

/// A booked stay's check-in and check-out.
fn stay_dates_from_row(row: &AnyRow) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let check_in: String = row.try_get("check_in")?;
    let check_out: String = row.try_get("check_out")?;
    let date = |text: &str| {
        text.parse::<NaiveDate>()
            .with_context(|| format!("a booked stay holds an invalid date {text:?}"))
    };
    Ok((date(&check_in)?, date(&check_out)?))
}

fn room_from_row(row: &AnyRow) -> anyhow::Result<Room> {
    let id: String = row.try_get("id")?;
    let host_id: String = row.try_get("host_id")?;
    let price: i64 = row.try_get("price")?;
    let capacity: i64 = row.try_get("capacity")?;
    let created_at: String = row.try_get("created_at")?;
    let listing = Listing::restore(ListingDraft {
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        city: row.try_get("city")?,
        description: row.try_get("description")?,
        price,
        capacity: Some(u32::try_from(capacity)?),
    })
    .with_context(|| format!("room {id} holds an invalid listing"))?;
    Ok(Room {
        id: RoomId(Uuid::parse_str(&id)?),
        host: Host {
            id: Uuid::parse_str(&host_id)?,
            name: row.try_get("host_name")?,
        },
        listing,
        registered_at: instant_from_db(&created_at)?,
    })
}
