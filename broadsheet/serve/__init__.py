"""The dev server: incremental rebuilds on change, live reload, errors in the browser."""
