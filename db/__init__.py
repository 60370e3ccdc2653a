"""Database: SQLAlchemy models, engine and sessions, repositories, embedded PostgreSQL."""
