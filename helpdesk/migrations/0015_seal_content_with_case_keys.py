"""Content stored before cases had their own keys was encrypted with the master key
(Fernet). Each such case gets its data key now, in the key store, and every encrypted
value of it, its messages, notes and referrals is sealed again with that key; the
content of cases destroyed before is stored as "" (it was the ciphertext of "").

The key store must be migrated first (`manage.py migrate --database=keys`; `make
migrate` and docker-compose's `migrate` service do both, in that order). A database
without cases needs nothing from it.
"""

from django.db import DatabaseError, migrations

from helpdesk import encryption
from keystore.router import DATABASE as KEYS

# The encrypted columns, by model, and how each model's rows belong to a case.
SEALED = {
    "case": (["description", "contact_details", "contact_safe_times", "contact_code_word"], "id"),
    "message": (["body"], "case_id"),
    "note": (["body"], "case_id"),
    "referral": (["subject", "body", "outcome_note"], "case_id"),
}


def seal_existing_content(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    Case = apps.get_model("helpdesk", "Case")
    table = qn(Case._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, content_destroyed_at IS NOT NULL FROM {table} WHERE key_id IS NULL"  # noqa: S608
        )
        cases = cursor.fetchall()
    if not cases:
        return
    DataKey = apps.get_model("keystore", "DataKey")
    try:
        DataKey.objects.using(KEYS).exists()
    except DatabaseError:
        raise RuntimeError(
            "The key store is not ready: run `manage.py migrate --database=keys` first, "
            "then `manage.py migrate` again."
        ) from None

    models = {name: apps.get_model("helpdesk", name) for name in SEALED}
    with connection.cursor() as cursor:
        for case_id, destroyed in cases:
            key_id = None if destroyed else encryption.new_data_key()
            for name, (columns, owner) in SEALED.items():
                model = models[name]
                cursor.execute(
                    f"SELECT id, {', '.join(qn(c) for c in columns)} "  # noqa: S608 - our names
                    f"FROM {qn(model._meta.db_table)} WHERE {qn(owner)} = %s",
                    [case_id],
                )
                for row_id, *values in cursor.fetchall():
                    sealed = [
                        ""
                        if key_id is None
                        else encryption.seal(
                            encryption.decrypt(value),
                            key_id=key_id,
                            context=model._meta.get_field(column).context,
                        )
                        for column, value in zip(columns, values, strict=True)
                    ]
                    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
                    cursor.execute(
                        f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
                        [*sealed, row_id],
                    )
            if key_id is not None:
                Case.objects.filter(pk=case_id).update(key_id=key_id)


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0014_case_data_keys"),
        ("keystore", "0001_data_keys"),
    ]

    # One way only: the master key no longer reads what is sealed with a case's key.
    operations = [migrations.RunPython(seal_existing_content)]
