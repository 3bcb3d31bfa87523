"""Page content as markdown: `GET/PATCH /v1/pages/{id}/markdown` and `markdown=` on create.

Responses are `{object: page_markdown, id, markdown, truncated, unknown_block_ids}`
(notion-sdk-js `PageMarkdownResponse`; notion-sdk-py recording of 2026-07-04: inserting
"## New Section\\n\\nHello from markdown." reads back as "## New Section\\nHello from
markdown.", i.e. one line per block). Checked 2026-12-01.

Notion's "enhanced markdown" is richer than what we reproduce. We cover headings,
paragraphs, bulleted / numbered / to-do lists, quotes, code fences, dividers, equations,
callouts, toggles (`<details>`), images, other media as `<video src=…>` style tags,
bookmarks and embeds, child pages and databases (`<page url=…>`), and inline bold,
italic, strikethrough, code and links; nesting is one tab per level. Colors, underline,
mentions and tables come back as plain text. The tag spellings are our approximation.
"""

from __future__ import annotations

import re
from typing import Any

from .apierror import not_found, validation_error
from .objects import notion_url, render_block
from .state import LocalNotionState, normalize_id
from .validation import MAX_TEXT, require_dict

__all__ = [
    "get_markdown",
    "markdown_to_blocks",
    "markdown_to_rich_text",
    "rich_text_to_markdown",
    "update_markdown",
]

JSON = dict[str, Any]

INLINE = re.compile(
    r"\*\*(?P<bold>.+?)\*\*"
    r"|~~(?P<strike>.+?)~~"
    r"|`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)"
    r"|(?<![*\w])\*(?P<italic>[^*]+)\*(?![*\w])"
    r"|\$(?P<equation>[^$]+)\$"
)
MEDIA_TAG = re.compile(r'^<(?P<kind>video|audio|file|pdf) src="(?P<url>[^"]*)">(?P<cap>.*)</\1>$')
URL_TAG = re.compile(r'^<(?P<kind>bookmark|embed) url="(?P<url>[^"]*)"/>$')
REF_TAG = re.compile(r'^<(?P<kind>page|database) url="(?P<url>[^"]*)">.*</(?:page|database)>$')
IMAGE = re.compile(r"^!\[(?P<cap>[^\]]*)\]\((?P<url>[^)\s]+)\)$")
HEADING = re.compile(r"^(#{1,3}) (.*)$")
NUMBERED = re.compile(r"^\d+[.)] (.*)$")
TODO = re.compile(r"^[-*] \[( |x|X)\] ?(.*)$")


# -- inline -------------------------------------------------------------------------------


def rich_text_to_markdown(items: list[JSON]) -> str:
    out: list[str] = []
    for item in items:
        if item["type"] == "equation":
            out.append(f"${item['equation']['expression']}$")
            continue
        text = item["plain_text"]
        notes = item.get("annotations") or {}
        if notes.get("code"):
            text = f"`{text}`"
        if notes.get("bold"):
            text = f"**{text}**"
        if notes.get("italic"):
            text = f"*{text}*"
        if notes.get("strikethrough"):
            text = f"~~{text}~~"
        if item.get("href") and item["type"] == "text":
            text = f"[{text}]({item['href']})"
        out.append(text)
    return "".join(out)


def markdown_to_rich_text(text: str) -> list[JSON]:
    """Inline markdown -> request-shaped rich text (texts over 2,000 chars are split)."""
    out: list[JSON] = []

    def plain(content: str, **notes: Any) -> None:
        link = notes.pop("link", None)
        for start in range(0, len(content), MAX_TEXT):
            piece: JSON = {"type": "text", "text": {"content": content[start : start + MAX_TEXT]}}
            if link:
                piece["text"]["link"] = {"url": link}
            if notes:
                piece["annotations"] = dict(notes)
            out.append(piece)

    position = 0
    for match in INLINE.finditer(text):
        if match.start() > position:
            plain(text[position : match.start()])
        groups = match.groupdict()
        if groups["bold"] is not None:
            plain(groups["bold"], bold=True)
        elif groups["strike"] is not None:
            plain(groups["strike"], strikethrough=True)
        elif groups["code"] is not None:
            plain(groups["code"], code=True)
        elif groups["label"] is not None:
            plain(groups["label"], link=groups["url"])
        elif groups["italic"] is not None:
            plain(groups["italic"], italic=True)
        else:
            out.append({"type": "equation", "equation": {"expression": groups["equation"]}})
        position = match.end()
    if position < len(text):
        plain(text[position:])
    return out


# -- blocks -> markdown -------------------------------------------------------------------


def _media_url(state: LocalNotionState, block: JSON) -> str:
    body = render_block(state, block)[block["type"]]
    inner = body.get(body.get("type", ""), {})
    return str(inner.get("url", ""))


