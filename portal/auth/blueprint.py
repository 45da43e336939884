"""The auth Blueprint and its child blueprints.

Single sign-on, API tokens, SCIM and preferences stay child blueprints: their names are
part of their endpoint names (`auth.oidc.*`, `auth.tokens.*`, `auth.scim.*`,
`auth.preferences.*`), which templates and tests use.
"""
from flask import Blueprint

bp = Blueprint("auth", __name__)
oidc_bp = Blueprint("oidc", __name__)
tokens_bp = Blueprint("tokens", __name__)
scim_bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
preferences_bp = Blueprint("preferences", __name__)
bp.register_blueprint(oidc_bp)  # single sign-on: /login/sso and its callback
bp.register_blueprint(tokens_bp)  # API tokens: /account/api-tokens, /admin/api-tokens
bp.register_blueprint(scim_bp)  # SCIM 2.0 provisioning under /scim/v2
bp.register_blueprint(preferences_bp)  # the header's theme switch: /account/theme
