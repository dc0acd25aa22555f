"""The plan -> files in site/, put together apart and swapped in whole."""
