//! My page as a process runs it: its read model on its database, its API and its consumer. It
//! publishes nothing and has no settings of its own.

use std::sync::Arc;

use mybnb_bus::wired::{Wired, handler};
use mybnb_platform::auth::TokenVerifier;
use mybnb_platform::db::Database;

use crate::http;
use crate::service::{CONSUMER, MyPageService, SUBSCRIBES_TO};
use crate::store::SqlMyPageRepository;

pub struct MyPageContext {
    pages: Arc<MyPageService>,
}

impl MyPageContext {
    pub fn new(database: Database) -> Self {
        MyPageContext {
            pages: Arc::new(MyPageService::new(SqlMyPageRepository::new(database))),
        }
    }

    pub fn wire(self, verifier: TokenVerifier) -> Wired {
        let handler = handler(self.pages.clone(), |pages, envelope| async move {
            pages.handle(&envelope).await
        });
        Wired::serving(http::router(self.pages, verifier)).consuming(
            CONSUMER,
            SUBSCRIBES_TO,
            handler,
        )
    }
}
