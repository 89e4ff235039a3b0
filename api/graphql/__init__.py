"""The GraphQL API: schema, types, per-request loaders and context, error mapping."""
