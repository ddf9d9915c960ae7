//! `custodian serve`: the web app, the API and the background worker.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;

use crate::config::Config;
use crate::db::Db;
use crate::jobs::{self, ProgressBoard};
use crate::keys::Keys;
use crate::web::AppState;

/// Builds the shared state, starting the worker unless the configuration says otherwise.
pub fn state(config: Config, db: Db) -> anyhow::Result<web::Data<AppState>> {
    let progress = ProgressBoard::default();
    let keys = Arc::new(Keys::load_or_create(&config.key_path())?);
    let cx = jobs::WorkerContext::new(keys.clone(), &config);
    let jobs = if config.run_worker {
        jobs::spawn_worker(db.clone(), progress.clone(), cx).context("starting the worker")?.0
    } else {
        jobs::detached_queue()
    };
    let key_material = match &config.session_key {
        Some(key) => key.clone(),
        None => {
            tracing::warn!(
                "CUSTODIAN_SESSION_KEY is not set: sessions are signed with a random key and end when this process stops"
            );
            let mut key = vec![0u8; 64];
            getrandom::fill(&mut key).context("no randomness for the session key")?;
            key
        }
    };
    let cookie_key = actix_web::cookie::Key::derive_from(&key_material);
    Ok(web::Data::new(AppState { config: Arc::new(config), db, jobs, progress, cookie_key, keys }))
}

/// An HTTP server for `state` on an already bound listener (tests bind port 0).
pub fn server(state: web::Data<AppState>, listener: TcpListener, workers: usize) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || crate::app(state.clone())).workers(workers).listen(listener)?.run())
}

pub async fn run(config: Config, db: Db) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind).with_context(|| format!("listening on {}", config.bind))?;
    let workers = config.http_workers;
    tracing::info!(address = %config.bind, catalog = %config.database_url.redacted(), backend = db.backend().name(), "serving");
    println!("Custodian is serving on http://{}/ (catalog: {})", config.bind, config.database_url.redacted());
    let state = state(config, db)?;
    server(state, listener, workers)?.await.context("the HTTP server stopped")
}
