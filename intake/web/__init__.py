"""The web service (issue 8): pages for schools and reviewers, and the JSON API. See `app.create_app`."""
