"""Posts -> the planned list of outputs: every page, with its path, template and data."""
