"""The package both apps import: configuration, database, models and domain services."""
