//! The `motcua` binary's pieces: configuration, the server's start-up, and the operator
//! commands. Kept in a library so the integration tests start the very same server.

pub mod backup;
pub mod bench;
pub mod config;
pub mod generate;
pub mod history;
pub mod load;
pub mod server;
