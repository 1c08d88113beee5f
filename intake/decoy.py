"""The decoy inbox: what the person's second code opens, for whoever is watching.

A calm, generic exchange in the person's language about opening hours: no case, no
LGBTI+ topic, no desk's name, no quick exit, no link into the rest of the site. It is
the same for everyone and built from nothing the case holds, so it can show no real
data. Its texts are kept here in every language Haven speaks, not in the gettext
catalogues: a decoy half in English would give the person away, so it must be complete
in each language the day it ships. (Its buttons and labels reuse strings the real inbox
already has, translated.)

What is typed into it is shown back for the visit (kept in the session only) and never
reaches the desk: it was written under someone's eyes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

# Kept in the session for the visit only, a few at most.
SENT_KEY = "decoy_sent"
SENT_KEPT = 5

TEXTS = {
    "en": {
        "status": "Answered. Nothing more is needed from you.",
        "asked": "Hello, I would like some general information about your opening hours "
        "and how to reach you. Thank you.",
        "answered": "Hello, thank you for your message. We are open on weekdays from 9:00 to "
        "17:00, and you can always write to us here. If you have another question, just send "
        "it. Kind regards.",
        "answer_from": "Answer",
        "sent": "Your message has been sent.",
        "delete": "Delete these messages",
        "delete_question": "Delete these messages? This cannot be undone.",
        "delete_yes": "Yes, delete",
        "delete_no": "No, go back",
        "deleted": "The messages have been deleted.",
        "signed_out": "You have signed out.",
    },
    "nl": {
        "status": "Beantwoord. U hoeft verder niets te doen.",
        "asked": "Hallo, ik zou graag algemene informatie willen over uw openingstijden en "
        "hoe ik u kan bereiken. Dank u.",
        "answered": "Hallo, bedankt voor uw bericht. We zijn op werkdagen open van 9.00 tot "
        "17.00 uur, en u kunt ons hier altijd schrijven. Heeft u nog een vraag, stuur die dan "
        "gerust. Met vriendelijke groet.",
        "answer_from": "Antwoord",
        "sent": "Uw bericht is verstuurd.",
        "delete": "Deze berichten verwijderen",
        "delete_question": "Deze berichten verwijderen? Dit kan niet ongedaan worden gemaakt.",
        "delete_yes": "Ja, verwijderen",
        "delete_no": "Nee, terug",
        "deleted": "De berichten zijn verwijderd.",
        "signed_out": "U bent afgemeld.",
    },
    "fr": {
        "status": "Réponse envoyée. Vous n'avez rien d'autre à faire.",
        "asked": "Bonjour, je voudrais des informations générales sur vos horaires "
        "d'ouverture et sur la façon de vous joindre. Merci.",
        "answered": "Bonjour, merci pour votre message. Nous sommes ouverts en semaine de 9 h "
        "à 17 h, et vous pouvez toujours nous écrire ici. Si vous avez une autre question, "
        "n'hésitez pas à l'envoyer. Bien cordialement.",
        "answer_from": "Réponse",
        "sent": "Votre message a été envoyé.",
        "delete": "Supprimer ces messages",
        "delete_question": "Supprimer ces messages ? Cette action est définitive.",
        "delete_yes": "Oui, supprimer",
        "delete_no": "Non, revenir",
        "deleted": "Les messages ont été supprimés.",
        "signed_out": "Déconnexion effectuée.",
    },
    "ar": {
        "status": "تمّ الرد. لا حاجة إلى أي شيء آخر منك.",
        "asked": "مرحبًا، أودّ الحصول على معلومات عامة عن مواعيد العمل لديكم وعن طريقة "
        "التواصل معكم. شكرًا.",
        "answered": "مرحبًا، شكرًا على رسالتك. نعمل أيام الأسبوع من الساعة 9:00 حتى 17:00، "
        "ويمكنك دائمًا مراسلتنا هنا. إذا كان لديك سؤال آخر فأرسله إلينا. مع أطيب التحيات.",
        "answer_from": "الرد",
        "sent": "تمّ إرسال رسالتك.",
        "delete": "حذف هذه الرسائل",
        "delete_question": "هل تريد حذف هذه الرسائل؟ لا يمكن التراجع عن ذلك.",
        "delete_yes": "نعم، احذفها",
        "delete_no": "لا، عودة",
        "deleted": "تمّ حذف الرسائل.",
        "signed_out": "لقد سجّلت الخروج.",
    },
    "fa": {
        "status": "پاسخ داده شد. لازم نیست کار دیگری انجام دهید.",
        "asked": "سلام، می‌خواستم اطلاعات کلی درباره ساعت‌های کاری شما و راه تماس با شما "
        "بگیرم. ممنون.",
        "answered": "سلام، از پیام شما متشکریم. ما روزهای کاری از ساعت ۹ تا ۱۷ باز هستیم و "
        "همیشه می‌توانید از همین‌جا برای ما بنویسید. اگر سؤال دیگری دارید، آن را بفرستید. "
        "با احترام.",
        "answer_from": "پاسخ",
        "sent": "پیام شما فرستاده شد.",
        "delete": "حذف این پیام‌ها",
        "delete_question": "این پیام‌ها حذف شوند؟ این کار برگشت‌پذیر نیست.",
        "delete_yes": "بله، حذف شود",
        "delete_no": "نه، برگشت",
        "deleted": "پیام‌ها حذف شدند.",
        "signed_out": "از حساب خارج شدید.",
    },
    "ru": {
        "status": "Ответ получен. Больше ничего делать не нужно.",
        "asked": "Здравствуйте, подскажите, пожалуйста, ваши часы работы и как с вами "
        "связаться. Спасибо.",
        "answered": "Здравствуйте, спасибо за ваше сообщение. Мы работаем по будням с 9:00 "
        "до 17:00, и вы всегда можете написать нам здесь. Если у вас появится другой вопрос, "
        "просто отправьте его. С уважением.",
        "answer_from": "Ответ",
        "sent": "Ваше сообщение отправлено.",
        "delete": "Удалить эти сообщения",
        "delete_question": "Удалить эти сообщения? Это действие нельзя отменить.",
        "delete_yes": "Да, удалить",
        "delete_no": "Нет, вернуться",
        "deleted": "Сообщения удалены.",
        "signed_out": "Вы вышли из системы.",
    },
    "es": {
        "status": "Respondido. No necesita hacer nada más.",
        "asked": "Hola, me gustaría recibir información general sobre su horario de atención "
        "y sobre cómo puedo contactarles. Gracias.",
        "answered": "Hola, gracias por su mensaje. Abrimos de lunes a viernes de 9:00 a 17:00, "
        "y siempre puede escribirnos aquí. Si tiene otra pregunta, no dude en enviarla. Un "
        "saludo cordial.",
        "answer_from": "Respuesta",
        "sent": "Su mensaje se ha enviado.",
        "delete": "Borrar estos mensajes",
        "delete_question": "¿Borrar estos mensajes? No se puede deshacer.",
        "delete_yes": "Sí, borrar",
        "delete_no": "No, volver",
        "deleted": "Los mensajes se han borrado.",
        "signed_out": "Ha cerrado la sesión.",
    },
    "tr": {
        "status": "Yanıtlandı. Başka bir şey yapmanıza gerek yok.",
        "asked": "Merhaba, çalışma saatleriniz ve size nasıl ulaşabileceğim hakkında genel "
        "bilgi almak istiyorum. Teşekkürler.",
        "answered": "Merhaba, mesajınız için teşekkür ederiz. Hafta içi 09.00–17.00 arası "
        "açığız ve bize her zaman buradan yazabilirsiniz. Başka bir sorunuz olursa çekinmeden "
        "gönderin. Saygılarımızla.",
        "answer_from": "Yanıt",
        "sent": "Mesajınız gönderildi.",
        "delete": "Bu mesajları sil",
        "delete_question": "Bu mesajlar silinsin mi? Bu işlem geri alınamaz.",
        "delete_yes": "Evet, sil",
        "delete_no": "Hayır, geri dön",
        "deleted": "Mesajlar silindi.",
        "signed_out": "Oturumu kapattınız.",
    },
}


def texts(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["en"])


def conversation(language: str, now: datetime | None = None) -> list[dict]:
    """The two messages, dated a few days back from today (the same all day long)."""
    today = timezone.localdate(now or timezone.now())
    zone = timezone.get_current_timezone()
    asked = datetime.combine(today - timedelta(days=3), time(10, 14), tzinfo=zone)
    answered = datetime.combine(today - timedelta(days=2), time(15, 41), tzinfo=zone)
    words = texts(language)
    return [
        {"mine": True, "at": asked, "text": words["asked"]},
        {"mine": False, "at": answered, "text": words["answered"]},
    ]
