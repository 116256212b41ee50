"""The HTTP face of the lab cluster: ``app.create_app`` plus the documents
(discovery, OpenAPI v3, Tables) it serves."""
