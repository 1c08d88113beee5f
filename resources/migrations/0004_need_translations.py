from django.db import migrations

# name, one-line description; worded so that they read right both for the person at
# risk and for a friend choosing on their behalf.
TRANSLATIONS = {
    "stay-safe": {
        "en": ("Staying safe without leaving",
               "For activists and human-rights defenders who stay in their country and want more protection."),
        "nl": ("Veilig blijven zonder te vertrekken",
               "Voor activisten en mensenrechtenverdedigers die in hun land blijven en zich beter willen beschermen."),
        "fr": ("Rester en sécurité sans partir",
               "Pour les militants et défenseurs des droits humains qui restent dans leur pays et veulent mieux se protéger."),
        "ar": ("البقاء بأمان دون مغادرة البلد",
               "للناشطين والناشطات والمدافعين عن حقوق الإنسان الذين يبقون في بلدهم ويريدون حماية أفضل."),
        "fa": ("امن ماندن بدون ترک کشور",
               "برای فعالان و مدافعان حقوق بشر که در کشور خود می‌مانند و می‌خواهند بیشتر از خود محافظت کنند."),
        "ru": ("Безопасность без отъезда",
               "Для активистов и правозащитников, которые остаются в своей стране и хотят лучше защитить себя."),
        "es": ("Mantenerse a salvo sin irse",
               "Para activistas y defensores de derechos humanos que se quedan en su país y quieren protegerse mejor."),
        "tr": ("Ülkeden ayrılmadan güvende kalmak",
               "Ülkesinde kalan ve kendini daha iyi korumak isteyen aktivistler ve insan hakları savunucuları için."),
    },
    "leave": {
        "en": ("Leaving the country", "Planning to flee, and keeping safe on the way."),
        "nl": ("Het land verlaten", "Plannen om te vluchten, en onderweg veilig blijven."),
        "fr": ("Quitter le pays", "Préparer un départ, et rester en sécurité en chemin."),
        "ar": ("مغادرة البلد", "التخطيط للفرار، والبقاء بأمان في الطريق."),
        "fa": ("ترک کشور", "برنامه‌ریزی برای فرار و امن ماندن در طول مسیر."),
        "ru": ("Уехать из страны", "Как спланировать отъезд и не подвергать себя опасности в пути."),
        "es": ("Salir del país", "Planear la huida y mantenerse a salvo en el camino."),
        "tr": ("Ülkeden ayrılmak", "Kaçmayı planlamak ve yolda güvende kalmak."),
    },
    "asylum-be": {
        "en": ("Asylum in Belgium",
               "Asking Belgium for protection because of sexual orientation or gender identity."),
        "nl": ("Asiel in België",
               "Bescherming vragen in België vanwege seksuele oriëntatie of genderidentiteit."),
        "fr": ("Asile en Belgique",
               "Demander la protection de la Belgique en raison de l’orientation sexuelle ou de l’identité de genre."),
        "ar": ("اللجوء في بلجيكا",
               "طلب الحماية في بلجيكا بسبب التوجه الجنسي أو الهوية الجندرية."),
        "fa": ("پناهندگی در بلژیک",
               "درخواست حمایت از بلژیک به دلیل گرایش جنسی یا هویت جنسیتی."),
        "ru": ("Убежище в Бельгии",
               "Просить защиты в Бельгии из-за сексуальной ориентации или гендерной идентичности."),
        "es": ("Asilo en Bélgica",
               "Pedir protección en Bélgica por orientación sexual o identidad de género."),
        "tr": ("Belçika’da iltica",
               "Cinsel yönelim veya cinsiyet kimliği nedeniyle Belçika’dan koruma istemek."),
    },
    "unsure": {
        "en": ("Not sure yet", "Tell us what is happening, and we will help find the right kind of help."),
        "nl": ("Weet ik nog niet", "Vertel wat er aan de hand is; samen zoeken we welke hulp past."),
        "fr": ("Je ne sais pas encore", "Expliquez-nous ce qui se passe, et nous aiderons à trouver l’aide qui convient."),
        "ar": ("لا أعرف بعد", "أخبرنا بما يحدث، وسنساعد في إيجاد نوع المساعدة المناسب."),
        "fa": ("هنوز نمی‌دانم", "بگویید چه اتفاقی می‌افتد تا با هم کمک مناسب را پیدا کنیم."),
        "ru": ("Пока не знаю", "Расскажите, что происходит, и мы поможем найти подходящую помощь."),
        "es": ("Todavía no lo sé", "Cuéntanos qué pasa y te ayudaremos a encontrar el tipo de ayuda adecuado."),
        "tr": ("Henüz bilmiyorum", "Neler olduğunu anlatın, size uygun yardımı birlikte bulalım."),
    },
}


def seed(apps, schema_editor):
    Need = apps.get_model("resources", "Need")
    NeedTranslation = apps.get_model("resources", "NeedTranslation")
    for need in Need.objects.filter(slug__in=TRANSLATIONS):
        for code, (name, description) in TRANSLATIONS[need.slug].items():
            NeedTranslation.objects.update_or_create(
                need=need, language_id=code, defaults={"name": name, "description": description}
            )


class Migration(migrations.Migration):
    dependencies = [("resources", "0003_library")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
