from django.db import migrations

LANGUAGES = [
    ("en", "English", "English", False),
    ("nl", "Dutch", "Nederlands", False),
    ("fr", "French", "Français", False),
    ("ar", "Arabic", "العربية", True),
    ("fa", "Persian (Farsi)", "فارسی", True),
    ("ru", "Russian", "Русский", False),
    ("es", "Spanish", "Español", False),
    ("tr", "Turkish", "Türkçe", False),
]

NEEDS = [
    ("stay-safe", "Staying safe in my country",
     "An activist or human-rights defender who stays, and wants to be safer.", 1),
    ("leave", "Leaving my country", "Planning to flee, and staying safe on the way.", 2),
    ("asylum-be", "Asylum in Belgium",
     "Asking for protection in Belgium because of sexual orientation or gender identity.", 3),
    ("unsure", "Not sure yet", "A coordinator will help find the right kind of help.", 4),
]


def seed(apps, schema_editor):
    Language = apps.get_model("resources", "Language")
    Need = apps.get_model("resources", "Need")
    for code, name, native, rtl in LANGUAGES:
        Language.objects.update_or_create(
            code=code, defaults={"name": name, "native_name": native, "right_to_left": rtl}
        )
    for slug, name, description, position in NEEDS:
        Need.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
