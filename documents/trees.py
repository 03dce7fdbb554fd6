"""Element trees (xml.etree's and lxml's alike) as sequences of content: an element's text, its children
and their tails, taken apart and put back."""


def content(element) -> list:
    """An element's content as items: strings, and child elements (each tail a string of its own)."""
    items = [element.text] if element.text else []
    for child in element:
        items.append(child)
        if child.tail:
            items.append(child.tail)
    return items


def set_content(element, items: list) -> None:
    for child in list(element):
        element.remove(child)
    element.text, last = None, None
    for item in items:
        if isinstance(item, str):
            if last is None:
                element.text = (element.text or "") + item
            else:
                last.tail = (last.tail or "") + item
        else:
            item.tail = None
            element.append(item)
            last = item