def _block_lines(state: LocalNotionState, block_id: str, depth: int) -> list[str]:
    block = state.blocks[block_id]
    kind, body = block["type"], block["content"]
    pad = "\t" * depth
    text = rich_text_to_markdown(body.get("rich_text", []))
    caption = rich_text_to_markdown(body.get("caption", []))
    closing: list[str] = []
    if kind == "paragraph":
        head = text
    elif kind.startswith("heading_"):
        head = "#" * int(kind[-1]) + " " + text
    elif kind == "bulleted_list_item":
        head = f"- {text}"
    elif kind == "numbered_list_item":
        head = f"1. {text}"
    elif kind == "to_do":
        head = f"- [{'x' if body.get('checked') else ' '}] {text}"
    elif kind == "quote":
        head = f"> {text}"
    elif kind == "code":
        code = "".join(t["plain_text"] for t in body.get("rich_text", []))
        fence = [f"```{body.get('language', 'plain text')}", *code.split("\n"), "```"]
        return [pad + line for line in fence]
    elif kind == "divider":
        head = "---"
    elif kind == "equation":
        head = f"$${body['expression']}$$"
    elif kind == "callout":
        head = f"<callout>{text}</callout>"
    elif kind == "toggle":
        head = f"<details><summary>{text}</summary>"
        closing = [pad + "</details>"]
    elif kind == "image":
        head = f"![{caption}]({_media_url(state, block)})"
    elif kind in ("video", "audio", "file", "pdf"):
        head = f'<{kind} src="{_media_url(state, block)}">{caption}</{kind}>'
    elif kind in ("bookmark", "embed"):
        head = f'<{kind} url="{body["url"]}"/>'
    elif kind in ("child_page", "child_database"):
        tag = "page" if kind == "child_page" else "database"
        title = render_block(state, block)[kind]["title"]
        head = f'<{tag} url="{notion_url(title, block_id)}">{title}</{tag}>'
        return [pad + head]  # their content lives in the child itself
    elif kind in ("table_of_contents", "breadcrumb"):
        head = f"<{kind}/>"
    else:
        head = text  # layouts and tables: their children carry the content
    lines = [pad + head]
    for child in state.children.get(block_id, []):
        if not state.blocks[child]["in_trash"]:
            lines += _block_lines(state, child, depth + 1)
    return lines + closing


def _top_chunks(state: LocalNotionState, parent_id: str) -> list[tuple[str, str]]:
    """-> [(block id, markdown of that block and its children)] in page order."""
    return [
        (child, "\n".join(_block_lines(state, child, 0)))
        for child in state.children.get(parent_id, [])
        if not state.blocks[child]["in_trash"]
    ]


def _render(state: LocalNotionState, parent_id: str) -> str:
    return "\n".join(chunk for _, chunk in _top_chunks(state, parent_id))


def _answer(state: LocalNotionState, object_id: str) -> JSON:
    return {
        "object": "page_markdown",
        "id": object_id,
        "markdown": _render(state, object_id),
        "truncated": False,
        "unknown_block_ids": [],
    }


def get_markdown(state: LocalNotionState, raw_id: str) -> JSON:
    with state.lock:
        uid = normalize_id(raw_id)
        if uid is None:
            raise validation_error(
                "path failed validation: path.page_id should be a valid uuid, "
                f"instead was `{raw_id!r}`."
            )
        if uid not in state.pages and uid not in state.blocks:
            raise not_found(uid, "page")
        return _answer(state, uid)


# -- markdown -> blocks -------------------------------------------------------------------


def _line_block(line: str) -> JSON:
    """One markdown line (no leading tabs) -> a request-shaped block."""

    def text_block(kind: str, text: str, **extra: Any) -> JSON:
        return {"type": kind, kind: {"rich_text": markdown_to_rich_text(text), **extra}}

    if match := TODO.match(line):
        return text_block("to_do", match.group(2), checked=match.group(1) in "xX")
    if match := HEADING.match(line):
        return text_block(f"heading_{len(match.group(1))}", match.group(2))
    if line.startswith(("- ", "* ")):
        return text_block("bulleted_list_item", line[2:])
    if match := NUMBERED.match(line):
        return text_block("numbered_list_item", match.group(1))
    if line.startswith("> "):
        return text_block("quote", line[2:])
    if line in ("---", "***"):
        return {"type": "divider", "divider": {}}
    if line.startswith("$$") and line.endswith("$$") and len(line) > 4:
        return {"type": "equation", "equation": {"expression": line[2:-2]}}
    if line.startswith("<callout>") and line.endswith("</callout>"):
        return text_block("callout", line[len("<callout>") : -len("</callout>")])
    if line.startswith("<details><summary>") and line.endswith("</summary>"):
        return text_block("toggle", line[len("<details><summary>") : -len("</summary>")])
    if line in ("<table_of_contents/>", "<breadcrumb/>"):
        kind = line[1:-2]
        return {"type": kind, kind: {}}
    if match := IMAGE.match(line):
        body: JSON = {"type": "external", "external": {"url": match["url"]}}
        if match["cap"]:
            body["caption"] = markdown_to_rich_text(match["cap"])
        return {"type": "image", "image": body}
    if match := MEDIA_TAG.match(line):
        body = {"type": "external", "external": {"url": match["url"]}}
        if match["cap"]:
            body["caption"] = markdown_to_rich_text(match["cap"])
        return {"type": match["kind"], match["kind"]: body}
    if match := URL_TAG.match(line):
        return {"type": match["kind"], match["kind"]: {"url": match["url"]}}
    if match := REF_TAG.match(line):
        hexid = match["url"].rsplit("-", 1)[-1].rsplit("/", 1)[-1]
        return {"ref": normalize_id(hexid) or "", "ref_kind": match["kind"]}
    return text_block("paragraph", line)


