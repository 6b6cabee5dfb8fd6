"""One router per aggregate, mounted under `/api` by `orderctl.api.app.create_app`."""
