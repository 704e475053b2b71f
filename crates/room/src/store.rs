//! The room repository on SQL (SQLite or PostgreSQL, one query text for both).

use anyhow::Context;

use mybnb_platform::db::{Database, WriteOutcome, instant_from_db, instant_to_db};
use mybnb_platform::outbox;
use sqlx::Arguments;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use crate::domain::{Host, Listing, ListingDraft, Room, RoomId, SearchCriteria, SearchResults};
use crate::ports::RoomRepository;

#[derive(Clone)]
pub struct SqlRoomRepository {
    database: Database,
}

impl SqlRoomRepository {
    pub fn new(database: Database) -> Self {
        SqlRoomRepository { database }
    }
}

const ROOM_COLUMNS: &str = "id, host_id, host_name, name, address, city, description, price, \
                            capacity, created_at";

impl RoomRepository for SqlRoomRepository {
    async fn insert(
        &self,
        room: &Room,
        event: &mybnb_events::room::RoomRegistered,
        correlation_id: &str,
    ) -> anyhow::Result<()> {
        let (room, event, correlation_id) =
            (room.clone(), event.clone(), correlation_id.to_owned());
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    let listing = &room.listing;
                    sqlx::query(
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
                    .bind(instant_to_db(room.registered_at))
                    .execute(&mut *connection)
                    .await
                    .context("inserting a room")?;
                    outbox::record(connection, &event, &correlation_id).await?;
                    Ok(WriteOutcome::Keep(()))
                })
            }))
            .await
    }

    async fn find(&self, id: RoomId) -> anyhow::Result<Option<Room>> {
        let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1 AND deleted_at IS NULL");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.0.to_string())
            .fetch_optional(self.database.pool())
            .await
            .context("reading a room")?;
        row.as_ref().map(room_from_row).transpose()
    }

    async fn delete(
        &self,
        id: RoomId,
        event: &mybnb_events::room::RoomDeleted,
        correlation_id: &str,
    ) -> anyhow::Result<bool> {
        let (event, correlation_id) = (event.clone(), correlation_id.to_owned());
        self.database
            .write(Box::new(move |connection| {
                Box::pin(async move {
                    let deleted = sqlx::query(
                        "UPDATE rooms SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                    )
                    .bind(instant_to_db(mybnb_platform::db::now()))
                    .bind(id.0.to_string())
                    .execute(&mut *connection)
                    .await
                    .context("deleting a room")?
                    .rows_affected()
                        == 1;
                    if !deleted {
                        return Ok(WriteOutcome::Undo(false));
                    }
                    outbox::record(connection, &event, &correlation_id).await?;
                    Ok(WriteOutcome::Keep(true))
                })
            }))
            .await
    }

    async fn search(&self, criteria: &SearchCriteria) -> anyhow::Result<SearchResults> {
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
        let mut add = |clause: &str, argument: SearchArgument| {
            arguments.push(argument);
            clauses.push(clause.replace('?', &format!("${}", arguments.len())));
        };
        for word in &criteria.words {
            add(
                r"search_text LIKE ? ESCAPE '\'",
                SearchArgument::Text(format!("%{}%", escape_like(word))),
            );
        }
        if let Some(city_key) = &criteria.city_key {
            add("city_key = ?", SearchArgument::Text(city_key.clone()));
        }
        if let Some(min) = criteria.min_price {
            add("price >= ?", SearchArgument::Integer(min));
        }
        if let Some(max) = criteria.max_price {
            add("price <= ?", SearchArgument::Integer(max));
        }
        if let Some(guests) = criteria.guests {
            add("capacity >= ?", SearchArgument::Integer(i64::from(guests)));
        }
        for room in &criteria.excluded {
            add("id <> ?", SearchArgument::Text(room.to_string()));
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
