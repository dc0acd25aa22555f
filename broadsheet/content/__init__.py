"""content/*.md -> frozen, validated Post records."""
