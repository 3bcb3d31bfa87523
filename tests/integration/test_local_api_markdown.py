"""Page content read and written as markdown."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import AsyncClient
from notion_client.errors import APIResponseError

from notion_sync.local_api import LocalNotionServer

JSON = dict[str, Any]
BRIEF = (
    "# Lighthouse\n"
    "Waves climb the rocks at **dusk**.\n"
    "- [ ] storyboard\n"
    "- keyframes\n"
    "\tclose-up of the lamp\n"
    "1. clip one\n"
    "> not too dark\n"
    "---\n"
    "```python\nprint('lamp')\n```"
)


async def page_with(local_notion: LocalNotionServer, notion: AsyncClient, markdown: str) -> str:
    page = await notion.pages.create(
        parent={"page_id": local_notion.root_page_id},
        properties={"title": [{"text": {"content": "Brief"}}]},
        markdown=markdown,
    )
    return str(page["id"])


async def test_markdown_round_trips_the_blocks_it_made(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    page_id = await page_with(local_notion, notion, BRIEF)
    blocks = local_notion.admin.blocks(page_id, recursive=True)
    assert [b["type"] for b in blocks] == [
        "heading_1", "paragraph", "to_do", "bulleted_list_item", "paragraph",
        "numbered_list_item", "quote", "divider", "code",
    ]  # fmt: skip
    got = await notion.pages.retrieve_markdown(page_id)
    assert got["markdown"] == BRIEF


async def test_markdown_edits_keep_untouched_blocks(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    page_id = await page_with(local_notion, notion, "# Title\nfirst\nsecond")
    before = [b["id"] for b in local_notion.admin.blocks(page_id)]
    got = await notion.pages.update_markdown(
        page_id,
        type="update_content",
        update_content={"content_updates": [{"old_str": "second", "new_str": "2nd"}]},
    )
    assert got["markdown"] == "# Title\nfirst\n2nd"
    after = [b["id"] for b in local_notion.admin.blocks(page_id)]
    assert after[:2] == before[:2]
    assert after[2] != before[2]
    ranged = await notion.pages.update_markdown(
        page_id,
        type="replace_content_range",
        replace_content_range={"content": "middle", "content_range": "first...2nd"},
    )
    assert ranged["markdown"] == "# Title\nmiddle"
    inserted = await notion.pages.update_markdown(
        page_id,
        type="insert_content",
        insert_content={"content": "- after the title", "after": "# Title"},
    )
    assert inserted["markdown"] == "# Title\n- after the title\nmiddle"
    start = await notion.pages.update_markdown(
        page_id,
        type="insert_content",
        insert_content={"content": "top", "position": {"type": "start"}},
    )
    assert start["markdown"].startswith("top\n# Title")


async def test_markdown_refuses_ambiguous_edits_and_protects_child_pages(
    local_notion: LocalNotionServer, notion: AsyncClient
) -> None:
    page_id = await page_with(local_notion, notion, "same\nsame")
    with pytest.raises(APIResponseError) as info:
        await notion.pages.update_markdown(
            page_id,
            type="update_content",
            update_content={"content_updates": [{"old_str": "same", "new_str": "x"}]},
        )
    assert "matches 2 times" in str(info.value)
    child = await notion.pages.create(
        parent={"page_id": page_id}, properties={"title": [{"text": {"content": "Shot list"}}]}
    )
    current = (await notion.pages.retrieve_markdown(page_id))["markdown"]
    assert current.endswith('">Shot list</page>')
    with pytest.raises(APIResponseError) as info:
        await notion.pages.update_markdown(
            page_id, type="replace_content", replace_content={"new_str": "all new"}
        )
    assert "allow_deleting_content" in str(info.value)
    replaced = await notion.pages.update_markdown(
        page_id,
        type="replace_content",
        replace_content={"new_str": "all new", "allow_deleting_content": True},
    )
    assert replaced["markdown"] == "all new"
    assert (await notion.pages.retrieve(child["id"]))["in_trash"] is True
