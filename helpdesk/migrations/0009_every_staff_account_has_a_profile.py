from django.db import migrations


def give_every_account_a_profile(apps, schema_editor) -> None:
    """Accounts made in the admin before every account got its profile on creation
    (helpdesk.models.UserManager.save_new) had none: "My availability" failed for them,
    and the team page left them out."""
    User = apps.get_model("helpdesk", "User")
    VolunteerProfile = apps.get_model("helpdesk", "VolunteerProfile")
    for user_id in User.objects.filter(profile__isnull=True).values_list("pk", flat=True):
        VolunteerProfile.objects.create(user_id=user_id)


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0008_notices_sent_once"),
    ]

    operations = [
        migrations.RunPython(give_every_account_a_profile, migrations.RunPython.noop),
    ]
