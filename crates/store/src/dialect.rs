//! Every difference between the SQLite and the PostgreSQL dialect.
