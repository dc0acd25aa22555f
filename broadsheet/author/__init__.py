"""The author's tools: scaffold a post (`new`) and validate content (`check`)."""
