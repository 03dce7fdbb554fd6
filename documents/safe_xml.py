"""Parsing the XML inside documents (XLIFF, and Word's and PowerPoint's parts) safely: no DTD at all.

A DTD is what the XML attacks need: entities that expand without bound ("billion laughs") and
external entities that read other files or URLs. Neither XLIFF nor Office Open XML uses one, so a
document with a DOCTYPE or an ENTITY declaration is refused, before parsing and after, and lxml is
told to expand no entity, load no DTD and reach no network: defusedxml's rules, for lxml's trees."""
import re

from lxml import etree

from data_prep.errors import S2SError

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                         huge_tree=False)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def refuse_dtd(data: bytes, name: str) -> None:
    # UTF-16 XML spells the declaration with a NUL after each ASCII byte.
    if _DTD.search(data) or _DTD.search(data.replace(b"\0", b"")):
        raise S2SError(f"{name}: has a DTD (<!DOCTYPE or <!ENTITY); documents with one are refused, since its "
                       f"entities can expand without bound or read other files")


def parse(data: bytes, name: str) -> etree._ElementTree:
    refuse_dtd(data, name)
    try:
        tree = etree.ElementTree(etree.fromstring(data, PARSER))
    except etree.XMLSyntaxError as e:
        raise S2SError(f"{name}: not well-formed XML ({e})") from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise S2SError(f"{name}: has a DTD; documents with one are refused")
    return tree
