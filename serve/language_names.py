"""Languages' names for the compatible APIs' language lists (LibreTranslate's /languages, Amazon
Translate's ListLanguages), from CLDR's data through langcodes: no table of our own to keep."""
from functools import lru_cache


@lru_cache(maxsize=1024)
def language_name(code: str, display: str = "en") -> str:
    """`code`'s name in the language `display` ("German", "allemand"); the code itself when CLDR has no name
    for it. langcodes loads its data on first use (0.1 s), so a server pays that only when asked."""
    import langcodes

    try:
        name = langcodes.Language.get(code).display_name(display)
    except (ValueError, LookupError):
        return code
    # langcodes answers "Unknown language [xx]" for a well-formed code it has no name for.
    return code if name.startswith("Unknown language") else name
