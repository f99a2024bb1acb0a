"""The schema check every command runs first: cheap when the database is already current."""

from sqlalchemy import text


def test_the_head_read_from_the_migration_files_is_alembics_head():
    # Given the migration scripts, When the head is read from their revision lines
    from alembic.script import ScriptDirectory

    from intake import db

    # Then it is the head Alembic itself computes
    assert db.head_revision() == ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()


def test_a_new_database_is_migrated_and_then_reported_current(data_dir):
    from intake import db

    # Given an empty embedded database, which is not current
    assert not db.is_current()
    # When it is upgraded (twice: the second call finds it current and leaves it)
    db.upgrade()
    db.upgrade()
    # Then it is current, and its tables are there
    assert db.is_current()
    with db.get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dossiers")).scalar() == 0


def test_a_database_stamped_with_another_revision_is_not_current(migrated):
    from intake import db

    # Given a database whose stamp is not the newest migration
    with db.get_engine().begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    # Then it is not current
    assert not db.is_current()