def markdown_to_blocks(markdown: str) -> list[JSON]:
    """Markdown -> request-shaped blocks (tab-indented lines nest under the line above).

    Child page / database tags come back as `{ref, ref_kind}` markers: the page keeps
    those children, it does not create new ones.
    """
    top: list[JSON] = []
    stack: list[tuple[int, JSON]] = []
    lines = markdown.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        depth = len(raw) - len(raw.lstrip("\t"))
        line = raw.strip()
        if not line or line == "</details>":
            continue
        if line.startswith("```"):
            language = line[3:].strip() or "plain text"
            code: list[str] = []
            prefix = "\t" * depth
            while index < len(lines) and lines[index].strip() != "```":
                code.append(lines[index].removeprefix(prefix))
                index += 1
            index += 1  # the closing fence
            rich_text = _plain_rich_text("\n".join(code))
            block: JSON = {"type": "code", "code": {"rich_text": rich_text, "language": language}}
        else:
            block = _line_block(line)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack and "ref" not in stack[-1][1] and "ref" not in block:
            parent = stack[-1][1]
            parent[parent["type"]].setdefault("children", []).append(block)
        else:
            top.append(block)
        stack.append((depth, block))
    return top


def _plain_rich_text(text: str) -> list[JSON]:
    return [
        {"type": "text", "text": {"content": text[start : start + MAX_TEXT]}}
        for start in range(0, len(text), MAX_TEXT)
    ]


def _chunks(markdown: str) -> list[str]:
    """Split markdown at top-level lines (code fences and nested lines stay together)."""
    chunks: list[list[str]] = []
    in_fence = False
    for line in markdown.replace("\r\n", "\n").split("\n"):
        starts = not line.startswith("\t") and line.strip() != "" and not in_fence
        if starts and line.strip() != "</details>":
            chunks.append([line])
        elif chunks:
            chunks[-1].append(line)
        elif line.strip():
            chunks.append([line])
        if line.strip().startswith("```"):
            in_fence = not in_fence
    return ["\n".join(c).rstrip("\n") for c in chunks]


# -- updates ------------------------------------------------------------------------------


def _find_range(markdown: str, selection: Any, path: str) -> tuple[int, int]:
    """The ellipsis selection format: "start text...end text" (or an exact text)."""
    if not isinstance(selection, str) or not selection:
        raise validation_error(f"body failed validation: {path} should be a non-empty string.")
    head, sep, tail = selection.partition("...")
    start = markdown.find(head)
    if start < 0:
        raise validation_error(f"Could not find content matching {selection!r} in the page.")
    if not sep:
        return start, start + len(head)
    end = markdown.find(tail, start + len(head)) if tail else start + len(head)
    if end < 0:
        raise validation_error(f"Could not find content matching {selection!r} in the page.")
    return start, end + len(tail)


def update_markdown(state: LocalNotionState, raw_id: str, body: JSON, actor: str) -> JSON:
    from .service import _page

    with state.lock:
        page = _page(state, raw_id)
        kind = body.get("type")
        kinds = ("insert_content", "replace_content_range", "update_content", "replace_content")
        if kind not in kinds:
            raise validation_error(
                "body failed validation: body.type should be one of "
                f"{', '.join(f'`{k}`' for k in kinds)}, instead was `{kind!r}`."
            )
        spec = require_dict(body.get(kind), f"body.{kind}")
        current = _render(state, page["id"])
        allow_delete = bool(spec.get("allow_deleting_content", False))
        if kind == "insert_content":
            _insert(state, page["id"], current, spec, actor)
        else:
            if kind == "replace_content":
                new = _string(spec.get("new_str"), f"body.{kind}.new_str")
            elif kind == "replace_content_range":
                start, end = _find_range(
                    current, spec.get("content_range"), f"body.{kind}.content_range"
                )
                content = _string(spec.get("content"), f"body.{kind}.content")
                new = current[:start] + content + current[end:]
            else:
                new = _apply_updates(current, spec.get("content_updates"))
            _reconcile(state, page["id"], new, allow_delete, actor)
        from .service import _stamp

        _stamp(state, page, actor)
        state.touch()
        return _answer(state, page["id"])


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise validation_error(
            f"body failed validation: {path} should be a string, instead was `{value!r}`."
        )
    return value


