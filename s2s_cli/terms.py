"""`s2s terms`: glossaries (custom terminology) in the model store: import, list, show, export, delete."""
import argparse
import sys
import textwrap
from pathlib import Path

from data_prep.termbase import DIRECTIONALITIES, MAX_FILE_BYTES, MAX_TERM_BYTES, MULTI, UNI
from s2s_cli.common import add_store

FORMATS_HELP = f"""\
term files, as Amazon Translate's custom terminology takes them (UTF-8, with or without a BOM;
at most {MAX_FILE_BYTES // 2**20} MB a file and {MAX_TERM_BYTES} bytes a term):
  CSV (.csv)  the first row names the languages, e.g. en,de or en,de,fr; each row below holds
              one term per language. Quote a term that holds a comma: "Smith, Inc.",Smith AG
  TSV (.tsv)  the same with tabs between the columns (no quoting)
  TMX (.tmx)  one <tu> per entry, with a <tuv xml:lang="en"><seg>term</seg></tuv> per language;
              under UNI, <header srclang="en"> names the source language. Entity declarations
              (<!ENTITY>) are refused.

directionality:
  {UNI}    the first language (CSV/TSV column, TMX srclang) is the source, the others its targets
  {MULTI}  any language of the file can be the source and any other the target

A source term may have only one translation into each language; terms are matched ignoring
case, so "Bank" and "bank" are one term."""


def _wrapped(text: str) -> str:
    """A description that RawDescriptionHelpFormatter (kept for the formats' layout) prints as it is."""
    return textwrap.fill(text, 94)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _languages(glossary) -> str:
    first, *rest = glossary.languages
    return f"{first}->{','.join(rest)}" if glossary.directionality == UNI else ",".join(glossary.languages)


def cmd_import(args: argparse.Namespace) -> None:
    from seq2seq.versions.glossaries import GlossaryStore

    store = GlossaryStore(args.store)
    replaced = args.name in store.names()
    glossary = store.import_file(args.name, args.file, args.directionality)
    print(f"{'replaced' if replaced else 'imported'} glossary {glossary.name}: {_entries(glossary.entry_count)}, "
          f"{_languages(glossary)} ({glossary.directionality}), from {args.file}")


def cmd_list(args: argparse.Namespace) -> None:
    from seq2seq.versions.glossaries import GlossaryStore

    store = GlossaryStore(args.store)
    glossaries = store.glossaries()
    if not glossaries:
        print(f"no glossaries in {store.root}; `s2s terms import NAME FILE` adds one")
        return
    rows = [("NAME", "LANGUAGES", "ENTRIES", "DIRECTIONALITY", "IMPORTED")]
    rows += [(g.name, _languages(g), str(g.entry_count), g.directionality, g.imported) for g in glossaries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def cmd_show(args: argparse.Namespace) -> None:
    from seq2seq.versions.glossaries import GlossaryStore

    glossary = GlossaryStore(args.store).get(args.name)
    print(f"name: {glossary.name}\nlanguages: {_languages(glossary)}\ndirectionality: {glossary.directionality}\n"
          f"entries: {glossary.entry_count}\nimported: {glossary.imported} from {glossary.source_file} "
          f"(sha256 {glossary.source_sha256})\nsha256: {glossary.sha256}\n")
    print("\t".join(glossary.languages))
    for row in glossary.termbase.entries:
        print("\t".join(row))


def cmd_export(args: argparse.Namespace) -> None:
    from seq2seq.versions.glossaries import GlossaryStore

    text = GlossaryStore(args.store).export_csv(args.name)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        # UTF-8 whatever the terminal's encoding, so that the output imports back.
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()


def cmd_delete(args: argparse.Namespace) -> None:
    from seq2seq.versions.glossaries import GlossaryStore

    store = GlossaryStore(args.store)
    store.delete(args.name)
    print(f"deleted glossary {args.name} from {store.root}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    from seq2seq.versions.glossaries import MAX_NAME_CHARS

    p = sub.add_parser("terms", help="import, list, show, export and delete glossaries (custom terminology)",
                       description=_wrapped("Glossaries (custom terminology) that translations apply: named, "
                                            "checked term files kept in the model store, as "
                                            "STORE/glossaries/NAME.json."), epilog=FORMATS_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    terms = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    q = terms.add_parser("import", help="check a CSV, TSV or TMX term file and store it as a glossary",
                         description=_wrapped("Check a term file and store it under NAME, replacing whole any "
                                              "glossary of that name. A file with any problem is refused, with its "
                                              "line, and nothing is stored."),
                         epilog=FORMATS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("name", metavar="NAME", help=f"glossary name: 1 to {MAX_NAME_CHARS} letters, digits, '_' or '-'")
    q.add_argument("file", metavar="FILE", type=Path, help="term file: .csv, .tsv or .tmx")
    q.add_argument("--directionality", choices=DIRECTIONALITIES, default=UNI,
                   help="UNI: the first language is the source; MULTI: any language is (default: %(default)s)")
    add_store(q)
    q.set_defaults(func=cmd_import)

    q = terms.add_parser("list", help="list the glossaries: name, languages, entries, directionality, import time",
                         description="List the store's glossaries. LANGUAGES reads en->de,fr for a UNI glossary "
                         "(source->targets) and en,de,fr for a MULTI one.")
    add_store(q)
    q.set_defaults(func=cmd_list)

    q = terms.add_parser("show", help="print a glossary's details and its entries",
                         description="Print a glossary's languages, directionality, entry count, import time and "
                         "sha256, then its entries, one per line, tab-separated.")
    q.add_argument("name", metavar="NAME", help="glossary name")
    add_store(q)
    q.set_defaults(func=cmd_show)

    q = terms.add_parser("export", help="write a glossary as a CSV term file",
                         description="Write a glossary as CSV (header row of languages, then one entry per row), "
                         "which `s2s terms import` takes back unchanged; its directionality is not in the file, "
                         "so import it with the same --directionality.")
    q.add_argument("name", metavar="NAME", help="glossary name")
    q.add_argument("-o", "--output", type=Path, metavar="FILE", help="CSV file to write (default: stdout)")
    add_store(q)
    q.set_defaults(func=cmd_export)

    q = terms.add_parser("delete", help="delete a glossary", description="Delete a glossary from the store.")
    q.add_argument("name", metavar="NAME", help="glossary name")
    add_store(q)
    q.set_defaults(func=cmd_delete)
