"""The submission web app and HTTP API: FastAPI routes, tokens, outbox and the web form.

``producers.http.api.create_api`` builds it. Nothing is imported here, so importing one
module of the package (its errors, its models) never loads the whole app in a circle.
"""
