"""Project-wide middleware."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class DefaultLanguageMiddleware(LocaleMiddleware):
    """Russian unless the user chose otherwise.

    Django's LocaleMiddleware follows the browser's Accept-Language, and call-centre PCs often
    run English-language browsers for people who expect a Russian interface. Here only an
    explicit choice (the language cookie the header's RU/EN switch sets) overrides
    LANGUAGE_CODE.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = dict(settings.LANGUAGES)
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
