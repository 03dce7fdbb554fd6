"""SubRip subtitles (.srt), read and written with the `srt` package: numbering and timings kept, each
subtitle's text translated as one segment (its lines joined, so that a sentence broken across lines
is translated whole) and broken again into as many lines, at the spaces nearest the original breaks'
share of the text. Formatting tags (<i>, <b>, <font>) are inline markup, placed as in HTML."""
import html

import srt

from data_prep.errors import S2SError
from documents.html import read_html
from documents.inline import Parsed, combined


def _lines(text: str, count: int) -> str:
    """`text` broken into `count` lines of about equal length, at spaces (fewer when it has fewer spaces)."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    breaks: list[int] = []
    for k in range(1, count):
        later = [i for i in spaces if not breaks or i > breaks[-1]]
        if not later:
            break
        breaks.append(min(later, key=lambda i: abs(i - k * len(text) / count)))
    starts = [0] + [i + 1 for i in breaks]
    ends = breaks + [len(text)]
    return "\n".join(text[a:b] for a, b in zip(starts, ends))


def read_srt(text: str, name: str) -> Parsed:
    try:
        subtitles = list(srt.parse(text, ignore_errors=False))
    except (srt.SRTParseError, ValueError) as e:
        raise S2SError(f"{name}: not a SubRip (.srt) file: {e}") from None
    # A subtitle's text is an HTML fragment, as players read it: its tags are markup, and what the
    # serializer escapes is unescaped again on the way out.
    parts = [read_html(" ".join(s.content.splitlines())) for s in subtitles]

    def write(written: list[str]) -> str:
        out = []
        for subtitle, translated in zip(subtitles, written):
            content = _lines(html.unescape(translated), len(subtitle.content.splitlines()))
            out.append(srt.Subtitle(subtitle.index, subtitle.start, subtitle.end, content, subtitle.proprietary))
        return srt.compose(out, reindex=False)

    return combined(parts, write)
