#[derive(Debug)]
pub struct SqliteStore;
