"""The pressing pages: a phone-first web UI over the press service, rendered on the server.

``install(app)`` (called by :func:`cidery.api.app.create_app`) adds the pages and
mounts their static files at ``/static``. Every page works as plain HTML forms
(POST, then a redirect); the small ES modules in ``static/js`` enhance them: live
unit conversions, and loads saved through the JSON API with an ``Idempotency-Key``
(:file:`static/js/send.js`, the one module that sends saves). The pages reuse the
API's session cookie, CSRF token and Origin check (:mod:`cidery.api.security`) and
call the services, never SQL.
"""

from cidery.web.routes import install

__all__ = ["install"]
