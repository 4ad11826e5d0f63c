from sqlalchemy import Connection, text


def test_schema_is_migrated(connection: Connection) -> None:
    assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
