//! The one integration-test binary: it starts the real server on an ephemeral port with a
//! fresh database and drives it over HTTP, on SQLite and on PostgreSQL.

mod access_matrix;
mod api;
mod api_fuzz;
mod browser;
mod cli;
mod dossiers;
mod durability;
mod editor;
mod exchange;
mod feedback;
mod identity;
mod journeys;
mod notifications;
mod open_data;
mod pages;
mod payments;
mod privileged;
mod search;
mod stats;
mod store_suite;
mod support;
