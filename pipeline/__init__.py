"""Runs that cross every layer, from a corpus to a served translation (the demo); may import any package but s2s_cli."""
