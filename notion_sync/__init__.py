"""notion_sync."""
