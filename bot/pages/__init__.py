"""The standing pages opened from `看板`: server-rendered, scoped, no script (docs/pages.md)."""
