"""Create the PostgreSQL database a SQLAlchemy URL names, unless it exists.

Runs with the environment's own Python (the kit is not installed there), so it may import
only what Airflow's postgres extra brings (psycopg2, SQLAlchemy). The compose stack keeps
one database per Airflow version in its PostgreSQL volume, made here before `db migrate`.
Usage: python create_database.py postgresql+psycopg2://USER@HOST:PORT/DATABASE
"""

import sys

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url


def main(url: str) -> None:
    """Create the database `url` names, connected to the server's `postgres` database;
    nothing happens when it exists."""
    target = make_url(url)
    connection = psycopg2.connect(host=target.host, port=target.port or 5432,
                                  user=target.username, password=target.password,
                                  dbname="postgres")
    connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(
                    sql.Identifier(target.database)))
                print(f"created database {target.database}")
    finally:
        connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
