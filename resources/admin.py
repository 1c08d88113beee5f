from django.contrib import admin

from resources.models import Language, Need


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "native_name", "right_to_left"]


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "position"]
    prepopulated_fields = {"slug": ["name"]}
