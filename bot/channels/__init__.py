"""Platform channels: each verifies, normalises and sends for one platform only."""
