import django.db.models.deletion
from django.db import migrations, models


def mark_every_day(apps, schema_editor):
    """Every day with a case, an escalation or a referral is marked as changed: the
    first refresh (the beat's, a report's, or `manage.py rebuild_rollups`) computes
    its rollups."""
    Case = apps.get_model("helpdesk", "Case")
    Referral = apps.get_model("helpdesk", "Referral")
    RollupChange = apps.get_model("helpdesk", "RollupChange")
    days = {
        *Case.objects.dates("created_at", "day"),
        *Case.objects.filter(escalated_at__isnull=False).dates("escalated_at", "day"),
        *Referral.objects.dates("created_at", "day"),
    }
    RollupChange.objects.bulk_create([RollupChange(day=day) for day in sorted(days)])


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0017_partners_answer_referrals"),
        ("resources", "0006_partner_directory_and_template_consent"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
            ],
        ),
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "span",
                    models.CharField(
                        choices=[("day", "day"), ("month", "month")], default="day", max_length=5
                    ),
                ),
                ("day", models.DateField()),
                ("language", models.CharField(blank=True, max_length=12)),
                ("country", models.CharField(blank=True, max_length=2)),
                ("cases", models.PositiveIntegerField(default=0)),
                ("escalations", models.PositiveIntegerField(default=0)),
                ("referrals", models.PositiveIntegerField(default=0)),
                ("partner_confirmed", models.PositiveIntegerField(default=0)),
                ("statuses", models.JSONField(default=dict)),
                ("declines", models.JSONField(default=dict)),
                ("follow_ups", models.JSONField(default=dict)),
                ("unanswered", models.JSONField(default=dict)),
                ("waiting", models.JSONField(default=dict)),
                ("histograms", models.JSONField(default=dict)),
                (
                    "need",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="resources.need",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="resources.organisation",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["span", "day"], name="daily_rollup_span_day"),
                    models.Index(
                        fields=["span", "country", "language", "day"], name="daily_rollup_read"
                    ),
                    models.Index(
                        condition=models.Q(("organisation__isnull", True)),
                        fields=["span", "country", "day"],
                        name="daily_rollup_cases",
                    ),
                ],
            },
        ),
        migrations.RunPython(mark_every_day, migrations.RunPython.noop),
    ]