def _apply_updates(markdown: str, raw: Any) -> str:
    if not isinstance(raw, list) or not raw:
        raise validation_error(
            "body failed validation: body.update_content.content_updates should be a non-empty "
            "array."
        )
    for index, item in enumerate(raw):
        update = require_dict(item, f"body.update_content.content_updates[{index}]")
        path = f"body.update_content.content_updates[{index}]"
        old = _string(update.get("old_str"), f"{path}.old_str")
        new = _string(update.get("new_str"), f"{path}.new_str")
        count = markdown.count(old) if old else 0
        if count == 0:
            raise validation_error(f"{path}.old_str: {old!r} was not found in the page.")
        if count > 1 and not update.get("replace_all_matches", False):
            raise validation_error(
                f"{path}.old_str: {old!r} matches {count} times; make it unique or set "
                "replace_all_matches."
            )
        markdown = markdown.replace(old, new)
    return markdown


def _insert(state: LocalNotionState, page_id: str, current: str, spec: JSON, actor: str) -> None:
    from .service import _build_blocks, _insert_blocks

    content = _string(spec.get("content"), "body.insert_content.content")
    blocks = [b for b in markdown_to_blocks(content) if "ref" not in b]
    built = _build_blocks(state, blocks, page_id, "body.insert_content.content", actor)
    position = spec.get("position")
    after: str | None = None
    visible = [i for i in state.children.get(page_id, []) if not state.blocks[i]["in_trash"]]
    if spec.get("after") is not None:
        if position is not None:
            raise validation_error("body.insert_content: `after` and `position` are exclusive.")
        _, end = _find_range(current, spec["after"], "body.insert_content.after")
        offset = 0
        for block_id, chunk in _top_chunks(state, page_id):
            offset += len(chunk) + 1
            if end <= offset:
                after = block_id
                break
    elif isinstance(position, dict) and position.get("type") == "start":
        created = _insert_blocks(state, page_id, built, None)
        new_ids = [b["id"] for b in created]
        rest = [i for i in state.children[page_id] if i not in new_ids]
        state.children[page_id] = new_ids + rest
        return
    elif position is not None and (not isinstance(position, dict) or position["type"] != "end"):
        raise validation_error("body.insert_content.position.type should be `start` or `end`.")
    else:
        after = visible[-1] if visible else None
    if after is None:
        _insert_blocks(state, page_id, built, None)
    else:
        _insert_blocks(state, page_id, built, after)


def _reconcile(
    state: LocalNotionState, page_id: str, markdown: str, allow_delete: bool, actor: str
) -> None:
    """Make the page's blocks say `markdown`, keeping every block whose text is unchanged."""
    from .service import _build_blocks, update_block, update_page

    old = _top_chunks(state, page_id)
    plan: list[str | list[JSON]] = []  # kept block id, or new blocks
    kept: set[str] = set()
    cursor = 0
    for chunk in _chunks(markdown):
        match = next((j for j in range(cursor, len(old)) if old[j][1] == chunk), None)
        if match is not None:
            plan.append(old[match][0])
            kept.add(old[match][0])
            cursor = match + 1
            continue
        blocks = markdown_to_blocks(chunk)
        for block in blocks:
            ref = block.get("ref")
            if ref:
                if ref in state.children.get(page_id, []) and ref not in kept:
                    plan.append(ref)
                    kept.add(ref)
            else:
                plan.append([block])
    doomed = [block_id for block_id, _ in old if block_id not in kept]
    if not allow_delete and any(
        state.blocks[b]["type"] in ("child_page", "child_database") for b in doomed
    ):
        raise validation_error(
            "This update would delete child pages or databases; set allow_deleting_content "
            "to true to allow it."
        )
    for block_id in doomed:
        if block_id in state.pages:
            update_page(state, block_id, {"in_trash": True}, actor)
        else:
            update_block(state, block_id, {"in_trash": True}, actor)
    order: list[str] = []
    for item in plan:
        if isinstance(item, str):
            order.append(item)
            continue
        for built in _build_blocks(state, item, page_id, "body", actor):
            order.append(_store(state, page_id, built))
    trashed = [i for i in state.children.get(page_id, []) if i not in order]
    state.children[page_id] = order + trashed


def _store(state: LocalNotionState, parent_id: str, built: JSON) -> str:
    from .service import _insert_blocks

    created = _insert_blocks(state, parent_id, [built], None)
    return str(created[0]["id"])
